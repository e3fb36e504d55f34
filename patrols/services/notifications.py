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

from ..choices import INSTANT_CHANNELS, DeliveryChannel, NotificationKind
from ..models import Delivery, Notification, NotificationPreference, Report, Shift, User

logger = logging.getLogger(__name__)

# Short, time-critical messages may go by SMS (it is paid); messengers and push carry everything; email is the copy.
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
        NotificationKind.OK_PROMPT,
    }
)
# Urgent messages may wake people up: quiet hours do not hold them back, and they go to two phone channels at once.
URGENT_KINDS = frozenset(
    {
        NotificationKind.CHECKIN_MISSING,
        NotificationKind.CHECKIN_MISSING_INSPECTOR,
        NotificationKind.SOS_ALARM,
        NotificationKind.OK_MISSED,
        NotificationKind.CALLOUT,
    }
)
# On duty, the night is not quiet: the "I'm OK" prompt reaches the phone at once, on one channel.
ON_DUTY_KINDS = frozenset({NotificationKind.OK_PROMPT})
# Only for a phone: an email every hour asking "are you OK?" would only be noise.
NO_EMAIL_KINDS = frozenset({NotificationKind.OK_PROMPT})
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


def _accounts(user: User) -> dict[str, str]:
    """The person's linked messenger accounts: channel → address (uses a prefetch when there is one)."""
    return {account.channel: account.address for account in user.messenger_accounts.all()}


def channel_addresses(user: User) -> dict[str, str]:
    """Where each channel would reach the person now; "" means it cannot (no delivery is made for it).

    Email: the confirmed address. SMS: the volunteer's phone. WhatsApp: the number they opted in with, while it is
    still their phone. Telegram: the linked chat. Push: their subscribed phones. A channel the installation has not
    configured reaches nobody.
    """
    from .channels import channel_configured

    phone = _sms_phone(user)
    accounts = _accounts(user) if user.pk else {}
    whatsapp = accounts.get(DeliveryChannel.WHATSAPP, "")
    addresses = {
        DeliveryChannel.EMAIL: user.email or "",
        DeliveryChannel.SMS: phone,
        DeliveryChannel.WHATSAPP: whatsapp if whatsapp and whatsapp == phone else "",
        DeliveryChannel.TELEGRAM: accounts.get(DeliveryChannel.TELEGRAM, ""),
        DeliveryChannel.PUSH: "push" if user.pk and list(user.push_subscriptions.all()[:1]) else "",
    }
    return {channel: (address if channel_configured(channel) else "") for channel, address in addresses.items()}


def instant_order(preference: NotificationPreference) -> list[str]:
    """The person's order of the phone channels: their own first, then the rest in the default order."""
    chosen = [c for c in preference.channel_order or [] if c in INSTANT_CHANNELS]
    return list(dict.fromkeys(chosen + list(INSTANT_CHANNELS)))


def _carries(channel: str, kind: str, preference: NotificationPreference) -> bool:
    """Whether a channel carries this kind of message: SMS (paid) only the short, time-critical ones, and only when
    the person has not turned it off; WhatsApp only kinds with a template."""
    if channel == DeliveryChannel.SMS:
        return preference.sms_enabled and kind in SMS_KINDS
    if channel == DeliveryChannel.WHATSAPP:
        templates = settings.WHATSAPP_TEMPLATES
        return kind in templates or "*" in templates
    return True


def instant_chain(
    notification: Notification,
    preference: NotificationPreference | None = None,
    addresses: dict[str, str] | None = None,
) -> list[tuple[str, str]]:
    """(channel, address) of the phone channels that can carry this message to its recipient, in their order."""
    user = notification.user
    preference = preference or preference_for(user)
    addresses = addresses or channel_addresses(user)
    return [
        (channel, addresses[channel])
        for channel in instant_order(preference)
        if addresses[channel] and _carries(channel, notification.kind, preference)
    ]


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
    if notification.kind in URGENT_KINDS | {
        NotificationKind.SHIFT_CHANGED,
        NotificationKind.UNDERSTAFFED,
        NotificationKind.OK_PROMPT,
    }:
        return shift.ends_at
    return None


def _instant_delivery(notification: Notification, channel: str, address: str, common: dict, now) -> Delivery:
    preference = preference_for(notification.user)
    held = common["urgent"] or notification.kind in ON_DUTY_KINDS
    return Delivery(
        key=f"n{notification.pk}:{channel}",
        channel=channel,
        address=address,
        not_before=None if held else _in_quiet_hours(now, preference),
        **common,
    )


