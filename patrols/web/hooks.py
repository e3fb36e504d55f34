"""Webhooks of the messengers and the SMS gateway: outside sign-in and CSRF (each proves itself by a signature or a
shared secret), answering at once; what arrived is kept and handled by a worker (services/inbound.py)."""

import hashlib
import hmac
import json

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from ..choices import DeliveryChannel
from ..services import telegram, whatsapp
from ..services.inbound import inbound_store


def _json(request) -> dict | list | None:
    try:
        return json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None


def _ok() -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_hook(request):
    """GET: the subscription check (echo `hub.challenge`); POST: messages and statuses, signed with the app secret."""
    if request.method == "GET":
        challenge = whatsapp.subscription_challenge(request.GET)
        if challenge is None:
            return HttpResponseForbidden("forbidden", content_type="text/plain")
        return HttpResponse(challenge, content_type="text/plain")
    if not whatsapp.signature_valid(request.body, request.headers.get("X-Hub-Signature-256", "")):
        return HttpResponseForbidden("forbidden", content_type="text/plain")
    payload = _json(request)
    if not isinstance(payload, dict):
        return HttpResponseBadRequest("not JSON", content_type="text/plain")
    inbound_store(channel=DeliveryChannel.WHATSAPP, items=whatsapp.inbound_items(payload))
    return _ok()


@csrf_exempt
@require_POST
def telegram_hook(request):
    """One update per request, with the secret given to setWebhook in X-Telegram-Bot-Api-Secret-Token."""
    if not telegram.secret_valid(request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")):
        return HttpResponseForbidden("forbidden", content_type="text/plain")
    update = _json(request)
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        return HttpResponseBadRequest("not an update", content_type="text/plain")
    inbound_store(channel=DeliveryChannel.TELEGRAM, items=[(str(update["update_id"]), update)])
    return _ok()


@csrf_exempt
@require_POST
def sms_hook(request):
    """A reply from a phone: JSON {id, from, text} with the shared secret in X-Gateway-Secret."""
    secret = settings.SMS_INBOUND_SECRET
    given = request.headers.get("X-Gateway-Secret", "")
    if not secret or not hmac.compare_digest(given, secret):
        return HttpResponseForbidden("forbidden", content_type="text/plain")
    message = _json(request)
    if not isinstance(message, dict) or not message.get("from") or not isinstance(message.get("text"), str):
        return HttpResponseBadRequest("expected {id, from, text}", content_type="text/plain")
    external = str(message.get("id") or "") or hashlib.sha256(request.body).hexdigest()
    inbound_store(channel=DeliveryChannel.SMS, items=[(external, message)])
    return _ok()
