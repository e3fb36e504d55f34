"""The in-app inbox: what the product tells people about their shifts (channels arrive with reminders)."""

from collections.abc import Iterable

from ..models import Notification, Report, Shift, User


def notify(
    *,
    users: Iterable[User | None],
    kind: str,
    shift: Shift | None = None,
    report: Report | None = None,
    **details,
) -> list[Notification]:
    """One inbox message per person (each person once, however often they are listed)."""
    seen: set[int] = set()
    messages = []
    for user in users:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        messages.append(Notification(user=user, kind=kind, shift=shift, report=report, details=details))
    return Notification.objects.bulk_create(messages)
