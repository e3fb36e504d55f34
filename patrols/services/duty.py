"""Position while on duty: the volunteer's consent (once, withdrawn in one tap) and the track the phone sends.

The rules:

- a position is taken only from the volunteer's own assignment while it is checked in (between check-in and
  check-out), and only while the volunteer's consent stands; anything else is refused and nothing is kept;
- the phone buffers positions while offline and sends them later in batches: each carries the phone's `client_uuid`,
  so a batch sent again (the answer was lost) stores nothing twice, and the track is kept in the order of
  `recorded_at` (the phone's time), whatever order the batches arrive in;
- a position recorded before the check-in, or later than now, is refused (the phone's clock may be off by up to
  `CLOCK_TOLERANCE`);
- positions are deleted `POSITION_RETENTION_DAYS` after they arrived (`positions_prune`, run with the other
  retention periods).
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import AssignmentStatus
from ..models import Assignment, DutyConsent, PositionPing, SosAlarm, User, Volunteer
from .geometry import point_from

# The version of the sentence the volunteer agrees to (templates/includes/duty_position.html); a new wording gets a
# new version, and consents keep the one they were given under.
CONSENT_TEXT_VERSION = "2026-12"
# How far the phone's clock may be from the server's: a position a little before the check-in (or a little in the
# future) is the same moment on a clock that is off.
CLOCK_TOLERANCE = datetime.timedelta(minutes=2)
# Positions per request: 500 is over four hours at one every 30 s, more than any phone buffers between two sends.
MAX_BATCH = 500
# Positions deleted per transaction by the retention run.
PRUNE_BATCH = 5000


@dataclass(frozen=True)
class Fix:
    """One position as the phone sent it, checked for shape (not yet for the rules)."""

    client_uuid: uuid.UUID
    point: Point
    accuracy_m: int | None
    recorded_at: datetime.datetime


@dataclass(frozen=True)
class RecordResult:
    stored: int
    duplicates: int


# Consent


def consent_of(volunteer: Volunteer | None) -> DutyConsent | None:
    """The volunteer's standing consent, or None (never given, or withdrawn)."""
    if volunteer is None:
        return None
    return DutyConsent.objects.filter(volunteer=volunteer, withdrawn_at=None).first()


def consent_record(volunteer: Volunteer) -> DutyConsent | None:
    """The volunteer's consent as it stands: given, withdrawn, or None when never asked."""
    return DutyConsent.objects.filter(volunteer=volunteer).first()


@transaction.atomic
def duty_consent_give(*, volunteer: Volunteer, by: User) -> DutyConsent:
    """The volunteer agrees to share their position while on duty (only they can)."""
    if volunteer.user_id != by.pk:
        raise ValidationError(_("Only the volunteer can agree to share their own position."))
    consent, created = DutyConsent.objects.select_for_update().get_or_create(
        volunteer=volunteer, defaults={"text_version": CONSENT_TEXT_VERSION}
    )
    if not created and consent.withdrawn_at is not None:
        consent.given_at, consent.withdrawn_at, consent.text_version = timezone.now(), None, CONSENT_TEXT_VERSION
        consent.save(update_fields=["given_at", "withdrawn_at", "text_version"])
    return consent


@transaction.atomic
def duty_consent_withdraw(*, volunteer: Volunteer, by: User) -> DutyConsent | None:
    """Stop sharing: the consent is withdrawn and the phone's next positions are refused."""
    if volunteer.user_id != by.pk:
        raise ValidationError(_("Only the volunteer can stop sharing their own position."))
    consent = DutyConsent.objects.select_for_update().filter(volunteer=volunteer).first()
    if consent is not None and consent.withdrawn_at is None:
        consent.withdrawn_at = timezone.now()
        consent.save(update_fields=["withdrawn_at"])
    return consent


# The track


def fix_from(*, lat, lng, accuracy, recorded_at: datetime.datetime, client_uuid: uuid.UUID) -> Fix:
    """One position from the phone's fields; the same clear errors as a check-in for nonsense."""
    return Fix(
        client_uuid=client_uuid,
        point=point_from(lat, lng),
        accuracy_m=round(accuracy) if accuracy is not None else None,
        recorded_at=recorded_at,
    )