def _common(notification: Notification) -> dict:
    return {
        "notification": notification,
        "user": notification.user,
        "language": notification.user.language or settings.LANGUAGE_CODE,
        "urgent": _is_urgent(notification),
        "expires_at": _expiry(notification),
    }


def deliveries_for(notification: Notification, *, now: datetime.datetime | None = None) -> list[Delivery]:
    """The outside deliveries a notification needs (unsaved): the email copy, and the first phone channel in the
    person's order that can carry it (the first two for an urgent message); quiet hours hold the phone channels."""
    now = now or timezone.now()
    preference = preference_for(notification.user)
    common = _common(notification)
    result = []
    addresses = channel_addresses(notification.user)
    email = addresses[DeliveryChannel.EMAIL]
    if preference.email_enabled and email and notification.kind not in NO_EMAIL_KINDS:
        result.append(Delivery(key=f"n{notification.pk}:email", channel=DeliveryChannel.EMAIL, address=email, **common))
    width = 2 if common["urgent"] else 1
    for channel, address in instant_chain(notification, preference, addresses)[:width]:
        result.append(_instant_delivery(notification, channel, address, common, now))
    return result


def delivery_fall_back(delivery: Delivery, *, now: datetime.datetime | None = None) -> Delivery | None:
    """After a phone channel failed (or WhatsApp did not deliver in time): the next channel in the person's order that
    has not been tried for this message, created and queued once. None when there is no next one."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = Delivery.objects.filter(pk=delivery.pk, fell_back_at__isnull=True).update(fell_back_at=now)
        if not claimed or delivery.channel == DeliveryChannel.EMAIL:
            return None
        notification = Notification.objects.select_related("user__volunteer", "shift", "meeting").get(
            pk=delivery.notification_id
        )
        tried = set(notification.deliveries.values_list("channel", flat=True))
        for channel, address in instant_chain(notification):
            if channel in tried:
                continue
            nxt = _instant_delivery(notification, channel, address, _common(notification), now)
            Delivery.objects.bulk_create([nxt], ignore_conflicts=True)
            saved = Delivery.objects.filter(key=nxt.key).first()
            if saved is not None:
                _queue_on_commit([saved])
            return saved
    return None


def queue_deliveries(ids: Iterable[int], *, batched: bool = False) -> int:
    """Hand deliveries to the workers; a broker that is down only delays them (the sweep queues them again).

    The sweep's thousands go `batched`, DELIVERY_BATCH_SIZE to a task; what one event raised (an alarm above all)
    goes a task each, so the workers send them side by side and a dead worker holds up only its own."""
    from ..tasks import deliver, deliver_many

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
            size = max(1, settings.DELIVERY_BATCH_SIZE) if batched else 1
            for start in range(0, len(ids), size):
                batch = ids[start : start + size]
                if len(batch) == 1:
                    deliver.apply_async(args=[batch[0]], retry=False, producer=producer)
                else:
                    deliver_many.apply_async(args=[batch], retry=False, producer=producer)
                done += len(batch)
    except Exception as error:  # any broker failure: the minute sweep will queue them again
        logger.warning("Broker unavailable, %s deliveries wait for the sweep: %s", len(ids) - done, error)
        Delivery.objects.filter(pk__in=ids[done:]).update(queued_at=None)
    return done


def queue_or_send(ids: list[int]) -> int:
    """Hand deliveries to the workers, or send the phone ones from this process when the broker cannot take them (an
    alarm must not wait for the sweep); how many were sent here. A delivery already sent is never sent again:
    `delivery_send` holds its row and sends only a pending one."""
    from .reminders import delivery_send

    done = queue_deliveries(ids)
    # Only the phone channels: they are what reaches a phone at night; an email can wait for the sweep, a slow
    # mail server must not hold up the request.
    left = Delivery.objects.filter(pk__in=ids[done:]).exclude(channel=DeliveryChannel.EMAIL).order_by("pk")
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
                Notification.objects.filter(key__in=[item.key for item in fresh], deliveries__isnull=True)
                .select_related("user__volunteer", "user__notification_preference", "shift")
                .prefetch_related("user__messenger_accounts", "user__push_subscriptions")
            )
            now = timezone.now()
            deliveries = [d for notification in saved for d in deliveries_for(notification, now=now)]
            Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
            pending = Delivery.objects.filter(key__in=[d.key for d in deliveries], not_before__isnull=True)
            ids = list(pending.values_list("pk", flat=True))
            if ids:
                transaction.on_commit(lambda ids=ids: queue_deliveries(ids, batched=True))
            new += len(saved)
    return new
