"""The Almaty Region chief's numbers: verified totals against the benchmarks, cut to the chief's region.

Talgar's inspector verifies reports; the chief reads `/api/v1/dashboard/totals/` and sees them counted once, against
the region's target (or the national one when the region has none), with the pace through the year. Nobody sees an
area outside their scope: it answers 404.
"""

import datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from patrols.choices import BenchmarkLevel, GroupKind, NotificationKind
from patrols.clock import LOCAL_TZ
from patrols.models import Benchmark, Notification, RegionMonthTally
from patrols.services import figures, reporting
from patrols.services.reminders import chief_summaries
from tests.factories import GroupFactory, MembershipFactory, UserFactory, VolunteerFactory
from tests.support.reports import file_report, verified

pytestmark = pytest.mark.django_db

THIS_YEAR = timezone.localdate(timezone=LOCAL_TZ).year


def totals(api, user, **query):
    response = api(user).get("/api/v1/dashboard/totals/", query)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_chief_sees_verified_reports_counted_once_against_the_national_benchmark(
    api, volunteer, inspector, chief, district
):
    Benchmark.objects.create(year=THIS_YEAR, level=BenchmarkLevel.NATIONAL, prevented_target=15000, solved_target=307)
    first = verified(volunteer, inspector)
    verified(volunteer, inspector, outcome="solved")
    waiting = file_report(volunteer)
    twin = verified(volunteer, inspector)
    reporting.report_mark_duplicate(report=twin, original=first, by=inspector)

    data = totals(api, chief)

    assert data["area"] == {"level": "region", "code": "KZ-19", "name": district.region.name}
    assert data["prevented"]["count"] == 1
    assert data["solved"]["count"] == 1
    # The region has no target of its own: no target and no percent, only its share of the national one.
    assert (data["prevented"]["benchmark"], data["prevented"]["benchmark_scope"]) == (None, None)
    assert data["prevented"]["percent"] is None
    assert data["prevented"]["national_benchmark"] == 15000
    assert data["prevented"]["national_share"] == round(100 / 15000, 1)
    assert data["prevented"]["pace"] is None
    talgar = next(row for row in data["by_area"] if row["code"] == district.code)
    assert (talgar["prevented"], talgar["solved"]) == (1, 1)
    kinds = {row["kind"]: row["prevented"] for row in data["by_group_kind"]}
    assert kinds[GroupKind.PUBLIC_ASSISTANTS] == 1 and kinds[GroupKind.SARBAZ] == 0
    month = timezone.localtime(first.occurred_at, LOCAL_TZ).month
    assert data["by_month"][month - 1]["prevented"] == 1
    assert data["by_category"][0]["code"] == "petty_hooliganism"
    assert data["by_category"][0]["verified"] == 2

    reporting.report_reject(report=first, by=inspector, reason="Куәгерлер растамады.")
    assert totals(api, chief)["prevented"]["count"] == 0
    reporting.report_verify(report=waiting, by=inspector)
    assert totals(api, chief)["prevented"]["count"] == 1


def test_a_region_with_its_own_target_shows_pace_and_projection(api, volunteer, inspector, chief, district):
    Benchmark.objects.create(
        year=THIS_YEAR, level=BenchmarkLevel.REGION, region=district.region, prevented_target=2, solved_target=1
    )
    verified(volunteer, inspector)
    verified(volunteer, inspector)

    prevented = totals(api, chief)["prevented"]

    assert prevented["benchmark"] == 2
    assert prevented["benchmark_scope"] == "region"
    assert prevented["percent"] == 100.0
    elapsed = figures.year_elapsed(THIS_YEAR, timezone.localdate(timezone=LOCAL_TZ))
    assert prevented["expected_to_date"] == round(2 * elapsed)
    assert prevented["pace"] == "ahead"
    assert prevented["projection"] == round(2 / elapsed)


