"""The ways out, behind one `send`: email over SMTP, SMS through a gateway, WhatsApp, Telegram and web push.

Each channel is off until its settings are given (`channel_configured`); a delivery is only ever made for a channel
that is on and can reach the person. `send` returns the provider's id of the message (for its delivery statuses)
or raises DeliveryError, which says whether trying again can help.
"""

from __future__ import annotations

import logging
import smtplib
import threading
import time

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.utils import translation

from ..choices import DeliveryChannel
from ..models import Delivery
from ..validators import mask_phone
from .messages import Message
from .outbound_http import DeliveryError, post_json

logger = logging.getLogger(__name__)

__all__ = [
    "DeliveryError",
    "channel_configured",
    "close_mail_connection",
    "send",
    "send_email",
    "send_sms",
    "sms_backend",
]

_mail = threading.local()
# A kept connection idle for longer is asked NOOP before the next message: the server may have hung up meanwhile.
MAIL_IDLE_CHECK_SECONDS = 5


def _mail_settings() -> tuple:
    return tuple(
        getattr(settings, name, None)
        for name in (
            "EMAIL_BACKEND",
            "EMAIL_HOST",
            "EMAIL_PORT",
            "EMAIL_HOST_USER",
            "EMAIL_HOST_PASSWORD",
            "EMAIL_USE_TLS",
            "EMAIL_USE_SSL",
            "EMAIL_TIMEOUT",
        )
    )


def _answers(connection) -> bool:
    smtp = getattr(connection, "connection", None)  # the SMTP backend's socket; other backends have none to lose
    if smtp is None:
        return True
    try:
        return smtp.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def mail_connection():
    """This thread's connection to the mail server, opened once and kept for the next messages (one connect, EHLO
    and QUIT per worker process rather than per message); a new one when the settings changed or the server no
    longer answers after a pause."""
    current, settings_now = getattr(_mail, "connection", None), _mail_settings()
    if current is not None and (
        _mail.settings != settings_now
        or (time.monotonic() - _mail.used > MAIL_IDLE_CHECK_SECONDS and not _answers(current))
    ):
        close_mail_connection()
        current = None
    if current is None:
        current = get_connection(fail_silently=False)
        current.open()
        _mail.connection, _mail.settings, _mail.fresh = current, settings_now, True
    _mail.used = time.monotonic()
    return current


def close_mail_connection() -> None:
    """Say goodbye to the mail server (QUIT) and forget the connection; the next message opens a new one."""
    current = getattr(_mail, "connection", None)
    _mail.connection = None
    if current is not None:
        try:
            current.close()
        except (smtplib.SMTPException, OSError):
            pass  # the server went away first: nothing left to close


def _hung_up(error: Exception) -> bool:
    """The server closed the line (dropped it, or 421 "closing channel", as one that limits messages per connection
    says): nothing of the message was accepted."""
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code == 421


def _send_kept(email: EmailMultiAlternatives) -> None:
    """Send over the kept connection; after any failure it is closed (a half-spoken SMTP dialogue is not reused).
    A kept connection the server hung up since the last message fails at once: the message goes on a new one."""
    while True:
        connection = mail_connection()
        reused, _mail.fresh = not _mail.fresh, False
        try:
            connection.send_messages([email])
            return
        except Exception as error:
            close_mail_connection()
            if not (reused and _hung_up(error)):
                raise


def send_email(*, to: str, message: Message, language: str, message_id: str) -> None:
    """One email with a text and an HTML part; the Message-ID names the delivery, for tracing."""
    with translation.override(language):
        context = {"message": message, "language": language}
        text = render_to_string("emails/notification.txt", context)
        html = render_to_string("emails/notification.html", context)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Message-ID": message_id},
    )
    email.attach_alternative(html, "text/html")
    try:
        _send_kept(email)
    except OSError as error:
        raise DeliveryError(str(error)) from error
    except Exception as error:  # smtplib errors are not OSErrors; all of them mean "try again"
        raise DeliveryError(f"{error.__class__.__name__}: {error}") from error


class ConsoleSmsBackend:
    """Development: the SMS is written to the log."""

    def send(self, *, phone: str, text: str, key: str = "") -> str:
        # Phone numbers never go to logs: the last digits are enough to tell test phones apart.
        logger.info("SMS to %s: %s", mask_phone(phone), text)
        return ""


class HttpSmsBackend:
    """A gateway that takes a JSON POST {to, from, text} with a bearer token and answers 2xx when accepted.

    `Idempotency-Key` carries the delivery's key, so a gateway that got a message whose answer was lost can tell the
    retry from a new message. A JSON answer's `id` is kept as the provider's id.
    """

    def send(self, *, phone: str, text: str, key: str = "") -> str:
        if not settings.SMS_GATEWAY_URL:
            raise DeliveryError("SMS_GATEWAY_URL is not set")
        headers = {"Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}"}
        if key:
            headers["Idempotency-Key"] = key
        answer = post_json(
            settings.SMS_GATEWAY_URL,
            payload={"to": phone, "from": settings.SMS_SENDER, "text": text},
            headers=headers,
            timeout=settings.SMS_TIMEOUT_SECONDS,
        )
        return str(answer.get("id") or "") if isinstance(answer, dict) else ""


def sms_backend() -> ConsoleSmsBackend | HttpSmsBackend:
    return HttpSmsBackend() if settings.SMS_BACKEND == "http" else ConsoleSmsBackend()


def send_sms(*, to: str, message: Message, key: str = "") -> str:
    text = f"{message.short} {message.reply_hint}".strip() if message.reply_hint else message.short
    return sms_backend().send(phone=to, text=text[:480], key=key)


def channel_configured(channel: str) -> bool:
    """Whether the installation has what the channel needs (email and SMS always: their console backends)."""
    if channel == DeliveryChannel.WHATSAPP:
        return bool(settings.WHATSAPP_TOKEN and settings.WHATSAPP_PHONE_NUMBER_ID)
    if channel == DeliveryChannel.TELEGRAM:
        return bool(settings.TELEGRAM_BOT_TOKEN)
    if channel == DeliveryChannel.PUSH:
        return bool(settings.VAPID_PRIVATE_KEY)
    return True


def send(delivery: Delivery, message: Message) -> str:
    """Send one delivery over its channel; the provider's id of the message ("" when it gives none)."""
    from . import telegram, webpush, whatsapp

    channel = delivery.channel
    if channel == DeliveryChannel.EMAIL:
        host = settings.SITE_URL.split("://")[-1].split("/")[0]
        send_email(
            to=delivery.address,
            message=message,
            language=delivery.language,
            message_id=f"<delivery-{delivery.pk}@{host}>",
        )
        return ""
    if channel == DeliveryChannel.SMS:
        return send_sms(to=delivery.address, message=message, key=delivery.key)
    if not channel_configured(channel):
        raise DeliveryError(f"{channel} is not configured", permanent=True)
    if channel == DeliveryChannel.WHATSAPP:
        return whatsapp.send(delivery, message)
    if channel == DeliveryChannel.TELEGRAM:
        return telegram.send_message(chat_id=delivery.address, message=message)
    if channel == DeliveryChannel.PUSH:
        return webpush.send(delivery, message)
    raise DeliveryError(f"unknown channel {channel}", permanent=True)
