"""What comes back from messengers and the SMS gateway: kept first, acted on by a worker, answered after.

A webhook only checks the signature or secret, keeps each update under its own unique id (a replayed update adds
nothing) and queues its handling; it answers in milliseconds and never depends on the broker. `inbound_handle` acts
once, holding the row: the action and "handled" are saved in one transaction. The answer is sent after that commit,
and the sweep sends again what was not answered and handles what no worker took (the broker was down).
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..choices import DeliveryChannel, DeliveryStatus, InboundOutcome
from ..models import Delivery, InboundMessage, MessengerAccount, User
from ..validators import normalise_phone
from . import replies, telegram, whatsapp
from .channels import DeliveryError, sms_backend
from .notifications import delivery_fall_back

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
ANSWER_ATTEMPTS_WITHIN = datetime.timedelta(hours=1)


def inbound_store(*, channel: str, items: list[tuple[str, dict]]) -> list[int]:
    """Keep what arrived (what was kept before is not kept again) and queue it after the commit; the new rows' ids."""
    if not items:
        return []
    with transaction.atomic():
        rows = [InboundMessage(channel=channel, external_id=external[:200], payload=item) for external, item in items]
        InboundMessage.objects.bulk_create(rows, ignore_conflicts=True)
        # Only the rows this request made: a replay finds them handled or already queued.
        ids = list(
            InboundMessage.objects.filter(
                channel=channel, external_id__in=[r.external_id for r in rows], attempts=0, handled_at__isnull=True
            ).values_list("pk", flat=True)
        )
        transaction.on_commit(lambda: inbound_queue(ids))
    return ids


def inbound_queue(ids: list[int]) -> int:
    """Hand rows to the workers; a broker that is down leaves them to the sweep."""
    from ..tasks import handle_inbound

    done = 0
    try:
        with handle_inbound.app.producer_or_acquire() as producer:
            if not handle_inbound.app.conf.task_always_eager:
                producer.connection.ensure_connection(max_retries=0)
            for pk in ids:
                handle_inbound.apply_async(args=[pk], retry=False, producer=producer)
                done += 1
    except Exception as error:  # any broker failure: the sweep handles them
        logger.warning("Broker unavailable, %s received messages wait for the sweep: %s", len(ids) - done, error)
    return done


# Who sent it


def _sender_by_account(channel: str, address: str) -> User | None:
    account = MessengerAccount.objects.select_related("user").filter(channel=channel, address=address).first()
    return account.user if account and account.user.is_active else None


def _last_with_answers(*, channel: str, user: User | None = None, address: str = "") -> Delivery | None:
    """The last message sent on a channel (to a person, or to an address) that offered answers."""
    sent = Delivery.objects.filter(channel=channel, status=DeliveryStatus.SENT).select_related(
        "notification__user", "notification__shift"
    )
    sent = sent.filter(user=user) if user is not None else sent.filter(address=address)
    for delivery in sent.order_by("-sent_at", "-pk")[:20]:
        buttons, _hint = replies.reply_options(delivery.notification)
        if buttons:
            return delivery
    return None


def _act_on_text(*, user: User, text: str, last: Delivery | None) -> replies.Answered:
    payloads = []
    if last is not None and last.user_id == user.pk:
        payloads = [payload for _label, payload in replies.reply_options(last.notification)[0]]
    payload = replies.payload_from_words(text, payloads)
    if payload is None:
        with translation.override(user.language or settings.LANGUAGE_CODE):
            return replies.Answered(False, replies.help_text())
    return replies.reply_act(user=user, payload=payload)


# Handling, per channel: (outcome, person, answer)


