"""Web push (RFC 8030 with VAPID, RFC 8292, and aes128gcm encryption, RFC 8291) to the phones where a person added
the app to the home screen and allowed its notifications. A subscription the push service says is gone (404, 410)
is removed."""

from __future__ import annotations

import functools
import json
import logging

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from py_vapid import Vapid, b64urlencode
from pywebpush import WebPushException, webpush

from ..models import Delivery, PushSubscription, User
from .messages import Message
from .outbound_http import DeliveryError, failure_for, session

logger = logging.getLogger(__name__)

GONE = {404, 410}


@functools.lru_cache(maxsize=4)
def _vapid(private_key: str) -> Vapid:
    return Vapid.from_string(private_key=private_key)


def public_key() -> str:
    """The application server key a browser subscribes with (uncompressed P-256 point, base64url); "" when off."""
    if not settings.VAPID_PRIVATE_KEY:
        return ""
    point = _vapid(settings.VAPID_PRIVATE_KEY).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64urlencode(point)


def payload(delivery: Delivery, message: Message) -> dict:
    """What the service worker shows: title, body, the page to open, and the answers as links."""
    return {
        "title": message.subject,
        "body": message.body,
        "url": message.link,
        "tag": f"n{delivery.notification_id}",
        "urgent": delivery.urgent,
        "actions": [
            {"action": str(index), "title": label, "url": url} for index, (label, url) in enumerate(message.actions)
        ],
    }


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
    last_error: DeliveryError | None = None
    delivered = 0
    for subscription in subscriptions:
        try:
            push_one(subscription, data, urgent=delivery.urgent)
        except DeliveryError as error:
            if error.status in GONE:
                subscription.delete()
            last_error = error
            continue
        delivered += 1
        PushSubscription.objects.filter(pk=subscription.pk).update(last_success_at=timezone.now())
    if delivered:
        return ""
    if last_error is None or all(s.pk is None for s in subscriptions):
        raise DeliveryError("no phone is subscribed any more", permanent=True)
    raise last_error


def subscription_save(*, user: User, endpoint: str, p256dh: str, auth: str, user_agent: str = "") -> PushSubscription:
    """Subscribe (or move to this person) one browser; the keys are those the browser gave."""
    if not endpoint.startswith("https://") and not settings.DEBUG:
        raise ValidationError({"endpoint": _("The push service address must start with https://.")})
    if not p256dh or not auth or len(p256dh) > 200 or len(auth) > 64 or len(endpoint) > 1000:
        raise ValidationError(_("This browser gave no usable push keys."))
    subscription, _created = PushSubscription.objects.update_or_create(
        endpoint=endpoint, defaults={"user": user, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:200]}
    )
    return subscription


def subscription_delete(*, user: User, endpoint: str) -> int:
    deleted, _rows = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return deleted
