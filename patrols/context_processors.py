"""What every page needs: the unread count of the bell, whether the person logs meetings (the outbox reminder
links to their form), what was typed into a form that failed, and the fixed lists by name."""

from django.db import models

from . import choices as _choices
from .choices import Role
from .models import Notification
from .scope import AREA_ROLES, role_of
from .web.forms import TYPED

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
    return {
        "unread_count": Notification.objects.visible_to(user).filter(read_at__isnull=True).count(),
        "logs_meetings": role_of(user) in {Role.ADMIN, *AREA_ROLES},
    }


def typed(request) -> dict:
    """What was typed into a form that failed before a redirect (`web.forms.keep_typed`), for this page only."""
    session = getattr(request, "session", None)
    if session is None or TYPED not in session:
        return {"typed": {}}
    return {"typed": session.pop(TYPED)}


def choices(request) -> dict:
    return CHOICES
