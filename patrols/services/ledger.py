"""The ledger of each volunteer's verified service, per month (Asia/Almaty): shifts completed, patrol minutes,
no-shows, verified reports by outcome, meetings with residents attended and call-outs answered.

Only verified work counts: a figure changes in the same transaction as the fact it counts (a check-out, a report
verified or rejected later, a meeting held or cancelled), so the ledger never disagrees with what it counts;
`ledger_rebuild` recounts it from the facts (`manage.py rebuild_ledger --check`). Rewards received are read from the
commission's decisions, not kept here.

What each figure counts, and in which month:

- "minutes": the patrol minutes that count (`Assignment.credited_minutes`, see `attendance.credited_minutes`), in the
  month of the shift's start; "shifts": the completed assignments that earn minutes (a check-in still waiting for
  the inspector's confirmation, or declined, is not a shift done), in the same month;
- "no_shows": assignments marked not come (an excused one is not), in the month of the shift's start;
- "report:<outcome>": the reporter's reports that count (verified, not duplicates), in the month they happened;
- "meetings": held meetings with residents the volunteer took part in, in the month held;
- "callouts": call-outs the volunteer answered "I'm coming" to, in the month of the call-out's start.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import ExtractMonth, ExtractYear

from ..choices import AssignmentStatus, MeetingStatus, NominationStatus, RewardDecision
from ..clock import LOCAL_TZ, local_day
from ..models import Assignment, CallOut, CallOutAnswer, LedgerMonth, MeetingAttendee, NominationItem, Report, Shift
from .tallies import Difference, MeetingShare, _lock, counting_reports

SHIFTS, MINUTES, NO_SHOWS, MEETINGS, CALLOUTS = "shifts", "minutes", "no_shows", "meetings", "callouts"
REPORT_PREFIX = "report:"
OUTCOMES = ("prevented", "solved", "handed_over", "assistance", "info")


@dataclass
class Ledger:
    """A volunteer's verified service over a period."""

    shifts: int = 0
    minutes: int = 0
    no_shows: int = 0
    meetings: int = 0
    callouts: int = 0
    reports: dict[str, int] = field(default_factory=dict)

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)

    @property
    def prevented(self) -> int:
        return self.reports.get("prevented", 0)

    @property
    def solved(self) -> int:
        return self.reports.get("solved", 0)

    @property
    def verified_reports(self) -> int:
        return sum(self.reports.values())

    def as_dict(self) -> dict:
        return {
            "shifts": self.shifts,
            "hours": self.hours,
            "minutes": self.minutes,
            "no_shows": self.no_shows,
            "meetings": self.meetings,
            "callouts": self.callouts,
            "reports": {code: self.reports.get(code, 0) for code in sorted(set(OUTCOMES) | set(self.reports))},
        }

    def __add__(self, other: Ledger) -> Ledger:
        reports = dict(self.reports)
        for code, count in other.reports.items():
            reports[code] = reports.get(code, 0) + count
        return Ledger(
            shifts=self.shifts + other.shifts,
            minutes=self.minutes + other.minutes,
            no_shows=self.no_shows + other.no_shows,
            meetings=self.meetings + other.meetings,
            callouts=self.callouts + other.callouts,
            reports=reports,
        )

    def add(self, measure: str, amount: int) -> None:
        if measure.startswith(REPORT_PREFIX):
            code = measure.removeprefix(REPORT_PREFIX)
            self.reports[code] = self.reports.get(code, 0) + amount
        elif measure in {SHIFTS, MINUTES, NO_SHOWS, MEETINGS, CALLOUTS}:
            setattr(self, measure, getattr(self, measure) + amount)