def _telegram(row: InboundMessage) -> tuple[str, User | None, str]:
    update = telegram.update_of(row.payload)
    chat, text = update.get("chat", ""), update.get("text", "").strip()
    if not chat:
        return InboundOutcome.UNKNOWN, None, ""
    if text.startswith("/start"):
        code = text.removeprefix("/start").strip()
        user, answer = telegram.link_with_code(code=code, chat=chat, language=update.get("language", ""))
        return (InboundOutcome.LINKED if user else InboundOutcome.REFUSED), user, answer
    if text.split("@")[0] == "/stop":
        user, answer = telegram.unlink(chat=chat, language=update.get("language", ""))
        return InboundOutcome.UNLINKED, user, answer
    user = _sender_by_account(DeliveryChannel.TELEGRAM, chat)
    if user is None:
        with translation.override(telegram.language_of(update.get("language", ""))):
            return (
                InboundOutcome.UNKNOWN,
                None,
                _('This chat is not linked yet. Open your profile on the website and press "Link Telegram".'),
            )
    if update.get("payload"):
        answered = replies.reply_act(user=user, payload=update["payload"])
    else:
        answered = _act_on_text(
            user=user, text=text, last=_last_with_answers(channel=DeliveryChannel.TELEGRAM, user=user)
        )
    return (InboundOutcome.ACTED if answered.acted else InboundOutcome.REFUSED), user, answered.text


def _whatsapp_status(status: dict) -> tuple[str, User | None, str]:
    """sent, delivered, read or failed for a message we sent, kept on its delivery; a failure tries the next channel."""
    deliveries = Delivery.objects.filter(channel=DeliveryChannel.WHATSAPP)
    delivery = deliveries.filter(provider_id=status.get("id")).first()
    if delivery is None and status.get("biz_opaque_callback_data"):
        # Sent, but its answer (the wamid) was lost to a timeout and the message was sent again: our key says which.
        delivery = deliveries.filter(key=status["biz_opaque_callback_data"]).first()
    if delivery is None:
        return InboundOutcome.STATUS, None, ""
    moment = timezone.now()
    try:
        moment = datetime.datetime.fromtimestamp(int(status.get("timestamp")), tz=datetime.UTC)
    except (TypeError, ValueError):
        pass
    state = status.get("status")
    if state == "delivered" and delivery.delivered_at is None:
        Delivery.objects.filter(pk=delivery.pk).update(delivered_at=moment)
    elif state == "read":
        Delivery.objects.filter(pk=delivery.pk, delivered_at__isnull=True).update(delivered_at=moment)
        Delivery.objects.filter(pk=delivery.pk).update(read_at=moment)
    elif state == "failed":
        errors = status.get("errors") or [{}]
        reason = f"WhatsApp {errors[0].get('code', '')}: {errors[0].get('title', '')}"[:2000]
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED, last_error=reason)
        delivery_fall_back(delivery)
    return InboundOutcome.STATUS, delivery.user, ""


def _whatsapp(row: InboundMessage) -> tuple[str, User | None, str]:
    item = row.payload or {}
    if item.get("type") == "status":
        return _whatsapp_status(item.get("status") or {})
    sender, payload, text = whatsapp.reply_of(item.get("message") or {})
    user = _sender_by_account(DeliveryChannel.WHATSAPP, sender)
    if user is None:
        return InboundOutcome.UNKNOWN, None, ""
    if replies.is_stop(text):
        MessengerAccount.objects.filter(user=user, channel=DeliveryChannel.WHATSAPP).delete()
        with translation.override(user.language or settings.LANGUAGE_CODE):
            return (
                InboundOutcome.UNLINKED,
                user,
                _("You will get no more messages here. Turn WhatsApp on again in your profile."),
            )
    if payload:
        answered = replies.reply_act(user=user, payload=payload)
    else:
        context = ((item.get("message") or {}).get("context") or {}).get("id")
        last = (
            Delivery.objects.filter(channel=DeliveryChannel.WHATSAPP, provider_id=context).first() if context else None
        )
        last = last or _last_with_answers(channel=DeliveryChannel.WHATSAPP, user=user)
        answered = _act_on_text(user=user, text=text, last=last)
    return (InboundOutcome.ACTED if answered.acted else InboundOutcome.REFUSED), user, answered.text


def sms_sender(payload: dict) -> str:
    try:
        return normalise_phone(str((payload or {}).get("from") or ""))
    except Exception:
        return ""


