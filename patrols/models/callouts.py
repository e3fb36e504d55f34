"""Call-outs: an inspector asks for N people at a place and time; the first N who accept get a seat on its shift."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from ..choices import CallOutResult, CallOutStatus
from ..scope import CallOutQuerySet
from .geo import District
from .people import Group, Volunteer
from .schedule import Assignment, Shift, Zone


class CallOut(models.Model):
    """A request for people now: a place (a zone, or a point with a small zone made around it), a time, how many."""

    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="callouts", verbose_name=_("asked by")
    )
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="callouts", verbose_name=_("district")
    )
    zone = models.ForeignKey(Zone, on_delete=models.PROTECT, related_name="callouts", verbose_name=_("zone"))
    point = models.PointField(_("meeting point"), srid=4326, null=True, blank=True)
    place = models.CharField(_("place"), max_length=200)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    needed = models.PositiveSmallIntegerField(_("people needed"))
    groups = models.ManyToManyField(Group, related_name="callouts", verbose_name=_("groups asked"))
    shift = models.OneToOneField(Shift, on_delete=models.PROTECT, related_name="callout", verbose_name=_("shift"))
    status = models.CharField(_("status"), max_length=10, choices=CallOutStatus.choices, default=CallOutStatus.OPEN)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = CallOutQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("call-out")
        verbose_name_plural = _("call-outs")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="callout_ends_after_start",
                violation_error_message=_("A call-out must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(needed__gte=1),
                name="callout_needs_someone",
                violation_error_message=_("Ask for at least one person."),
            ),
        ]
        indexes = [models.Index(fields=["district", "status", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.place} · {self.starts_at:%Y-%m-%d %H:%M}"


class CallOutAnswer(models.Model):
    """A volunteer's "I'm coming" to a call-out, and whether it got them a seat or a place on the waiting list."""

    callout = models.ForeignKey(CallOut, on_delete=models.CASCADE, related_name="answers", verbose_name=_("call-out"))
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="callout_answers", verbose_name=_("volunteer")
    )
    assignment = models.ForeignKey(
        Assignment, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("assignment")
    )
    result = models.CharField(_("result"), max_length=12, choices=CallOutResult.choices)
    accepted_at = models.DateTimeField(_("accepted at"), auto_now_add=True)

    class Meta:
        ordering = ["accepted_at", "id"]
        verbose_name = _("call-out answer")
        verbose_name_plural = _("call-out answers")
        constraints = [
            models.UniqueConstraint(
                fields=["callout", "volunteer"],
                name="callout_answer_once",
                violation_error_message=_("This volunteer has already answered this call-out."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.callout_id} {self.volunteer_id} {self.result}"
