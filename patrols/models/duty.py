"""On duty: a volunteer's consent to share their position while on patrol, and the track their phone sends."""

from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .people import Volunteer
from .schedule import Assignment


class DutyConsent(models.Model):
    """A volunteer's consent, given once, to share their position from check-in to check-out; withdrawn in one tap."""

    volunteer = models.OneToOneField(
        Volunteer, on_delete=models.CASCADE, related_name="duty_consent", verbose_name=_("volunteer")
    )
    given_at = models.DateTimeField(_("given at"), default=timezone.now)
    text_version = models.CharField(_("consent text version"), max_length=20)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("consent to share the position on duty")
        verbose_name_plural = _("consents to share the position on duty")

    def __str__(self) -> str:
        return str(self.volunteer)

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class PositionPing(models.Model):
    """One position the phone sent while its volunteer was checked in: the track of an assignment."""

    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="positions", verbose_name=_("assignment")
    )
    point = models.PointField(_("position"), srid=4326)
    accuracy_m = models.PositiveIntegerField(_("accuracy (m)"), null=True, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), help_text=_("The phone's time when the position was taken."))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    client_uuid = models.UUIDField(_("identifier from the phone"))

    class Meta:
        ordering = ["recorded_at", "id"]
        verbose_name = _("position on duty")
        verbose_name_plural = _("positions on duty")
        constraints = [
            # A batch the phone sends again (it never heard the answer) stores nothing twice.
            models.UniqueConstraint(fields=["assignment", "client_uuid"], name="position_once_per_client_uuid"),
        ]
        indexes = [
            models.Index(fields=["assignment", "-recorded_at"], name="position_track_latest"),
            models.Index(fields=["received_at"], name="position_received"),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id} · {self.recorded_at:%Y-%m-%d %H:%M:%S}"
