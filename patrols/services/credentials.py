"""What an account holds to prove who it is, besides its password: the API tokens of its devices and its sessions.

A token is issued per device (django-rest-knox keeps only its hash), expires after `API_TOKEN_IDLE_DAYS` without use
and at the latest `API_TOKEN_MAX_AGE_DAYS` after it was issued, and can be revoked by its owner or an administrator.
When the credentials change (a new password or a reset, deactivation, a new or removed authenticator, another
role) every token of the account is revoked and every session made before ends: `credentials_changed`, called by
`patrols.signals` for every way an account is saved (pages, API, the admin site, management commands).
"""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY, update_session_auth_hash
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils.translation import gettext as _

from ..choices import Role
from ..models import ApiToken, User
from ..scope import role_of

DEVICE_NAME_LENGTH = 120


def device_name(text: str | None) -> str:
    """A device's name as the phone gives it (or its browser's User-Agent), cut to fit."""
    return " ".join((text or "").split())[:DEVICE_NAME_LENGTH]


@transaction.atomic
def token_issue(*, user: User, device: str = "", with_second_factor: bool = False) -> tuple[ApiToken, str]:
    """A new token for one device; returns the row and the secret, which is shown this once and never stored."""
    return ApiToken.objects.create(user=user, device=device_name(device), with_second_factor=with_second_factor)


def tokens_visible_to(user: User):
    """Tokens the user may list and revoke: their own; administrators every account's."""
    if role_of(user) == Role.ADMIN:
        return ApiToken.objects.select_related("user")
    return ApiToken.objects.filter(user=user).select_related("user")


@transaction.atomic
def token_revoke(*, token: ApiToken, by: User) -> None:
    """Revoke one token: the device that holds it is signed out at its next request."""
    if token.user_id != by.pk and role_of(by) != Role.ADMIN:
        raise PermissionDenied(_("You can revoke only your own devices."))
    token.delete()


@transaction.atomic
def credentials_changed(user: User) -> int:
    """Revoke every token of the account and end every session made before now; returns the tokens revoked."""
    revoked, _by_model = ApiToken.objects.filter(user=user).delete()
    User.objects.filter(pk=user.pk).update(credentials_version=F("credentials_version") + 1)
    user.credentials_version = User.objects.values_list("credentials_version", flat=True).get(pk=user.pk)
    return revoked


def sign_out_everywhere(*, request: HttpRequest) -> int:
    """Sign the requesting user out of every device and session but the one asking (which may then sign out too)."""
    user = request.user
    revoked = credentials_changed(user)
    # A session that signed in keeps going (the token that asked was revoked with the rest).
    if hasattr(request, "session") and request.session.get(SESSION_KEY):
        update_session_auth_hash(request, user)
    return revoked
