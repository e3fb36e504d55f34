"""What every page needs: the unread count of the bell, whether the person logs meetings (the outbox reminder
links to their form), what was typed into a form that failed, and the fixed lists by name."""

from django.db import models

from . import choices as _choices
from .choices import AssignmentStatus, Role
from .models import Assignment, Notification
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


def sos(request) -> dict:
    """For a volunteer checked in right now: the SOS button's assignment and the district duty unit's first phone
    (the offline SMS goes there). One query, and none for police accounts."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or role_of(user) not in {Role.VOLUNTEER, Role.LEADER}:
        return {}
    on_duty = (
        Assignment.objects.filter(volunteer__user=user, status=AssignmentStatus.CHECKED_IN)
        .order_by("-check_in_at", "-pk")
        .values("pk", "shift_id", "shift__ok_interval_minutes", "shift__district__duty_unit__phones")
        .first()
    )
    if on_duty is None:
        return {}
    phones = on_duty["shift__district__duty_unit__phones"] or []
    return {
        "sos_on_duty": {
            "assignment": on_duty["pk"],
            "shift": on_duty["shift_id"],
            "asks_ok": bool(on_duty["shift__ok_interval_minutes"]),
            "duty_phone": phones[0] if phones else "",
        }
    }
