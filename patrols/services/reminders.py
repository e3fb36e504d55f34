"""Reminders and the delivery of every notification (rule 3 of DESIGN.md: nothing lost, nothing twice).

The minute sweep reads the database: it creates the reminders that are due under unique keys, and queues every
pending delivery whose task may have been lost. A delivery is sent by `delivery_send` holding the row's lock, so
two workers never send the same one; a stale one (its shift started or was cancelled) is skipped, not sent late.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import (
    AssignmentStatus,
    DeliveryChannel,
    DeliveryStatus,
    MeetingStatus,
    NotificationKind,
    ReportStatus,
    Role,
    ShiftStatus,
)
from ..clock import LOCAL_TZ
from ..models import Assignment, Delivery, Meeting, Notification, Report, Shift, User
from . import channels, scheduling
from .channels import DeliveryError
from .figures import summary_details
from .messages import render
from .notifications import (
    ALARM_KINDS,
    delivery_fall_back,
    notify_many_once,
    notify_once,
    preference_for,
    queue_deliveries,
)

logger = logging.getLogger(__name__)

CHECKIN_MISSING_AFTER = datetime.timedelta(minutes=15)
CHECKIN_MISSING_INSPECTOR_AFTER = datetime.timedelta(minutes=30)
REPLY_SALT = "patrols.shift-reply"


def reminder_leads(assignment: Assignment) -> list[int]:
    """Hours before the start: the volunteer's own choice, else the series', else 24 and 2."""
    user = assignment.volunteer.user
    own = preference_for(user).reminder_leads if user else None
    series = assignment.shift.series.reminder_leads if assignment.shift.series_id else None
    leads = own or series or settings.REMINDER_LEADS_HOURS
    return sorted({int(hours) for hours in leads if int(hours) > 0}, reverse=True)


def due_reminders(*, now: datetime.datetime) -> list[Notification]:
    """Unsaved reminder notifications due now: for each sign-up, only the latest lead moment that has passed."""
    horizon = now + datetime.timedelta(hours=max(settings.REMINDER_LEADS_HOURS + [72]))
    assignments = (
        Assignment.objects.filter(
            status=AssignmentStatus.SIGNED_UP,
            shift__status=ShiftStatus.SCHEDULED,
            shift__starts_at__gt=now,
            shift__starts_at__lte=horizon,
            volunteer__user__isnull=False,
            volunteer__user__is_active=True,
        )
        .select_related("shift__series", "shift__zone", "volunteer__user__notification_preference")
        .order_by("pk")
    )
    due = []
    for assignment in assignments.iterator(chunk_size=2000):
        passed = [
            h for h in reminder_leads(assignment) if assignment.shift.starts_at - datetime.timedelta(hours=h) <= now
        ]
        if not passed:
            continue
        latest = min(passed)
        due.append(
            Notification(
                key=f"reminder:{assignment.pk}:{latest}h",
                user=assignment.volunteer.user,
                kind=NotificationKind.SHIFT_REMINDER,
                shift=assignment.shift,
                details={"assignment": assignment.pk, "lead_hours": latest},
            )
        )
    return due


def due_meeting_reminders(*, now: datetime.datetime) -> list[Notification]:
    """Unsaved reminders of planned meetings, like a shift's: to the officers holding it and the volunteers taking
    part, at the latest of the default lead moments (24 and 2 hours before) that has passed."""
    leads = sorted({int(hours) for hours in settings.REMINDER_LEADS_HOURS if int(hours) > 0})
    if not leads:
        return []
    planned = (
        Meeting.objects.filter(
            status=MeetingStatus.PLANNED, held_at__gt=now, held_at__lte=now + datetime.timedelta(hours=max(leads))
        )
        .select_related("settlement")
        .prefetch_related("officers", "attendees__volunteer__user")
        .order_by("pk")
    )
    due = []
    for meeting in planned:
        latest = min(h for h in leads if meeting.held_at - datetime.timedelta(hours=h) <= now)
        people = list(meeting.officers.all()) + [a.volunteer.user for a in meeting.attendees.all() if a.volunteer.user]
        for user in {person.pk: person for person in people if person.is_active}.values():
            due.append(
                Notification(
                    key=f"meeting-reminder:{meeting.pk}:{user.pk}:{latest}h",
                    user=user,
                    kind=NotificationKind.MEETING_REMINDER,
                    meeting=meeting,
                    details={"lead_hours": latest},
                )
            )
    return due


def missing_check_ins(*, now: datetime.datetime) -> list[Notification]:
    """Unsaved notifications for sign-ups with no check-in 15 minutes after the start (and to the inspector at 30)."""
    started = Assignment.objects.filter(
        status=AssignmentStatus.SIGNED_UP,
        shift__status=ShiftStatus.SCHEDULED,
        shift__starts_at__lte=now - CHECKIN_MISSING_AFTER,
        shift__ends_at__gt=now,
    ).select_related("shift", "volunteer__user")
    items, per_shift = [], {}
    for assignment in started:
        if assignment.volunteer.user_id:
            items.append(
                Notification(
                    key=f"checkin-missing:{assignment.pk}",
                    user=assignment.volunteer.user,
                    kind=NotificationKind.CHECKIN_MISSING,
                    shift=assignment.shift,
                    details={"assignment": assignment.pk},
                )
            )
        if assignment.shift.starts_at <= now - CHECKIN_MISSING_INSPECTOR_AFTER:
            per_shift.setdefault(assignment.shift, []).append(assignment.volunteer_id)
    for shift, missing in per_shift.items():
        items.append(
            Notification(
                key=f"checkin-missing-inspector:{shift.pk}",
                user_id=shift.inspector_id,
                kind=NotificationKind.CHECKIN_MISSING_INSPECTOR,
                shift=shift,
                details={"missing": missing},
            )
        )
    return items


def requeue_pending(*, now: datetime.datetime) -> int:
    """Skip stale pending deliveries; queue again those due whose task may have been lost."""
    Delivery.objects.filter(status=DeliveryStatus.PENDING, expires_at__lte=now).update(status=DeliveryStatus.SKIPPED)
    cutoff = now - datetime.timedelta(seconds=settings.DELIVERY_REQUEUE_SECONDS)
    waiting = (
        Delivery.objects.filter(status=DeliveryStatus.PENDING)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=cutoff))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return queue_deliveries(list(waiting[:20000]), batched=True)


def sweep(*, now: datetime.datetime | None = None) -> dict:
    """The minute sweep: due reminders, missing check-ins, and every pending delivery queued again if lost."""
    now = now or timezone.now()
    reminders = notify_many_once(due_reminders(now=now)) + notify_many_once(due_meeting_reminders(now=now))
    missing = notify_many_once(missing_check_ins(now=now))
    requeued = requeue_pending(now=now)
    fell_back = undelivered_fall_back(now=now)
    return {"reminders": reminders, "checkin_missing": missing, "requeued": requeued, "fell_back": fell_back}


def undelivered_fall_back(*, now: datetime.datetime) -> int:
    """WhatsApp messages sent but not reported delivered in time: the person's next channel is tried too."""
    late = now - datetime.timedelta(minutes=settings.WHATSAPP_DELIVERED_WITHIN_MINUTES)
    stuck = Delivery.objects.filter(
        channel=DeliveryChannel.WHATSAPP,
        status=DeliveryStatus.SENT,
        delivered_at__isnull=True,
        fell_back_at__isnull=True,
        sent_at__lt=late,
        sent_at__gte=now - datetime.timedelta(days=1),
    ).order_by("pk")
    return sum(1 for delivery in stuck[:2000] if delivery_fall_back(delivery, now=now))


