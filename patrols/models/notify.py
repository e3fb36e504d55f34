"""What the product tells people: the in-app inbox (delivery channels arrive with reminders)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..choices import NotificationKind
from ..scope import NotificationQuerySet
from .schedule import Shift


class Notification(models.Model):
    """One message in a person's inbox, about a shift or a report."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    kind = models.CharField(_("kind"), max_length=30, choices=NotificationKind.choices)
    shift = models.ForeignKey(
        Shift, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications", verbose_name=_("shift")
    )
    report = models.ForeignKey(
        "patrols.Report",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("report"),
    )
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}"

    @property
    def read(self) -> bool:
        return self.read_at is not None
