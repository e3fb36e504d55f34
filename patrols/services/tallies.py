"""The kept counts of verified reports and of patrol hours: changed with every change, rebuilt on demand.

A report counts when it is verified and not a duplicate (`Report.counts`, rule 2 of DESIGN.md), on the day it
happened in Asia/Almaty time. `tally_report_change` runs inside the transaction that changes the report, so the
counts and the reports never disagree, even for a moment; `tallies_rebuild` recounts everything and says what differed.
The patrol minutes that count (`attendance.credited_minutes`) are kept the same way, per month of the shift's start
and district, by `tally_hours_change`; held meetings with residents, per month and district, by `tally_meeting_change`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Model, Q, Sum
from django.db.models.functions import ExtractMonth, ExtractYear, TruncDate

from ..choices import AssignmentStatus, MeetingStatus, ReportStatus
from ..clock import LOCAL_TZ, local_day
from ..models import (
    Assignment,
    CategoryYearTally,
    District,
    DistrictMonthTally,
    HoursTally,
    Meeting,
    MeetingTally,
    RegionMonthTally,
    Report,
    ReportTally,
    SettlementYearTally,
    Shift,
)
from . import villages


@dataclass(frozen=True)
class Grain:
    """One tally table: the fields that make its key, and those that only follow from the key."""

    model: type[Model]
    key: tuple[str, ...]
    derived: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return self.key + self.derived

    def named(self, key: tuple) -> dict:
        return dict(zip(self.key, key, strict=True))


GRAINS = (
    Grain(
        ReportTally,
        key=("day", "district_id", "group_id", "group_kind", "category_id", "outcome_id"),
        derived=("year", "month", "region_id"),
    ),
    Grain(DistrictMonthTally, key=("year", "month", "district_id", "group_kind", "outcome_id"), derived=("region_id",)),
    Grain(RegionMonthTally, key=("year", "month", "region_id", "group_kind", "outcome_id")),
    Grain(CategoryYearTally, key=("year", "district_id", "category_id", "outcome_id"), derived=("region_id",)),
)


def counting_reports():
    """The reports that count: verified and not duplicates."""
    return Report.objects.filter(status=ReportStatus.VERIFIED, duplicate_of__isnull=True)


def _values_of(report: Report) -> dict:
    day = local_day(report.occurred_at)
    region_id = District.objects.values_list("region_id", flat=True).get(pk=report.district_id)
    return {
        "day": day,
        "year": day.year,
        "month": day.month,
        "region_id": region_id,
        "district_id": report.district_id,
        "group_id": report.group_id,
        "group_kind": report.group_kind,
        "category_id": report.category_id,
        "outcome_id": report.outcome_id,
    }


def _add(grain: Grain, values: dict, delta: int) -> None:
    key = {name: values[name] for name in grain.key}
    rows = grain.model.objects.filter(**key)
    if rows.update(count=F("count") + delta):
        return
    try:
        with transaction.atomic():
            grain.model.objects.create(**key, **{name: values[name] for name in grain.derived}, count=delta)
    except IntegrityError:
        # Another transaction created the row first (PostgreSQL made us wait for it): add to it instead.
        rows.update(count=F("count") + delta)


def tally_report_change(report: Report, *, counted_before: bool) -> None:
    """Bring the tallies in line with a report whose status changed; call inside the same transaction."""
    counted_now = report.counts
    if counted_now == counted_before:
        return
    delta = 1 if counted_now else -1
    values = _values_of(report)
    for grain in GRAINS:
        _add(grain, values, delta)


def tally_hours_change(shift: Shift, delta: int) -> None:
    """Add `delta` patrol minutes to the month of the shift's start in its district; call inside the transaction."""
    if not delta:
        return
    day = local_day(shift.starts_at)
    rows = HoursTally.objects.filter(year=day.year, month=day.month, district_id=shift.district_id)
    if rows.update(minutes=F("minutes") + delta):
        return
    region_id = District.objects.values_list("region_id", flat=True).get(pk=shift.district_id)
    try:
        with transaction.atomic():
            HoursTally.objects.create(
                year=day.year, month=day.month, district_id=shift.district_id, region_id=region_id, minutes=delta
            )
    except IntegrityError:
        rows.update(minutes=F("minutes") + delta)


MeetingShare = tuple[tuple[int, int, int], int]


