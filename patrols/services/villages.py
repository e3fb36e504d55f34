"""Villages' prevention figures: which settlements have an active initiative and which are crime-free.

A settlement is crime-free for a year when a registered-crime count is recorded for every month of it and all are
zero; for the current year the months that have ended (the running month counts once recorded). A missing month
makes it "no data", never crime-free. `SettlementYearTally` keeps, per settlement and year, whether an initiative
was active, the months recorded (a bit per month) and the crimes: `settlement_years_refresh` recounts the rows a
change touched, in the change's own transaction, so the dashboards read a few thousand rows, never the counts.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, astuple, dataclass

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet

from ..choices import CrimeStatus, InitiativeStatus
from ..clock import local_today
from ..models import Initiative, Settlement, SettlementCrimeCount, SettlementYearTally

ALL_MONTHS = (1 << 12) - 1
CHUNK = 2000


def months_required(year: int, today: datetime.date | None = None) -> int:
    """How many months of the year must have a count: all twelve of a past year, the ended ones of this year."""
    today = today or local_today()
    if year < today.year:
        return 12
    if year > today.year:
        return 0
    return today.month - 1


def required_mask(year: int, today: datetime.date | None = None) -> int:
    return (1 << months_required(year, today)) - 1


def crime_status(*, year: int, months_recorded: int, crimes: int, today: datetime.date | None = None) -> str:
    """Crime-free, with crimes, or no data (a month without a count, or none at all)."""
    if crimes > 0:
        return CrimeStatus.CRIMES
    mask = required_mask(year, today)
    if months_recorded == 0 or months_recorded & mask != mask:
        return CrimeStatus.NO_DATA
    return CrimeStatus.CRIME_FREE


def crime_free_rows(rows: QuerySet, year: int, today: datetime.date | None = None) -> QuerySet:
    """The year's tally rows of crime-free settlements (the same rule as `crime_status`, in SQL)."""
    mask = required_mask(year, today)
    return (
        rows.filter(year=year, crimes=0, months_recorded__gt=0)
        .alias(required=F("months_recorded").bitand(mask))
        .filter(required=mask)
    )


def active_in(year: int) -> Q:
    """Initiatives active at some time in the year: adopted by its end, not lapsed before its start."""
    return Q(adopted_on__lte=datetime.date(year, 12, 31)) & (
        Q(lapsed_on__isnull=True) | Q(lapsed_on__gte=datetime.date(year, 1, 1))
    )


def initiative_years(initiative: Initiative, today: datetime.date | None = None) -> range:
    """The years an initiative was active in: from its adoption to its lapse (or this year)."""
    today = today or local_today()
    last = initiative.lapsed_on.year if initiative.lapsed_on else max(today.year, initiative.adopted_on.year)
    return range(initiative.adopted_on.year, last + 1)


@dataclass(frozen=True)
class YearFigures:
    initiative: bool
    months_recorded: int
    crimes: int


def counted_years(settlement_ids: Iterable[int], year: int) -> dict[int, YearFigures]:
    """What the initiatives and the counts say for these settlements in a year (settlements with neither left out)."""
    ids = list(settlement_ids)
    months: dict[int, int] = defaultdict(int)
    crimes: dict[int, int] = defaultdict(int)
    counts = SettlementCrimeCount.objects.filter(settlement_id__in=ids, month__year=year)
    for settlement_id, month, registered in counts.values_list("settlement_id", "month", "registered"):
        months[settlement_id] |= 1 << (month.month - 1)
        crimes[settlement_id] += registered
    with_initiative = set(
        Initiative.objects.filter(active_in(year), settlement_id__in=ids).values_list("settlement_id", flat=True)
    )
    return {
        pk: YearFigures(pk in with_initiative, months[pk], crimes[pk])
        for pk in ids
        if pk in with_initiative or months[pk]
    }


def settlement_years_refresh(pairs: Iterable[tuple[int, int]]) -> None:
    """Recount the kept rows of these (settlement id, year) pairs; call inside the change's transaction.

    The settlements' rows are locked first: a second change to the same village waits, then counts what the
    first one committed, so two imports at once cannot leave a row that misses one of them."""
    by_year: dict[int, set[int]] = defaultdict(set)
    for settlement_id, year in pairs:
        by_year[year].add(settlement_id)
    with transaction.atomic():
        for year, ids in sorted(by_year.items()):
            ordered = sorted(ids)
            for start in range(0, len(ordered), CHUNK):
                _refresh_chunk(ordered[start : start + CHUNK], year)


def _refresh_chunk(ids: list[int], year: int) -> None:
    places = {
        pk: (district_id, region_id)
        for pk, district_id, region_id in Settlement.objects.select_for_update(of=("self",))
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "district_id", "district__region_id")
    }
    counted = counted_years(ids, year)
    kept = {row.settlement_id: row for row in SettlementYearTally.objects.filter(year=year, settlement_id__in=ids)}
    fresh, changed = [], []
    for pk in ids:
        figures, row = counted.get(pk), kept.get(pk)
        if figures is None:
            continue
        if row is None:
            district_id, region_id = places[pk]
            fresh.append(
                SettlementYearTally(
                    year=year, settlement_id=pk, district_id=district_id, region_id=region_id, **asdict(figures)
                )
            )
        elif (row.initiative, row.months_recorded, row.crimes) != astuple(figures):
            row.initiative, row.months_recorded, row.crimes = astuple(figures)
            changed.append(row)
    SettlementYearTally.objects.filter(year=year, settlement_id__in=[pk for pk in kept if pk not in counted]).delete()
    SettlementYearTally.objects.bulk_create(fresh)
    SettlementYearTally.objects.bulk_update(changed, ["initiative", "months_recorded", "crimes"])


