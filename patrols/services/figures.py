"""The dashboards' figures: verified totals against the benchmarks, cut to the viewer's scope.

Everything here reads the kept tallies (`models/figures.py`), never the reports themselves, so a page costs the
same with ten thousand reports as with a million. The area a viewer asks for goes through `dashboard_area`, which
knows the scope: a chief gets their region and its districts, an inspector their districts, analysts the country.
"""

from __future__ import annotations

import calendar
import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Count, DurationField, F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import (
    AssignmentStatus,
    BenchmarkLevel,
    GroupKind,
    OutcomeCode,
    ReportStatus,
    Role,
    ShiftStatus,
)
from ..models import (
    Assignment,
    Benchmark,
    Category,
    CategoryYearTally,
    District,
    DistrictMonthTally,
    Group,
    Outcome,
    Region,
    RegionMonthTally,
    Report,
    ReportTally,
    Shift,
    User,
)
from ..scope import NATIONAL_ROLES, districts_in_scope, role_of, sees_figures
from .tallies import ALMATY

HEADLINE = (OutcomeCode.PREVENTED, OutcomeCode.SOLVED)
# Within this share of the straight-line path a scope is "on track" rather than ahead or behind.
ON_TRACK_MARGIN = 0.03


class NotInScope(ObjectDoesNotExist):
    """The area asked for does not exist for this viewer (answered as 404: no existence leaks)."""


@dataclass(frozen=True)
class Area:
    """Where a dashboard looks: the whole country, one region or one district."""

    level: str
    region: Region | None = None
    district: District | None = None

    @property
    def code(self) -> str:
        return self.district.code if self.district else self.region.code if self.region else "KZ"

    @property
    def name(self) -> str:
        if self.district:
            return self.district.name
        return self.region.name if self.region else _("Kazakhstan")

    @property
    def parent(self) -> Area | None:
        if self.district:
            return Area(BenchmarkLevel.REGION, region=self.district.region)
        return Area(BenchmarkLevel.NATIONAL) if self.region else None

    def query(self) -> dict[str, str]:
        """The query string that names this area (`region=` or `district=`)."""
        if self.district:
            return {"district": self.district.code}
        return {"region": self.region.code} if self.region else {}


def sees_nation(user: User) -> bool:
    return role_of(user) in NATIONAL_ROLES


def _sees_region(user: User, region: Region) -> bool:
    role = role_of(user)
    return role in NATIONAL_ROLES or (role == Role.CHIEF and user.chief_region_id == region.pk)


def dashboard_area(user: User, *, region: str | None = None, district: str | None = None) -> Area:
    """The area named by codes, or the viewer's own when none is given; `NotInScope` for anything else."""
    if not sees_figures(user):
        raise NotInScope
    if district:
        found = districts_in_scope(user).select_related("region").filter(code=district).first()
        if found is None or (region and found.region.code != region):
            raise NotInScope
        return Area(BenchmarkLevel.DISTRICT, region=found.region, district=found)
    if region:
        found = Region.objects.filter(code=region).first()
        if found is None or not _sees_region(user, found):
            raise NotInScope
        return Area(BenchmarkLevel.REGION, region=found)
    if sees_nation(user):
        return Area(BenchmarkLevel.NATIONAL)
    if role_of(user) == Role.CHIEF and user.chief_region_id:
        return Area(BenchmarkLevel.REGION, region=user.chief_region)
    first = districts_in_scope(user).select_related("region").order_by("code").first()
    if first is None:
        raise NotInScope
    return Area(BenchmarkLevel.DISTRICT, region=first.region, district=first)


def may_open(user: User, area: Area) -> bool:
    """Whether the viewer may drill into `area` (used to link the rows of a breakdown)."""
    try:
        dashboard_area(user, **area.query())
    except NotInScope:
        return False
    return True


# Benchmarks


@dataclass
class Target:
    prevented: int
    solved: int
    level: str

    def of(self, outcome: str) -> int:
        return self.prevented if outcome == OutcomeCode.PREVENTED else self.solved


