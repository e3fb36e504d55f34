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

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import connections, router
from django.db.models import Count, Model, Q, Sum
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
from ..clock import LOCAL_TZ
from ..models import (
    Assignment,
    Benchmark,
    Category,
    CategoryYearTally,
    District,
    DistrictMonthTally,
    Group,
    HoursTally,
    Outcome,
    Region,
    RegionMonthTally,
    Report,
    ReportTally,
    User,
)
from ..scope import NATIONAL_ROLES, districts_in_scope, is_national, role_of, sees_figures
from ..validators import FIRST_YEAR, LAST_YEAR
from .prevention_figures import PREVENTION, PreventionCounts, prevention_counts

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


def _sees_region(user: User, region: Region) -> bool:
    role = role_of(user)
    return role in NATIONAL_ROLES or (role == Role.CHIEF and user.chief_region_id == region.pk)


def dashboard_area(user: User, *, region: str | None = None, district: str | None = None) -> Area:
    """The area named by codes, or the viewer's own when none is given; `NotInScope` for anything else."""
    if not sees_figures(user):
        raise NotInScope
    if "\x00" in f"{region or ''}{district or ''}":
        # No code has a NUL character, and PostgreSQL cannot even compare text with one.
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
    if is_national(user):
        return Area(BenchmarkLevel.NATIONAL)
    if role_of(user) == Role.CHIEF and user.chief_region_id:
        return Area(BenchmarkLevel.REGION, region=user.chief_region)
    first = districts_in_scope(user).select_related("region").order_by("code").first()
    if first is None:
        raise NotInScope
    return Area(BenchmarkLevel.DISTRICT, region=first.region, district=first)


def dashboard_year(value: str | int | None) -> int:
    """The calendar year a dashboard (or an export) is asked for, this year in Almaty when none is given;
    `ValidationError` on `year` with a translated message for anything but a year the app accepts."""
    if value in (None, ""):
        return timezone.localdate(timezone=LOCAL_TZ).year
    try:
        year = int(value)
    except (TypeError, ValueError):
        year = None
    if year is None or not FIRST_YEAR <= year <= LAST_YEAR:
        message = _("Give a year from %(first)d to %(last)d.") % {"first": FIRST_YEAR, "last": LAST_YEAR}
        raise ValidationError({"year": [ValidationError(message, code="invalid")]})
    return year


def may_open(user: User, area: Area) -> bool:
    """Whether the viewer may drill into `area` (used to link the rows of a breakdown)."""
    if area.level == BenchmarkLevel.NATIONAL:
        # The national area names no code: `dashboard_area` would answer with the viewer's own area instead.
        return is_national(user)
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
    meetings: int | None = None
    initiative_settlements: int | None = None
    crime_free_settlements: int | None = None

    def of(self, code: str) -> int | None:
        """The target of a headline figure by its code (`prevented`, `meetings`, ...); None when not set."""
        return getattr(self, code)


def _target(benchmark: Benchmark | None) -> Target | None:
    if benchmark is None:
        return None
    return Target(
        benchmark.prevented_target,
        benchmark.solved_target,
        benchmark.level,
        meetings=benchmark.meetings_target,
        initiative_settlements=benchmark.initiative_target,
        crime_free_settlements=benchmark.crime_free_target,
    )


def benchmarks_for(year: int, area: Area) -> tuple[Target | None, Target | None]:
    """(the area's own target, the national target) for the year; either may be missing."""
    own, national, _children = _targets(year, area)
    return own, national


