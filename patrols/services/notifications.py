"""Telling people: the in-app inbox row and, per the person's choices, email and SMS deliveries.

Every message is a Notification (the inbox) created in the same transaction as the change it tells about, with
one Delivery per outside channel under a unique key. Sending is the workers' job: a task is queued after the
commit, and the minute sweep queues again whatever is still pending, so a broker that is down delays messages
but never loses them, and writes never depend on it.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..choices import DeliveryChannel, NotificationKind
from ..models import Delivery, Notification, NotificationPreference, Report, Shift, User

logger = logging.getLogger(__name__)

# Short, time-critical messages also go by SMS; everything goes by email.
SMS_KINDS = frozenset(
    {
        NotificationKind.SHIFT_REMINDER,
        NotificationKind.MEETING_REMINDER,
        NotificationKind.SHIFT_CANCELLED,
        NotificationKind.PROMOTED,
        NotificationKind.CHECKIN_MISSING,
        NotificationKind.CHECKIN_MISSING_INSPECTOR,
        NotificationKind.UNDERSTAFFED,
        NotificationKind.SOS_ALARM,
        NotificationKind.OK_MISSED,
        NotificationKind.CALLOUT,
    }
)
# Urgent messages may wake people up: SMS quiet hours do not hold them back.
URGENT_KINDS = frozenset(
    {
        NotificationKind.CHECKIN_MISSING,
        NotificationKind.CHECKIN_MISSING_INSPECTOR,
        NotificationKind.SOS_ALARM,
        NotificationKind.OK_MISSED,
        NotificationKind.CALLOUT,
    }
)
# A volunteer in trouble: the message is worth sending however late, whatever became of the shift.
ALARM_KINDS = frozenset({NotificationKind.SOS_ALARM, NotificationKind.OK_MISSED})


def preference_for(user: User) -> NotificationPreference:
    """The person's choices, or the defaults when they never chose (not saved)."""
    try:
        return user.notification_preference
    except NotificationPreference.DoesNotExist:
        return NotificationPreference(user=user)


def _in_quiet_hours(moment: datetime.datetime, preference: NotificationPreference) -> datetime.datetime | None:
    """When the quiet hours around `moment` end, or None when `moment` is not in them (local time)."""
    local = timezone.localtime(moment)
    start, end, now = preference.quiet_start, preference.quiet_end, local.time()
    if start == end:
        return None
    overnight = start > end
    quiet = (now >= start or now < end) if overnight else (start <= now < end)
    if not quiet:
        return None
    end_day = local.date() + datetime.timedelta(days=1) if overnight and now >= start else local.date()
    return datetime.datetime.combine(end_day, end, tzinfo=local.tzinfo)


def _sms_phone(user: User) -> str:
    """A volunteer's profile phone; for police accounts the account's own phone (kept for alarms)."""
    volunteer = getattr(user, "volunteer", None)
    return volunteer.phone if volunteer is not None else user.phone


def channel_addresses(user: User) -> dict[str, str]:
    """Where each outside channel would reach the person: the confirmed email and the volunteer's phone.

    An empty address means the channel cannot reach them: no delivery is made for it (so no failed one either),
    whatever their stored choice says, and the settings page shows it off.
    """
    return {DeliveryChannel.EMAIL: user.email or "", DeliveryChannel.SMS: _sms_phone(user)}


def _is_urgent(notification: Notification) -> bool:
    if notification.kind in URGENT_KINDS:
        return True
    shift = notification.shift
    soon = shift is not None and shift.starts_at - timezone.now() < datetime.timedelta(hours=6)
    return notification.kind == NotificationKind.SHIFT_CANCELLED and soon


def _expiry(notification: Notification) -> datetime.datetime | None:
    """After this moment the message is no longer worth sending (a reminder once the shift has started)."""
    if notification.kind == NotificationKind.MEETING_REMINDER and notification.meeting is not None:
        return notification.meeting.held_at
    if notification.kind in ALARM_KINDS:
        return None
    shift = notification.shift
    if shift is None:
        return None
    if notification.kind in {
        NotificationKind.SHIFT_REMINDER,
        NotificationKind.PROMOTED,
        NotificationKind.ASSIGNED,
        NotificationKind.CALLOUT,
    }:
        return shift.starts_at
    if notification.kind in URGENT_KINDS | {NotificationKind.SHIFT_CHANGED, NotificationKind.UNDERSTAFFED}:
        return shift.ends_at
    return None


def deliveries_for(notification: Notification, *, now: datetime.datetime | None = None) -> list[Delivery]:
    """The outside deliveries a notification needs, per the recipient's channels and quiet hours (unsaved)."""
    now = now or timezone.now()
    user = notification.user
    preference = preference_for(user)
    language = user.language or settings.LANGUAGE_CODE
    common = {
        "notification": notification,
        "user": user,
        "language": language,
        "urgent": _is_urgent(notification),
        "expires_at": _expiry(notification),
    }
    result = []
    addresses = channel_addresses(user)
    email = addresses[DeliveryChannel.EMAIL]
    if preference.email_enabled and email:
        result.append(Delivery(key=f"n{notification.pk}:email", channel=DeliveryChannel.EMAIL, address=email, **common))
    phone = addresses[DeliveryChannel.SMS]
    if preference.sms_enabled and phone and notification.kind in SMS_KINDS:
        quiet_until = None if common["urgent"] else _in_quiet_hours(now, preference)
        result.append(
            Delivery(
                key=f"n{notification.pk}:sms",
                channel=DeliveryChannel.SMS,
                address=phone,
                not_before=quiet_until,
                **common,
            )
        )
    return result


