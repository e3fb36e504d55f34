"""The volunteer's report pages: the phone form (kept by a service worker, it files offline and sends through the
API), "my reports" with the inspector's questions to answer, the answer itself, and the service worker.

One report's page (`report-detail`) is the verification page in `verify.py`; it includes the answer form from here.

Reads come from `scope`, writes from `services.reporting`; out of scope is 404.
"""

import functools
import hashlib
import json
import uuid

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.gis.geos import Point
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from ..choices import VolunteerStatus
from ..models import Category, Outcome, Report
from ..services import reporting
from .forms import add_service_errors, keep_typed

PAGE_SIZE = 50
# The phone shrinks photos before storing them; the server re-encodes them anyway (services/photos.py).
PHOTO_MAX_SIDE = 1600
# A string: a float in a template would be localized ("0,85" in Russian) and misread by the script.
PHOTO_JPEG_QUALITY = "0.85"
# What the service worker keeps for offline use: the pages (fetched with the session) and their static files.
SHELL_PAGES = ("report-new", "report-list", "meeting-new", "javascript-catalog")
SHELL_STATIC = (
    "css/app.css",
    "css/reports.css",
    "js/app.js",
    "js/formats.js",
    "js/outbox.js",
    "js/outbox-ui.js",
    "js/outbox-panel.js",
    "js/photos.js",
    "js/map-locale.js",
    "js/report-form.js",
    "js/meeting-form.js",
    "css/prevention.css",
    "leaflet/leaflet.css",
    "leaflet/leaflet.js",
    "leaflet/images/marker-icon.png",
    "leaflet/images/marker-icon-2x.png",
    "leaflet/images/marker-shadow.png",
)
SERVICE_WORKER = "js/sw.js"


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos under one name; the photo service checks each one."""

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class NamedChoiceField(forms.ModelChoiceField):
    """Chosen by code, shown by the name in the user's language (outcomes, categories)."""

    def label_from_instance(self, obj) -> str:
        return obj.name


