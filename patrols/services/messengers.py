"""A person's own messenger settings: WhatsApp opt-in and opt-out, unlinking Telegram, and the order of the phone
channels. (Linking Telegram is telegram.link_code_create; push subscriptions are webpush's.)"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..choices import INSTANT_CHANNELS, DeliveryChannel
from ..models import MessengerAccount, NotificationPreference, User
from .channels import channel_configured
from .notifications import instant_order, preference_for


def _phone(user: User) -> str:
    volunteer = getattr(user, "volunteer", None)
    return volunteer.phone if volunteer is not None else user.phone


@transaction.atomic
def whatsapp_opt_in(*, user: User) -> MessengerAccount:
    """The person agrees to messages on WhatsApp at their phone number; the moment is kept (WhatsApp requires it)."""
    if not channel_configured(DeliveryChannel.WHATSAPP):
        raise ValidationError(_("WhatsApp is not set up on this installation."))
    phone = _phone(user)
    if not phone:
        raise ValidationError(_("There is no phone number in your profile for WhatsApp: ask your inspector to add it."))
    other = MessengerAccount.objects.filter(channel=DeliveryChannel.WHATSAPP, address=phone).exclude(user=user)
    if other.exists():
        raise ValidationError(_("This phone number already gets WhatsApp messages for another person."))
    MessengerAccount.objects.filter(user=user, channel=DeliveryChannel.WHATSAPP).delete()
    return MessengerAccount.objects.create(user=user, channel=DeliveryChannel.WHATSAPP, address=phone)


def whatsapp_opt_out(*, user: User) -> int:
    deleted, _rows = MessengerAccount.objects.filter(user=user, channel=DeliveryChannel.WHATSAPP).delete()
    return deleted


def telegram_unlink(*, user: User) -> int:
    deleted, _rows = MessengerAccount.objects.filter(user=user, channel=DeliveryChannel.TELEGRAM).delete()
    return deleted


@transaction.atomic
def channel_order_move(*, user: User, channel: str, up: bool) -> list[str]:
    """Move one phone channel a place up or down in the person's order; the new order."""
    if channel not in INSTANT_CHANNELS:
        raise ValidationError(_("Unknown channel."))
    preference, _created = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    order = instant_order(preference)
    index = order.index(channel)
    other = index - 1 if up else index + 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
    preference.channel_order = order
    preference.save(update_fields=["channel_order"])
    return order


def channel_order_set(*, user: User, order: list[str]) -> list[str]:
    """The whole order at once (the API): known phone channels, each once; the rest keep the default order."""
    if not isinstance(order, list) or any(c not in INSTANT_CHANNELS for c in order) or len(set(order)) != len(order):
        raise ValidationError(
            {
                "order": _("List each of these channels at most once: %(channels)s.")
                % {"channels": ", ".join(INSTANT_CHANNELS)}
            }
        )
    preference, _created = NotificationPreference.objects.get_or_create(user=user)
    preference.channel_order = instant_order(NotificationPreference(channel_order=order))
    preference.save(update_fields=["channel_order"])
    return preference.channel_order


def my_channels(user: User) -> list[dict]:
    """The person's phone channels in their order, each with whether it reaches them and why not."""
    from .notifications import channel_addresses

    preference = preference_for(user)
    addresses = channel_addresses(user)
    rows = []
    for channel in instant_order(preference):
        configured = channel_configured(channel)
        reaches = bool(addresses[channel]) and (channel != DeliveryChannel.SMS or preference.sms_enabled)
        rows.append(
            {
                "channel": channel,
                "label": DeliveryChannel(channel).label,
                "configured": configured,
                "reaches": reaches,
            }
        )
    return rows