def _still_relevant(delivery: Delivery, now: datetime.datetime) -> bool:
    notification = delivery.notification
    if delivery.expires_at is not None and now >= delivery.expires_at:
        return False
    if notification.kind in ALARM_KINDS:
        return True
    if notification.kind == NotificationKind.MEETING_REMINDER:
        return notification.meeting is not None and notification.meeting.status == MeetingStatus.PLANNED
    shift = notification.shift
    if shift is not None and shift.status == ShiftStatus.CANCELLED:
        return notification.kind == NotificationKind.SHIFT_CANCELLED
    if notification.kind == NotificationKind.SHIFT_REMINDER:
        return Assignment.objects.filter(
            pk=notification.details.get("assignment"), status=AssignmentStatus.SIGNED_UP
        ).exists()
    if notification.kind == NotificationKind.OK_PROMPT:
        return Assignment.objects.filter(
            pk=notification.details.get("assignment"), status=AssignmentStatus.CHECKED_IN
        ).exists()
    if notification.kind == NotificationKind.CHECKIN_MISSING:
        return Assignment.objects.filter(
            pk=notification.details.get("assignment"), status=AssignmentStatus.SIGNED_UP
        ).exists()
    return True


def _backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=min(30 * 2 ** (attempts - 1), 3600))


def _claim(delivery_id: int) -> Delivery | None:
    """The delivery's row, locked, None when another worker holds it; with its notification, shift and zone read
    in the same query (every reminder needs them), but not the zone's shape: a message only names the zone. The
    rarer meeting or report is read when a message needs it."""
    rows = list(
        Delivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("notification__shift__zone")
        .defer("notification__shift__zone__geometry", "notification__shift__zone__description")
        .filter(pk=delivery_id)
        .order_by()  # one row at most: no first(), whose ORDER BY only costs time to compile
    )
    return rows[0] if rows else None


