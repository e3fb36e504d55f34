"""Whatever inspectors do to reports, in whatever order, the kept tallies equal a direct count of the reports.

Hypothesis plays random sequences of filing, verifying, rejecting, asking for information, answering, marking
duplicates and verifying again, by volunteers of two regions and of every kind of group (and one without a group),
at hours that fall on either side of midnight in Almaty. After each sequence every scope the dashboards show
(the country, each region, each district, each kind of group, by month) is counted straight from the reports.
"""

import datetime
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patrols.choices import BenchmarkLevel, GroupKind, ReportStatus
from patrols.models import Category, Outcome, Report
from patrols.services import figures, reporting
from patrols.services.tallies import ALMATY, tallies_rebuild
from tests.factories import GroupFactory, MembershipFactory, UserFactory, VolunteerFactory

pytestmark = pytest.mark.django_db

OUTCOMES = ["prevented", "solved", "assistance"]
CASE_NUMBER = "241975031000123"


@pytest.fixture
def cast(district, other_district, inspector, other_inspector):
    """Five volunteers: one per kind of group in Talgar, one in Abay (another region) and one in no group."""
    people = []
    for kind in GroupKind:
        group = GroupFactory(district=district, kind=kind, inspector=inspector)
        person = VolunteerFactory(district=district, user=UserFactory())
        MembershipFactory(volunteer=person, group=group)
        people.append(person.user)
    abay = GroupFactory(district=other_district, kind=GroupKind.SARBAZ, inspector=other_inspector)
    person = VolunteerFactory(district=other_district, user=UserFactory())
    MembershipFactory(volunteer=person, group=abay)
    people.append(person.user)
    people.append(VolunteerFactory(district=district, user=UserFactory()).user)
    return {"people": people, "inspectors": {district.pk: inspector, other_district.pk: other_inspector}}


step = st.one_of(
    st.tuples(st.just("file"), st.integers(0, 6), st.sampled_from(OUTCOMES), st.integers(0, 24 * 60)),
    st.tuples(st.sampled_from(["verify", "reject", "ask", "answer"]), st.integers(0, 40)),
    st.tuples(st.just("duplicate"), st.integers(0, 40), st.integers(0, 40)),
)


def play(cast: dict, steps: list[tuple]) -> None:
    reports: list[Report] = []
    now = timezone.now()
    for action, *args in steps:
        try:
            if action == "file":
                who, code, hours = args
                user = cast["people"][who % len(cast["people"])]
                centre = user.volunteer.district.centre
                report, _created = reporting.report_submit(
                    by=user,
                    client_uuid=uuid.uuid4(),
                    occurred_at=now - datetime.timedelta(hours=hours, minutes=7),
                    point=Point(centre.x, centre.y, srid=4326),
                    category=Category.objects.get(code="petty_hooliganism"),
                    outcome=Outcome.objects.get(code=code),
                    description="Дүкен алдында төбелес болды.",
                    case_number=CASE_NUMBER if code == "solved" else "",
                )
                reports.append(report)
                continue
            if not reports:
                continue
            report = Report.objects.get(pk=reports[args[0] % len(reports)].pk)
            inspector = cast["inspectors"][report.district_id]
            if action == "verify":
                reporting.report_verify(report=report, by=inspector)
            elif action == "reject":
                reporting.report_reject(report=report, by=inspector, reason="Расталмады.")
            elif action == "ask":
                reporting.report_request_info(report=report, by=inspector, question="Қай көшеде?")
            elif action == "answer":
                reporting.report_resubmit(report=report, by=report.reporter.user, answer="Абай көшесінде.")
            else:
                original = reports[args[1] % len(reports)]
                reporting.report_mark_duplicate(report=report, original=original, by=inspector)
        except ValidationError:
            # A move the rules refuse (verifying a duplicate, answering what was not asked): it changes nothing.
            pass


def counting(area: figures.Area, year: int, outcome: str):
    """Straight from the reports: the verified originals of that outcome, area and Almaty calendar year."""
    start = datetime.datetime(year, 1, 1, tzinfo=ALMATY)
    reports = Report.objects.filter(
        status=ReportStatus.VERIFIED,
        duplicate_of__isnull=True,
        outcome__code=outcome,
        occurred_at__gte=start,
        occurred_at__lt=start.replace(year=year + 1),
    )
    if area.district:
        return reports.filter(district=area.district)
    if area.region:
        return reports.filter(district__region=area.region)
    return reports


def counted_directly(area: figures.Area, year: int, outcome: str, **extra) -> int:
    return counting(area, year, outcome).filter(**extra).count()


def every_area(district, other_district) -> list[figures.Area]:
    return [
        figures.Area(BenchmarkLevel.NATIONAL),
        figures.Area(BenchmarkLevel.REGION, region=district.region),
        figures.Area(BenchmarkLevel.REGION, region=other_district.region),
        figures.Area(BenchmarkLevel.DISTRICT, region=district.region, district=district),
        figures.Area(BenchmarkLevel.DISTRICT, region=other_district.region, district=other_district),
    ]


@settings(
    max_examples=35,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=30))
def test_kept_tallies_always_equal_a_direct_count(cast, district, other_district, steps):
    with transaction.atomic():
        play(cast, steps)
        years = {
            timezone.localtime(moment, ALMATY).year for moment in Report.objects.values_list("occurred_at", flat=True)
        }
        assert tallies_rebuild(apply=False) == [], "a kept count differs from the reports"
        for area in every_area(district, other_district):
            for year in years or {timezone.localdate().year}:
                totals = figures.dashboard_totals(area, year)
                assert totals.prevented.count == counted_directly(area, year, "prevented"), area
                assert totals.solved.count == counted_directly(area, year, "solved"), area
                for row in totals.by_group_kind:
                    assert row["prevented"] == counted_directly(area, year, "prevented", group_kind=row["kind"])
                    assert row["solved"] == counted_directly(area, year, "solved", group_kind=row["kind"])
                months = [timezone.localtime(moment, ALMATY).month for moment in counting_moments(area, year)]
                assert [row["prevented"] for row in totals.by_month] == [months.count(m) for m in range(1, 13)]
        transaction.set_rollback(True)


def counting_moments(area: figures.Area, year: int) -> list[datetime.datetime]:
    return list(counting(area, year, "prevented").values_list("occurred_at", flat=True))
