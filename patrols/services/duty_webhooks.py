"""Messages to and from a duty unit's own system: JSON signed with the unit's key (HMAC-SHA256 of the body).

Outgoing: `post_signed` sends one JSON body with `X-Signature: sha256=<hex>` and the message's key in
`X-Escalation-Key` (the same on every retry, so the unit's system can drop repeats). Incoming: `signature_valid`
checks that an answer was signed with the same unit's key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request

from django.conf import settings

from ..models import DutyUnit
from .channels import DeliveryError

SIGNATURE_HEADER = "X-Signature"
KEY_HEADER = "X-Escalation-Key"
SIGNATURE_PREFIX = "sha256="


class WebhookError(DeliveryError):
    """The unit's system did not take the message (no answer, or not 2xx): it is tried again later."""


def sign(secret: str, body: bytes) -> str:
    """The header value for a body: `sha256=` and the hex HMAC-SHA256 under the unit's key."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(unit: DutyUnit, body: bytes, header: str | None) -> bool:
    """Whether `header` is the unit's signature of exactly these bytes (compared in constant time)."""
    if not header or not unit.secret:
        return False
    return hmac.compare_digest(sign(unit.secret, body), header.strip())


def encode(payload: dict) -> bytes:
    """The bytes that are signed and sent: compact JSON, UTF-8 as it is."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def post_signed(unit: DutyUnit, payload: dict, *, key: str) -> None:
    """POST `payload` to the unit's webhook, signed; raise WebhookError unless the unit answers 2xx in time."""
    if not unit.webhook_url:
        raise WebhookError("the unit has no webhook address")
    body = encode(payload)
    request = urllib.request.Request(
        unit.webhook_url,
        data=body,
        headers={
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: sign(unit.secret, body),
            KEY_HEADER: key,
            "User-Agent": "patrols-duty-webhook/1",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.DUTY_WEBHOOK_TIMEOUT_SECONDS) as response:
            if not 200 <= response.status < 300:
                raise WebhookError(f"the unit answered {response.status}")
    except urllib.error.HTTPError as error:
        raise WebhookError(f"the unit answered {error.code}") from error
    except (OSError, ValueError) as error:
        # ValueError: a malformed address kept in the admin; OSError: refused, reset, timed out.
        raise WebhookError(f"{error.__class__.__name__}: {error}") from error
