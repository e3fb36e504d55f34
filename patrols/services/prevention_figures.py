"""The prevention work's figures for a dashboard: held meetings and the residents they reached (`MeetingTally`),
settlements with an initiative and the crime-free ones among them (`SettlementYearTally`), for an area and a year,
with the same drill-down as the reports' figures: regions of the country, districts of a region, and a district's
settlements. Read from the kept tallies only; `figures.dashboard_totals` sets them against the benchmarks."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractYear

from ..choices import BenchmarkLevel, MeetingStatus
from ..clock import LOCAL_TZ
from ..models import Meeting, MeetingTally, Settlement, SettlementYearTally
from . import villages

PREVENTION = ("meetings", "initiative_settlements", "crime_free_settlements")


@dataclass
class PreventionCounts:
    headline: dict[str, int]
    children: dict[int, dict[str, int]]
    settlements: list[dict]


def _where(area) -> dict:
    if area.district:
        return {"district": area.district}
    if area.region:
        return {"region": area.region}
    return {}


def prevention_counts(area, year: int, *, today: datetime.date | None = None) -> PreventionCounts:
    """The area's totals, its parts' (regions or districts by id), and for a district its settlements."""
    where = _where(area)
    child = {BenchmarkLevel.NATIONAL: "region_id", BenchmarkLevel.REGION: "district_id"}.get(area.level)
    meetings = MeetingTally.objects.filter(year=year, **where).order_by()
    villages_rows = SettlementYearTally.objects.filter(year=year, **where)
    headline = {"meetings": 0, "residents": 0, **villages.village_figures(villages_rows, year, today)}
    children: dict[int, dict[str, int]] = defaultdict(dict)
    if child is None:
        totals = meetings.aggregate(n=Sum("meetings"), people=Sum("residents"))
        headline["meetings"], headline["residents"] = totals["n"] or 0, totals["people"] or 0
        return PreventionCounts(headline, {}, district_settlements(area.district, year, today))
    for row in meetings.values(child).annotate(n=Sum("meetings"), people=Sum("residents")):
        children[row[child]].update(meetings=row["n"], residents=row["people"])
        headline["meetings"] += row["n"]
        headline["residents"] += row["people"]
    for pk, counts in villages.village_figures_by(villages_rows, year, child, today).items():
        children[pk].update(counts)
    return PreventionCounts(headline, dict(children), [])


def district_settlements(district, year: int, today: datetime.date | None = None) -> list[dict]:
    """Every settlement of the district (and any other with a meeting or figures kept here): the meetings held in
    the year, whether an initiative was active, and the crime status."""
    held = (
        Meeting.objects.filter(district=district, status=MeetingStatus.HELD)
        .annotate(year=ExtractYear("held_at", tzinfo=LOCAL_TZ))
        .filter(year=year)
        .order_by()
        .values("settlement_id")
        .annotate(n=Count("id"), people=Sum("residents"))
    )
    meetings = {row["settlement_id"]: (row["n"], row["people"] or 0) for row in held}
    kept = {row.settlement_id: row for row in SettlementYearTally.objects.filter(district=district, year=year)}
    places = Settlement.objects.filter(Q(district=district) | Q(pk__in=meetings) | Q(pk__in=kept)).only(
        "code", "kato", "name_kk", "name_ru", "name_en"
    )
    rows = []
    for place in sorted(places, key=lambda p: p.name):
        row = kept.get(place.pk)
        n, people = meetings.get(place.pk, (0, 0))
        recorded, crimes = (row.months_recorded, row.crimes) if row else (0, 0)
        rows.append(
            {
                "code": place.code,
                "kato": place.kato,
                "name": place.name,
                "meetings": n,
                "residents": people,
                "initiative": bool(row and row.initiative),
                "crime_status": villages.crime_status(year=year, months_recorded=recorded, crimes=crimes, today=today),
                "months_recorded": bin(recorded).count("1"),
                "crimes": crimes,
            }
        )
    return rows
