"""Reports as a volunteer's phone lists them."""

from django.db.models import Count
from rest_framework.settings import api_settings

from ..models import Report, ReportPhoto
from ..prepared import PreparedQuery


def _own(volunteer_id: int, user_id: int):
    """In scope as `Report.objects.visible_to` has it for a volunteer, then the API's filter `mine`."""
    return Report.objects.for_volunteer(volunteer_id).filter(reporter__user_id=user_id)


# The reports list a volunteer's phone asks for (`?mine=1`): the first page, its photos and, for a full page, the
# count, each built once (patrols/prepared.py).
_own_page = PreparedQuery(
    lambda volunteer_id, user_id: _own(volunteer_id, user_id).select_related("reporter")[: api_settings.PAGE_SIZE],
    volunteer_id=int,
    user_id=int,
)
_photos_of = PreparedQuery(lambda ids: ReportPhoto.objects.filter(report_id__in=ids), ids=list[int])
# The count as one group: every report of the list has the same reporter's user (a prepared query gives rows).
_own_count = PreparedQuery(
    lambda volunteer_id, user_id: (
        _own(volunteer_id, user_id)
        .order_by()
        .values("reporter__user_id")
        .annotate(n=Count("pk"))
        .values_list("n", flat=True)
    ),
    volunteer_id=int,
    user_id=int,
)


def own_reports_first_page(volunteer) -> list[Report]:
    """The first page of the reports a volunteer filed, newest first, each with its `listed_photos`."""
    reports = _own_page(volunteer_id=volunteer.pk, user_id=volunteer.user_id)
    photos: dict[int, list[ReportPhoto]] = {report.pk: [] for report in reports}
    for photo in _photos_of(ids=list(photos)):
        photos[photo.report_id].append(photo)
    for report in reports:
        report.listed_photos = photos[report.pk]
    return reports


def own_reports_count(volunteer) -> int:
    """How many reports the volunteer filed (the count a full first page needs)."""
    return sum(_own_count(volunteer_id=volunteer.pk, user_id=volunteer.user_id))
