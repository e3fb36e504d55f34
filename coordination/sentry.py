"""Error reports to Sentry (or a server that speaks its protocol) when `SENTRY_DSN` is set; nothing personal in them.

`send_default_pii` stays off (no cookies, user, address), no request bodies and no local variables of frames are
collected, and `scrub_event` removes the query string and replaces every IIN and phone number left anywhere in the
event: an exception's message, a log message, a breadcrumb.
"""

from __future__ import annotations

from typing import Any

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

from . import logs
from .logs import redact

# Parts of the request that can carry what a person typed: left out of every event.
_REQUEST_DROPPED = ("data", "query_string", "cookies", "env")


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _scrubbed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrubbed(item) for item in value]
    return value


def scrub_event(event: dict[str, Any], _hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """The event without request bodies, query strings and cookies, and with IINs and phone numbers replaced."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in _REQUEST_DROPPED:
            request.pop(key, None)
        if isinstance(request.get("url"), str):
            request["url"] = request["url"].split("?", 1)[0]
    event.pop("user", None)
    # The id of the request (or task) it happened in, to find its log lines.
    current = logs.request_id.get()
    if current is not None:
        event.setdefault("tags", {})["request_id"] = current
    return _scrubbed(event)


def init(*, dsn: str, environment: str, release: str | None = None) -> None:
    """Start reporting errors of this process (web, worker or beat) to `dsn`."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release or None,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=scrub_event,
        # Errors only: no performance traces (their spans would carry SQL and URLs).
        traces_sample_rate=None,
    )