def _months(start: datetime.date, end: datetime.date) -> Q:
    """The months from `start`'s to `end`'s, both included (a ledger is kept per month)."""
    per_year: dict[int, list[int]] = defaultdict(list)
    index, last = start.year * 12 + start.month - 1, end.year * 12 + end.month - 1
    while index <= last:
        per_year[index // 12].append(index % 12 + 1)
        index += 1
    condition = Q(pk__in=[])
    for year, months in per_year.items():
        condition |= Q(year=year, month__in=months)
    return condition


def ledgers_for(volunteer_ids: Iterable[int], start: datetime.date, end: datetime.date) -> dict[int, Ledger]:
    """Each volunteer's ledger over the months from `start` to `end`, in one query (those with nothing: empty)."""
    ids = list(volunteer_ids)
    result = {pk: Ledger() for pk in ids}
    rows = (
        LedgerMonth.objects.filter(volunteer_id__in=ids)
        .filter(_months(start, end))
        .values("volunteer_id", "measure")
        .annotate(total=Sum("amount"))
    )
    for row in rows:
        result[row["volunteer_id"]].add(row["measure"], row["total"] or 0)
    return result


def ledger_for(volunteer_id: int, start: datetime.date, end: datetime.date) -> Ledger:
    return ledgers_for([volunteer_id], start, end)[volunteer_id]


def by_month(volunteer_id: int) -> dict[tuple[int, int], Ledger]:
    """All of a volunteer's service, month by month (the record book), oldest first."""
    months: dict[tuple[int, int], Ledger] = defaultdict(Ledger)
    rows = LedgerMonth.objects.filter(volunteer_id=volunteer_id).order_by("year", "month", "measure")
    for row in rows.values("year", "month", "measure", "amount"):
        months[(row["year"], row["month"])].add(row["measure"], row["amount"])
    return dict(sorted(months.items()))


def quarter_bounds(year: int, quarter: int) -> tuple[datetime.date, datetime.date]:
    """The first and last day of a quarter."""
    first = datetime.date(year, 3 * quarter - 2, 1)
    after = datetime.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return first, after - datetime.timedelta(days=1)


# Rewards received (the commission's decisions)

GRANTED = (RewardDecision.GRANTED, RewardDecision.CHANGED)


def _quarter_index(day: datetime.date) -> int:
    return day.year * 4 + (day.month - 1) // 3


def rewards_between(
    volunteer_id: int, start: datetime.date | None = None, end: datetime.date | None = None
) -> QuerySet[NominationItem]:
    """What the commission granted a volunteer for the quarters that overlap the period (all, without one), oldest
    first, with the nomination's protocol."""
    rows = (
        NominationItem.objects.filter(
            volunteer_id=volunteer_id, nomination__status=NominationStatus.DECIDED, decision__in=GRANTED
        )
        .select_related("nomination")
        .alias(quarter_index=F("nomination__year") * 4 + F("nomination__quarter") - 1)
        .order_by("nomination__year", "nomination__quarter", "pk")
    )
    if start is not None:
        rows = rows.filter(quarter_index__gte=_quarter_index(start))
    if end is not None:
        rows = rows.filter(quarter_index__lte=_quarter_index(end))
    return rows


# Keeping it: each change of a fact moves its figures, inside the fact's transaction


def ledger_add(*, volunteer_id: int, day: datetime.date, measure: str, delta: int) -> None:
    """Add `delta` to one figure of the volunteer's month of `day`; call inside the transaction of the change."""
    if not delta:
        return
    rows = LedgerMonth.objects.filter(volunteer_id=volunteer_id, year=day.year, month=day.month, measure=measure)
    if rows.update(amount=F("amount") + delta):
        return
    try:
        with transaction.atomic():
            LedgerMonth.objects.create(
                volunteer_id=volunteer_id, year=day.year, month=day.month, measure=measure, amount=delta
            )
    except IntegrityError:
        # Another transaction created the row first (PostgreSQL made us wait for it): add to it instead.
        rows.update(amount=F("amount") + delta)


def ledger_patrol_change(assignment: Assignment, shift: Shift, *, minutes_before: int) -> None:
    """An assignment's credited minutes moved from `minutes_before` to what they are now: move its minutes, and the
    shift done once it earns minutes, in the month of the shift's start."""
    minutes_now = assignment.credited_minutes
    if minutes_now == minutes_before:
        return
    day = local_day(shift.starts_at)
    ledger_add(volunteer_id=assignment.volunteer_id, day=day, measure=MINUTES, delta=minutes_now - minutes_before)
    done = int(minutes_now > 0) - int(minutes_before > 0)
    ledger_add(volunteer_id=assignment.volunteer_id, day=day, measure=SHIFTS, delta=done)


def ledger_no_show_change(assignment: Assignment, shift: Shift, *, status_before: str) -> None:
    """An assignment's status changed from `status_before`: a no-show counts, an excused absence does not."""
    delta = int(assignment.status == AssignmentStatus.NO_SHOW) - int(status_before == AssignmentStatus.NO_SHOW)
    ledger_add(volunteer_id=assignment.volunteer_id, day=local_day(shift.starts_at), measure=NO_SHOWS, delta=delta)


def ledger_report_change(report: Report, *, counted_before: bool) -> None:
    """A report started or stopped counting (`Report.counts`): its outcome moves in the reporter's month."""
    if report.counts == counted_before:
        return
    ledger_add(
        volunteer_id=report.reporter_id,
        day=local_day(report.occurred_at),
        measure=REPORT_PREFIX + report.outcome.code,
        delta=1 if report.counts else -1,
    )


def ledger_meeting_change(
    before: MeetingShare | None, people_before: Iterable[int], after: MeetingShare | None, people_after: Iterable[int]
) -> None:
    """Move a meeting from the volunteers and month it counted for (`tallies.meeting_share`, None unless held) to
    those it counts for now: a meeting held, corrected, or cancelled."""
    changes: dict[tuple[int, int, int], int] = defaultdict(int)
    for share, people, sign in ((before, people_before, -1), (after, people_after, 1)):
        if share is None:
            continue
        (year, month, _district_id), _residents = share
        for volunteer_id in people:
            changes[(volunteer_id, year, month)] += sign
    # In a fixed order, so two meetings changed at once never wait for each other's rows.
    for (volunteer_id, year, month), delta in sorted(changes.items()):
        ledger_add(volunteer_id=volunteer_id, day=datetime.date(year, month, 1), measure=MEETINGS, delta=delta)


def ledger_callout_answered(answer: CallOutAnswer, callout: CallOut) -> None:
    """A volunteer answered a call-out: one more in the month of its start."""
    ledger_add(volunteer_id=answer.volunteer_id, day=local_day(callout.starts_at), measure=CALLOUTS, delta=1)


# Recounting


def _grouped(rows: QuerySet, volunteer: str, moment: str, *extra: str) -> QuerySet:
    """Rows grouped by volunteer and the local year and month of `moment` (and `extra` fields)."""
    return (
        rows.order_by()
        .annotate(
            t_volunteer=F(volunteer),
            t_year=ExtractYear(moment, tzinfo=LOCAL_TZ),
            t_month=ExtractMonth(moment, tzinfo=LOCAL_TZ),
        )
        .values("t_volunteer", "t_year", "t_month", *extra)
    )


def _key(row: dict) -> tuple[int, int, int]:
    # EXTRACT may give a number with decimals: the ledger's key holds whole numbers.
    return row["t_volunteer"], int(row["t_year"]), int(row["t_month"])


def _counted() -> dict[tuple[int, int, int, str], int]:
    """Every figure recounted from the facts, in one aggregate query per kind of fact."""
    counted: dict[tuple[int, int, int, str], int] = {}
    patrols = _grouped(
        Assignment.objects.filter(status=AssignmentStatus.COMPLETED, credited_minutes__gt=0),
        "volunteer_id",
        "shift__starts_at",
    ).annotate(minutes=Sum("credited_minutes"), shifts=Count("pk"))
    for row in patrols.iterator(chunk_size=10_000):
        key = _key(row)
        counted[(*key, MINUTES)], counted[(*key, SHIFTS)] = row["minutes"], row["shifts"]
    counts = (
        (NO_SHOWS, Assignment.objects.filter(status=AssignmentStatus.NO_SHOW), "shift__starts_at"),
        (MEETINGS, MeetingAttendee.objects.filter(meeting__status=MeetingStatus.HELD), "meeting__held_at"),
        (CALLOUTS, CallOutAnswer.objects.all(), "callout__starts_at"),
    )
    for measure, rows, moment in counts:
        for row in _grouped(rows, "volunteer_id", moment).annotate(n=Count("pk")).iterator(chunk_size=10_000):
            counted[(*_key(row), measure)] = row["n"]
    reports = _grouped(counting_reports(), "reporter_id", "occurred_at", "outcome__code").annotate(n=Count("pk"))
    for row in reports.iterator(chunk_size=10_000):
        counted[(*_key(row), REPORT_PREFIX + row["outcome__code"])] = row["n"]
    return counted


def ledger_rebuild(*, apply: bool = True, batch_size: int = 5000) -> list[Difference]:
    """Recount every volunteer's figures from the facts; return each figure that differed and (unless `apply=False`)
    set it right."""
    differences: list[Difference] = []
    with transaction.atomic():
        # Changes of the facts wait for the ledger meanwhile, so none is lost or doubled.
        _lock([LedgerMonth])
        counted = _counted()
        kept = {
            (row.volunteer_id, row.year, row.month, row.measure): row
            for row in LedgerMonth.objects.exclude(amount=0).iterator(chunk_size=10_000)
        }
        fresh, changed, stale = [], [], []
        for key in sorted(set(counted) | set(kept)):
            want, row = counted.get(key, 0), kept.get(key)
            have = row.amount if row else 0
            if have == want:
                continue
            volunteer_id, year, month, measure = key
            where = {"volunteer_id": volunteer_id, "year": year, "month": month, "measure": measure}
            differences.append(Difference("LedgerMonth", where, have, want))
            if row is None:
                fresh.append(LedgerMonth(**where, amount=want))
            elif want == 0:
                stale.append(row.pk)
            else:
                row.amount = want
                changed.append(row)
        if apply:
            LedgerMonth.objects.filter(amount=0).delete()
            for first in range(0, len(stale), batch_size):
                LedgerMonth.objects.filter(pk__in=stale[first : first + batch_size]).delete()
            LedgerMonth.objects.bulk_update(changed, ["amount"], batch_size=batch_size)
            LedgerMonth.objects.bulk_create(fresh, batch_size=batch_size)
    return differences
