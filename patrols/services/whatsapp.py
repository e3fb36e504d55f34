"""WhatsApp through the WhatsApp Business Cloud API.

Out: template messages (`POST {WHATSAPP_API_URL}/{phone-number-id}/messages`), one template per message kind and
language (settings.WHATSAPP_TEMPLATES), with the message's answers as the payloads of its quick-reply buttons and the
delivery's key as `biz_opaque_callback_data`. In: the webhook's subscription check (`hub.challenge`), the
`X-Hub-Signature-256` HMAC of the body with the app secret, and the `messages` (button taps, typed replies) and
`statuses` (sent, delivered, read, failed) of each change. A free-form text answer is allowed within the 24 hours
after the person wrote, which is when we answer a reply.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

from ..models import Delivery
from .messages import Message
from .outbound_http import post_json

# A template parameter may not hold new lines, tabs or more than four spaces in a row.
_SPACES = re.compile(r"[\t\n\r]+| {5,}")


def _messages_url() -> str:
    return f"{settings.WHATSAPP_API_URL.rstrip('/')}/{settings.WHATSAPP_PHONE_NUMBER_ID}/messages"


def _headers() -> dict:
    return {"Authorization": f"Bearer {settings.WHATSAPP_TOKEN}"}


def wa_number(phone: str) -> str:
    """+77011234567 as WhatsApp writes it: 77011234567."""
    return phone.lstrip("+")


def template_for(kind: str) -> dict | None:
    templates = settings.WHATSAPP_TEMPLATES
    return templates.get(kind) or templates.get("*")


def _parameter(text: str) -> dict:
    return {"type": "text", "text": _SPACES.sub(" ", str(text)).strip()[:1000] or "-"}


def template_message(delivery: Delivery, message: Message) -> dict:
    """The request body of one template message (the Cloud API's `type: template`)."""
    template = template_for(delivery.notification.kind) or {}
    components = [
        {"type": "body", "parameters": [_parameter(message.words.get(name, "")) for name in template.get("params", [])]}
    ]
    for index, (_label, payload) in enumerate(message.replies):
        components.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": payload}],
            }
        )
    language = settings.WHATSAPP_LANGUAGES.get(delivery.language, delivery.language)
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": wa_number(delivery.address),
        "type": "template",
        "template": {"name": template.get("name", ""), "language": {"code": language}, "components": components},
        "biz_opaque_callback_data": delivery.key,
    }


def send(delivery: Delivery, message: Message) -> str:
    """Send a template message; its `wamid`, by which the statuses come back."""
    answer = post_json(_messages_url(), payload=template_message(delivery, message), headers=_headers())
    messages = answer.get("messages") or [{}]
    return str(messages[0].get("id") or "")


def send_text(*, phone: str, text: str) -> str:
    """A free-form answer to someone who just wrote to us (allowed in the 24-hour customer service window)."""
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": wa_number(phone),
        "type": "text",
        "text": {"preview_url": False, "body": text[:4096]},
    }
    answer = post_json(_messages_url(), payload=body, headers=_headers())
    return str((answer.get("messages") or [{}])[0].get("id") or "")


# The webhook


def signature_valid(body: bytes, header: str) -> bool:
    """`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`."""
    secret = settings.WHATSAPP_APP_SECRET
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


def subscription_challenge(params) -> str | None:
    """The subscription check: the challenge to echo when the mode and verify token are right, else None."""
    token = settings.WHATSAPP_VERIFY_TOKEN
    if not token or params.get("hub.mode") != "subscribe":
        return None
    if not hmac.compare_digest(params.get("hub.verify_token", ""), token):
        return None
    return params.get("hub.challenge", "")


def inbound_items(payload: dict) -> list[tuple[str, dict]]:
    """Each message and status of a webhook body as (unique id, item) to keep: messages by their wamid, statuses by
    the message's wamid and the status (each status of a message arrives once, and again on a retry)."""
    items = []
    if not isinstance(payload, dict):
        return items
    for entry in payload.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            for message in value.get("messages") or []:
                if isinstance(message, dict) and message.get("id"):
                    items.append((f"m:{message['id']}", {"type": "message", "message": message}))
            for status in value.get("statuses") or []:
                if isinstance(status, dict) and status.get("id") and status.get("status"):
                    items.append((f"s:{status['id']}:{status['status']}", {"type": "status", "status": status}))
    return items


def reply_of(message: dict) -> tuple[str, str, str]:
    """(sender as +7..., button payload or "", typed text or "") of an incoming message."""
    sender = "+" + str(message.get("from") or "").lstrip("+")
    kind = message.get("type")
    if kind == "button":
        return sender, str((message.get("button") or {}).get("payload") or ""), ""
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
        return sender, str(reply.get("id") or ""), ""
    if kind == "text":
        return sender, "", str((message.get("text") or {}).get("body") or "")
    return sender, "", ""
