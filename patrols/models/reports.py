"""What happened in the field: reports with their photos, categories and outcomes, and the verification history."""

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q, Value
from django.utils.translation import gettext_lazy as _

from ..choices import AutoReason, GroupKind, ReportEventKind, ReportStatus
from ..reasons import note_text
from ..scope import ReportQuerySet
from .base import CheckedPhoto, NamedInThreeLanguages
from .geo import District
from .people import Group, Volunteer
from .schedule import Shift


class Category(NamedInThreeLanguages):
    """An offense type from the managed list (petty hooliganism, livestock theft, ...)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")


class Outcome(NamedInThreeLanguages):
    """What the volunteers' action achieved: prevented, solved, handed over, assistance, info."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    requires_case_number = models.BooleanField(_("needs a police case number"), default=False)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("outcome")
        verbose_name_plural = _("outcomes")


class Report(models.Model):
    """One event reported from the field; only verified reports count in the totals."""

    client_uuid = models.UUIDField(_("device's report id"), unique=True, default=uuid.uuid4)
    reporter = models.ForeignKey(
        Volunteer, on_delete=models.PROTECT, related_name="reports", verbose_name=_("reporter")
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("filed by")
    )
    shift = models.ForeignKey(
        Shift, on_delete=models.SET_NULL, null=True, blank=True, related_name="reports", verbose_name=_("shift")
    )
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="reports", verbose_name=_("district"))
    group = models.ForeignKey(
        Group,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("group"),
        help_text=_("The reporter's group on this patrol; the report counts for it."),
    )
    group_kind = models.CharField(
        _("kind of group"),
        max_length=20,
        choices=GroupKind.choices,
        blank=True,
        help_text=_("Kept as it was when the report was filed, so the totals by kind of group do not move."),
    )
    occurred_at = models.DateTimeField(_("when it happened"))
    location = models.PointField(_("where it happened"), srid=4326)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="reports", verbose_name=_("category"))
    outcome = models.ForeignKey(Outcome, on_delete=models.PROTECT, related_name="reports", verbose_name=_("outcome"))
    description = models.TextField(_("what happened"))
    case_number = models.CharField(
        _("police case number"),
        max_length=40,
        blank=True,
        help_text=_("The ЕРДР number for a crime, the protocol number for an administrative offense."),
    )
    third_party_details = models.TextField(
        _("details of other people"),
        blank=True,
        help_text=_("Names, documents, phones of offenders or victims: seen only by inspectors and above."),
    )
    status = models.CharField(_("status"), max_length=12, choices=ReportStatus.choices, default=ReportStatus.SUBMITTED)
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )
    flags = models.JSONField(_("flags for the inspector"), default=list, blank=True)
    status_note = models.TextField(
        _("reason or question"),
        blank=True,
        help_text=_("What the inspector wrote; the app's own reasons (a duplicate) are told from the facts."),
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.CheckConstraint(
                condition=~Q(duplicate_of=models.F("id")),
                name="report_not_duplicate_of_itself",
                violation_error_message=_("A report cannot be a duplicate of itself."),
            ),
        ]
        indexes = [
            models.Index(fields=["district", "status", "created_at"]),
            models.Index(fields=["reporter", "occurred_at"]),
            models.Index(fields=["category", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.category} · {self.occurred_at:%Y-%m-%d}"

    @property
    def counts(self) -> bool:
        """Whether the report counts in the totals: verified and not a duplicate (rule 2 of DESIGN.md)."""
        return self.status == ReportStatus.VERIFIED and self.duplicate_of_id is None

    @property
    def status_reason(self) -> str:
        """The app's own reason for the status (an `AutoReason`), known from the facts: "" when a person gave it."""
        return AutoReason.DUPLICATE if self.duplicate_of_id else ""

    @property
    def status_note_text(self) -> str:
        """The reason or question as the reader reads it: a duplicate names its original in the active language."""
        return note_text(reason=self.status_reason, params={"number": self.duplicate_of_id}, note=self.status_note)


def photo_path(instance: "ReportPhoto", filename: str) -> str:
    return f"report-photos/{instance.report.created_at:%Y/%m}/{instance.report.client_uuid}/{uuid.uuid4().hex}.jpg"


class ReportPhoto(CheckedPhoto):
    """A photo of a report, checked and cleaned on the server (metadata stripped but for orientation)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos", verbose_name=_("report"))
    image = models.ImageField(_("image"), upload_to=photo_path)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        constraints = [
            # The phone may send the same photo again after a dropped connection: it is kept once.
            models.UniqueConstraint(fields=["report", "sha256"], name="photo_once_per_report"),
        ]

    def __str__(self) -> str:
        return f"{self.report_id}: {self.image.name}"


class ReportEvent(models.Model):
    """History of a report: submitted, verified, rejected, asked for information, answered, marked duplicate."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events", verbose_name=_("report"))
    kind = models.CharField(_("what happened"), max_length=20, choices=ReportEventKind.choices)
    from_status = models.CharField(_("from"), max_length=12, choices=ReportStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=ReportStatus.choices, blank=True)
    note = models.TextField(_("note"), blank=True, help_text=_("What the person wrote."))
    # The app's own reason, as facts told in the reader's language (patrols/reasons.py). Defaults in the database
    # too: the demo writes history with INSERT … SELECT.
    reason = models.CharField(
        _("automatic reason"), max_length=20, choices=AutoReason.choices, blank=True, default="", db_default=""
    )
    reason_params = models.JSONField(
        _("facts of the reason"), default=dict, blank=True, db_default=Value({}, output_field=models.JSONField())
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("by")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("report event")
        verbose_name_plural = _("report events")

    def __str__(self) -> str:
        return f"{self.report_id} {self.kind}"

    @property
    def note_text(self) -> str:
        """The app's reason in the active language, then what the person wrote."""
        return note_text(reason=self.reason, params=self.reason_params, note=self.note)
