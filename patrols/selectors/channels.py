"""Which channels reach a volunteer, as the inspector sees it: set up or not, and when each last delivered or
failed."""

from __future__ import annotations

from django.db.models import Max, Q

from ..choices import DeliveryChannel, DeliveryStatus
from ..models import Delivery, User
from ..services.channels import channel_configured
from ..services.notifications import channel_addresses, instant_order, preference_for


def channel_health(user: User | None) -> list[dict]:
    """One row per channel in the person's order (email last): reachable now, last delivered, last failure."""
    if user is None:
        return []
    preference = preference_for(user)
    addresses = channel_addresses(user)
    figures = {
        row["channel"]: row
        for row in Delivery.objects.filter(user=user)
        .values("channel")
        .annotate(
            last_sent=Max("sent_at", filter=Q(status=DeliveryStatus.SENT)),
            last_delivered=Max("delivered_at"),
            last_failed=Max("created_at", filter=Q(status=DeliveryStatus.FAILED)),
        )
    }
    enabled = {DeliveryChannel.EMAIL: preference.email_enabled, DeliveryChannel.SMS: preference.sms_enabled}
    rows = []
    for channel in [*instant_order(preference), DeliveryChannel.EMAIL]:
        row = figures.get(channel, {})
        rows.append(
            {
                "channel": channel,
                "label": DeliveryChannel(channel).label,
                "configured": channel_configured(channel),
                "reaches": bool(addresses[channel]) and enabled.get(channel, True),
                "last_delivered": row.get("last_delivered") or row.get("last_sent"),
                "last_failed": row.get("last_failed"),
            }
        )
    return rows