def _target(benchmark: Benchmark | None) -> Target | None:
    if benchmark is None:
        return None
    return Target(benchmark.prevented_target, benchmark.solved_target, benchmark.level)


def benchmarks_for(year: int, area: Area) -> tuple[Target | None, Target | None]:
    """(the area's own target, the national target) for the year; either may be missing."""
    rows = Benchmark.objects.filter(year=year).filter(
        Q(level=BenchmarkLevel.NATIONAL)
        | Q(level=BenchmarkLevel.REGION, region=area.region if area.level == BenchmarkLevel.REGION else None)
        | Q(level=BenchmarkLevel.DISTRICT, district=area.district)
    )
    by_level = {row.level: row for row in rows if row.level == area.level or row.level == BenchmarkLevel.NATIONAL}
    return _target(by_level.get(area.level)), _target(by_level.get(BenchmarkLevel.NATIONAL))


def _child_targets(year: int, area: Area) -> dict[int, Target]:
    if area.level == BenchmarkLevel.NATIONAL:
        rows = Benchmark.objects.filter(year=year, level=BenchmarkLevel.REGION)
        return {row.region_id: _target(row) for row in rows}
    if area.level == BenchmarkLevel.REGION:
        rows = Benchmark.objects.filter(year=year, level=BenchmarkLevel.DISTRICT, district__region=area.region)
        return {row.district_id: _target(row) for row in rows}
    return {}


# Pace


def year_elapsed(year: int, today: datetime.date) -> float:
    """The share of the year gone by at the end of `today` (0 before it starts, 1 after it ends)."""
    if today.year < year:
        return 0.0
    if today.year > year:
        return 1.0
    days = 366 if calendar.isleap(year) else 365
    return today.timetuple().tm_yday / days


@dataclass
class Figure:
    """One headline number: the verified count against its benchmark, and the pace through the year."""

    count: int
    benchmark: int | None = None
    benchmark_scope: str | None = None
    percent: float | None = None
    expected_to_date: int | None = None
    pace: str | None = None
    projection: int | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def figure(count: int, *, own: int | None, national: int | None, level: str, elapsed: float) -> Figure:
    """The count against the area's own target (pace and projection too), else against the national one (its share)."""
    result = Figure(count=count)
    if elapsed > 0:
        result.projection = round(count / elapsed)
    target = own if own is not None else national
    if target is None:
        return result
    result.benchmark = target
    result.benchmark_scope = level if own is not None else BenchmarkLevel.NATIONAL
    result.percent = round(100 * count / target, 1) if target else None
    if own is not None and elapsed > 0:
        expected = own * elapsed
        result.expected_to_date = round(expected)
        if count >= expected * (1 + ON_TRACK_MARGIN):
            result.pace = "ahead"
        elif count < expected * (1 - ON_TRACK_MARGIN):
            result.pace = "behind"
        else:
            result.pace = "on_track"
    return result


# Totals


def _outcome_ids() -> dict[int, str]:
    return dict(Outcome.objects.filter(code__in=HEADLINE).values_list("pk", "code"))


def _month_rows(area: Area, years: list[int]):
    """Rows (year, month, area id, group kind, outcome id, count) at the grain one level below the area."""
    if area.level == BenchmarkLevel.NATIONAL:
        rows = RegionMonthTally.objects.filter(year__in=years)
        child = "region_id"
    else:
        rows = DistrictMonthTally.objects.filter(year__in=years)
        rows = rows.filter(district=area.district) if area.district else rows.filter(region=area.region)
        child = "district_id"
    return (
        rows.exclude(count=0)
        .values("year", "month", child, "group_kind", "outcome_id")
        .annotate(n=Sum("count"))
        .values_list("year", "month", child, "group_kind", "outcome_id", "n")
    )


@dataclass
class Totals:
    """The verified totals of an area for a year, as the API and the pages show them."""

    year: int
    area: Area
    as_of: datetime.date
    prevented: Figure
    solved: Figure
    by_group_kind: list[dict]
    by_area: list[dict]
    by_month: list[dict]
    by_category: list[dict] = field(default_factory=list)


