"""The in-app inbox as its reader uses it: marking messages read (creating them is `notifications.notify`)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Notification, User


@transaction.atomic
def notification_read(*, notification: Notification, by: User) -> Notification:
    """Mark one message of the user's own inbox as read (reading it again changes nothing)."""
    if notification.user_id != by.pk:
        raise ValidationError(_("This message is not yours."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notifications_read_all(*, by: User) -> int:
    """Mark every unread message of the user's inbox as read; returns how many were unread."""
    return Notification.objects.filter(user=by, read_at__isnull=True).update(read_at=timezone.now())
