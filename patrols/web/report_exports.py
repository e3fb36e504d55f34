"""The export of reports (`/reports/export/`): the form with the dashboard's filters, a job's page with its progress,
the user's recent exports and the download, which only the job's owner gets (anyone else: 404).

The responses shared with the API are here too: a small export streamed as it is read, a finished job's file.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from ..auth import client_ip
from ..choices import ExportFormat, ExportStatus, ReportStatus
from ..models import Category, District, Outcome, Region, ReportExport
from ..scope import districts_in_scope, is_national, sees_figures, sees_third_party_details
from ..services import figures
from ..services import report_exports as service
from .forms import add_service_errors

RECENT = 10


def export_stream(request, *, fmt: str, filters: service.ExportFilters, reports) -> StreamingHttpResponse:
    """A small export sent as it is read, with its access log entries written as its rows go out."""
    shown = None
    if filters.personal:
        shown = service.access_logger(request.user, path=request.path, ip=client_ip(request))
    rows = service.export_rows(reports, fmt=fmt, personal=filters.personal, shown=shown)
    response = StreamingHttpResponse(
        service.stream_chunks(fmt, rows, personal=filters.personal), content_type=service.CONTENT_TYPES[fmt]
    )
    response["Content-Disposition"] = content_disposition_header(True, service.export_filename(fmt, filters))
    response["Cache-Control"] = "private, no-store"
    return response


def export_download(job: ReportExport) -> HttpResponse:
    """A finished job's file for its owner (the caller fetched it with `visible_to`); 404 once it has expired."""
    if not job.is_ready:
        raise Http404
    storage = job.file.storage
    if not isinstance(storage, FileSystemStorage):
        # A bucket: its signed, expiring link lets the browser fetch the file from the bucket itself.
        return HttpResponseRedirect(storage.url(job.file.name))
    response = FileResponse(job.file.open("rb"), as_attachment=True, filename=service.job_filename(job))
    response["Content-Type"] = service.CONTENT_TYPES.get(job.format, "application/octet-stream")
    response["Cache-Control"] = "private, no-store"
    return response


def progress(job: ReportExport, *, file_url: str | None) -> dict:
    """What the job's page shows and polls, and what the API gives."""
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": job.get_status_display(),
        "rows_total": job.rows_total,
        "rows_done": job.rows_done,
        "percent": job.percent,
        "finished": job.is_finished,
        "error": job.error,
        "file": file_url if job.is_ready else None,
    }


class ExportForm(forms.Form):
    """The filters of the dashboard and the format; the service checks them (the same rules as the API)."""

    year = forms.TypedChoiceField(label=_("Year"), coerce=int)
    region = forms.ChoiceField(label=_("Region"), required=False)
    district = forms.ChoiceField(label=_("District"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    outcome = forms.ChoiceField(label=_("Outcome"), required=False)
    category = forms.ChoiceField(label=_("Category"), required=False)
    format = forms.ChoiceField(label=_("Format"), choices=ExportFormat.choices, initial=ExportFormat.XLSX)
    personal = forms.BooleanField(
        label=_("Include the details of other people"),
        required=False,
        help_text=_("Names, documents and phones of offenders or victims. Every export of them is in the access log."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        years = set(figures.dashboard_years())
        asked = self.data.get("year") or self.initial.get("year")
        if str(asked or "").isdigit():
            # A year the dashboard showed (its link) or one typed into the address: the service checks its range.
            years.add(int(asked))
        self.fields["year"].choices = [(year, str(year)) for year in sorted(years, reverse=True)]
        everything = [("", _("All"))]
        if is_national(user):
            regions = Region.objects.only("code", "name_kk", "name_ru", "name_en").order_by("code")
            self.fields["region"].choices = everything + [(region.code, region.name) for region in regions]
        else:
            del self.fields["region"]
        districts = districts_in_scope(user).only("code", "name_kk", "name_ru", "name_en").order_by("code")
        self.fields["district"].choices = everything + [(place.code, place.name) for place in districts]
        self.fields["status"].choices = everything + list(ReportStatus.choices)
        self.fields["outcome"].choices = everything + [(o.code, o.name) for o in Outcome.objects.all()]
        self.fields["category"].choices = everything + [
            (c.code, c.name) for c in Category.objects.filter(is_active=True)
        ]
        if not sees_third_party_details(user):
            del self.fields["personal"]


def described(job: ReportExport) -> list[tuple[str, str]]:
    """The job's filters as the page shows them: label and value in the reader's language."""
    codes = job.filters
    place = ""
    if codes.get("district"):
        found = District.objects.filter(code=codes["district"]).first()
        place = found.name if found else codes["district"]
    elif codes.get("region"):
        found = Region.objects.filter(code=codes["region"]).first()
        place = found.name if found else codes["region"]
    outcome = Outcome.objects.filter(code=codes.get("outcome", "")).first()
    category = Category.objects.filter(code=codes.get("category", "")).first()
    every = str(_("All"))
    return [
        (str(_("Year")), str(codes.get("year", ""))),
        (str(_("Area")), place or str(_("Everything in your scope"))),
        (str(_("Status")), str(ReportStatus(codes["status"]).label) if codes.get("status") else every),
        (str(_("Outcome")), outcome.name if outcome else every),
        (str(_("Category")), category.name if category else every),
        (str(_("Format")), job.get_format_display()),
        (str(_("Details of other people")), str(_("Included") if codes.get("personal") else _("Not included"))),
    ]


def _owned(request, pk: int) -> ReportExport:
    return get_object_or_404(ReportExport.objects.visible_to(request.user), pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def export_page(request):
    """The form (filled from the dashboard's link), and the user's recent exports; a small export is sent at once,
    a larger one becomes a job whose page follows it."""
    user = request.user
    if not sees_figures(user):
        raise Http404
    data = request.POST if request.method == "POST" else None
    initial = {name: request.GET.get(name) for name in ("year", "region", "district") if request.GET.get(name)}
    form = ExportForm(data, user=user, initial={"status": ReportStatus.VERIFIED, **initial})
    if data is not None and form.is_valid():
        try:
            fmt, filters = service.export_request(user, data)
            reports = service.export_reports(user, filters)
            count = reports.count()
            service.export_check_size(fmt, count)
        except figures.NotInScope as missing:
            raise Http404 from missing
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if count <= settings.REPORT_EXPORT_STREAM_MAX_ROWS:
                return export_stream(request, fmt=fmt, filters=filters, reports=reports)
            job = service.report_export_start(by=user, fmt=fmt, filters=filters, rows_total=count)
            return redirect("report-export", pk=job.pk)
    recent = ReportExport.objects.visible_to(user)[:RECENT]
    context = {"form": form, "recent": recent, "stream_limit": settings.REPORT_EXPORT_STREAM_MAX_ROWS}
    return render(request, "dashboard/report_export.html", context)


@login_required
@require_GET
def export_job(request, pk: int):
    """A job's page: its filters, its progress (updating by itself) and the download once it is ready."""
    job = _owned(request, pk)
    return render(
        request,
        "dashboard/report_export_job.html",
        {"job": job, "filters": described(job), "ExportStatus": ExportStatus},
    )


@login_required
@require_GET
def export_job_progress(request, pk: int):
    """What the job's page polls."""
    job = _owned(request, pk)
    return JsonResponse(progress(job, file_url=reverse("report-export-file", args=[job.pk])))


@login_required
@require_GET
def export_job_file(request, pk: int):
    return export_download(_owned(request, pk))