def _zero() -> dict[str, int]:
    return {code: 0 for code in HEADLINE}


def dashboard_totals(area: Area, year: int, *, today: datetime.date | None = None) -> Totals:
    """Verified prevented and solved for the area and year, with the breakdowns, read from the tallies."""
    today = today or timezone.localdate(timezone=ALMATY)
    outcomes = _outcome_ids()
    headline, kinds = _zero(), defaultdict(_zero)
    months = {(y, m): _zero() for y in (year, year - 1) for m in range(1, 13)}
    children: dict[int, dict[str, int]] = defaultdict(_zero)
    for row_year, month, child, kind, outcome_id, n in _month_rows(area, [year, year - 1]):
        code = outcomes.get(outcome_id)
        if code is None:
            continue
        months[(row_year, month)][code] += n
        if row_year != year:
            continue
        headline[code] += n
        kinds[kind][code] += n
        children[child][code] += n
    own, national = benchmarks_for(year, area)
    elapsed = year_elapsed(year, today)

    def headline_figure(code: str) -> Figure:
        return figure(
            headline[code],
            own=own.of(code) if own else None,
            national=national.of(code) if national else None,
            level=area.level,
            elapsed=elapsed,
        )

    by_month = [
        {
            "month": month,
            "prevented": months[(year, month)][OutcomeCode.PREVENTED],
            "solved": months[(year, month)][OutcomeCode.SOLVED],
            "prevented_last_year": months[(year - 1, month)][OutcomeCode.PREVENTED],
            "solved_last_year": months[(year - 1, month)][OutcomeCode.SOLVED],
        }
        for month in range(1, 13)
    ]
    by_group_kind = [
        {"kind": kind.value, "name": str(kind.label), **kinds.get(kind.value, _zero())} for kind in GroupKind
    ]
    if kinds.get(""):
        by_group_kind.append({"kind": "", "name": _("Without a group"), **kinds[""]})
    return Totals(
        year=year,
        area=area,
        as_of=min(today, datetime.date(year, 12, 31)),
        prevented=headline_figure(OutcomeCode.PREVENTED),
        solved=headline_figure(OutcomeCode.SOLVED),
        by_group_kind=by_group_kind,
        by_area=_by_area(area, year, children, national, elapsed),
        by_month=by_month,
    )


def _by_area(
    area: Area, year: int, children: dict[int, dict[str, int]], national: Target | None, elapsed: float
) -> list[dict]:
    """One row per region (national), district (region) or group (district), with counts and targets."""
    if area.level == BenchmarkLevel.DISTRICT:
        return _by_group(area, year)
    if area.level == BenchmarkLevel.NATIONAL:
        places = Region.objects.order_by("code")
        level = BenchmarkLevel.REGION
    else:
        places = District.objects.filter(region=area.region).order_by("code")
        level = BenchmarkLevel.DISTRICT
    targets = _child_targets(year, area)
    rows = []
    for place in places:
        counts = children.get(place.pk, _zero())
        own = targets.get(place.pk)
        row = {"level": level, "code": place.code, "name": place.name}
        for code in HEADLINE:
            row[code] = counts[code]
            row[f"{code}_figure"] = figure(
                counts[code],
                own=own.of(code) if own else None,
                national=national.of(code) if national else None,
                level=level,
                elapsed=elapsed,
            ).as_dict()
        rows.append(row)
    return rows


def _by_group(area: Area, year: int) -> list[dict]:
    outcomes = _outcome_ids()
    counts: dict[int | None, dict[str, int]] = defaultdict(_zero)
    for group_id, outcome_id, n in (
        ReportTally.objects.filter(district=area.district, year=year, outcome_id__in=list(outcomes))
        .values("group_id", "outcome_id")
        .annotate(n=Sum("count"))
        .values_list("group_id", "outcome_id", "n")
    ):
        counts[group_id][outcomes[outcome_id]] += n
    groups = Group.objects.filter(Q(district=area.district) | Q(pk__in=[pk for pk in counts if pk])).order_by("name")
    rows = [
        {
            "level": "group",
            "code": str(group.pk),
            "name": group.name,
            "kind": group.kind,
            **counts.get(group.pk, _zero()),
        }
        for group in groups
    ]
    if None in counts:
        rows.append({"level": "group", "code": "", "name": _("Without a group"), "kind": "", **counts[None]})
    return rows