@pytest.mark.parametrize(
    ("count", "pace"), [(60, "ahead"), (51, "on_track"), (49, "on_track"), (45, "behind"), (0, "behind")]
)
def test_pace_is_measured_against_a_straight_line_through_the_year(count, pace):
    result = figures.figure(count, own=100, national=15000, level="district", elapsed=0.5)
    assert result.pace == pace
    assert result.expected_to_date == 50
    assert result.projection == count * 2


def test_a_report_at_midnight_on_new_years_eve_counts_in_the_year_of_almaty(
    api, volunteer, inspector, analyst, settings
):
    settings.REPORT_MAX_AGE_DAYS = 3650
    eve = datetime.datetime(THIS_YEAR - 1, 12, 31, 23, 30, tzinfo=LOCAL_TZ)  # already the 31st... in UTC 18:30
    verified(volunteer, inspector, when=eve)

    last_year = totals(api, analyst, year=THIS_YEAR - 1)
    this_year = totals(api, analyst, year=THIS_YEAR)

    assert last_year["prevented"]["count"] == 1
    assert last_year["by_month"][11]["prevented"] == 1
    assert this_year["prevented"]["count"] == 0
    assert this_year["by_month"][11]["prevented_last_year"] == 1


def test_each_viewer_gets_their_own_area_by_default(api, inspector, chief, analyst, district):
    assert totals(api, analyst)["area"]["level"] == "national"
    assert totals(api, chief)["area"]["code"] == district.region.code
    assert totals(api, inspector)["area"]["code"] == district.code
    national = totals(api, analyst)
    assert len(national["by_area"]) == 20
    assert {row["level"] for row in national["by_area"]} == {"region"}


def test_drilling_down_to_a_district_lists_its_groups(api, volunteer, inspector, chief, district, group):
    verified(volunteer, inspector)
    data = totals(api, chief, district=district.code)
    assert data["area"]["level"] == "district"
    row = next(row for row in data["by_area"] if row["code"] == str(group.pk))
    assert (row["level"], row["name"], row["prevented"]) == ("group", group.name, 1)


@pytest.mark.parametrize(
    ("persona", "query"),
    [
        ("chief", {"region": "KZ-35"}),
        ("chief", {"district": "KZ-35-ABA"}),
        ("chief", {"region": "KZ-99"}),
        ("inspector", {"region": "KZ-19"}),
        ("inspector", {"district": "KZ-19-ILI"}),
        ("inspector", {"district": "KZ-35-ABA"}),
        ("volunteer", {}),
        ("leader", {}),
    ],
)
def test_nobody_sees_figures_outside_their_scope(api, request, persona, query, neighbour_district, other_district):
    user = request.getfixturevalue(persona)
    for path in ("/api/v1/dashboard/totals/", "/api/v1/dashboard/activity/"):
        assert api(user).get(path, query).status_code == 404


def test_a_chief_never_reads_another_regions_numbers(
    api, volunteer, other_volunteer, inspector, other_inspector, chief
):
    verified(volunteer, inspector)
    verified(other_volunteer, other_inspector)
    data = totals(api, chief)
    assert data["prevented"]["count"] == 1
    assert all(row["code"].startswith("KZ-19") for row in data["by_area"])
    assert "Абай" not in str(data) and "Abay" not in str(data)


