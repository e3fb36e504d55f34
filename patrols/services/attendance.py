"""Attendance on the spot: check-in and check-out with the phone's position, the inspector's word on doubtful
check-ins, corrected hours, and the minutes that count.

The rules, in the order a volunteer meets them:

- check-in opens `CHECKIN_OPENS_MINUTES_BEFORE` before the start and closes at the end;
- a position less precise than `CHECKIN_MAX_ACCURACY_M` is refused with "try again outdoors"; after
  `CHECKIN_ACCURACY_TRIES` such tries the volunteer goes on, and the check-in waits for the inspector's confirmation;
- inside the zone (with `CHECKIN_TOLERANCE_M` plus the phone's own accuracy as tolerance) the check-in is clean;
  beyond the district's farthest distance (`District.checkin_max_distance_m`, else `CHECKIN_MAX_DISTANCE_M`) it is
  refused; in between it is accepted and waits for the inspector's confirmation;
- check-out is refused before the start, and before the end it needs a reason, which the inspector sees;
- the minutes that count run from check-in to check-out clipped to the shift, are zero while a check-in waits for
  confirmation or was declined, and are the inspector's figure once corrected (with a reason). They are kept on the
  assignment, in the hours tally and in the volunteer's ledger in the same transaction as every change
  (`tallies.tally_hours_change`, `ledger.ledger_patrol_change`).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from ..choices import (
    AssignmentStatus,
    CheckInConfirmation,
    CheckInDoubt,
    NotificationKind,
    ShiftEventKind,
    ShiftStatus,
)
from ..models import Assignment, District, Shift, ShiftEvent, User
from ..scope import manageable_districts
from .geometry import distance_m
from .ledger import ledger_patrol_change
from .notifications import notify
from .tallies import tally_hours_change

# Minutes an inspector may credit for one assignment: a shift lasts at most a day.
MAX_CORRECTED_MINUTES = 24 * 60
# A reason for leaving early, or for the inspector's decision, is a line or two.
REASON_MAX_LENGTH = 500


def checkin_tolerance_m() -> int:
    """How far outside the zone a check-in still counts as inside (GPS is not exact)."""
    return settings.CHECKIN_TOLERANCE_M


def checkin_opens_before() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.CHECKIN_OPENS_MINUTES_BEFORE)


def close_grace() -> datetime.timedelta:
    """How long after its end a shift stays open for check-outs before it is closed automatically."""
    return datetime.timedelta(minutes=settings.SHIFT_CLOSE_GRACE_MINUTES)


def checkin_max_distance_m(district: District) -> int:
    """Beyond this distance from the zone a check-in is refused: the district's own setting, else the default."""
    own = district.checkin_max_distance_m
    return own if own is not None else settings.CHECKIN_MAX_DISTANCE_M


def distance_text(metres: int | float) -> str:
    """A distance as a reader says it: metres below a kilometre, kilometres above, in the reader's number format."""
    if metres < 1000:
        return _("%(metres)s m") % {"metres": formats.number_format(round(metres), force_grouping=True)}
    km = round(metres / 1000, 1 if metres < 10_000 else 0)
    decimals = 0 if km == int(km) else 1
    return _("%(km)s km") % {"km": formats.number_format(km, decimal_pos=decimals, force_grouping=True)}


def _clean_reason(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": _("Keep the reason within %(count)d characters.") % {"count": REASON_MAX_LENGTH}}
        )
    return text


def _event(shift: Shift, kind: str, *, by: User | None, volunteer=None, **details) -> None:
    ShiftEvent.objects.create(shift=shift, kind=kind, by=by, volunteer=volunteer, details=details)


# The minutes that count


