"""What every page's header needs: the unread count of the bell."""

from .models import Notification


def inbox(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_count": Notification.objects.visible_to(user).filter(read_at__isnull=True).count()}