def by_category(area: Area, year: int) -> list[dict]:
    """Verified reports by category: prevented, solved and all verified, most first."""
    outcomes = _outcome_ids()
    rows = CategoryYearTally.objects.filter(year=year)
    if area.district:
        rows = rows.filter(district=area.district)
    elif area.region:
        rows = rows.filter(region=area.region)
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {**_zero(), "verified": 0})
    for category_id, outcome_id, n in (
        rows.values("category_id", "outcome_id").annotate(n=Sum("count")).values_list("category_id", "outcome_id", "n")
    ):
        counts[category_id]["verified"] += n
        if outcome_id in outcomes:
            counts[category_id][outcomes[outcome_id]] += n
    result = [
        {"code": category.code, "name": category.name, **counts[category.pk]}
        for category in Category.objects.filter(pk__in=list(counts))
    ]
    return sorted(result, key=lambda row: (-row["verified"], row["name"]))


# Activity: from shifts and assignments, not reports


def _year_bounds(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime(year, 1, 1, tzinfo=ALMATY)
    return start, start.replace(year=year + 1)


def _in_area(queryset, area: Area, prefix: str = ""):
    if area.district:
        return queryset.filter(**{f"{prefix}district": area.district})
    if area.region:
        return queryset.filter(**{f"{prefix}district__region": area.region})
    return queryset


def dashboard_activity(area: Area, year: int) -> dict:
    """Active volunteers, shifts held, patrol hours, the no-show rate and the reports waiting for verification."""
    start, end = _year_bounds(year)
    shifts = _in_area(Shift.objects.filter(starts_at__gte=start, starts_at__lt=end), area)
    assignments = _in_area(
        Assignment.objects.filter(shift__starts_at__gte=start, shift__starts_at__lt=end), area, "shift__"
    )
    attended = assignments.filter(status__in=[AssignmentStatus.COMPLETED, AssignmentStatus.CHECKED_IN])
    held = shifts.exclude(status=ShiftStatus.CANCELLED).filter(
        assignments__status__in=[AssignmentStatus.COMPLETED, AssignmentStatus.CHECKED_IN]
    )
    attendance = assignments.aggregate(
        came=Count("pk", filter=Q(status__in=[AssignmentStatus.COMPLETED, AssignmentStatus.CHECKED_IN])),
        missed=Count("pk", filter=Q(status=AssignmentStatus.NO_SHOW)),
    )
    expected = attendance["came"] + attendance["missed"]
    hours = (
        attended.filter(check_in_at__isnull=False, check_out_at__isnull=False).aggregate(
            total=Sum(F("check_out_at") - F("check_in_at"), output_field=DurationField())
        )["total"]
        or datetime.timedelta()
    )
    waiting = _in_area(Report.objects.filter(status=ReportStatus.SUBMITTED), area).count()
    return {
        "active_volunteers": attended.values("volunteer_id").distinct().count(),
        "shifts_held": held.distinct().count(),
        "patrol_hours": round(hours.total_seconds() / 3600, 1),
        "no_show_rate": round(100 * attendance["missed"] / expected, 1) if expected else None,
        "reports_waiting": waiting,
    }


def summary_details(region: Region, *, today: datetime.date | None = None) -> dict:
    """The weekly chief summary's figures: the region's verified totals of the year against their benchmarks."""
    today = today or timezone.localdate(timezone=ALMATY)
    totals = dashboard_totals(Area(BenchmarkLevel.REGION, region=region), today.year, today=today)
    details: dict = {}
    for code, value in (("prevented", totals.prevented), ("solved", totals.solved)):
        details[code] = value.count
        details[f"{code}_benchmark"] = value.benchmark
        details[f"{code}_percent"] = value.percent
        details[f"{code}_pace"] = value.pace
    return details