def meeting_share(meeting: Meeting) -> MeetingShare | None:
    """What a meeting adds to the meetings tally: its (year, month, district) and its residents; None unless held."""
    if meeting.status != MeetingStatus.HELD:
        return None
    day = local_day(meeting.held_at)
    return (day.year, day.month, meeting.district_id), meeting.residents or 0


def tally_meeting_change(before: MeetingShare | None, after: MeetingShare | None) -> None:
    """Move a meeting's share of the tally from what it was to what it is; call inside the meeting's transaction."""
    if before == after:
        return
    for share, sign in ((before, -1), (after, 1)):
        if share is None:
            continue
        (year, month, district_id), residents = share
        rows = MeetingTally.objects.filter(year=year, month=month, district_id=district_id)
        changes = {"meetings": F("meetings") + sign, "residents": F("residents") + sign * residents}
        if rows.update(**changes):
            continue
        region_id = District.objects.values_list("region_id", flat=True).get(pk=district_id)
        try:
            with transaction.atomic():
                MeetingTally.objects.create(
                    year=year,
                    month=month,
                    district_id=district_id,
                    region_id=region_id,
                    meetings=sign,
                    residents=sign * residents,
                )
        except IntegrityError:
            rows.update(**changes)


# Rebuilding


@dataclass(frozen=True)
class Difference:
    table: str
    key: dict
    kept: int
    counted: int


_EXPRESSIONS = {
    "day": TruncDate("occurred_at", tzinfo=LOCAL_TZ),
    "year": ExtractYear("occurred_at", tzinfo=LOCAL_TZ),
    "month": ExtractMonth("occurred_at", tzinfo=LOCAL_TZ),
    "region_id": F("district__region_id"),
}


def _counting(grain: Grain):
    """The counting reports grouped by the grain's fields (named `t_<field>`), with how many as `n`."""
    aliases = {f"t_{name}": _EXPRESSIONS.get(name, F(name)) for name in grain.fields}
    return (
        counting_reports()
        .order_by()
        .annotate(**aliases)
        .values(*aliases)
        .annotate(n=Count("id"))
        .values_list(*aliases, "n")
    )


def _counted(grain: Grain) -> Iterator[tuple[tuple, tuple, int]]:
    width = len(grain.key)
    for row in _counting(grain).iterator(chunk_size=10_000):
        yield tuple(row[:width]), tuple(row[width:-1]), row[-1]


def _lock(models: list[type[Model]]) -> None:
    """Hold status changes back while recounting (they wait for the tally tables), so none is lost or doubled."""
    if connection.vendor == "postgresql":
        tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models)
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")