def credited_minutes(assignment: Assignment, shift: Shift) -> int:
    """The patrol minutes an assignment earns, from its kept fields alone (the rule the tallies are checked against)."""
    if assignment.status != AssignmentStatus.COMPLETED:
        return 0
    if assignment.corrected_minutes is not None:
        return assignment.corrected_minutes
    if assignment.confirmation in {CheckInConfirmation.NEEDED, CheckInConfirmation.DECLINED}:
        return 0
    if assignment.check_in_at is None or assignment.check_out_at is None:
        return 0
    start = max(assignment.check_in_at, shift.starts_at)
    end = min(assignment.check_out_at, shift.ends_at)
    return max(0, round((end - start).total_seconds() / 60))


def _credit(assignment: Assignment, shift: Shift) -> None:
    """Bring the assignment's kept minutes, the hours tally and the ledger in line with its fields (inside the
    transaction)."""
    before = assignment.credited_minutes
    assignment.credited_minutes = credited_minutes(assignment, shift)
    tally_hours_change(shift, assignment.credited_minutes - before)
    ledger_patrol_change(assignment, shift, minutes_before=before)


def _locked(assignment: Assignment) -> Assignment:
    return (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("shift__zone", "shift__district", "volunteer__user")
        .get(pk=assignment.pk)
    )


def _distance(shift: Shift, point: Point, accuracy_m: float | None) -> tuple[int, int]:
    """Metres from the zone, and how far outside it still counts as inside: the tolerance widened by the phone's own
    accuracy, up to the accuracy a check-in accepts."""
    tolerance = checkin_tolerance_m() + min(round(accuracy_m or 0), settings.CHECKIN_MAX_ACCURACY_M)
    return round(distance_m(shift.zone.geometry, point)), tolerance


# Check-in


class _Imprecise(Exception):
    """The position is too imprecise and the volunteer has tries left (recorded outside the refused transaction)."""

    def __init__(self, accuracy: int, attempt: int):
        super().__init__(accuracy, attempt)
        self.accuracy, self.attempt = accuracy, attempt


def shift_check_in(*, assignment: Assignment, by: User, point: Point, accuracy_m: float | None = None) -> Assignment:
    """Check in on the spot. Refused far from the zone; accepted with the inspector's confirmation to come when near
    it or when the phone cannot find its position precisely after a few tries; clean inside the zone."""
    try:
        return _check_in(assignment=assignment, by=by, point=point, accuracy_m=accuracy_m)
    except _Imprecise as refused:
        with transaction.atomic():
            locked = _locked(assignment)
            locked.check_in_attempts = refused.attempt
            locked.save(update_fields=["check_in_attempts"])
            _event(
                locked.shift,
                ShiftEventKind.CHECK_IN_REFUSED,
                by=by,
                volunteer=locked.volunteer,
                accuracy_m=refused.accuracy,
                attempt=refused.attempt,
            )
        raise ValidationError(
            {
                "accuracy": _(
                    "Your phone places you only within %(accuracy)s. Step outdoors, away from tall buildings, "
                    "wait a moment and try again (try %(attempt)d of %(tries)d)."
                )
                % {
                    "accuracy": distance_text(refused.accuracy),
                    "attempt": refused.attempt,
                    "tries": settings.CHECKIN_ACCURACY_TRIES,
                }
            }
        ) from None


