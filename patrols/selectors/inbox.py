"""The inbox as a volunteer's phone asks for it: the unread messages."""

from django.db.models import Count
from rest_framework.settings import api_settings

from ..models import Notification
from ..prepared import PreparedQuery


def _unread(user_id: int):
    """In scope as `Notification.objects.visible_to` has it (one's own), then the API's filter `unread`."""
    return Notification.objects.filter(user_id=user_id, read_at__isnull=True)


# Asked by every phone on every start (`?unread=1`): built once (patrols/prepared.py), with what the message's
# sentence reads (the shift's zone by its name: its shape is not parsed).
_unread_page = PreparedQuery(
    lambda user_id: (
        _unread(user_id).select_related("user", "shift__zone").defer("shift__zone__geometry")[: api_settings.PAGE_SIZE]
    ),
    user_id=int,
)
# The count as one group: every message of the list is the same user's (a prepared query gives rows).
_unread_count = PreparedQuery(
    lambda user_id: _unread(user_id).order_by().values("user_id").annotate(n=Count("pk")).values_list("n", flat=True),
    user_id=int,
)


def unread_first_page(user) -> list[Notification]:
    """The first page of the user's unread messages, newest first."""
    return _unread_page(user_id=user.pk)


def unread_count(user) -> int:
    """How many unread messages the user has (the count a full first page needs)."""
    return sum(_unread_count(user_id=user.pk))