def _targets(year: int, area: Area) -> tuple[Target | None, Target | None, dict[int, Target]]:
    """The area's own target, the national one, and those of the areas one level below (regions of the country,
    districts of a region) by id, in one query."""
    scope = Q(level=BenchmarkLevel.NATIONAL)
    if area.level == BenchmarkLevel.NATIONAL:
        scope |= Q(level=BenchmarkLevel.REGION)
    elif area.level == BenchmarkLevel.REGION:
        scope |= Q(level=BenchmarkLevel.REGION, region=area.region)
        scope |= Q(level=BenchmarkLevel.DISTRICT, district__region_id=area.region.pk)
    else:
        scope |= Q(level=BenchmarkLevel.DISTRICT, district=area.district)
    own = national = None
    children: dict[int, Target] = {}
    for row in Benchmark.objects.filter(scope, year=year).order_by():
        if row.level == BenchmarkLevel.NATIONAL:
            national = _target(row)
        if row.level == area.level:
            own = _target(row)
        elif row.level == BenchmarkLevel.REGION:
            children[row.region_id] = _target(row)
        elif row.level == BenchmarkLevel.DISTRICT:
            children[row.district_id] = _target(row)
    return own, national, children


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
    """One headline number: the verified count against the target of its own scope, and the pace through the year.

    A scope without a target of its own has no `benchmark` and no `percent`: a region's count set against the
    national target would read as a region far behind. Its part of the national target is `national_share`,
    labelled as such wherever it is shown."""

    count: int
    benchmark: int | None = None
    benchmark_scope: str | None = None
    percent: float | None = None
    expected_to_date: int | None = None
    pace: str | None = None
    projection: int | None = None
    national_benchmark: int | None = None
    national_share: float | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def figure(count: int, *, own: int | None, national: int | None, level: str, elapsed: float) -> Figure:
    """The count against the area's own target, with the pace and the projection; below the country also its share
    of the national target."""
    result = Figure(count=count)
    if elapsed > 0:
        result.projection = round(count / elapsed)
    if national is not None and level != BenchmarkLevel.NATIONAL:
        result.national_benchmark = national
        result.national_share = round(100 * count / national, 1) if national else None
    if own is None:
        return result
    result.benchmark = own
    result.benchmark_scope = level
    result.percent = round(100 * count / own, 1) if own else None
    if elapsed > 0:
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
    """The headline outcomes' ids and codes: a tiny query that lets the tallies be read by their outcome index
    (cheaper than joining the outcomes to every tally row)."""
    return dict(Outcome.objects.filter(code__in=HEADLINE).values_list("pk", "code"))


def _quoted(model: type[Model], *fields: str) -> tuple[str, dict[str, str]]:
    """A model's table and the columns of `fields`, quoted for SQL."""
    quote = connections[router.db_for_read(model)].ops.quote_name
    return quote(model._meta.db_table), {name: quote(model._meta.get_field(name).column) for name in fields}


def _fetch(model: type[Model], sql: str, params: list) -> list[tuple]:
    with connections[router.db_for_read(model)].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _month_sums(area: Area, year: int, outcomes: dict[int, str]) -> list[tuple]:
    """The area's monthly tallies of the `outcomes`, summed by the database in one statement (a few dozen rows,
    however many reports there are): (part, year, month, kind of group, child id, outcome code, sum), where part
    `month` sums by month (for the year and the one before), `kind` by kind of group and `child` by the areas one
    level below (regions of the country, districts of a region), both for the year.

    Written as SQL: built with the ORM, these three sums cost a dashboard request more than the database spends
    answering them."""
    if not outcomes:
        return []
    if area.level == BenchmarkLevel.NATIONAL:
        model, child, scope = RegionMonthTally, "region_id", {}
    else:
        model, child = DistrictMonthTally, "district_id"
        scope = {"district_id": area.district.pk} if area.district else {"region_id": area.region.pk}
    table, c = _quoted(model, "year", "month", "group_kind", child, "outcome_id", "count", *scope)
    rows = " AND ".join(
        [
            f"{c['count']} <> 0",
            f"{c['outcome_id']} IN ({', '.join(['%s'] * len(outcomes))})",
            *(f"{c[name]} = %s" for name in scope),
        ]
    )
    chosen = [*outcomes, *scope.values()]
    year_, outcome, total = c["year"], c["outcome_id"], f"SUM({c['count']})"
    sql = " UNION ALL ".join(
        [
            f"SELECT 'month', {year_}, {c['month']}, '', 0, {outcome}, {total} FROM {table} "
            f"WHERE {rows} AND {year_} IN (%s, %s) GROUP BY {year_}, {c['month']}, {outcome}",
            f"SELECT 'kind', {year_}, 0, {c['group_kind']}, 0, {outcome}, {total} FROM {table} "
            f"WHERE {rows} AND {year_} = %s GROUP BY {year_}, {c['group_kind']}, {outcome}",
            f"SELECT 'child', {year_}, 0, '', {c[child]}, {outcome}, {total} FROM {table} "
            f"WHERE {rows} AND {year_} = %s GROUP BY {year_}, {c[child]}, {outcome}",
        ]
    )
    params = [*chosen, year, year - 1, *chosen, year, *chosen, year]
    return [(*row[:5], outcomes[row[5]], row[6]) for row in _fetch(model, sql, params)]


