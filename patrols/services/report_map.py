"""The dashboard's map of verified reports: points for a region or a district, a grid of counts for the country;
and the initiative villages, crime-free ones marked.

Unlike the totals, the map reads the reports themselves: one bounded query (the newest `MAP_POINT_LIMIT` points, or
one row per grid cell), filtered by the area that `figures.dashboard_area` checked against the viewer's scope.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.contrib.gis.db.models import Extent
from django.contrib.gis.db.models.functions import SnapToGrid
from django.db.models import Count, FloatField, Func

from ..choices import BenchmarkLevel
from ..models import District, Outcome, Settlement, SettlementYearTally
from . import villages
from .figures import Area
from .reporting import country_outline
from .tallies import LOCAL_TZ, counting_reports

# The newest verified reports a region or district map shows; the answer says when there are more.
MAP_POINT_LIMIT = 5000
# The national heat layer counts reports in cells of this many degrees (about 25 km north-south).
GRID_DEGREES = 0.25


class _X(Func):
    """A point's longitude, read by the database: building a GEOS point per row costs more than the query."""

    function = "ST_X"
    output_field = FloatField()


class _Y(_X):
    function = "ST_Y"


@dataclass
class ReportMap:
    """What the map shows: `points` (region, district) or `grid` cells with counts (the country)."""

    kind: str
    year: int
    total: int
    limit: int | None = None
    capped: bool = False
    points: list[dict] = field(default_factory=list)
    cells: list[dict] = field(default_factory=list)
    outcomes: dict[str, str] = field(default_factory=dict)
    bounds: list[float] | None = None
    villages: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _reports_of(area: Area, year: int):
    start = datetime.datetime(year, 1, 1, tzinfo=LOCAL_TZ)
    reports = counting_reports().filter(occurred_at__gte=start, occurred_at__lt=start.replace(year=year + 1))
    if area.district:
        return reports.filter(district=area.district)
    if area.region:
        return reports.filter(district__region=area.region)
    return reports


def area_bounds(area: Area) -> list[float] | None:
    """The area's extent as [south, west, north, east]: the country's outline, or its districts' boundaries."""
    if area.level == BenchmarkLevel.NATIONAL:
        west, south, east, north = country_outline().extent
    else:
        districts = District.objects.filter(pk=area.district.pk) if area.district else area.region.districts.all()
        extent = districts.aggregate(box=Extent("boundary"))["box"]
        if extent is None:
            return None
        west, south, east, north = extent
    return [round(south, 4), round(west, 4), round(north, 4), round(east, 4)]


def report_map(area: Area, year: int, *, limit: int = MAP_POINT_LIMIT) -> ReportMap:
    """The verified reports' points (or grid), with the area's initiative villages as their own layer."""
    found = _report_map(area, year, limit=limit)
    found.villages = initiative_villages(area, year)
    return found


def _report_map(area: Area, year: int, *, limit: int = MAP_POINT_LIMIT) -> ReportMap:
    """The verified, counting reports of the area and year (Asia/Almaty) as map points or, nationally, a grid."""
    reports = _reports_of(area, year)
    if area.level == BenchmarkLevel.NATIONAL:
        return _grid(reports, year)
    rows = list(
        reports.order_by("-occurred_at", "-id")
        .annotate(lng=_X("location"), lat=_Y("location"))
        .values_list("pk", "lat", "lng", "outcome__code", "occurred_at")[: limit + 1]
    )
    capped = len(rows) > limit
    points = [
        {
            "id": pk,
            "lat": round(lat, 6),
            "lng": round(lng, 6),
            "outcome": outcome,
            "day": occurred_at.astimezone(LOCAL_TZ).date().isoformat(),
        }
        for pk, lat, lng, outcome, occurred_at in rows[:limit]
    ]
    total = reports.count() if capped else len(points)
    names = {outcome.code: outcome.name for outcome in Outcome.objects.all()}
    return ReportMap(
        kind="points",
        year=year,
        total=total,
        limit=limit,
        capped=capped,
        points=points,
        outcomes=names,
        bounds=area_bounds(area),
    )


def _grid(reports, year: int) -> ReportMap:
    cells = (
        reports.annotate(cell=SnapToGrid("location", GRID_DEGREES))
        .values("cell")
        .annotate(n=Count("pk"))
        .values_list("cell", "n")
    )
    found = [{"lat": round(cell.y, 4), "lng": round(cell.x, 4), "count": n} for cell, n in cells]
    found.sort(key=lambda cell: (-cell["count"], cell["lat"], cell["lng"]))
    total = sum(cell["count"] for cell in found)
    return ReportMap(
        kind="grid", year=year, total=total, cells=found, bounds=area_bounds(Area(BenchmarkLevel.NATIONAL))
    )


def initiative_villages(area: Area, year: int) -> list[dict]:
    """The area's settlements with an initiative active in the year, each marked crime-free or not."""
    rows = SettlementYearTally.objects.filter(year=year, initiative=True)
    if area.district:
        rows = rows.filter(district=area.district)
    elif area.region:
        rows = rows.filter(region=area.region)
    free = set(villages.crime_free_rows(rows, year).values_list("settlement_id", flat=True))
    places = Settlement.objects.filter(pk__in=rows.values("settlement_id")).only(
        "pk", "code", "centre", "name_kk", "name_ru", "name_en"
    )
    return [
        {
            "code": place.code,
            "name": place.name,
            "lat": round(place.centre.y, 5),
            "lng": round(place.centre.x, 5),
            "crime_free": place.pk in free,
        }
        for place in places.order_by("code")
    ]