def _rebuild_in_sql(*, apply: bool) -> list[Difference]:
    """The recount on PostgreSQL, set-based: the reports are counted once, at the finest grain, into a temporary
    table; the coarser grains are summed from it; each tally is compared with its count in one join and mended in
    three statements. A million reports take seconds and no memory in Python but for the differences."""
    quote = connection.ops.quote_name
    differences: list[Difference] = []
    finest, made = GRAINS[0], []
    with connection.cursor() as cursor:
        for grain in GRAINS:
            meta = grain.model._meta
            table, count = quote(meta.db_table), quote(meta.get_field("count").column)
            counted = quote(f"tally_counted_{meta.model_name}")
            aliases = ", ".join(quote(f"t_{name}") for name in grain.fields)
            if grain is finest or not set(grain.fields) <= set(finest.fields):
                # Each count in the tally's own column type (EXTRACT gives numbers with decimals, for one), so the
                # differences hold the same values as the ORM would give.
                typed = ", ".join(
                    f"CAST({quote(f't_{name}')} AS {meta.get_field(name).db_type(connection)}) AS {quote(f't_{name}')}"
                    for name in grain.fields
                )
                query, params = _counting(grain).query.sql_with_params()
                query = f"SELECT {typed}, n FROM ({query}) AS counting"
            else:
                query, params = f"SELECT {aliases}, CAST(SUM(n) AS bigint) AS n FROM {made[0]} GROUP BY {aliases}", ()
            cursor.execute(f"DROP TABLE IF EXISTS {counted}")
            cursor.execute(f"CREATE TEMPORARY TABLE {counted} AS {query}", params)
            cursor.execute(f"ANALYZE {counted}")
            made.append(counted)
            columns = {name: quote(meta.get_field(name).column) for name in grain.fields}
            # A key may hold NULL (a report without a group): such keys are ids, so -1 stands for NULL and the
            # comparison stays one the database can hash.
            same = " AND ".join(
                f"COALESCE(k.{columns[name]}, -1) = COALESCE(c.{quote(f't_{name}')}, -1)"
                if meta.get_field(name).null
                else f"k.{columns[name]} = c.{quote(f't_{name}')}"
                for name in grain.key
            )
            keys = ", ".join(f"COALESCE(c.{quote(f't_{name}')}, k.{columns[name]})" for name in grain.key)
            with connection.chunked_cursor() as rows:
                rows.execute(
                    f"SELECT {keys}, COALESCE(k.{count}, 0), COALESCE(c.n, 0) FROM {counted} c "
                    f"FULL JOIN (SELECT * FROM {table} WHERE {count} <> 0) k ON {same} "
                    f"WHERE COALESCE(k.{count}, 0) <> COALESCE(c.n, 0)"
                )
                width = len(grain.key)
                while chunk := rows.fetchmany(10_000):
                    differences.extend(
                        Difference(grain.model.__name__, grain.named(row[:width]), row[width], row[width + 1])
                        for row in chunk
                    )
            if apply:
                # Two deletes: with an OR the database would look the count up row by row instead of in one join.
                cursor.execute(f"DELETE FROM {table} WHERE {count} = 0")
                cursor.execute(f"DELETE FROM {table} k WHERE NOT EXISTS (SELECT 1 FROM {counted} c WHERE {same})")
                cursor.execute(f"UPDATE {table} k SET {count} = c.n FROM {counted} c WHERE {same} AND k.{count} <> c.n")
                cursor.execute(
                    f"INSERT INTO {table} ({', '.join(columns.values())}, {count}) SELECT {aliases}, n "
                    f"FROM {counted} c WHERE NOT EXISTS (SELECT 1 FROM {table} k WHERE {same})"
                )
        for counted in made:
            cursor.execute(f"DROP TABLE {counted}")
    return differences


def _rebuild_hours(*, apply: bool, batch_size: int) -> list[Difference]:
    """Recount every assignment's minutes from its kept times and the inspector's word, and the hours tally from
    them; each assignment is read once, with only the fields the rule needs."""
    from .attendance import credited_minutes

    differences: list[Difference] = []
    sums: dict[tuple[int, int, int], int] = {}
    regions = dict(District.objects.values_list("pk", "region_id"))
    stale: list[Assignment] = []
    fields = (
        "status",
        "check_in_at",
        "check_out_at",
        "confirmation",
        "corrected_minutes",
        "credited_minutes",
        "shift__starts_at",
        "shift__ends_at",
        "shift__district_id",
    )
    candidates = (
        Assignment.objects.filter(Q(status=AssignmentStatus.COMPLETED) | ~Q(credited_minutes=0))
        .select_related("shift")
        .only(*fields)
        .order_by("pk")
    )
    for assignment in candidates.iterator(chunk_size=10_000):
        counted = credited_minutes(assignment, assignment.shift)
        if counted != assignment.credited_minutes:
            differences.append(Difference("Assignment", {"id": assignment.pk}, assignment.credited_minutes, counted))
            assignment.credited_minutes = counted
            stale.append(assignment)
        if counted:
            day = local_day(assignment.shift.starts_at)
            key = (day.year, day.month, assignment.shift.district_id)
            sums[key] = sums.get(key, 0) + counted
    kept = {(row.year, row.month, row.district_id): row for row in HoursTally.objects.exclude(minutes=0).iterator()}
    fresh, changed = [], []
    for key in sorted(set(sums) | set(kept)):
        counted, row = sums.get(key, 0), kept.get(key)
        if (row.minutes if row else 0) == counted:
            continue
        year, month, district_id = key
        differences.append(
            Difference(
                "HoursTally",
                {"year": year, "month": month, "district_id": district_id},
                row.minutes if row else 0,
                counted,
            )
        )
        if row is None:
            fresh.append(
                HoursTally(
                    year=year, month=month, district_id=district_id, region_id=regions[district_id], minutes=counted
                )
            )
        else:
            row.minutes = counted
            changed.append(row)
    if apply:
        Assignment.objects.bulk_update(stale, ["credited_minutes"], batch_size=batch_size)
        HoursTally.objects.bulk_update(changed, ["minutes"], batch_size=batch_size)
        HoursTally.objects.bulk_create(fresh, batch_size=batch_size)
        HoursTally.objects.filter(minutes=0).delete()
    return differences


