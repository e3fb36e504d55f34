"""Every request: its id (X-Request-ID), its count and time for the metrics, and one log line without personal data.

First in MIDDLEWARE, so it times and counts the whole stack and every answer carries the id, redirects and errors
included. The line names the view (the route's name), never the address: a query string can hold an IIN.
"""

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

from coordination import logs

from .services import metrics

logger = logging.getLogger("patrols.request")


def user_id_of(request: HttpRequest) -> int | None:
    """The signed-in user's id if the request has looked them up; never a query of its own for it."""
    user = request.__dict__.get("user")
    # AuthenticationMiddleware's lazy user is read only if something in the request read it already.
    user = getattr(user, "_wrapped", user)
    if user is None or user is empty or not user.is_authenticated:
        return None
    return user.pk


def view_name(request: HttpRequest) -> str:
    """The route's name (`api:report-list`, `healthz`), `static` for whitenoise's files, `unresolved` otherwise."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match.route or "unnamed"
    return "static" if request.path.startswith(settings.STATIC_URL) else "unresolved"


class RequestTelemetryMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = logs.accepted_request_id(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        id_token = logs.request_id.set(request_id)
        user_token = logs.request_user.set(lambda: user_id_of(request))
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            response["X-Request-ID"] = request_id
            view, status = view_name(request), response.status_code
            metrics.request_observed(view=view, method=request.method, status=status, seconds=seconds)
            user_id = user_id_of(request)
            logger.info(
                "%s %s %s %.1f ms",
                request.method,
                view,
                status,
                seconds * 1000,
                extra={
                    "user_id": user_id,
                    "view": view,
                    "method": request.method,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )
            return response
        finally:
            logs.request_user.reset(user_token)
            logs.request_id.reset(id_token)