def _summed(rows, outcomes: dict[int, str], *fields: str):
    """(fields..., outcome code, sum of count) of the `outcomes`, summed by the database: a few dozen rows, however
    many reports there are."""
    sums = (
        rows.filter(outcome_id__in=list(outcomes))
        .order_by()
        .values(*fields, "outcome_id")
        .annotate(n=Sum("count"))
        .values_list(*fields, "outcome_id", "n")
    )
    return [(*row[:-2], outcomes[row[-2]], row[-1]) for row in sums]


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
    targets_check: dict | None = None
    meetings: Figure | None = None
    residents: int = 0
    initiative_settlements: Figure | None = None
    crime_free_settlements: Figure | None = None
    by_settlement: list[dict] = field(default_factory=list)


def targets_check(area: Area, own: Target | None, parts: list[dict], targets: dict[int, Target]) -> dict | None:
    """Do the targets of the areas one level below (regions of the country, districts of a region) add up to the
    area's own? None for a district (its parts are groups, which have no targets)."""
    if area.level == BenchmarkLevel.DISTRICT:
        return None
    check: dict = {
        "parts_level": BenchmarkLevel.REGION if area.level == BenchmarkLevel.NATIONAL else BenchmarkLevel.DISTRICT,
        "parts": len(parts),
        "parts_with_target": len(targets),
        "parts_without_target": [row["name"] for row in parts if not row["has_target"]],
    }
    for code in HEADLINE:
        total = sum(target.of(code) for target in targets.values())
        whole = own.of(code) if own else None
        check[code] = {"parts_sum": total, "target": whole, "difference": total - whole if whole is not None else None}
    check["adds_up"] = (
        own is not None and not check["parts_without_target"] and all(check[c]["difference"] == 0 for c in HEADLINE)
    )
    return check


def _zero() -> dict[str, int]:
    return {code: 0 for code in HEADLINE}