def _rebuild_meetings(*, apply: bool) -> list[Difference]:
    """Recount the held meetings and their residents per month and district from the meetings themselves."""
    counted = {
        (row["year"], row["month"], row["district_id"]): (row["n"], row["people"] or 0)
        for row in Meeting.objects.filter(status=MeetingStatus.HELD)
        .order_by()
        .annotate(year=ExtractYear("held_at", tzinfo=LOCAL_TZ), month=ExtractMonth("held_at", tzinfo=LOCAL_TZ))
        .values("year", "month", "district_id")
        .annotate(n=Count("id"), people=Sum("residents"))
    }
    kept = {(row.year, row.month, row.district_id): row for row in MeetingTally.objects.all()}
    regions = dict(District.objects.values_list("pk", "region_id"))
    differences: list[Difference] = []
    for key in sorted(set(counted) | set(kept)):
        row = kept.get(key)
        have = (row.meetings, row.residents) if row else (0, 0)
        want = counted.get(key, (0, 0))
        if have == want:
            continue
        year, month, district_id = key
        where = {"year": year, "month": month, "district_id": district_id}
        for what, old, new in (("meetings", have[0], want[0]), ("residents", have[1], want[1])):
            if old != new:
                differences.append(Difference("MeetingTally", {**where, "of": what}, old, new))
        if not apply:
            continue
        if want == (0, 0):
            row.delete()
        elif row is None:
            MeetingTally.objects.create(**where, region_id=regions[district_id], meetings=want[0], residents=want[1])
        else:
            row.meetings, row.residents = want
            row.save(update_fields=["meetings", "residents"])
    return differences


def _rebuild_settlement_years(*, apply: bool) -> list[Difference]:
    """Recount the settlements' year figures (initiative, months with a count, crimes) from their sources."""
    differences = []
    for key, have, want in villages.rebuild_differences(apply=apply):
        for what, old, new in zip(("initiative", "months_recorded", "crimes"), have, want, strict=True):
            if old != new:
                differences.append(Difference("SettlementYearTally", {**key, "of": what}, int(old), int(new)))
    return differences


def tallies_rebuild(*, apply: bool = True, batch_size: int = 5000) -> list[Difference]:
    """Recount the tallies from the reports and the assignments; return every row that differed, and (unless
    `apply=False`) fix them."""
    differences: list[Difference] = []
    with transaction.atomic():
        _lock([grain.model for grain in GRAINS] + [HoursTally, MeetingTally, SettlementYearTally])
        differences.extend(_rebuild_hours(apply=apply, batch_size=batch_size))
        differences.extend(_rebuild_meetings(apply=apply))
        differences.extend(_rebuild_settlement_years(apply=apply))
        if connection.vendor == "postgresql":
            return differences + _rebuild_in_sql(apply=apply)
        for grain in GRAINS:
            kept = {
                tuple(row[:-2]): (row[-2], row[-1])
                for row in grain.model.objects.exclude(count=0).values_list(*grain.key, "pk", "count").iterator()
            }
            to_create, to_update = [], []
            for key, derived, counted in _counted(grain):
                pk, count = kept.pop(key, (None, 0))
                if count == counted:
                    continue
                differences.append(Difference(grain.model.__name__, grain.named(key), count, counted))
                values = grain.named(key) | dict(zip(grain.derived, derived, strict=True))
                if pk is None:
                    to_create.append(grain.model(**values, count=counted))
                else:
                    to_update.append(grain.model(pk=pk, count=counted))
            for key, (_pk, count) in kept.items():
                differences.append(Difference(grain.model.__name__, grain.named(key), count, 0))
            if apply:
                stale = [pk for pk, _count in kept.values()]
                for start in range(0, len(stale), batch_size):
                    grain.model.objects.filter(pk__in=stale[start : start + batch_size]).delete()
                grain.model.objects.filter(count=0).delete()
                grain.model.objects.bulk_update(to_update, ["count"], batch_size=batch_size)
                grain.model.objects.bulk_create(to_create, batch_size=batch_size)
    return differences
