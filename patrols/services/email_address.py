"""A person's own email address: asked for on the settings page, confirmed by a link sent to it, changed or removed.

The new address waits as `NotificationPreference.pending_email` until its owner opens the link; only then does it
become `User.email`, the address email deliveries go to. The link carries a signed, expiring token with the account
and a keyed hash of the address (never the address itself: links end up in access logs), so a link of another
account, an expired one, a tampered one or one for an address since replaced is refused and changes nothing.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from kombu.exceptions import OperationalError

from ..models import NotificationPreference, User
from .channels import DeliveryError, send_email
from .messages import Message, absolute

logger = logging.getLogger(__name__)

_SALT = "patrols.email-address.confirm"
EMAIL_MAX_LENGTH = User._meta.get_field("email").max_length


class ConfirmationNotSent(Exception):
    """The confirmation email could not go out; the message names no address (it reaches logs)."""


@dataclass(frozen=True)
class Confirmed:
    """What opening a confirmation link did: `address` became the account's email, or it already was."""

    address: str
    already: bool


def _address_hash(address: str) -> str:
    return salted_hmac(_SALT, address.lower(), algorithm="sha256").hexdigest()[:24]


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_SALT)


def confirmation_token(*, user: User, address: str) -> str:
    """A signed token for confirming `address` as `user`'s email; its age is checked when it comes back."""
    return _signer().sign_object({"u": user.pk, "h": _address_hash(address)})


def confirmation_link(*, user: User, address: str) -> str:
    return absolute(reverse("email-confirm", args=[confirmation_token(user=user, address=address)]))


def _preference_locked(user: User) -> NotificationPreference:
    preference, _created = NotificationPreference.objects.get_or_create(user=user)
    return NotificationPreference.objects.select_for_update().get(pk=preference.pk)


def _clean_address(raw: str) -> str:
    address = BaseUserManager.normalize_email((raw or "").strip())
    if not address:
        raise ValidationError({"email": _("Enter your email address.")}, code="email_required")
    if len(address) > EMAIL_MAX_LENGTH:
        raise ValidationError(
            {"email": _("An email address has at most %(max)d characters.") % {"max": EMAIL_MAX_LENGTH}},
            code="email_too_long",
        )
    try:
        validate_email(address)
    except ValidationError as error:
        raise ValidationError(
            {"email": _("This is not an email address. Write it like name@example.kz.")}, code="email_invalid"
        ) from error
    return address


def resend_wait(preference: NotificationPreference, *, now: datetime.datetime | None = None) -> datetime.timedelta:
    """How long until another confirmation email may be asked for (zero when it may be now)."""
    if preference.email_confirmation_sent_at is None:
        return datetime.timedelta(0)
    now = now or timezone.now()
    next_at = preference.email_confirmation_sent_at + datetime.timedelta(minutes=settings.EMAIL_CONFIRM_RESEND_MINUTES)
    return max(next_at - now, datetime.timedelta(0))


