"""The demo's benchmarks: this year's targets for the country, the demo regions and their districts (reports, and
the prevention work's meetings and initiative villages).

Targets are set against what the demo's verified reports project for the year end, some above and some below, so the
demo chief's dashboard tells a story: some districts ahead of their path, some behind, one close to it.
"""

from __future__ import annotations

import datetime

from django.db.models import Count, Sum
from django.utils import timezone

from ..choices import BenchmarkLevel, OutcomeCode
from ..clock import LOCAL_TZ
from ..models import Benchmark, District, DistrictMonthTally, MeetingTally, SettlementYearTally
from ..services.figures import year_elapsed

# The ministry's plan for the year after the Year of Prevention (the demo's own figures, for the story).
NATIONAL_TARGET = {OutcomeCode.PREVENTED: 16_000, OutcomeCode.SOLVED: 330}
# How far each district's target sits from its projection, in turn: below 1 it is ahead, above 1 behind.
DISTRICT_STRETCH = (0.82, 1.3, 0.97, 1.18, 0.88, 1.45)
REGION_STRETCH = 1.08
NOTE = "Demo"
# The summary says only "thousands of meetings": the demo's national 2025 target is a round figure an admin can change.
MEETINGS_2025 = 5_000
NATIONAL_PREVENTION = {"meetings_target": 6_000, "initiative_target": 550, "crime_free_target": 550}


def _projections(districts: list[District], year: int, elapsed: float) -> dict[tuple[int, str], float]:
    rows = (
        DistrictMonthTally.objects.filter(year=year, district__in=districts, outcome__code__in=list(NATIONAL_TARGET))
        .values_list("district_id", "outcome__code")
        .annotate(n=Sum("count"))
    )
    return {(district_id, code): n / elapsed for district_id, code, n in rows}


def save_demo_benchmarks(*, districts: dict[str, District], now: datetime.datetime | None = None) -> int:
    """This year's national, regional and district targets of the demo (missing ones only); returns how many."""
    today = timezone.localtime(now or timezone.now(), LOCAL_TZ).date()
    year = today.year
    elapsed = max(year_elapsed(year, today), 0.05)
    ordered = sorted(districts.values(), key=lambda district: district.code)
    projected = _projections(ordered, year, elapsed)
    created = 0
    _national, new = Benchmark.objects.get_or_create(
        year=year,
        level=BenchmarkLevel.NATIONAL,
        defaults={
            "prevented_target": NATIONAL_TARGET[OutcomeCode.PREVENTED],
            "solved_target": NATIONAL_TARGET[OutcomeCode.SOLVED],
            "note": NOTE,
        },
    )
    created += new
    regions: dict[int, dict[str, float]] = {}
    for index, district in enumerate(ordered):
        stretch = DISTRICT_STRETCH[index % len(DISTRICT_STRETCH)]
        targets = {}
        for code in NATIONAL_TARGET:
            expected = projected.get((district.pk, code), 0.0)
            regions.setdefault(district.region_id, {}).setdefault(code, 0.0)
            regions[district.region_id][code] += expected
            targets[code] = max(1, round(expected * stretch))
        _benchmark, new = Benchmark.objects.get_or_create(
            year=year,
            level=BenchmarkLevel.DISTRICT,
            district=district,
            defaults={
                "prevented_target": targets[OutcomeCode.PREVENTED],
                "solved_target": targets[OutcomeCode.SOLVED],
                "note": NOTE,
            },
        )
        created += new
    for region_id, expected in regions.items():
        _benchmark, new = Benchmark.objects.get_or_create(
            year=year,
            level=BenchmarkLevel.REGION,
            region_id=region_id,
            defaults={
                "prevented_target": max(1, round(expected[OutcomeCode.PREVENTED] * REGION_STRETCH)),
                "solved_target": max(1, round(expected[OutcomeCode.SOLVED] * REGION_STRETCH)),
                "note": NOTE,
            },
        )
        created += new
    _prevention_targets(ordered, year, elapsed)
    return created


def _prevention_targets(districts: list[District], year: int, elapsed: float) -> None:
    """Meetings and initiative villages: the national figures, and each district's from what it projects."""
    Benchmark.objects.filter(year=2025, level=BenchmarkLevel.NATIONAL, meetings_target=None).update(
        meetings_target=MEETINGS_2025
    )
    Benchmark.objects.filter(year=year, level=BenchmarkLevel.NATIONAL, meetings_target=None).update(
        **NATIONAL_PREVENTION
    )
    held = dict(
        MeetingTally.objects.filter(year=year, district__in=districts)
        .values_list("district_id")
        .annotate(n=Sum("meetings"))
    )
    villages = dict(
        SettlementYearTally.objects.filter(year=year, district__in=districts, initiative=True)
        .values_list("district_id")
        .annotate(n=Count("id"))
    )
    regions: dict[int, list[int]] = {}
    for index, district in enumerate(districts):
        stretch = DISTRICT_STRETCH[index % len(DISTRICT_STRETCH)]
        meetings = max(1, round(held.get(district.pk, 0) / elapsed * stretch))
        initiative = villages.get(district.pk, 0) + 1
        targets = {"meetings_target": meetings, "initiative_target": initiative, "crime_free_target": initiative}
        Benchmark.objects.filter(
            year=year, level=BenchmarkLevel.DISTRICT, district=district, meetings_target=None
        ).update(**targets)
        total = regions.setdefault(district.region_id, [0, 0])
        total[0] += meetings
        total[1] += initiative
    for region_id, (meetings, initiative) in regions.items():
        Benchmark.objects.filter(
            year=year, level=BenchmarkLevel.REGION, region_id=region_id, meetings_target=None
        ).update(meetings_target=meetings, initiative_target=initiative, crime_free_target=initiative)
