"""Sign-in rules: who must give a second factor (STAFF_2FA), and the authenticator-app devices (TOTP, RFC 6238)
that give it. Volunteers and group leaders never need one; police and ministry accounts do when it is on."""

import base64
import math

import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..choices import Role

STAFF_ROLES = frozenset({Role.INSPECTOR, Role.CHIEF, Role.ANALYST, Role.ADMIN})
DEVICE_NAME = "authenticator"


def second_factor_required(user) -> bool:
    """Police and ministry accounts, and anyone who may open the admin site, when STAFF_2FA is on."""
    if not settings.STAFF_2FA:
        return False
    return user.role in STAFF_ROLES or user.is_staff or user.is_superuser


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def totp_device_start(*, user) -> TOTPDevice:
    """The authenticator the user is setting up: the one not confirmed yet, or a new secret."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


@transaction.atomic
def totp_device_confirm(*, device: TOTPDevice, code: str) -> TOTPDevice:
    """The first code from the app proves it holds the secret: the device is confirmed, other unconfirmed ones go."""
    _check_code(device, code)
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    return device


def second_factor_verify(*, user, code: str) -> TOTPDevice:
    """The user's confirmed device, if it accepts `code`; a translated error on the `otp` field otherwise."""
    device = confirmed_device(user)
    if device is None:
        raise ValidationError(
            {"otp": _("Two-factor sign-in is not set up for this account: sign in on the website once to set it up.")},
            code="no_device",
        )
    _check_code(device, code)
    return device


def _check_code(device: TOTPDevice, code: str) -> None:
    code = "".join((code or "").split())
    if not code:
        raise ValidationError({"otp": _("Enter the 6-digit code from your authenticator app.")}, code="required")
    allowed, details = device.verify_is_allowed()
    if not allowed:
        seconds = max(1, math.ceil((details["locked_until"] - timezone.now()).total_seconds()))
        raise ValidationError(
            {
                "otp": ngettext(
                    "Too many wrong codes: wait %(seconds)d second, then enter the code the app shows.",
                    "Too many wrong codes: wait %(seconds)d seconds, then enter the code the app shows.",
                    seconds,
                )
                % {"seconds": seconds}
            },
            code="throttled",
        )
    # A code is used once: the device remembers the last time step it accepted.
    if not (code.isdigit() and device.verify_token(code)):
        raise ValidationError(
            {"otp": _("The code is wrong or has expired: enter the code the app shows now.")}, code="invalid"
        )


def secret_for_typing(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for an app that cannot scan the QR code."""
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG QR code, drawn here: the secret never goes to another service."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, border=2, omitsize=True, title=_("QR code"))