def own_assignment(*, user: User, assignment_id: int) -> Assignment | None:
    """The requester's own assignment with this id, or None: another volunteer's assignment does not exist here."""
    return (
        Assignment.objects.filter(pk=assignment_id, volunteer__user=user, volunteer__user__isnull=False)
        .select_related("volunteer")
        .first()
    )


def positions_record(*, assignment: Assignment, by: User, fixes: list[Fix]) -> RecordResult:
    """Keep a batch of positions on the track of a checked-in assignment, each once, with the volunteer's consent."""
    if assignment.volunteer.user_id != by.pk:
        raise ValidationError(_("Only the volunteer's own phone sends their position."))
    if consent_of(assignment.volunteer) is None:
        raise ValidationError(
            {
                "consent": _(
                    "You have not agreed to share your position on duty, or you stopped sharing it: nothing was kept."
                )
            }
        )
    if len(fixes) > MAX_BATCH:
        raise ValidationError({"positions": _("Send at most %(count)d positions at a time.") % {"count": MAX_BATCH}})
    # The status is read fresh: a check-out a moment ago ends the sharing at once.
    current = Assignment.objects.filter(pk=assignment.pk).values("status", "check_in_at").first()
    if current is None or current["status"] != AssignmentStatus.CHECKED_IN or current["check_in_at"] is None:
        raise ValidationError(
            {"assignment": _("Your position is shared only between check-in and check-out: nothing was kept.")}
        )
    now = timezone.now()
    earliest, latest = current["check_in_at"] - CLOCK_TOLERANCE, now + CLOCK_TOLERANCE
    for number, fix in enumerate(fixes, start=1):
        if not earliest <= fix.recorded_at <= latest:
            raise ValidationError(
                {
                    "recorded_at": _(
                        "Position %(number)d was recorded outside your time on patrol (before the check-in or in "
                        "the future): nothing was kept."
                    )
                    % {"number": number}
                }
            )
    unique = {fix.client_uuid: fix for fix in fixes}
    known = set(
        PositionPing.objects.filter(assignment=assignment, client_uuid__in=list(unique)).values_list(
            "client_uuid", flat=True
        )
    )
    fresh = [
        PositionPing(
            assignment=assignment,
            point=fix.point,
            accuracy_m=fix.accuracy_m,
            recorded_at=fix.recorded_at,
            received_at=now,
            client_uuid=fix.client_uuid,
        )
        for key, fix in unique.items()
        if key not in known
    ]
    # Two copies of one batch racing each other: the unique key keeps the first, the second adds nothing (its
    # answer then counts as stored what the first stored).
    PositionPing.objects.bulk_create(fresh, ignore_conflicts=True)
    return RecordResult(stored=len(fresh), duplicates=len(fixes) - len(fresh))


# Retention


def _position_cutoff(now: datetime.datetime | None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=settings.POSITION_RETENTION_DAYS)


def _closed_alarms_with_a_position(cutoff: datetime.datetime):
    """SOS alarms closed before the cutoff that still hold where the volunteer was."""
    return SosAlarm.objects.filter(closed_at__lte=cutoff, point__isnull=False)


def positions_due(*, now: datetime.datetime | None = None) -> int:
    """How many positions arrived longer than POSITION_RETENTION_DAYS ago, a closed SOS alarm's position included."""
    cutoff = _position_cutoff(now)
    return PositionPing.objects.filter(received_at__lte=cutoff).count() + _closed_alarms_with_a_position(cutoff).count()


def positions_prune(*, now: datetime.datetime | None = None, batch: int = PRUNE_BATCH) -> int:
    """Delete the positions older than POSITION_RETENTION_DAYS, oldest first, a batch per transaction."""
    cutoff = _position_cutoff(now)
    deleted = 0
    while True:
        with transaction.atomic():
            oldest = (
                PositionPing.objects.filter(received_at__lte=cutoff)
                .order_by("received_at", "id")
                .values_list("pk", flat=True)[:batch]
            )
            count, _per_model = PositionPing.objects.filter(pk__in=list(oldest)).delete()
        deleted += count
        if count < batch:
            # An alarm itself stays in the history (who was called, who answered); where it was raised goes.
            return deleted + _closed_alarms_with_a_position(cutoff).update(point=None, accuracy_m=None)
