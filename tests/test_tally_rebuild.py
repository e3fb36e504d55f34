"""Reports written in bulk (an import, the benchmark) skip the kept tallies; `tallies_rebuild` recounts them.

On PostgreSQL the recount runs in the database (a temporary table and a few set-based statements). The story: Talgar
files and verifies one report the usual way, then a batch arrives in bulk (verified ones with and without a group,
around midnight in Almaty, a rejected one, a duplicate) and someone has meddled with the tallies (a stale row, a
wrong count, a zero row). The check reports every difference and changes nothing; the rebuild mends them all, and
the dashboards then show exactly what a direct count of the reports says.
"""

import datetime

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from patrols.choices import BenchmarkLevel, GroupKind, ReportStatus
from patrols.models import (
    Category,
    CategoryYearTally,
    DistrictMonthTally,
    Outcome,
    RegionMonthTally,
    Report,
    ReportTally,
)
from patrols.services import figures, reporting
from patrols.services.tallies import GRAINS, LOCAL_TZ, tallies_rebuild
from tests.factories import VolunteerFactory

pytestmark = pytest.mark.django_db

THIS_YEAR = timezone.localdate(timezone=LOCAL_TZ).year
MODELS = [grain.model for grain in GRAINS]


def in_bulk(person, *, group, when, outcome="prevented", status=ReportStatus.VERIFIED, duplicate_of=None) -> Report:
    """A report written straight to the table, as a bulk import does: the tallies do not hear of it."""
    centre = person.district.centre
    (report,) = Report.objects.bulk_create(
        [
            Report(
                reporter=person,
                district=person.district,
                group=group,
                group_kind=group.kind if group else "",
                occurred_at=when,
                location=Point(centre.x, centre.y, srid=4326),
                category=Category.objects.get(code="petty_hooliganism"),
                outcome=Outcome.objects.get(code=outcome),
                description="Аялдамада төбелесті тоқтаттық.",
                case_number="241975031000123" if outcome == "solved" else "",
                status=status,
                duplicate_of=duplicate_of,
            )
        ]
    )
    return report


def tally_state() -> dict[str, set[tuple]]:
    """Every tally row by its key and count (not its id)."""
    state = {}
    for grain in GRAINS:
        rows = grain.model.objects.values_list(*grain.fields, "count")
        state[grain.model.__name__] = set(rows)
    return state


def direct(area: figures.Area, outcome: str, **extra) -> int:
    start = datetime.datetime(THIS_YEAR, 1, 1, tzinfo=LOCAL_TZ)
    reports = Report.objects.filter(
        status=ReportStatus.VERIFIED,
        duplicate_of__isnull=True,
        outcome__code=outcome,
        occurred_at__gte=start,
        occurred_at__lt=start.replace(year=THIS_YEAR + 1),
        **extra,
    )
    if area.district:
        return reports.filter(district=area.district).count()
    if area.region:
        return reports.filter(district__region=area.region).count()
    return reports.count()


