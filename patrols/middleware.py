"""Request middleware of the app."""

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse

from .auth import client_ip
from .services import audit


class AccessLogMiddleware:
    """Writes the personal data a request showed unmasked to the access log, in one insert at the request's end.

    A response that failed (5xx) showed nothing, so its notes are dropped. The address is the client's as the sign-in
    lockout sees it (TRUSTED_PROXIES).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 500:
            audit.access_log_flush(request, ip=client_ip(request))
        return response


class NulInPathMiddleware:
    """An address with a NUL character answers 404 before any view looks it up.

    No id, code or token contains one, and PostgreSQL cannot even compare text with one (it would be a 500).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            raise Http404
        return self.get_response(request)
