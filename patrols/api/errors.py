"""One translation of errors for the API: a Django ValidationError becomes a 400 like DRF's own, and a refusal for
too many requests (rate limit or sign-in lockout) a 429 with a translated `detail` and Retry-After."""

import math

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import defaults
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def as_drf_error(error: DjangoValidationError) -> exceptions.ValidationError:
    if hasattr(error, "error_dict"):
        detail = {
            ("non_field_errors" if field == "__all__" else field): messages
            for field, messages in error.message_dict.items()
        }
    else:
        detail = {"non_field_errors": error.messages}
    return exceptions.ValidationError(detail)


class TooManyRequests(exceptions.Throttled):
    """429 with our own sentence (DRF's glues two together) and the wait in Retry-After."""

    def __init__(self, wait: float | None = None, detail: str | None = None):
        seconds = max(1, math.ceil(wait)) if wait else None
        if detail is None:
            seconds = seconds or 1
            detail = ngettext(
                "Too many requests: try again in %(seconds)d second.",
                "Too many requests: try again in %(seconds)d seconds.",
                seconds,
            ) % {"seconds": seconds}
        super().__init__(detail=detail)
        self.wait = seconds


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = as_drf_error(exc)
    elif isinstance(exc, exceptions.Throttled) and not isinstance(exc, TooManyRequests):
        exc = TooManyRequests(exc.wait)
    return drf_exception_handler(exc, context)


def _json(detail: str, status: int) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status, json_dumps_params={"ensure_ascii": False})


def _in_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The site's 404: under /api/ the API's JSON answer (an address no route matches), elsewhere the page."""
    if _in_api(request):
        return _json(str(exceptions.NotFound.default_detail), 404)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A request Django refuses before any view reads it (too many fields, a body too large, a bad host)."""
    if _in_api(request):
        return _json(_("The request could not be read: it is malformed or too large."), 400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _in_api(request):
        return _json(str(exceptions.PermissionDenied.default_detail), 403)
    return defaults.permission_denied(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """Something broke: the API answers in JSON, the pages with the site's error page."""
    if _in_api(request):
        return _json(_("Something went wrong on the server. Try again in a moment."), 500)
    return defaults.server_error(request)
