"""What every page needs: the unread count of the bell, and the fixed lists by name."""

from django.db import models

from . import choices as _choices
from .models import Notification

# Every fixed list of choices.py by its class name: templates compare `a.status == AssignmentStatus.CHECKED_IN`,
# never a bare string that a renamed value would silently stop matching.
CHOICES = {
    name: value
    for name, value in vars(_choices).items()
    if isinstance(value, type) and issubclass(value, models.Choices) and value.__module__ == _choices.__name__
}


def inbox(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_count": Notification.objects.visible_to(user).filter(read_at__isnull=True).count()}


def choices(request) -> dict:
    return CHOICES
