"""Web push (RFC 8030 with VAPID, RFC 8292, and aes128gcm encryption, RFC 8291) to the phones where a person added
the app to the home screen and allowed its notifications. A subscription the push service says is gone (404, 410)
is removed."""

from __future__ import annotations

import binascii
import functools
import json
import logging

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from py_vapid import Vapid, b64urldecode, b64urlencode
from pywebpush import WebPushException, webpush

from ..models import Delivery, PushSubscription, User
from .messages import Message
from .outbound_http import DeliveryError, failure_for, session

logger = logging.getLogger(__name__)

GONE = {404, 410}
# A push message carries at most 4096 bytes once encrypted (RFC 8291: 86 bytes of header, 16 of tag, 1 of padding);
# a longer body is cut rather than refused by the push service (413), which would fail the delivery.
MAX_PAYLOAD_BYTES = 3800
# Phones kept per person: subscribing one more forgets the one that has been silent longest (an old phone, a reset
# browser), so each message goes to a handful of browsers, not to every one ever used.
MAX_SUBSCRIPTIONS_PER_PERSON = 10


@functools.lru_cache(maxsize=4)
def _vapid(private_key: str) -> Vapid:
    return Vapid.from_string(private_key=private_key)


def public_key(private_key: str | None = None) -> str:
    """The application server key a browser subscribes with (uncompressed P-256 point, base64url), derived from
    `private_key` (by default VAPID_PRIVATE_KEY); "" when push is off."""
    private_key = settings.VAPID_PRIVATE_KEY if private_key is None else private_key
    if not private_key:
        return ""
    point = _vapid(private_key).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64urlencode(point)


def vapid_keys_generate() -> tuple[str, str]:
    """A new VAPID key pair: (the private key as VAPID_PRIVATE_KEY takes it, raw and base64url; its public key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    private_key = b64urlencode(key.private_numbers().private_value.to_bytes(32, "big"))
    return private_key, public_key(private_key)


def payload(delivery: Delivery, message: Message) -> dict:
    """What the service worker shows: title, body, the page to open, and the answers as links (static/js/sw.js)."""
    data = {
        "title": message.subject,
        "body": message.body,
        "url": message.link,
        "tag": f"n{delivery.notification_id}",
        "urgent": delivery.urgent,
        "lang": delivery.language,
        "actions": [
            {"action": str(index), "title": label, "url": url} for index, (label, url) in enumerate(message.actions)
        ],
    }
    excess = len(json.dumps(data, ensure_ascii=False).encode()) - MAX_PAYLOAD_BYTES
    if excess > 0:
        body = message.body.encode()[: max(0, len(message.body.encode()) - excess - 3)]
        data["body"] = body.decode(errors="ignore") + "…"
    return data


def push_one(subscription: PushSubscription, data: dict, *, urgent: bool) -> None:
    """One encrypted push to one browser; DeliveryError when the push service refuses it."""
    info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
    try:
        webpush(
            subscription_info=info,
            data=json.dumps(data, ensure_ascii=False),
            vapid_private_key=_vapid(settings.VAPID_PRIVATE_KEY),
            vapid_claims={"sub": settings.VAPID_SUBJECT},
            ttl=settings.WEBPUSH_TTL_SECONDS,
            headers={"Urgency": "high" if urgent else "normal"},
            timeout=settings.MESSENGER_TIMEOUT_SECONDS,
            requests_session=session(),
        )
    except WebPushException as error:
        response = error.response
        if response is None:
            raise DeliveryError(f"push: {error.message[:300]}") from error
        raise failure_for(response.status_code, response.text) from error
    except Exception as error:  # network errors from requests, bad keys from cryptography: try again later
        raise DeliveryError(f"push: {error.__class__.__name__}: {error}") from error


def send(delivery: Delivery, message: Message) -> str:
    """To every phone of the person; sent when one took it. Gone subscriptions are removed on the way."""
    data = payload(delivery, message)
    subscriptions = list(PushSubscription.objects.filter(user_id=delivery.user_id).order_by("pk"))
    errors: list[DeliveryError] = []
    gone: list[int] = []
    delivered = 0
    for subscription in subscriptions:
        try:
            push_one(subscription, data, urgent=delivery.urgent)
        except DeliveryError as error:
            if error.status in GONE:
                subscription.delete()
                gone.append(error.status)
            else:
                errors.append(error)
            continue
        delivered += 1
        PushSubscription.objects.filter(pk=subscription.pk).update(last_success_at=timezone.now())
    if delivered:
        return ""
    if not errors:
        said = f" (the push service answered {', '.join(map(str, sorted(set(gone))))})" if gone else ""
        raise DeliveryError(f"no phone is subscribed any more{said}", permanent=True)
    # One phone whose push service may recover is worth trying again; only when every one refused is it failed.
    retryable = [error for error in errors if not error.permanent]
    raise (retryable or errors)[-1]


def _is_url(endpoint: str) -> bool:
    if len(endpoint) > 1000:
        return False
    try:
        URLValidator(schemes=["https", "http"])(endpoint)
    except ValidationError:
        return False
    return True


def _decoded(value: str) -> bytes | None:
    try:
        return b64urldecode(value.encode("ascii"))
    except (UnicodeEncodeError, binascii.Error, ValueError):
        return None


def _usable_keys(p256dh: str, auth: str) -> bool:
    """The browser's keys as RFC 8291 has them: a P-256 public point (65 bytes, uncompressed) and a 16-byte secret."""
    if len(p256dh) > 200 or len(auth) > 64:
        return False
    point, secret = _decoded(p256dh), _decoded(auth)
    if point is None or secret is None or len(point) != 65 or len(secret) != 16:
        return False
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        return False
    return True


def subscription_save(
    *, user: User, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> tuple[PushSubscription, bool]:
    """Subscribe (or move to this person) one browser, with the keys it gave; (the subscription, whether it is new).

    A browser signed in by someone else before is theirs no more: one endpoint belongs to one person.
    """
    if not settings.VAPID_PRIVATE_KEY:
        raise ValidationError(_("Notifications on the phone are not turned on for this site."))
    if not endpoint.startswith("https://") and not settings.DEBUG:
        raise ValidationError({"endpoint": _("The push service address must start with https://.")})
    if not _is_url(endpoint):
        raise ValidationError({"endpoint": _("This is not the address of a push service.")})
    if not _usable_keys(p256dh, auth):
        raise ValidationError(_("This browser gave no usable push keys."))
    with transaction.atomic():
        subscription, created = PushSubscription.objects.update_or_create(
            endpoint=endpoint,
            defaults={"user": user, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:200]},
        )
        # The person's phones silent longest (since the last message delivered, or since subscribing) make room.
        extra = (
            PushSubscription.objects.filter(user=user)
            .exclude(pk=subscription.pk)
            .order_by(Coalesce("last_success_at", "created_at").desc(), "-pk")
            .values_list("pk", flat=True)[MAX_SUBSCRIPTIONS_PER_PERSON - 1 :]
        )
        PushSubscription.objects.filter(pk__in=list(extra)).delete()
    return subscription, created


def subscription_delete(*, user: User, endpoint: str) -> int:
    """Forget one browser of this person (someone else's endpoint is left alone); how many were removed."""
    deleted, _rows = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return deleted