@transaction.atomic
def _check_in(*, assignment: Assignment, by: User, point: Point, accuracy_m: float | None) -> Assignment:
    assignment = _locked(assignment)
    if assignment.volunteer.user_id != by.pk:
        raise ValidationError(_("Only the volunteer checks in, from their own phone."))
    shift, now = assignment.shift, timezone.now()
    if assignment.status == AssignmentStatus.CHECKED_IN:
        return assignment
    if assignment.status != AssignmentStatus.SIGNED_UP:
        raise ValidationError(_("You are not signed up for this shift."))
    if shift.status != ShiftStatus.SCHEDULED:
        raise ValidationError(_("This shift is cancelled or closed."))
    if now < shift.starts_at - checkin_opens_before():
        raise ValidationError(
            _("Check-in opens %(minutes)d minutes before the start.")
            % {"minutes": int(checkin_opens_before().total_seconds() // 60)}
        )
    if now > shift.ends_at:
        raise ValidationError(_("The shift is over: check-in is closed."))
    accuracy = round(accuracy_m) if accuracy_m is not None else None
    imprecise = accuracy is not None and accuracy > settings.CHECKIN_MAX_ACCURACY_M
    if imprecise and assignment.check_in_attempts + 1 < settings.CHECKIN_ACCURACY_TRIES:
        raise _Imprecise(accuracy, assignment.check_in_attempts + 1)
    metres, tolerance = _distance(shift, point, accuracy)
    farthest = checkin_max_distance_m(shift.district)
    if metres > farthest + tolerance:
        raise ValidationError(
            {
                "lat": _(
                    "You are %(distance)s from the patrol zone: check in when you are there "
                    "(at most %(farthest)s from it)."
                )
                % {"distance": distance_text(metres), "farthest": distance_text(farthest)}
            }
        )
    assignment.check_in_at, assignment.check_in_point, assignment.check_in_accuracy_m = now, point, accuracy
    assignment.check_in_distance_m, assignment.check_in_outside = metres, metres > tolerance
    if assignment.check_in_outside:
        assignment.confirmation, assignment.confirmation_doubt = CheckInConfirmation.NEEDED, CheckInDoubt.OUTSIDE_ZONE
    elif imprecise:
        assignment.confirmation, assignment.confirmation_doubt = CheckInConfirmation.NEEDED, CheckInDoubt.POOR_ACCURACY
    assignment.status = AssignmentStatus.CHECKED_IN
    assignment.save()
    _event(
        shift,
        ShiftEventKind.CHECKED_IN,
        by=by,
        volunteer=assignment.volunteer,
        distance_m=metres,
        outside=assignment.check_in_outside,
        accuracy_m=accuracy,
        confirmation=assignment.confirmation,
    )
    return assignment


# Check-out


@transaction.atomic
def shift_check_out(
    *, assignment: Assignment, by: User, point: Point, accuracy_m: float | None = None, reason: str = ""
) -> Assignment:
    """Check out at the end of the patrol; before the end only with a reason, never before the start."""
    assignment = _locked(assignment)
    if assignment.volunteer.user_id != by.pk:
        raise ValidationError(_("Only the volunteer checks out, from their own phone."))
    if assignment.status == AssignmentStatus.COMPLETED:
        return assignment
    if assignment.status != AssignmentStatus.CHECKED_IN:
        raise ValidationError(_("Check in first."))
    shift, now = assignment.shift, timezone.now()
    if now > shift.ends_at + close_grace():
        raise ValidationError(_("The shift was closed; the inspector records your hours."))
    if now < shift.starts_at:
        raise ValidationError(
            _("The shift has not started yet: check out after %(start)s, or tell the inspector you cannot stay.")
            % {"start": formats.time_format(timezone.localtime(shift.starts_at), "H:i")}
        )
    reason = _clean_reason(reason)
    if now < shift.ends_at and not reason:
        raise ValidationError(
            {
                "reason": _("The shift ends at %(end)s: say why you leave earlier; the inspector will see it.")
                % {"end": formats.time_format(timezone.localtime(shift.ends_at), "H:i")}
            }
        )
    metres, tolerance = _distance(shift, point, accuracy_m)
    assignment.check_out_at, assignment.check_out_point = now, point
    assignment.check_out_distance_m, assignment.check_out_outside = metres, metres > tolerance
    assignment.check_out_reason = reason if now < shift.ends_at else ""
    assignment.status = AssignmentStatus.COMPLETED
    _credit(assignment, shift)
    assignment.save()
    _event(
        shift,
        ShiftEventKind.CHECKED_OUT,
        by=by,
        volunteer=assignment.volunteer,
        distance_m=metres,
        outside=assignment.check_out_outside,
        early=bool(assignment.check_out_reason),
        reason=assignment.check_out_reason,
    )
    return assignment


def close_open_check_in(assignment: Assignment, shift: Shift) -> None:
    """The periodic close: a volunteer still checked in is checked out at the shift's end (caller holds the lock)."""
    assignment.status = AssignmentStatus.COMPLETED
    assignment.check_out_at = shift.ends_at
    assignment.closed_automatically = True
    _credit(assignment, shift)
    assignment.save(update_fields=["status", "check_out_at", "closed_automatically", "credited_minutes"])


# The inspector's word


def _for_inspector(assignment: Assignment, by: User) -> Assignment:
    locked = _locked(assignment)
    if not manageable_districts(by).filter(pk=locked.shift.district_id).exists():
        raise ValidationError(_("You cannot keep attendance of this district."))
    return locked


@transaction.atomic
def attendance_confirm(*, assignment: Assignment, by: User, note: str = "") -> Assignment:
    """The inspector confirms a doubtful check-in: its hours count from now on."""
    assignment = _for_inspector(assignment, by)
    if assignment.confirmation not in {CheckInConfirmation.NEEDED, CheckInConfirmation.DECLINED}:
        raise ValidationError(_("This check-in needs no confirmation."))
    return _decide(assignment, by=by, to=CheckInConfirmation.CONFIRMED, note=_clean_reason(note))


@transaction.atomic
def attendance_decline(*, assignment: Assignment, by: User, reason: str) -> Assignment:
    """The inspector does not confirm a doubtful check-in: its hours do not count; a reason is required."""
    reason = _clean_reason(reason)
    if not reason:
        raise ValidationError({"reason": _("Say why the check-in is not confirmed: the volunteer will read it.")})
    assignment = _for_inspector(assignment, by)
    if assignment.confirmation not in {CheckInConfirmation.NEEDED, CheckInConfirmation.CONFIRMED}:
        raise ValidationError(_("This check-in needs no confirmation."))
    return _decide(assignment, by=by, to=CheckInConfirmation.DECLINED, note=reason)


def _decide(assignment: Assignment, *, by: User, to: str, note: str) -> Assignment:
    assignment.confirmation, assignment.confirmed_by, assignment.confirmed_at = to, by, timezone.now()
    _credit(assignment, assignment.shift)
    assignment.save()
    if to == CheckInConfirmation.DECLINED and assignment.volunteer.user_id:
        notify(
            users=[assignment.volunteer.user],
            kind=NotificationKind.CHECKIN_DECLINED,
            shift=assignment.shift,
            reason=note,
        )
    kind = (
        ShiftEventKind.CHECK_IN_CONFIRMED if to == CheckInConfirmation.CONFIRMED else ShiftEventKind.CHECK_IN_DECLINED
    )
    _event(
        assignment.shift,
        kind,
        by=by,
        volunteer=assignment.volunteer,
        note=note,
        doubt=assignment.confirmation_doubt,
        distance_m=assignment.check_in_distance_m,
    )
    return assignment


@transaction.atomic
def attendance_correct_hours(*, assignment: Assignment, by: User, minutes: int, reason: str) -> Assignment:
    """The inspector sets the patrol time of a completed assignment, with a reason kept in the history."""
    reason = _clean_reason(reason)
    errors = {}
    if not reason:
        errors["reason"] = _("Say why the hours are corrected: it is kept in the history.")
    if minutes is None or minutes < 0 or minutes > MAX_CORRECTED_MINUTES:
        errors["minutes"] = _("Patrol time is between 0 and %(hours)d hours.") % {"hours": MAX_CORRECTED_MINUTES // 60}
    if errors:
        raise ValidationError(errors)
    assignment = _for_inspector(assignment, by)
    if assignment.status != AssignmentStatus.COMPLETED:
        raise ValidationError(_("Only the hours of a completed patrol can be corrected."))
    before = assignment.credited_minutes
    assignment.corrected_minutes = minutes
    _credit(assignment, assignment.shift)
    assignment.save(update_fields=["corrected_minutes", "credited_minutes"])
    _event(
        assignment.shift,
        ShiftEventKind.HOURS_CORRECTED,
        by=by,
        volunteer=assignment.volunteer,
        minutes_before=before,
        minutes=minutes,
        reason=reason,
    )
    return assignment