def _sms(row: InboundMessage) -> tuple[str, User | None, str]:
    """A reply to the last message with answers sent to that number."""
    phone = sms_sender(row.payload)
    last = _last_with_answers(channel=DeliveryChannel.SMS, address=phone) if phone else None
    if last is None:
        return InboundOutcome.UNKNOWN, None, ""
    user = last.notification.user
    answered = _act_on_text(user=user, text=str(row.payload.get("text") or ""), last=last)
    return (InboundOutcome.ACTED if answered.acted else InboundOutcome.REFUSED), user, answered.text


HANDLERS = {DeliveryChannel.TELEGRAM: _telegram, DeliveryChannel.WHATSAPP: _whatsapp, DeliveryChannel.SMS: _sms}


def inbound_handle(*, inbound_id: int) -> str:
    """Act on one received message once; what happened (for logs and tests)."""
    with transaction.atomic():
        row = InboundMessage.objects.select_for_update(skip_locked=True).filter(pk=inbound_id).first()
        if row is None:
            return "locked"
        if row.handled_at is not None:
            return row.outcome
        row.attempts += 1
        try:
            with transaction.atomic():
                outcome, user, answer = HANDLERS[row.channel](row)
        except Exception:
            logger.exception(
                "Received %s message %s could not be handled (attempt %s)", row.channel, row.pk, row.attempts
            )
            if row.attempts < MAX_ATTEMPTS:
                row.save(update_fields=["attempts"])
                return "retry"
            outcome, user, answer = InboundOutcome.FAILED, None, ""
        row.outcome, row.user, row.answer, row.handled_at = outcome, user, answer, timezone.now()
        row.save(update_fields=["attempts", "outcome", "user", "answer", "handled_at"])
        if answer:
            transaction.on_commit(lambda: inbound_answer(inbound_id=row.pk))
    return outcome


def inbound_answer(*, inbound_id: int) -> bool:
    """Tell the sender what their message did, in the same chat or by SMS; once."""
    row = InboundMessage.objects.filter(pk=inbound_id, answered_at__isnull=True).exclude(answer="").first()
    if row is None:
        return False
    try:
        if row.channel == DeliveryChannel.TELEGRAM:
            update = telegram.update_of(row.payload)
            if update.get("callback"):
                try:
                    telegram.answer_callback(update["callback"])
                except DeliveryError:
                    pass  # only the spinner: the answer below is what matters
            telegram.send_text(chat_id=update["chat"], text=row.answer)
        elif row.channel == DeliveryChannel.WHATSAPP:
            sender, _payload, _text = whatsapp.reply_of((row.payload or {}).get("message") or {})
            whatsapp.send_text(phone=sender, text=row.answer)
        else:
            sms_backend().send(phone=sms_sender(row.payload), text=row.answer[:480], key=f"answer:{row.pk}")
    except DeliveryError as error:
        logger.warning("The answer to received %s message %s was not sent: %s", row.channel, row.pk, error)
        return False
    InboundMessage.objects.filter(pk=row.pk).update(answered_at=timezone.now())
    return True


def inbound_sweep(*, now: datetime.datetime | None = None) -> dict:
    """What no worker took (the broker was down) is handled; answers that did not go out are sent again."""
    now = now or timezone.now()
    waiting = InboundMessage.objects.filter(handled_at__isnull=True).order_by("pk").values_list("pk", flat=True)
    handled = sum(1 for pk in list(waiting[:2000]) if inbound_handle(inbound_id=pk) not in {"locked", "retry"})
    unanswered = (
        InboundMessage.objects.filter(answered_at__isnull=True, handled_at__gte=now - ANSWER_ATTEMPTS_WITHIN)
        .exclude(answer="")
        .filter(handled_at__lt=now - datetime.timedelta(seconds=30))
        .values_list("pk", flat=True)
    )
    answered = sum(1 for pk in list(unanswered[:500]) if inbound_answer(inbound_id=pk))
    return {"handled": handled, "answered": answered}