def delivery_send(*, delivery_id: int) -> str:
    """Send one delivery if it is still pending and relevant; returns what happened (for logs and tests).

    The row stays locked while the message goes out, so a second worker given the same id skips it.
    """
    with transaction.atomic():
        delivery = _claim(delivery_id)
        if delivery is None:
            return "locked"
        if delivery.status != DeliveryStatus.PENDING:
            return delivery.status
        now = timezone.now()
        if delivery.not_before is not None and now < delivery.not_before:
            return "later"
        if not _still_relevant(delivery, now):
            delivery.status = DeliveryStatus.SKIPPED
            delivery.save(update_fields=["status"])
            return delivery.status
        # The reminder's sign-up was read as still standing just now: its answer links need not read it again.
        signup_open = True if delivery.notification.kind == NotificationKind.SHIFT_REMINDER else None
        message = render(delivery.notification, delivery.language, signup_open=signup_open)
        delivery.attempts += 1
        try:
            provider_id = channels.send(delivery, message)
        except DeliveryError as error:
            delivery.last_error = str(error)[:2000]
            if error.permanent or delivery.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
                delivery.status = DeliveryStatus.FAILED
            else:
                delivery.not_before = now + _backoff(delivery.attempts)
                delivery.queued_at = None
            delivery.save(update_fields=["attempts", "last_error", "status", "not_before", "queued_at"])
            if delivery.status != DeliveryStatus.FAILED:
                return "retry"
            delivery_fall_back(delivery, now=now)
            return "failed"
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = timezone.now()
        delivery.last_error = ""
        delivery.provider_id = (provider_id or "")[:200]
        delivery.save(update_fields=["attempts", "status", "sent_at", "last_error", "provider_id"])
        return delivery.status


