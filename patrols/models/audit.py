"""Accountability for personal data: who read a volunteer's IIN or a report's details of other people, and how."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import AccessChannel, AccessKind
from ..scope import AccessLogQuerySet


class AccessLogEntry(models.Model):
    """One object's personal data shown unmasked to one user in one request (read by administrators)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("who"),
    )
    # Kept as it was, so the entry still names the reader after their account is renamed or removed.
    username = models.CharField(_("username"), max_length=150)
    at = models.DateTimeField(_("when"), default=timezone.now)
    kind = models.CharField(_("what"), max_length=20, choices=AccessKind.choices)
    object_id = models.PositiveBigIntegerField(_("object id"))
    how = models.CharField(_("how"), max_length=10, choices=AccessChannel.choices)
    path = models.CharField(_("request path"), max_length=500, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        indexes = [
            models.Index(fields=["at"]),
            models.Index(fields=["user", "at"]),
            models.Index(fields=["kind", "object_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.kind} {self.object_id}"
