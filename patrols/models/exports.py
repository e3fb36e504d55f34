"""Exports of reports made in the background: one file for one user, kept a day."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import ExportFormat, ExportStatus
from ..scope import ReportExportQuerySet


class ReportExport(models.Model):
    """A file of the reports in its owner's scope with the dashboard's filters, written by a worker."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_exports", verbose_name=_("owner")
    )
    format = models.CharField(_("format"), max_length=10, choices=ExportFormat.choices)
    filters = models.JSONField(
        _("filters"), default=dict, blank=True, help_text=_("The filters as codes: year, area, status, outcome...")
    )
    language = models.CharField(_("language of the file"), max_length=5, default=settings.LANGUAGE_CODE)
    status = models.CharField(_("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    file = models.FileField(_("file"), upload_to="report-exports/", blank=True)
    size_bytes = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("kept until"))
    heartbeat_at = models.DateTimeField(
        _("last sign of work"),
        null=True,
        blank=True,
        help_text=_("Set as rows are written: a stale one means the worker died."),
    )
    attempts = models.PositiveSmallIntegerField(_("runs started"), default=0)

    objects = ReportExportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("export of reports")
        verbose_name_plural = _("exports of reports")
        indexes = [
            models.Index(fields=["owner", "created_at"]),
            models.Index(fields=["expires_at"]),
            models.Index(fields=["status", "heartbeat_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.format} {self.status}"

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return min(100, int(100 * self.rows_done / self.rows_total)) if self.rows_total else 0

    @property
    def is_finished(self) -> bool:
        return self.status in {ExportStatus.DONE, ExportStatus.FAILED}

    @property
    def is_ready(self) -> bool:
        """Done, its file kept and not past its day."""
        return self.status == ExportStatus.DONE and bool(self.file) and self.expires_at > timezone.now()