def dashboard_totals(area: Area, year: int, *, today: datetime.date | None = None) -> Totals:
    """Verified prevented and solved for the area and year, with the breakdowns, read from the tallies."""
    today = today or timezone.localdate(timezone=LOCAL_TZ)
    headline, kinds = _zero(), defaultdict(_zero)
    months = {(y, m): _zero() for y in (year, year - 1) for m in range(1, 13)}
    children: dict[int, dict[str, int]] = defaultdict(_zero)
    for part, row_year, month, kind, child_id, code, n in _month_sums(area, year, _outcome_ids()):
        if part == "month":
            months[(row_year, month)][code] += n
            if row_year == year:
                headline[code] += n
        elif part == "kind":
            kinds[kind][code] += n
        else:
            children[child_id][code] += n
    own, national, child_targets = _targets(year, area)
    elapsed = year_elapsed(year, today)

    def headline_figure(code: str, counts: dict[str, int] | None = None) -> Figure:
        return figure(
            (headline if counts is None else counts)[code],
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
    by_area = _by_area(area, year, children, child_targets, national, elapsed)
    prevention = prevention_counts(area, year, today=today)
    _add_prevention(by_area, prevention, child_targets, national, elapsed)
    return Totals(
        year=year,
        area=area,
        as_of=min(today, datetime.date(year, 12, 31)),
        prevented=headline_figure(OutcomeCode.PREVENTED),
        solved=headline_figure(OutcomeCode.SOLVED),
        by_group_kind=by_group_kind,
        by_area=by_area,
        by_month=by_month,
        targets_check=targets_check(area, own, by_area, child_targets),
        meetings=headline_figure("meetings", prevention.headline),
        residents=prevention.headline["residents"],
        initiative_settlements=headline_figure("initiative_settlements", prevention.headline),
        crime_free_settlements=headline_figure("crime_free_settlements", prevention.headline),
        by_settlement=prevention.settlements,
    )


def _add_prevention(
    rows: list[dict], prevention: PreventionCounts, targets: dict[int, Target], national: Target | None, elapsed: float
) -> None:
    """The meetings, initiative settlements and crime-free ones of each region or district row."""
    for row in rows:
        if row["level"] == "group":
            continue
        counts = prevention.children.get(row["id"], {})
        own = targets.get(row["id"])
        for code in PREVENTION:
            row[code] = counts.get(code, 0)
            row[f"{code}_figure"] = figure(
                row[code],
                own=own.of(code) if own else None,
                national=national.of(code) if national else None,
                level=row["level"],
                elapsed=elapsed,
            ).as_dict()
        row["residents"] = counts.get("residents", 0)


def _by_area(
    area: Area,
    year: int,
    children: dict[int, dict[str, int]],
    targets: dict[int, Target],
    national: Target | None,
    elapsed: float,
) -> list[dict]:
    """One row per region (national), district (region) or group (district), with counts and targets."""
    if area.level == BenchmarkLevel.DISTRICT:
        return _by_group(area, year)
    # Only what a row shows: not the boundaries, which can be large.
    named = ("code", "name_kk", "name_ru", "name_en")
    if area.level == BenchmarkLevel.NATIONAL:
        places = Region.objects.only(*named).order_by("code")
        level = BenchmarkLevel.REGION
    else:
        places = District.objects.filter(region=area.region).only(*named).order_by("code")
        level = BenchmarkLevel.DISTRICT
    rows = []
    for place in places:
        counts = children.get(place.pk, _zero())
        own = targets.get(place.pk)
        row = {"level": level, "id": place.pk, "code": place.code, "name": place.name, "has_target": own is not None}
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
    counts: dict[int | None, dict[str, int]] = defaultdict(_zero)
    tallies = ReportTally.objects.filter(district=area.district, year=year)
    for group_id, code, n in _summed(tallies, _outcome_ids(), "group_id"):
        counts[group_id][code] += n
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
    """Verified reports by category: prevented, solved and all verified, most first.

    One statement (sums per category and outcome, then their names and codes), for the reason `_month_sums` gives."""
    scope = {"district_id": area.district.pk} if area.district else {"region_id": area.region.pk} if area.region else {}
    table, c = _quoted(CategoryYearTally, "year", "category_id", "outcome_id", "count", *scope)
    categories, k = _quoted(Category, "id", "code", "name_kk", "name_ru", "name_en", "sort_order")
    outcomes, o = _quoted(Outcome, "id", "code")
    where = " AND ".join([f"{c['year']} = %s", *(f"{c[name]} = %s" for name in scope)])
    sql = (
        f"SELECT k.{k['id']}, k.{k['code']}, k.{k['name_kk']}, k.{k['name_ru']}, k.{k['name_en']}, o.{o['code']}, s.n "
        f"FROM (SELECT {c['category_id']} AS category_id, {c['outcome_id']} AS outcome_id, SUM({c['count']}) AS n "
        f"FROM {table} WHERE {where} GROUP BY {c['category_id']}, {c['outcome_id']}) s "
        f"JOIN {categories} k ON k.{k['id']} = s.category_id JOIN {outcomes} o ON o.{o['id']} = s.outcome_id "
        f"ORDER BY k.{k['sort_order']}, k.{k['code']}"
    )
    counts: dict[int, dict] = {}
    for pk, code, name_kk, name_ru, name_en, outcome, n in _fetch(CategoryYearTally, sql, [year, *scope.values()]):
        if pk not in counts:
            name = Category(code=code, name_kk=name_kk, name_ru=name_ru, name_en=name_en).name
            counts[pk] = {"code": code, "name": name, **_zero(), "verified": 0}
        counts[pk]["verified"] += n
        if outcome in HEADLINE:
            counts[pk][outcome] += n
    return sorted(counts.values(), key=lambda row: (-row["verified"], row["name"]))


# Activity: from shifts and assignments, not reports


def _year_bounds(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime(year, 1, 1, tzinfo=LOCAL_TZ)
    return start, start.replace(year=year + 1)


def _in_area(queryset, area: Area, prefix: str = ""):
    if area.district:
        return queryset.filter(**{f"{prefix}district": area.district})
    if area.region:
        return queryset.filter(**{f"{prefix}district__region": area.region})
    return queryset


def patrol_minutes(area: Area, year: int) -> int:
    """The patrol minutes that count in the area and year, from the hours tally (shifts by their start)."""
    kept = _in_area(HoursTally.objects.filter(year=year), area)
    if area.region and not area.district:
        kept = HoursTally.objects.filter(year=year, region=area.region)
    return kept.aggregate(total=Sum("minutes"))["total"] or 0


def dashboard_activity(area: Area, year: int) -> dict:
    """Active volunteers, shifts held, patrol hours, the no-show rate and the reports waiting for verification."""
    start, end = _year_bounds(year)
    assignments = _in_area(
        Assignment.objects.filter(shift__starts_at__gte=start, shift__starts_at__lt=end), area, "shift__"
    )
    came = Q(status__in=[AssignmentStatus.COMPLETED, AssignmentStatus.CHECKED_IN])
    # One pass over the year's assignments of the area gives every figure but the hours, which are kept.
    counts = assignments.aggregate(
        came=Count("pk", filter=came),
        missed=Count("pk", filter=Q(status=AssignmentStatus.NO_SHOW)),
        volunteers=Count("volunteer_id", filter=came, distinct=True),
        shifts=Count("shift_id", filter=came & ~Q(shift__status=ShiftStatus.CANCELLED), distinct=True),
    )
    expected = counts["came"] + counts["missed"]
    return {
        "active_volunteers": counts["volunteers"],
        "shifts_held": counts["shifts"],
        "patrol_hours": round(patrol_minutes(area, year) / 60, 1),
        "no_show_rate": round(100 * counts["missed"] / expected, 1) if expected else None,
        "reports_waiting": _in_area(Report.objects.filter(status=ReportStatus.SUBMITTED), area).count(),
    }


def summary_details(region: Region, *, today: datetime.date | None = None) -> dict:
    """The weekly chief summary's figures: the region's verified totals of the year against their benchmarks."""
    today = today or timezone.localdate(timezone=LOCAL_TZ)
    totals = dashboard_totals(Area(BenchmarkLevel.REGION, region=region), today.year, today=today)
    details: dict = {}
    for code, value in (("prevented", totals.prevented), ("solved", totals.solved)):
        details[code] = value.count
        details[f"{code}_benchmark"] = value.benchmark
        details[f"{code}_percent"] = value.percent
        details[f"{code}_pace"] = value.pace
    return details


def dashboard_years(*, today: datetime.date | None = None) -> list[int]:
    """The years a dashboard offers, newest first: those with verified reports or benchmarks, and this year."""
    today = today or timezone.localdate(timezone=LOCAL_TZ)
    years = set(RegionMonthTally.objects.exclude(count=0).values_list("year", flat=True).distinct())
    years |= set(Benchmark.objects.values_list("year", flat=True).distinct())
    years.add(today.year)
    return sorted(years, reverse=True)