# Reading


@dataclass(frozen=True)
class MonthsSpan:
    """Crimes over a run of months, and how many of those months have a count."""

    months: int
    recorded: int
    crimes: int

    @property
    def complete(self) -> bool:
        return self.months > 0 and self.recorded == self.months


def _month_start(day: datetime.date, shift: int = 0) -> datetime.date:
    index = day.year * 12 + day.month - 1 + shift
    return datetime.date(index // 12, index % 12 + 1, 1)


def _span(settlement_id: int, first: datetime.date, months: int) -> MonthsSpan:
    end = _month_start(first, months)
    counts = SettlementCrimeCount.objects.filter(settlement_id=settlement_id, month__gte=first, month__lt=end)
    values = list(counts.values_list("registered", flat=True))
    return MonthsSpan(months=months, recorded=len(values), crimes=sum(values))


@dataclass(frozen=True)
class InitiativeEvidence:
    """Whether the initiative works: the months since its adoption, and the crimes after it and in as many months
    before it."""

    months: int
    before: MonthsSpan
    after: MonthsSpan


def initiative_evidence(initiative: Initiative, today: datetime.date | None = None) -> InitiativeEvidence:
    """The months that ended since the adoption month (to the lapse, if it lapsed), and the same number before."""
    today = today or local_today()
    adopted = _month_start(initiative.adopted_on)
    until = _month_start(initiative.lapsed_on) if initiative.lapsed_on else _month_start(today)
    months = max(0, (until.year - adopted.year) * 12 + until.month - adopted.month)
    return InitiativeEvidence(
        months=months,
        before=_span(initiative.settlement_id, _month_start(adopted, -months), months),
        after=_span(initiative.settlement_id, adopted, months),
    )


@dataclass(frozen=True)
class SettlementYear:
    year: int
    status: str
    months_required: int
    months_recorded: int
    crimes: int


def settlement_year(settlement: Settlement, year: int | None = None) -> SettlementYear:
    """A settlement's crime-free status for a year (this year when not given)."""
    year = year or local_today().year
    row = SettlementYearTally.objects.filter(settlement=settlement, year=year).first()
    recorded, crimes = (row.months_recorded, row.crimes) if row else (0, 0)
    return SettlementYear(
        year=year,
        status=crime_status(year=year, months_recorded=recorded, crimes=crimes),
        months_required=months_required(year),
        months_recorded=bin(recorded).count("1"),
        crimes=crimes,
    )


def active_initiatives(settlement: Settlement) -> QuerySet:
    return settlement.initiatives.filter(status=InitiativeStatus.ACTIVE).select_related("kind")


def village_figures(rows: QuerySet, year: int, today: datetime.date | None = None) -> dict[str, int]:
    """Initiative settlements and crime-free ones among them, from a queryset of tally rows in scope."""
    initiative = rows.filter(year=year, initiative=True)
    return {
        "initiative_settlements": initiative.count(),
        "crime_free_settlements": crime_free_rows(initiative, year, today).count(),
    }


def village_figures_by(
    rows: QuerySet, year: int, key: str, today: datetime.date | None = None
) -> dict[int, dict[str, int]]:
    """`village_figures` per `key` ("region_id" or "district_id"), in one query each."""
    initiative = rows.filter(year=year, initiative=True).order_by()
    totals = {row[key]: row["n"] for row in initiative.values(key).annotate(n=Count("id"))}
    free_rows = crime_free_rows(initiative, year, today).values(key).annotate(n=Count("id"))
    free = {row[key]: row["n"] for row in free_rows}
    return {pk: {"initiative_settlements": n, "crime_free_settlements": free.get(pk, 0)} for pk, n in totals.items()}


def rebuild_differences(*, apply: bool) -> list[tuple[dict, tuple, tuple]]:
    """Every kept row that differs from the initiatives and counts: (key, kept, counted); fixed unless not `apply`."""
    years = {day.year for day in SettlementCrimeCount.objects.dates("month", "year")}
    years |= set(SettlementYearTally.objects.values_list("year", flat=True).distinct())
    today = local_today()
    for first, lapsed in Initiative.objects.values_list("adopted_on", "lapsed_on"):
        years |= set(range(first.year, (lapsed.year if lapsed else max(today.year, first.year)) + 1))
    ids = list(Settlement.objects.order_by("pk").values_list("pk", flat=True))
    differences = []
    for year in sorted(years):
        kept = {row.settlement_id: row for row in SettlementYearTally.objects.filter(year=year)}
        counted: dict[int, YearFigures] = {}
        for start in range(0, len(ids), CHUNK):
            counted.update(counted_years(ids[start : start + CHUNK], year))
        wrong = []
        for pk in sorted(set(kept) | set(counted)):
            row, figures = kept.get(pk), counted.get(pk)
            have = (row.initiative, row.months_recorded, row.crimes) if row else (False, 0, 0)
            want = astuple(figures) if figures else (False, 0, 0)
            if have != want:
                differences.append(({"year": year, "settlement_id": pk}, have, want))
                wrong.append((pk, year))
        if apply and wrong:
            settlement_years_refresh(wrong)
    return differences