def test_a_bulk_batch_and_meddled_tallies_are_found_then_mended_by_the_rebuild(
    volunteer, inspector, group, other_volunteer, other_group, district, other_district
):
    person = volunteer.volunteer
    february = datetime.datetime(THIS_YEAR, 2, 10, 12, tzinfo=LOCAL_TZ)
    first = reporting.report_verify(
        report=in_bulk(person, group=group, when=february, status=ReportStatus.SUBMITTED), by=inspector
    )
    (kept_by_the_service,) = ReportTally.objects.values_list(*GRAINS[0].fields, "count")
    assert tallies_rebuild(apply=False) == []

    # A batch in bulk: this year's Almaty midnight split over two days, a report without a group, another region's.
    midnight = datetime.datetime(THIS_YEAR, 1, 2, tzinfo=LOCAL_TZ)
    before, after = midnight - datetime.timedelta(minutes=5), midnight + datetime.timedelta(minutes=5)
    lone = VolunteerFactory(district=district)
    batch = [
        in_bulk(person, group=group, when=before),
        in_bulk(person, group=group, when=after, outcome="solved"),
        in_bulk(lone, group=None, when=after),
        in_bulk(lone, group=None, when=after),
        in_bulk(other_volunteer.volunteer, group=other_group, when=before),
        in_bulk(person, group=group, when=after, status=ReportStatus.REJECTED),
    ]
    in_bulk(person, group=group, when=after, status=ReportStatus.REJECTED, duplicate_of=batch[0])
    # Meddling: a count for a place and day with no report, a wrong count, and a row left at zero.
    stale = RegionMonthTally.objects.create(
        year=THIS_YEAR - 1,
        month=3,
        region=other_district.region,
        group_kind=GroupKind.SARBAZ,
        outcome=Outcome.objects.get(code="prevented"),
        count=4,
    )
    DistrictMonthTally.objects.filter(district=district).update(count=9)
    CategoryYearTally.objects.create(
        year=THIS_YEAR - 1,
        region=district.region,
        district=district,
        category=first.category,
        outcome=first.outcome,
        count=0,
    )
    meddled = tally_state()

    found = tallies_rebuild(apply=False)
    assert tally_state() == meddled, "a check changes nothing"
    by_table = {model.__name__: [d for d in found if d.table == model.__name__] for model in MODELS}
    # Talgar's two days (the group's two outcomes and the lone volunteer's pair) and Abay's day are missing.
    missing_days = {(d.key["day"], d.key["group_id"], d.counted) for d in by_table["ReportTally"]}
    assert missing_days == {
        (before.astimezone(LOCAL_TZ).date(), group.pk, 1),
        (after.astimezone(LOCAL_TZ).date(), group.pk, 1),
        (after.astimezone(LOCAL_TZ).date(), None, 2),
        (before.astimezone(LOCAL_TZ).date(), other_group.pk, 1),
    }
    assert all(d.kept == 0 for d in by_table["ReportTally"])
    # The same kinds of values as the ORM gives (whole numbers, not decimals; days as dates), whatever the backend.
    assert {type(d.counted) for d in found} == {type(d.kept) for d in found} == {int}
    assert {type(d.key["year"]) for d in found if "year" in d.key} == {int}
    assert {type(d.key["day"]) for d in by_table["ReportTally"]} == {datetime.date}
    stale_found = [d for d in by_table["RegionMonthTally"] if d.key["year"] == THIS_YEAR - 1]
    assert [(d.kept, d.counted) for d in stale_found] == [(4, 0)]
    assert any(d.kept == 9 for d in by_table["DistrictMonthTally"])

    mended = tallies_rebuild()
    assert sorted(map(repr, mended)) == sorted(map(repr, found))
    assert tallies_rebuild(apply=False) == []
    assert not RegionMonthTally.objects.filter(pk=stale.pk).exists()
    assert not CategoryYearTally.objects.filter(count=0).exists()
    # What the service had kept for the first report is still there, next to the batch's rows.
    assert kept_by_the_service in tally_state()["ReportTally"]

    areas = [
        figures.Area(BenchmarkLevel.NATIONAL),
        figures.Area(BenchmarkLevel.REGION, region=district.region),
        figures.Area(BenchmarkLevel.DISTRICT, region=district.region, district=district),
        figures.Area(BenchmarkLevel.DISTRICT, region=other_district.region, district=other_district),
    ]
    for area in areas:
        totals = figures.dashboard_totals(area, THIS_YEAR)
        assert totals.prevented.count == direct(area, "prevented"), area
        assert totals.solved.count == direct(area, "solved"), area
        for row in totals.by_group_kind:
            assert row["prevented"] == direct(area, "prevented", group_kind=row["kind"]), (area, row)
        categories = {row["code"]: row for row in figures.by_category(area, THIS_YEAR)}
        assert categories["petty_hooliganism"]["prevented"] == direct(area, "prevented")
    talgar = figures.dashboard_totals(areas[2], THIS_YEAR)
    without_group = [row for row in talgar.by_area if row["code"] == ""]
    assert [row["prevented"] for row in without_group] == [2]
    assert talgar.by_month[0]["prevented"] == 3 and talgar.by_month[0]["solved"] == 1


def test_a_rebuild_twice_in_one_transaction_finds_nothing_the_second_time(volunteer, group):
    in_bulk(volunteer.volunteer, group=group, when=timezone.now())
    assert len(tallies_rebuild()) == len(GRAINS)
    assert tallies_rebuild() == []
    assert ReportTally.objects.get().count == 1