def queue_deliveries(ids: Iterable[int]) -> int:
    """Hand deliveries to the workers; a broker that is down only delays them (the sweep queues them again)."""
    from ..tasks import deliver

    ids = list(ids)
    if not ids:
        return 0
    # Marked before the tasks go out: a worker that finds the row locked skips it, so the rows must not be locked
    # by this update while the tasks are already being taken (that task would be dropped until the next requeue).
    Delivery.objects.filter(pk__in=ids).update(queued_at=timezone.now())
    done = 0
    try:
        with deliver.app.producer_or_acquire() as producer:
            if not deliver.app.conf.task_always_eager:
                # One attempt: with the broker down, kombu would otherwise retry for seconds inside the request.
                producer.connection.ensure_connection(max_retries=0)
            for pk in ids:
                deliver.apply_async(args=[pk], retry=False, producer=producer)
                done += 1
    except Exception as error:  # any broker failure: the minute sweep will queue them again
        logger.warning("Broker unavailable, %s deliveries wait for the sweep: %s", len(ids) - done, error)
        Delivery.objects.filter(pk__in=ids[done:]).update(queued_at=None)
    return done


def queue_or_send(ids: list[int]) -> int:
    """Hand deliveries to the workers, or send their SMS from this process when the broker cannot take them (an
    alarm must not wait for the sweep); how many were sent here. A delivery already sent is never sent again:
    `delivery_send` holds its row and sends only a pending one."""
    from .reminders import delivery_send

    done = queue_deliveries(ids)
    # Only the SMS: it is what reaches a phone at night; an email can wait for the sweep, a slow mail server
    # must not hold up the request.
    left = Delivery.objects.filter(pk__in=ids[done:], channel=DeliveryChannel.SMS).order_by("pk")
    sent = 0
    for pk in left.values_list("pk", flat=True):
        delivery_send(delivery_id=pk)
        sent += 1
    return sent


def _queue_on_commit(deliveries: list[Delivery], *, send_if_broker_down: bool = False) -> None:
    ids = [d.pk for d in deliveries if d.pk and (d.not_before is None)]
    if ids:
        transaction.on_commit(lambda: queue_or_send(ids) if send_if_broker_down else queue_deliveries(ids))


def notify(
    *,
    users: Iterable[User | None],
    kind: str,
    shift: Shift | None = None,
    report: Report | None = None,
    send_if_broker_down: bool = False,
    **details,
) -> list[Notification]:
    """One inbox message per person (each person once), with their email/SMS deliveries queued after commit
    (`send_if_broker_down`: sent by this process itself when the broker is unreachable)."""
    seen: set[int] = set()
    messages = []
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        messages.append(Notification(user=user, kind=kind, shift=shift, report=report, details=details))
    created = Notification.objects.bulk_create(messages)
    deliveries = Delivery.objects.bulk_create([d for n in created for d in deliveries_for(n)])
    _queue_on_commit(deliveries, send_if_broker_down=send_if_broker_down)
    return created


def notify_once(
    *, key: str, user: User, kind: str, shift: Shift | None = None, report: Report | None = None, **details
) -> Notification | None:
    """A notification that must exist once per key (a digest, a summary): None when it already exists."""
    with transaction.atomic():
        notification, created = Notification.objects.get_or_create(
            key=key, defaults={"user": user, "kind": kind, "shift": shift, "report": report, "details": details}
        )
        if not created:
            return None
        _queue_on_commit(Delivery.objects.bulk_create(deliveries_for(notification)))
    return notification


def notify_many_once(items: list[Notification], *, chunk: int = 500) -> int:
    """Bulk `notify_once` for the sweep: unsaved notifications with keys; those whose key exists are skipped.

    Two sweeps at once cannot double anything: notification keys and delivery keys are unique in the database.
    Returns how many notifications were new.
    """
    new = 0
    for start in range(0, len(items), chunk):
        part = items[start : start + chunk]
        keys = [item.key for item in part]
        with transaction.atomic():
            known = set(Notification.objects.filter(key__in=keys).values_list("key", flat=True))
            fresh = [item for item in part if item.key not in known]
            Notification.objects.bulk_create(fresh, ignore_conflicts=True)
            saved = list(
                Notification.objects.filter(
                    key__in=[item.key for item in fresh], deliveries__isnull=True
                ).select_related("user__volunteer", "user__notification_preference", "shift")
            )
            now = timezone.now()
            deliveries = [d for notification in saved for d in deliveries_for(notification, now=now)]
            Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
            pending = Delivery.objects.filter(key__in=[d.key for d in deliveries], not_before__isnull=True)
            ids = list(pending.values_list("pk", flat=True))
            if ids:
                transaction.on_commit(lambda ids=ids: queue_deliveries(ids))
            new += len(saved)
    return new