def deliveries_send(*, delivery_ids: list[int]) -> dict[str, int]:
    """Send a batch of deliveries one after the other, each in its own transaction holding its own row (so a worker
    killed halfway leaves the sent ones sent and the rest pending); how many ended how."""
    outcomes: dict[str, int] = {}
    for delivery_id in delivery_ids:
        outcome = delivery_send(delivery_id=delivery_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def failed_deliveries_for(user: User):
    """Failed deliveries the inspector should know about: to people of their districts' shifts and reports."""
    from ..scope import manageable_districts

    districts = manageable_districts(user)
    return (
        Delivery.objects.filter(status=DeliveryStatus.FAILED)
        .filter(
            Q(notification__shift__district__in=districts)
            | Q(notification__report__district__in=districts)
            | Q(user__volunteer__district__in=districts)
        )
        .select_related("user", "notification")
        .distinct()
        .order_by("-created_at")
    )


# Digests


def inspector_digests(*, today: datetime.date | None = None) -> int:
    """The morning digest for each inspector: reports waiting, tonight's shifts and how many are understaffed."""
    today = today or timezone.localdate()
    evening = datetime.datetime.combine(today, datetime.time(12), tzinfo=LOCAL_TZ)
    night_end = evening + datetime.timedelta(hours=20)
    sent = 0
    for inspector in User.objects.filter(role=Role.INSPECTOR, is_active=True).prefetch_related("inspector_districts"):
        districts = inspector.inspector_districts.all()
        shifts = (
            Shift.objects.filter(district__in=districts, status=ShiftStatus.SCHEDULED)
            .filter(starts_at__gte=evening, starts_at__lt=night_end)
            .annotate(seats=Count("assignments", filter=Q(assignments__status__in=[AssignmentStatus.SIGNED_UP])))
        )
        waiting = Report.objects.filter(district__in=districts, status=ReportStatus.SUBMITTED).count()
        details = {
            "waiting": waiting,
            "shifts": len(shifts),
            "understaffed": sum(1 for shift in shifts if shift.seats < shift.min_volunteers),
        }
        if notify_once(
            key=f"digest:{inspector.pk}:{today.isoformat()}",
            user=inspector,
            kind=NotificationKind.INSPECTOR_DIGEST,
            **details,
        ):
            sent += 1
    return sent


def chief_summaries(*, today: datetime.date | None = None) -> int:
    """The weekly summary for each regional chief: the year's verified totals in their region against the benchmarks."""
    today = today or timezone.localdate()
    year, week, _day = today.isocalendar()
    sent = 0
    for chief in User.objects.filter(role=Role.CHIEF, is_active=True, chief_region__isnull=False).select_related(
        "chief_region"
    ):
        details = summary_details(chief.chief_region, today=today)
        if notify_once(
            key=f"summary:{chief.pk}:{year}-W{week:02d}", user=chief, kind=NotificationKind.CHIEF_SUMMARY, **details
        ):
            sent += 1
    return sent


# One-tap replies from a reminder: "I'm coming" / "I can't come"

REPLY_COMING = "coming"
REPLY_DECLINE = "decline"


def reply_token(*, assignment: Assignment, answer: str) -> str:
    """A signed token for one answer to one sign-up; it expires when the shift starts."""
    return _reply_token(assignment.pk, answer)


def _reply_token(assignment_id: int, answer: str) -> str:
    return signing.dumps({"a": assignment_id, "r": answer}, salt=REPLY_SALT, compress=True)


def reply_links(assignment_id: int) -> dict[str, str]:
    """The one-tap answer links of a sign-up (only its id goes into them, so the row need not be read)."""
    from .messages import absolute

    return {
        answer: absolute(f"/reply/{_reply_token(assignment_id, answer)}/") for answer in (REPLY_COMING, REPLY_DECLINE)
    }


def reply_read(token: str) -> tuple[Assignment, str]:
    """The sign-up and answer a token stands for; a clear error for a forged, expired or used token."""
    try:
        data = signing.loads(token, salt=REPLY_SALT, max_age=datetime.timedelta(days=7))
    except signing.BadSignature as error:
        raise ValidationError(_("This link is not valid.")) from error
    assignment = Assignment.objects.select_related("shift__zone", "volunteer__user").filter(pk=data.get("a")).first()
    answer = data.get("r")
    if assignment is None or answer not in {REPLY_COMING, REPLY_DECLINE}:
        raise ValidationError(_("This link is not valid."))
    if assignment.shift.starts_at <= timezone.now():
        raise ValidationError(_("This link has expired: the shift has started."))
    return assignment, answer


@transaction.atomic
def reply_use(token: str) -> Assignment:
    """Act on a one-tap answer once: "coming" confirms, "decline" frees the seat and moves the waiting list."""
    assignment, answer = reply_read(token)
    assignment = (
        Assignment.objects.select_for_update(of=("self",))
        .select_related("volunteer__user", "shift")
        .get(pk=assignment.pk)
    )
    if assignment.status != AssignmentStatus.SIGNED_UP or (answer == REPLY_COMING and assignment.coming_at):
        raise ValidationError(_("This link was already used."))
    if answer == REPLY_COMING:
        return assignment_confirm(assignment=assignment)
    return scheduling.shift_cancel_signup(assignment=assignment, by=assignment.volunteer.user)


def assignment_confirm(*, assignment: Assignment) -> Assignment:
    """The volunteer says they are coming: kept once (a second "coming" changes nothing)."""
    updated = Assignment.objects.filter(pk=assignment.pk, coming_at__isnull=True).update(coming_at=timezone.now())
    if updated:
        assignment.refresh_from_db(fields=["coming_at"])
    return assignment
