"""Reports filed as a phone files them, at the centre of the reporter's district, for the tests that need some."""

import datetime
import uuid

from django.contrib.gis.geos import Point
from django.utils import timezone

from patrols.models import Category, Outcome, Report
from patrols.services import reporting

# A well-formed ЕРДР number (15 digits), which `solved` needs.
CASE_NUMBER = "241975031000123"
DESCRIPTION = "Аялдамада төбелесті тоқтаттық."


def file_report(
    user,
    *,
    outcome: str = "prevented",
    category: str = "petty_hooliganism",
    when: datetime.datetime | None = None,
    description: str = DESCRIPTION,
    **extra,
) -> Report:
    """A report by `user` (a volunteer) an hour ago, unless `when` says otherwise; `solved` gets a case number."""
    centre = user.volunteer.district.centre
    extra.setdefault("case_number", CASE_NUMBER if outcome == "solved" else "")
    report, _created = reporting.report_submit(
        by=user,
        client_uuid=uuid.uuid4(),
        occurred_at=when or timezone.now() - datetime.timedelta(hours=1),
        point=Point(centre.x, centre.y, srid=4326),
        category=Category.objects.get(code=category),
        outcome=Outcome.objects.get(code=outcome),
        description=description,
        **extra,
    )
    return report


def verified(user, inspector, **kwargs) -> Report:
    """A report by `user`, verified by `inspector`."""
    return reporting.report_verify(report=file_report(user, **kwargs), by=inspector)