def test_a_wrong_year_gets_a_translated_error(api, chief):
    response = api(chief).get("/api/v1/dashboard/totals/", {"year": "двадцать"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 400
    assert "year" in response.json()
    assert response.json()["year"][0] != "Give a year from 2000 to 2100."


def test_activity_counts_patrols_not_reports(api, chief, inspector, volunteer):
    verified(volunteer, inspector)
    file_report(volunteer)
    data = api(chief).get("/api/v1/dashboard/activity/").json()
    assert data["reports_waiting"] == 1
    assert data["active_volunteers"] == 0
    assert data["no_show_rate"] is None


# Benchmarks


def test_admins_set_targets_and_everyone_reads_those_in_scope(api, admin_user, chief, inspector, district):
    created = api(admin_user).post(
        "/api/v1/benchmarks/",
        {"year": THIS_YEAR, "level": "region", "region": "KZ-19", "prevented_target": 900, "solved_target": 20},
        format="json",
    )
    assert created.status_code == 201, created.content
    api(admin_user).post(
        "/api/v1/benchmarks/",
        {"year": THIS_YEAR, "level": "region", "region": "KZ-35", "prevented_target": 700, "solved_target": 15},
        format="json",
    )
    again = api(admin_user).post(
        "/api/v1/benchmarks/",
        {"year": THIS_YEAR, "level": "region", "region": "KZ-19", "prevented_target": 1, "solved_target": 1},
        format="json",
    )
    assert again.status_code == 400
    refused = api(chief).post(
        "/api/v1/benchmarks/",
        {"year": THIS_YEAR, "level": "national", "prevented_target": 1, "solved_target": 1},
        format="json",
    )
    assert refused.status_code == 403
    seen = {
        (row["year"], row["level"], row["region"])
        for row in api(chief).get("/api/v1/benchmarks/", {"page_size": 100}).json()["results"]
    }
    assert (2025, "national", None) in seen
    assert (THIS_YEAR, "region", "KZ-19") in seen
    assert (THIS_YEAR, "region", "KZ-35") not in seen
    assert totals(api, chief)["prevented"]["benchmark"] == 900


def test_a_regional_target_needs_its_region(api, admin_user):
    response = api(admin_user).post(
        "/api/v1/benchmarks/",
        {"year": THIS_YEAR, "level": "region", "prevented_target": 900, "solved_target": 20},
        format="json",
    )
    assert response.status_code == 400
    assert "region" in response.json()
    assert not Benchmark.objects.filter(year=THIS_YEAR).exists()


def test_the_2025_national_benchmark_is_the_ministrys_summary():
    national = Benchmark.objects.get(year=2025, level=BenchmarkLevel.NATIONAL)
    assert (national.prevented_target, national.solved_target) == (15000, 307)


# Keeping the counts honest


def test_the_rebuild_command_finds_and_mends_a_count_that_drifted(volunteer, inspector, capsys):
    verified(volunteer, inspector)
    with translation.override("en"):
        call_command("rebuild_tallies", "--check")
        assert "agree" in capsys.readouterr().out

        RegionMonthTally.objects.update(count=5)
        with pytest.raises(CommandError):
            call_command("rebuild_tallies", "--check")
        assert "kept 5, counted 1" in capsys.readouterr().out
        assert RegionMonthTally.objects.get().count == 5

        call_command("rebuild_tallies")
        assert RegionMonthTally.objects.get().count == 1
        call_command("rebuild_tallies", "--check")


def test_the_report_counts_for_the_reporters_group_of_that_patrol(volunteer, inspector, district):
    sarbaz = GroupFactory(district=district, kind=GroupKind.SARBAZ, inspector=inspector)
    MembershipFactory(volunteer=volunteer.volunteer, group=sarbaz)
    report = verified(volunteer, inspector)
    assert report.group.kind == GroupKind.PUBLIC_ASSISTANTS
    assert report.group_kind == GroupKind.PUBLIC_ASSISTANTS
    lone = VolunteerFactory(district=district, user=UserFactory())
    assert file_report(lone.user).group is None


def test_the_weekly_summary_tells_the_chief_where_the_region_stands(chief, volunteer, inspector, district):
    Benchmark.objects.create(
        year=THIS_YEAR, level=BenchmarkLevel.REGION, region=district.region, prevented_target=4, solved_target=2
    )
    verified(volunteer, inspector)
    chief_summaries()
    summary = Notification.objects.get(user=chief, kind=NotificationKind.CHIEF_SUMMARY)
    assert summary.details["prevented"] == 1
    assert summary.details["prevented_benchmark"] == 4
    assert summary.details["prevented_percent"] == 25.0
