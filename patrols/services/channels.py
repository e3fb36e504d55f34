"""The ways out: email over SMTP (text and HTML) and SMS through a gateway (console or HTTP)."""

from __future__ import annotations

import json
import logging
import urllib.request

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from ..validators import mask_phone
from .messages import Message

logger = logging.getLogger(__name__)


class DeliveryError(Exception):
    """Sending failed; the delivery is tried again later."""


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
        email.send(fail_silently=False)
    except OSError as error:
        raise DeliveryError(str(error)) from error
    except Exception as error:  # smtplib errors are not OSErrors; all of them mean "try again"
        raise DeliveryError(f"{error.__class__.__name__}: {error}") from error


class ConsoleSmsBackend:
    """Development: the SMS is written to the log."""

    def send(self, *, phone: str, text: str) -> None:
        # Phone numbers never go to logs: the last digits are enough to tell test phones apart.
        logger.info("SMS to %s: %s", mask_phone(phone), text)


class HttpSmsBackend:
    """A gateway that takes a JSON POST {to, from, text} with a bearer token and answers 2xx when accepted."""

    def send(self, *, phone: str, text: str) -> None:
        if not settings.SMS_GATEWAY_URL:
            raise DeliveryError("SMS_GATEWAY_URL is not set")
        body = json.dumps({"to": phone, "from": settings.SMS_SENDER, "text": text}).encode()
        request = urllib.request.Request(
            settings.SMS_GATEWAY_URL,
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                if not 200 <= response.status < 300:
                    raise DeliveryError(f"gateway answered {response.status}")
        except OSError as error:
            raise DeliveryError(str(error)) from error


def sms_backend() -> ConsoleSmsBackend | HttpSmsBackend:
    return HttpSmsBackend() if settings.SMS_BACKEND == "http" else ConsoleSmsBackend()


def send_sms(*, to: str, message: Message) -> None:
    sms_backend().send(phone=to, text=message.short[:480])
