"""The demo logins' unread notifications: a volunteer's reminders and results, an inspector's digest and alerts, a
chief's weekly summary, as the services would have sent them.
"""

from __future__ import annotations

import datetime

from django.db.models import Count, F, Q
from django.utils import timezone

from ..choices import (
    SEAT_STATUSES,
    AssignmentStatus,
    NotificationKind,
    ReportStatus,
    ShiftEventKind,
    ShiftStatus,
)
from ..clock import LOCAL_TZ
from ..models import (
    Assignment,
    Notification,
    Report,
    Shift,
    ShiftEvent,
    User,
    Volunteer,
)
from ..services.figures import summary_details
from ..services.reminders import reminder_leads
from ..services.reporting import report_queue
from .loader import update_rows

# The demo logins' inbox


def _digest_details(inspector: User, today: datetime.date) -> dict[str, int]:
    """What the morning digest tells (as `reminders.inspector_digests` counts it)."""
    evening = datetime.datetime.combine(today, datetime.time(12), tzinfo=LOCAL_TZ)
    shifts = (
        Shift.objects.filter(district__in=inspector.inspector_districts.all(), status=ShiftStatus.SCHEDULED)
        .filter(starts_at__gte=evening, starts_at__lt=evening + datetime.timedelta(hours=20))
        .annotate(seats=Count("assignments", filter=Q(assignments__status__in=[AssignmentStatus.SIGNED_UP])))
    )
    return {
        "waiting": report_queue(inspector).count(),
        "shifts": len(shifts),
        "understaffed": sum(1 for shift in shifts if shift.seats < shift.min_volunteers),
    }


def _volunteer_inbox(user: User, now: datetime.datetime) -> list[tuple[Notification, datetime.datetime | None]]:
    """The coming shift's reminder and promotion, the last verified report (and older ones, read), a question."""
    volunteer = Volunteer.objects.filter(user=user).first()
    if volunteer is None:
        return []
    items: list[tuple[Notification, datetime.datetime | None]] = []
    coming = (
        Assignment.objects.filter(
            volunteer=volunteer,
            status=AssignmentStatus.SIGNED_UP,
            shift__status=ShiftStatus.SCHEDULED,
            shift__starts_at__gt=now,
        )
        .select_related("shift__series", "volunteer__user")
        .order_by("shift__starts_at")
        .first()
    )
    if coming is not None:
        # The reminder sweep's own key: the sweep finds it and does not remind twice.
        leads = reminder_leads(coming) or [24]
        passed = [hours for hours in leads if coming.shift.starts_at - datetime.timedelta(hours=hours) <= now]
        lead = min(passed) if passed else max(leads)
        items.append(
            (
                Notification(
                    key=f"demo:promoted:{coming.pk}", user=user, kind=NotificationKind.PROMOTED, shift=coming.shift
                ),
                None,
            )
        )
        items.append(
            (
                Notification(
                    key=f"reminder:{coming.pk}:{lead}h",
                    user=user,
                    kind=NotificationKind.SHIFT_REMINDER,
                    shift=coming.shift,
                    details={"assignment": coming.pk, "lead_hours": lead},
                ),
                None,
            )
        )
    verified = Report.objects.filter(reporter=volunteer, status=ReportStatus.VERIFIED, verified_at__isnull=False)
    for index, report in enumerate(verified.order_by("-verified_at", "-pk")[:4]):
        notification = Notification(
            key=f"demo:report_verified:{report.pk}", user=user, kind=NotificationKind.REPORT_VERIFIED, report=report
        )
        if index:
            notification.read_at = min(report.verified_at + datetime.timedelta(hours=3), now)
        items.append((notification, report.verified_at))
    asked = Report.objects.filter(reporter=volunteer, status=ReportStatus.NEEDS_INFO).order_by("-updated_at").first()
    if asked is not None:
        notification = Notification(
            key=f"demo:report_needs_info:{asked.pk}",
            user=user,
            kind=NotificationKind.REPORT_NEEDS_INFO,
            report=asked,
            details={"question": asked.status_note},
        )
        items.append((notification, asked.updated_at))
    return items