def email_address_request(*, user: User, address: str) -> NotificationPreference:
    """Keep `address` as the person's new email, waiting for confirmation, and send it the link (after commit).

    A bad address, the address already confirmed, or a request too soon after the last one raises ValidationError and
    changes nothing.
    """
    address = _clean_address(address)
    with transaction.atomic():
        preference = _preference_locked(user)
        if address.lower() == (user.email or "").lower():
            raise ValidationError({"email": _("This address is already confirmed.")}, code="email_same")
        wait = resend_wait(preference)
        if wait:
            minutes = max(1, -(-int(wait.total_seconds()) // 60))
            raise ValidationError(
                {
                    "email": ngettext(
                        "A confirmation email was sent a moment ago. You can ask for another in %(minutes)d minute.",
                        "A confirmation email was sent a moment ago. You can ask for another in %(minutes)d minutes.",
                        minutes,
                    )
                    % {"minutes": minutes}
                },
                code="email_too_soon",
            )
        preference.pending_email = address
        preference.email_confirmation_sent_at = timezone.now()
        preference.full_clean()
        preference.save(update_fields=["pending_email", "email_confirmation_sent_at"])
        transaction.on_commit(lambda: _queue(user.pk))
    return preference


def email_address_cancel(*, user: User) -> None:
    """Forget the address waiting for confirmation (its link stops working); the confirmed one stays."""
    NotificationPreference.objects.filter(user=user).update(pending_email="")


def email_address_remove(*, user: User) -> None:
    """No email at all: the confirmed address and any waiting one are forgotten, so no email goes out."""
    with transaction.atomic():
        NotificationPreference.objects.filter(user=user).update(pending_email="")
        User.objects.filter(pk=user.pk).update(email="")
    user.email = ""


def email_address_confirm(*, user: User, token: str) -> Confirmed:
    """Make the address the token stands for `user`'s email and turn email on; raises ValidationError otherwise.

    Opening the same link again is harmless: it answers that the address is already confirmed.
    """
    max_age = datetime.timedelta(days=settings.EMAIL_CONFIRM_DAYS)
    try:
        payload = _signer().unsign_object(token, max_age=max_age)
    except signing.SignatureExpired as error:
        raise ValidationError(
            _("This confirmation link has expired. Ask for a new one on the notification settings page."),
            code="email_link_expired",
        ) from error
    except (signing.BadSignature, ValueError) as error:
        raise ValidationError(
            _("This confirmation link is not valid. Open the whole link from the email, or ask for a new one."),
            code="email_link_invalid",
        ) from error
    if not isinstance(payload, dict) or not isinstance(payload.get("h"), str):
        raise ValidationError(_("This confirmation link is not valid."), code="email_link_invalid")
    if payload.get("u") != user.pk:
        raise ValidationError(
            _(
                "This confirmation link was sent for another account. Sign out and sign in with the account "
                "that asked for it."
            ),
            code="email_link_other_user",
        )
    with transaction.atomic():
        preference = _preference_locked(user)
        user = User.objects.select_for_update().get(pk=user.pk)
        pending = preference.pending_email
        if pending and constant_time_compare(_address_hash(pending), payload["h"]):
            user.email = pending
            user.save(update_fields=["email"])
            preference.pending_email = ""
            preference.email_enabled = True
            preference.save(update_fields=["pending_email", "email_enabled"])
            return Confirmed(address=user.email, already=False)
        if user.email and constant_time_compare(_address_hash(user.email), payload["h"]):
            return Confirmed(address=user.email, already=True)
    raise ValidationError(
        _(
            "This link is for an address that is no longer waiting for confirmation. "
            "Ask for a new link if you need one."
        ),
        code="email_link_stale",
    )


def _queue(user_id: int) -> None:
    """Hand the email to a worker; when the broker cannot be reached, send it here (the person is waiting for it)."""
    from ..tasks import send_email_confirmation

    try:
        send_email_confirmation.apply_async(args=[user_id], retry=False)
    except ConfirmationNotSent as error:  # only with eager Celery (development): the send ran here and failed
        logger.warning("Email confirmation of user %s not sent: %s", user_id, error)
    except (OperationalError, OSError):
        logger.warning("Broker unreachable: sending the email confirmation of user %s inline", user_id)
        try:
            email_confirmation_send(user_id=user_id)
        except ConfirmationNotSent as error:
            logger.warning("Email confirmation of user %s not sent: %s", user_id, error)


def email_confirmation_send(*, user_id: int) -> str:
    """Send the link to the address waiting for confirmation, in the person's language; returns what happened."""
    user = User.objects.select_related("notification_preference").filter(pk=user_id, is_active=True).first()
    preference = getattr(user, "notification_preference", None) if user is not None else None
    if preference is None or not preference.pending_email:
        return "nothing to send"
    address = preference.pending_email
    language = user.language or settings.LANGUAGE_CODE
    with translation.override(language):
        link = confirmation_link(user=user, address=address)
        days = settings.EMAIL_CONFIRM_DAYS
        body = ngettext(
            "Open the link to confirm that this is your address for messages about patrols. "
            "The link works for %(days)d day. If you did not ask for it, ignore this email: nothing changes.",
            "Open the link to confirm that this is your address for messages about patrols. "
            "The link works for %(days)d days. If you did not ask for it, ignore this email: nothing changes.",
            days,
        ) % {"days": days}
        message = Message(
            subject=_("Confirm your email address"),
            body=body,
            link=link,
            short=f"{body} {link}",
        )
    host = settings.SITE_URL.split("://")[-1].split("/")[0]
    stamp = int(preference.email_confirmation_sent_at.timestamp()) if preference.email_confirmation_sent_at else 0
    try:
        send_email(
            to=address, message=message, language=language, message_id=f"<email-confirm-{user.pk}-{stamp}@{host}>"
        )
    except DeliveryError as error:
        # The error text of an SMTP refusal quotes the address: only its kind goes on.
        cause = error.__cause__.__class__.__name__ if error.__cause__ else "DeliveryError"
        raise ConfirmationNotSent(cause) from None
    return "sent"