class ReportForm(forms.Form):
    """The report form with the API's field names; the page sends it through the API when JavaScript runs."""

    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    outcome = NamedChoiceField(
        label=gettext_lazy("What did you achieve?"),
        queryset=Outcome.objects.all(),
        to_field_name="code",
        widget=forms.RadioSelect,
        empty_label=None,
    )
    category = NamedChoiceField(
        label=gettext_lazy("What kind of offense"),
        queryset=Category.objects.filter(is_active=True),
        to_field_name="code",
        empty_label=gettext_lazy("Choose…"),
    )
    occurred_at = forms.DateTimeField(
        label=gettext_lazy("When it happened"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    lat = forms.FloatField(
        label=gettext_lazy("Latitude"),
        min_value=-90,
        max_value=90,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    lng = forms.FloatField(
        label=gettext_lazy("Longitude"),
        min_value=-180,
        max_value=180,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    description = forms.CharField(
        label=gettext_lazy("What happened"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Who, what, what you did. Names and documents go in the field below."),
    )
    case_number = forms.CharField(
        label=gettext_lazy("Police case number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=gettext_lazy(
            "For a crime: the ЕРДР number (15 digits). For an administrative offense: the protocol number."
        ),
    )
    third_party_details = forms.CharField(
        label=gettext_lazy("Details of other people"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Names, documents, phones of offenders or victims. Only police inspectors see this field."
        ),
    )
    photo = PhotosField(
        label=gettext_lazy("Photos"),
        required=False,
        widget=MultiplePhotoInput(attrs={"accept": "image/*"}),
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(label=gettext_lazy("Your answer"), widget=forms.Textarea(attrs={"rows": 3}))
    case_number = forms.CharField(
        label=gettext_lazy("Police case number"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        help_text=gettext_lazy("Fill in only if the inspector asks for it; empty keeps the number you sent."),
    )


def _utc_offset(moment) -> str:
    """`+05:00` for Almaty: the page turns the datetime-local value into a moment with it."""
    raw = timezone.localtime(moment).strftime("%z")
    return f"{raw[:3]}:{raw[3:]}"


def _current_shift(volunteer):
    """The shift a report filed now would be tied to: the same rule the service applies when filing."""
    assignment = reporting._reporter_shift(volunteer, timezone.now())
    return assignment.shift if assignment else None


def _tiles() -> tuple[str, str]:
    tiles = settings.LEAFLET_CONFIG.get("TILES") or []
    if not tiles:
        return "", ""
    _name, url, options = tiles[0]
    return url, options.get("attribution", "")


def _form_context(request, form: ReportForm) -> dict:
    volunteer = request.user.volunteer
    centre = volunteer.district.centre
    now = timezone.now()
    tile_url, tile_attribution = _tiles()
    return {
        "form": form,
        "volunteer": volunteer,
        "can_file": volunteer.status == VolunteerStatus.REGISTERED,
        "shift": _current_shift(volunteer),
        "case_outcomes": json.dumps(
            list(Outcome.objects.filter(requires_case_number=True).values_list("code", flat=True))
        ),
        "centre": {"lat": f"{centre.y:.6f}", "lng": f"{centre.x:.6f}"},
        "utc_offset": _utc_offset(now),
        "tile_url": tile_url,
        "tile_attribution": tile_attribution,
        "photo_max_side": PHOTO_MAX_SIDE,
        "photo_quality": PHOTO_JPEG_QUALITY,
        "photo_max_count": settings.PHOTOS_PER_REPORT,
    }


def _file_from_form(request, form: ReportForm) -> Report | None:
    """The page without JavaScript: file the report and its photos here, through the same services."""
    data = form.cleaned_data
    try:
        report, _created = reporting.report_submit(
            by=request.user,
            client_uuid=data["client_uuid"],
            occurred_at=data["occurred_at"],
            point=Point(data["lng"], data["lat"], srid=4326),
            category=data["category"],
            outcome=data["outcome"],
            description=data["description"],
            case_number=data["case_number"],
            third_party_details=data["third_party_details"],
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    for upload in data["photo"]:
        try:
            reporting.report_photo_add(report=report, by=request.user, upload=upload)
        except ValidationError as error:
            messages.error(
                request,
                _("The report was received, but a photo was refused: %(reason)s")
                % {"reason": " ".join(error.messages)},
            )
    return report


@login_required
def report_new(request):
    """The phone form. With JavaScript it stores the report on the phone first and sends it when it can."""
    if getattr(request.user, "volunteer", None) is None:
        messages.info(request, _("Only volunteers file reports."))
        return redirect("report-list")
    if request.method == "POST":
        form = ReportForm(request.POST, request.FILES)
        if form.is_valid():
            report = _file_from_form(request, form)
            if report is not None:
                messages.success(request, _("The report was received. It waits for the inspector's check."))
                return redirect("report-detail", pk=report.pk)
    else:
        form = ReportForm(initial={"client_uuid": uuid.uuid4(), "occurred_at": timezone.localtime().replace(second=0)})
    return render(request, "patrols/reports/new.html", _form_context(request, form))


@login_required
def report_list(request):
    """A volunteer's own reports with their status; police roles see their districts' reports."""
    volunteer = getattr(request.user, "volunteer", None)
    reports = (
        Report.objects.visible_to(request.user)
        .select_related("category", "outcome", "district", "reporter")
        .annotate(photo_count=Count("photos"))
        .order_by("-occurred_at", "-id")
    )
    if volunteer is not None:
        reports = reports.filter(reporter=volunteer)
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "patrols/reports/list.html", {"page": page, "mine": volunteer is not None})


@login_required
@require_POST
def report_answer(request, pk: int):
    """The reporter answers the inspector's question; the report goes back to the queue.

    Only the reporter answers: anyone else, a group leader who sees the report included, gets 404.
    """
    report = get_object_or_404(Report.objects.visible_to(request.user).filter(reporter__user=request.user), pk=pk)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write your answer."))
        keep_typed(request, "answer", report.pk, ("answer", "case_number"))
        return redirect("report-detail", pk=report.pk)
    try:
        reporting.report_resubmit(
            report=report,
            by=request.user,
            answer=form.cleaned_data["answer"],
            case_number=form.cleaned_data["case_number"] or None,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        keep_typed(request, "answer", report.pk, ("answer", "case_number"))
    else:
        messages.success(request, _("Your answer was sent; the report waits for the inspector again."))
    return redirect("report-detail", pk=report.pk)


def _read_static(path: str) -> bytes:
    found = finders.find(path)
    if not found:
        raise Http404
    with open(found, "rb") as handle:
        return handle.read()


@functools.cache
def _shell_config_cached() -> dict:
    return _shell_config()


def _shell_config() -> dict:
    """What the service worker needs: a version that changes with any cached file, and the addresses."""
    pages = [reverse(name) for name in SHELL_PAGES]
    static_urls = [static(path) for path in SHELL_STATIC]
    digest = hashlib.sha256()
    for path in (SERVICE_WORKER, *SHELL_STATIC):
        digest.update(_read_static(path))
    digest.update(json.dumps([pages, static_urls]).encode())
    return {
        "version": digest.hexdigest()[:16],
        "pages": pages,
        "static": static_urls,
        "staticPrefix": settings.STATIC_URL,
        "outbox": static("js/outbox.js"),
        "api": {
            "me": reverse("api:me"),
            "reports": reverse("api:report-list"),
            "photos": reverse("api:report-photos", args=[0]).replace("/0/", "/{id}/"),
            "push": reverse("api:push-subscriptions"),
        },
    }


@require_GET
@never_cache
def service_worker(request):
    """The service worker from the site root, so its scope is the whole site; never cached by the browser."""
    # Static files do not change while a production process runs: hash them once. In development they do.
    config = _shell_config() if settings.DEBUG else _shell_config_cached()
    body = f"self.APP_SHELL = {json.dumps(config)};\n".encode() + _read_static(SERVICE_WORKER)
    return HttpResponse(body, content_type="application/javascript; charset=utf-8")
