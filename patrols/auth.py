"""How people sign in over HTTP: the client's address, the lockout after repeated failures (django-axes), sessions on
shared phones, and the second factor that police and ministry accounts must give (the rules are in
`services.signin`)."""

import binascii
import datetime
import math
import time
from hmac import compare_digest

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp import login as otp_login
from knox.auth import TokenAuthentication
from knox.crypto import hash_token
from knox.models import get_token_model
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework.exceptions import AuthenticationFailed

from .prepared import PreparedQuery
from .services import signin

# When a session on a shared device was last used (seconds since the epoch); absent on a personal device.
SHARED_DEVICE_SEEN = "shared_device_seen"


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with TRUSTED_PROXIES proxies in front of the app, the address the first
    of them saw (counted from the right of X-Forwarded-For, the part a client cannot forge)."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXIES
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if proxies <= 0 or not hops:
        return remote
    return hops[-min(proxies, len(hops))]


# Every API request asks it: built once (patrols/prepared.py), it costs the web process a third of what it did.
_tokens_by_key = PreparedQuery(
    lambda key: get_token_model().objects.filter(token_key=key).select_related("user", "user__volunteer").order_by(),
    key=str,
)


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token …` against the hashed per-device tokens (django-rest-knox), with two rules of ours: a
    police or ministry account's token issued without the second factor is refused while STAFF_2FA is on, and each
    use moves the idle expiry on (up to the maximum age) and records when the device was last seen, in one write a
    minute at most."""

    def authenticate_credentials(self, token: bytes):
        """The token with its user and the user's volunteer profile (scope reads it on every request), in one query.

        knox also reads all the user's other tokens on every request to delete the expired ones; that is done in
        `renew_token` here, at most once a minute per device. An expired token itself is refused and deleted as
        knox does."""
        text = token.decode("utf-8")
        for auth_token in _tokens_by_key(key=text[: CONSTANTS.TOKEN_KEY_LENGTH]):
            if auth_token.expiry is not None and auth_token.expiry < timezone.now():
                _expire(auth_token, source="auth_token")
                continue
            try:
                digest = hash_token(text)
            except (TypeError, binascii.Error) as error:
                raise AuthenticationFailed(_("Invalid token.")) from error
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise AuthenticationFailed(_("Invalid token."))

    def validate_user(self, auth_token):
        user, token = super().validate_user(auth_token)
        if signin.second_factor_required(user) and not token.with_second_factor:
            raise AuthenticationFailed(
                _("This token was issued without the code from the authenticator app: sign in again with the code.")
            )
        return user, token

    def renew_token(self, auth_token) -> None:
        now = timezone.now()
        expiry = now + knox_settings.TOKEN_TTL
        if knox_settings.AUTO_REFRESH_MAX_TTL is not None:
            expiry = min(expiry, auth_token.created + knox_settings.AUTO_REFRESH_MAX_TTL)
        seen = auth_token.last_used_at
        if seen is None or (now - seen).total_seconds() > knox_settings.MIN_REFRESH_INTERVAL:
            auth_token.expiry, auth_token.last_used_at = expiry, now
            auth_token.save(update_fields=["expiry", "last_used_at"])
            # The owner's other devices' tokens that expired meanwhile go with this write, not with every request.
            others = type(auth_token).objects.filter(user_id=auth_token.user_id, expiry__lt=now)
            for other in others.exclude(pk=auth_token.pk).select_related("user"):
                _expire(other, source="other_token")


def _expire(auth_token, *, source: str) -> None:
    """Delete an expired token and tell knox's listeners, as knox does."""
    username = auth_token.user.get_username()
    auth_token.delete()
    token_expired.send(sender=ApiTokenAuthentication, username=username, source=source)


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a username that failed too often from this address, before any password is checked.

    Without a request (a shell, a management command, the test client's `login`) there is no client to lock out, so
    the check is left to the requests that have one."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def address_refused(request: HttpRequest) -> bool:
    """Too many failed sign-ins from this address lately, whatever the usernames (someone trying many accounts);
    the per-username lockout (django-axes) stops guessing one account's password. The count is axes' own rows."""
    from axes.models import AccessAttempt

    since = timezone.now() - datetime.timedelta(minutes=settings.SIGNIN_ADDRESS_WINDOW_MINUTES)
    failures = AccessAttempt.objects.filter(ip_address=client_ip(request), attempt_time__gte=since).aggregate(
        total=Sum("failures_since_start")
    )["total"]
    return (failures or 0) >= settings.SIGNIN_ADDRESS_FAILURES


def address_refused_message() -> str:
    minutes = settings.SIGNIN_ADDRESS_WINDOW_MINUTES
    return ngettext(
        "Too many failed sign-ins from this network. Wait %(minutes)d minute, then try again.",
        "Too many failed sign-ins from this network. Wait %(minutes)d minutes, then try again.",
        minutes,
    ) % {"minutes": minutes}


def lockout_message() -> str:
    """Why a sign-in is refused; the wait restarts with every attempt made while locked out."""
    minutes = max(1, math.ceil(get_cool_off().total_seconds() / 60))
    return ngettext(
        "Too many failed sign-in attempts. Wait %(minutes)d minute, then try again.",
        "Too many failed sign-in attempts. Wait %(minutes)d minutes, then try again.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """What a locked-out client gets (AXES_LOCKOUT_CALLABLE): the sign-in page saying so, or JSON for the API."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": lockout_message()}, status=429)
    from .web.accounts import locked_out_page

    return locked_out_page(request, lockout_message())


def sign_in(request: HttpRequest, user, *, shared_device: bool, backend: str | None = None, device=None) -> None:
    """Start the session (verified by `device` when a code was given): on a shared device it ends when the browser
    closes or after a short idle time."""
    login(request, user, backend=backend)
    if device is not None:
        otp_login(request, device)
    if shared_device:
        request.session.set_expiry(0)
        request.session[SHARED_DEVICE_SEEN] = int(time.time())


class SharedDeviceSessionMiddleware:
    """Ends a shared device's session after SHARED_DEVICE_SESSION_SECONDS without a request (sliding)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        seen = request.session.get(SHARED_DEVICE_SEEN)
        if seen is not None:
            now = int(time.time())
            idle_limit = settings.SHARED_DEVICE_SESSION_SECONDS
            if now - seen > idle_limit:
                logout(request)
                if not request.path_info.startswith("/api/"):
                    minutes = max(1, idle_limit // 60)
                    messages.info(
                        request,
                        ngettext(
                            "You were signed out after %(minutes)d minute without activity on a shared device.",
                            "You were signed out after %(minutes)d minutes without activity on a shared device.",
                            minutes,
                        )
                        % {"minutes": minutes},
                    )
            else:
                request.session[SHARED_DEVICE_SEEN] = now
        return self.get_response(request)


class StaffSecondFactorMiddleware:
    """With STAFF_2FA on, a police or ministry session that was not verified with a code (a password-only sign-in,
    or one from before the setting was turned on) is ended: the pages then ask to sign in again."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and signin.second_factor_required(user) and not user.is_verified():
            logout(request)
            if not request.path_info.startswith("/api/"):
                messages.info(request, _("Sign in again with the code from your authenticator app."))
        return self.get_response(request)
