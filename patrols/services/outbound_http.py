"""Calls to the outside services that carry messages (SMS gateway, WhatsApp, Telegram): JSON over HTTP with kept-alive
connections, and one rule for what a failure means: the network, a 5xx or a 429 is tried again later, any other 4xx
is the message's own fault and will not get better (failed, shown to the inspector, the next channel tried)."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import requests
from django.conf import settings

_local = threading.local()


class DeliveryError(Exception):
    """Sending failed: tried again later, unless `permanent` (the service refused the message itself)."""

    def __init__(self, message: str, *, permanent: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status = status


def session() -> requests.Session:
    """This thread's session: its connections stay open between messages (one TLS handshake per host, not per send)."""
    current = getattr(_local, "session", None)
    if current is None:
        current = _local.session = requests.Session()
    return current


def failure_for(status: int, text: str) -> DeliveryError:
    permanent = 400 <= status < 500 and status not in {408, 429}
    return DeliveryError(f"HTTP {status}: {text[:300]}", permanent=permanent, status=status)


def post_json(url: str, *, payload: dict, headers: dict | None = None, timeout: float | None = None) -> dict:
    """POST a JSON body; the JSON answer (or {}) on 2xx, else a DeliveryError that says whether to try again."""
    try:
        response = session().post(
            url, json=payload, headers=headers or {}, timeout=timeout or settings.MESSENGER_TIMEOUT_SECONDS
        )
    except requests.RequestException as error:
        # Only the host: a bot token travels in the path (Telegram), and errors are shown and logged.
        raise DeliveryError(f"{error.__class__.__name__} calling {urlsplit(url).netloc}") from error
    if not 200 <= response.status_code < 300:
        raise failure_for(response.status_code, response.text)
    try:
        return response.json()
    except ValueError:
        return {}
