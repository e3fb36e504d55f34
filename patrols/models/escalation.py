"""Reports that cannot wait: sent straight to the district's duty unit, with the unit's answers as history."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ..choices import EscalationEventKind, EscalationReason, EscalationStatus
from ..scope import EscalationQuerySet
from .duty_units import DutyUnit
from .reports import Report

# A report has one escalation under way at a time; after a failure or the unit's closing it may be sent again.
LIVE_STATUSES = [
    EscalationStatus.PENDING,
    EscalationStatus.SENT,
    EscalationStatus.RECEIVED,
    EscalationStatus.OFFICER_SENT,
]


class Escalation(models.Model):
    """A report marked "needs the police now", sent to the duty unit under one key on every channel and retry."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="escalations", verbose_name=_("report"))
    unit = models.ForeignKey(
        DutyUnit, on_delete=models.PROTECT, related_name="escalations", verbose_name=_("duty unit")
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("escalated by"),
    )
    reason = models.CharField(_("reason"), max_length=20, choices=EscalationReason.choices)
    note = models.TextField(_("note"), blank=True)
    key = models.UUIDField(_("unique key"), unique=True, default=uuid.uuid4, editable=False)
    status = models.CharField(
        _("status"), max_length=12, choices=EscalationStatus.choices, default=EscalationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("delivery attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # Each way out that got through ("webhook", "sms:<the unit's phone>", "email"), so a retry sends only the rest.
    delivered = models.JSONField(_("delivered by"), default=list, blank=True)
    sent_at = models.DateTimeField(_("first delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = EscalationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        constraints = [
            models.UniqueConstraint(
                fields=["report"],
                condition=Q(status__in=LIVE_STATUSES),
                name="one_live_escalation_per_report",
                violation_error_message=_("This report has already been sent to the duty unit."),
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.report_id} → {self.unit_id}"


class EscalationEvent(models.Model):
    """History of an escalation: created, each delivery attempt's outcome, each answer of the unit with its text."""

    escalation = models.ForeignKey(
        Escalation, on_delete=models.CASCADE, related_name="events", verbose_name=_("escalation")
    )
    kind = models.CharField(_("what happened"), max_length=20, choices=EscalationEventKind.choices)
    status = models.CharField(_("status"), max_length=12, choices=EscalationStatus.choices, blank=True)
    text = models.TextField(_("text"), blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("escalation event")
        verbose_name_plural = _("escalation events")

    def __str__(self) -> str:
        return f"{self.escalation_id} {self.kind}"