def _inspector_inbox(user: User, now: datetime.datetime) -> list[tuple[Notification, datetime.datetime | None]]:
    """A coming shift below its minimum and this morning's digest (under the digest sweep's own key)."""
    items: list[tuple[Notification, datetime.datetime | None]] = []
    thin = (
        Shift.objects.filter(
            district__in=user.inspector_districts.all(),
            status=ShiftStatus.SCHEDULED,
            starts_at__gt=now,
            starts_at__lte=now + datetime.timedelta(days=7),
        )
        .annotate(seats=Count("assignments", filter=Q(assignments__status__in=SEAT_STATUSES)))
        .filter(seats__lt=F("min_volunteers"))
        .order_by("starts_at", "pk")
        .first()
    )
    if thin is not None:
        notification = Notification(
            key=f"demo:understaffed:{thin.pk}",
            user=user,
            kind=NotificationKind.UNDERSTAFFED,
            shift=thin,
            details={"seats": thin.seats},
        )
        items.append((notification, None))
    today = timezone.localdate(now)
    morning = datetime.datetime.combine(today, datetime.time(7, 30), tzinfo=LOCAL_TZ)
    digest = Notification(
        key=f"digest:{user.pk}:{today.isoformat()}",
        user=user,
        kind=NotificationKind.INSPECTOR_DIGEST,
        details=_digest_details(user, today),
    )
    items.append((digest, min(morning, now)))
    return items


def _chief_inbox(user: User, now: datetime.datetime) -> list[tuple[Notification, datetime.datetime | None]]:
    """This week's summary of the region (under the summary sweep's own key)."""
    if user.chief_region_id is None:
        return []
    today = timezone.localdate(now)
    year, week, weekday = today.isocalendar()
    details = summary_details(user.chief_region, today=today)
    monday = datetime.datetime.combine(today - datetime.timedelta(days=weekday - 1), datetime.time(8), tzinfo=LOCAL_TZ)
    summary = Notification(
        key=f"summary:{user.pk}:{year}-W{week:02d}", user=user, kind=NotificationKind.CHIEF_SUMMARY, details=details
    )
    return [(summary, min(monday, now))]


def _record_promotion(notification: Notification) -> None:
    """The shift's history tells the same: the volunteer waited on the list and got a seat."""
    volunteer = notification.user.volunteer
    ShiftEvent.objects.filter(shift=notification.shift, volunteer=volunteer, kind=ShiftEventKind.SIGNED_UP).update(
        kind=ShiftEventKind.WAITLISTED
    )
    ShiftEvent.objects.create(shift=notification.shift, kind=ShiftEventKind.PROMOTED, volunteer=volunteer)


def _record_understaffed(notification: Notification, now: datetime.datetime) -> None:
    """Flagged once, as `scheduling.shifts_flag_understaffed` does, so the sweep does not tell it again."""
    shift = notification.shift
    Shift.objects.filter(pk=shift.pk, understaffed_at__isnull=True).update(understaffed_at=now)
    ShiftEvent.objects.create(
        shift=shift,
        kind=ShiftEventKind.UNDERSTAFFED,
        details={"seats": notification.details["seats"], "minimum": shift.min_volunteers},
    )


def save_demo_inbox(*, users: dict[str, User], now: datetime.datetime) -> int:
    """Unread messages for the demo logins, in-app only (no email or SMS for demo data); each under a key, so a
    second run adds none. Returns how many were created."""
    items: list[tuple[Notification, datetime.datetime | None]] = []
    if "volunteer" in users:
        items += _volunteer_inbox(users["volunteer"], now)
    if "inspector" in users:
        items += _inspector_inbox(users["inspector"], now)
    if "chief" in users:
        items += _chief_inbox(users["chief"], now)
    known = set(Notification.objects.filter(key__in=[n.key for n, _at in items]).values_list("key", flat=True))
    fresh = [(notification, at) for notification, at in items if notification.key not in known]
    Notification.objects.bulk_create([notification for notification, _at in fresh])
    # `created_at` is filled on insert: put back when each message was sent.
    update_rows(Notification, ["created_at"], [(n.pk, at) for n, at in fresh if at is not None])
    for notification, _at in fresh:
        if notification.kind == NotificationKind.PROMOTED:
            _record_promotion(notification)
        elif notification.kind == NotificationKind.UNDERSTAFFED:
            _record_understaffed(notification, now)
    return len(fresh)
