"""A volunteer in trouble: the alarm (SOS, or amber for a missed "I'm OK"), its history, and what went to duty units."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import DeliveryStatus, SosChannel, SosEventKind, SosKind, SosStatus
from ..scope import SosAlarmQuerySet
from .duty_units import DutyUnit
from .geo import District
from .people import Group, Volunteer
from .schedule import Assignment, Shift


class SosAlarm(models.Model):
    """A call for help: where, from whom, on which shift; who was told (the tier reached) and who answered."""

    kind = models.CharField(_("kind"), max_length=10, choices=SosKind.choices, default=SosKind.SOS)
    status = models.CharField(_("status"), max_length=12, choices=SosStatus.choices, default=SosStatus.OPEN)
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="sos_alarms", verbose_name=_("volunteer")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sos_alarms",
        verbose_name=_("raised by"),
    )
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="sos_alarms", verbose_name=_("district")
    )
    assignment = models.ForeignKey(
        Assignment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sos_alarms",
        verbose_name=_("assignment"),
    )
    shift = models.ForeignKey(
        Shift, on_delete=models.SET_NULL, null=True, blank=True, related_name="sos_alarms", verbose_name=_("shift")
    )
    group = models.ForeignKey(
        Group, on_delete=models.SET_NULL, null=True, blank=True, related_name="sos_alarms", verbose_name=_("group")
    )
    nearby = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="sos_calls",
        verbose_name=_("volunteers on duty nearby who were called"),
    )
    point = models.PointField(_("position"), srid=4326, null=True, blank=True)
    accuracy_m = models.PositiveIntegerField(_("position accuracy (m)"), null=True, blank=True)
    tier = models.PositiveSmallIntegerField(_("tier reached"), default=1)
    next_escalation_at = models.DateTimeField(_("goes to the next tier at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    acknowledged_unit = models.ForeignKey(
        DutyUnit,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by the duty unit"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("resolved or cancelled at"), null=True, blank=True)
    note = models.TextField(_("note on resolving"), blank=True)
    client_uuid = models.UUIDField(_("device's id of the alarm"), null=True, blank=True)
    # The "I'm OK" sweep raises one amber alarm per missed check-in: the key says which.
    key = models.CharField(_("unique key"), max_length=80, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("raised at"), auto_now_add=True)

    objects = SosAlarmQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("SOS alarm")
        verbose_name_plural = _("SOS alarms")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "client_uuid"],
                condition=Q(client_uuid__isnull=False),
                name="sos_once_per_device_id",
            ),
            models.CheckConstraint(condition=Q(tier__gte=1, tier__lte=3), name="sos_tier_one_to_three"),
        ]
        indexes = [models.Index(fields=["status", "next_escalation_at"]), models.Index(fields=["district", "status"])]

    def __str__(self) -> str:
        return f"SOS {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in {SosStatus.OPEN, SosStatus.ACKNOWLEDGED}


class SosEvent(models.Model):
    """History of an alarm: raised, each tier told (whom, which unit), acknowledged, on the way, resolved, cancelled."""

    alarm = models.ForeignKey(SosAlarm, on_delete=models.CASCADE, related_name="events", verbose_name=_("alarm"))
    kind = models.CharField(_("what happened"), max_length=20, choices=SosEventKind.choices)
    tier = models.PositiveSmallIntegerField(_("tier"), null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("by")
    )
    unit = models.ForeignKey(
        DutyUnit, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("duty unit")
    )
    note = models.TextField(_("note"), blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("SOS event")
        verbose_name_plural = _("SOS events")

    def __str__(self) -> str:
        return f"{self.alarm_id} {self.kind}"


class SosDispatch(models.Model):
    """One message about an alarm to a duty unit over one channel; the unique key makes it go out once."""

    key = models.CharField(_("unique key"), max_length=150, unique=True)
    alarm = models.ForeignKey(SosAlarm, on_delete=models.CASCADE, related_name="dispatches", verbose_name=_("alarm"))
    unit = models.ForeignKey(DutyUnit, on_delete=models.CASCADE, related_name="+", verbose_name=_("duty unit"))
    tier = models.PositiveSmallIntegerField(_("tier"))
    channel = models.CharField(_("channel"), max_length=10, choices=SosChannel.choices)
    address = models.CharField(_("address"), max_length=500)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("message to a duty unit")
        verbose_name_plural = _("messages to duty units")
        indexes = [models.Index(fields=["status", "queued_at"])]

    def __str__(self) -> str:
        return self.key
