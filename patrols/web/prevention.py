"""The inspector's pages for prevention work, phone first: the district's villages with their initiatives and
crime-free status, one village with its evidence, its counts and the forms to record them, the meetings with
residents (the meeting form works offline with static/js/meeting-form.js, through the API), and the import of a
district's monthly counts.

Reads come from `scope`, writes from the services (`meetings`, `initiatives`, `crime_counts`); out of scope is 404,
and volunteers, who keep no prevention work, get 403 on the village pages.
"""

from __future__ import annotations

import csv
import datetime
import io
import uuid
from collections import defaultdict

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.gis.geos import Point
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ..choices import CrimeStatus, InitiativeStatus, MeetingKind, MeetingStatus
from ..clock import local_today
from ..models import (
    Group,
    Initiative,
    InitiativeKind,
    Meeting,
    MeetingEvent,
    Settlement,
    SettlementCrimeCount,
    SettlementYearTally,
    Topic,
    User,
)
from ..scope import districts_in_scope, is_police, prevention_districts
from ..services import crime_counts, initiatives, meetings, tables, villages
from .forms import CodeChoiceField, DateInput, add_service_errors, keep_typed, typed_back
from .reports import PHOTO_JPEG_QUALITY, PHOTO_MAX_SIDE, MultiplePhotoInput, PhotosField, _utc_offset

PAGE_SIZE = 50
VILLAGE_MEETINGS_SHOWN = 50
# Heavy geometry that the lists never show: of a settlement, and of a meeting's places.
PLACE_DEFERRED = ("boundary", "district__boundary", "district__centre")
MEETING_DEFERRED = ("settlement__boundary", "settlement__centre", "district__boundary", "district__centre")


# Forms


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class MonthInput(forms.TextInput):
    input_type = "month"


class NamedMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class MeetingForm(forms.Form):
    """The phone form with the API's field names; with JavaScript the page sends it through the API instead."""

    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    settlement = CodeChoiceField(
        label=gettext_lazy("Settlement"),
        queryset=Settlement.objects.none(),
        to_field_name="code",
        empty_label=gettext_lazy("Choose…"),
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind of meeting"), choices=MeetingKind.choices)
    status = forms.ChoiceField(
        label=gettext_lazy("The meeting is"),
        choices=[(MeetingStatus.HELD, MeetingStatus.HELD.label), (MeetingStatus.PLANNED, MeetingStatus.PLANNED.label)],
        widget=forms.RadioSelect,
        initial=MeetingStatus.HELD,
    )
    held_at = forms.DateTimeField(
        label=gettext_lazy("When"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=DateTimeLocalInput(),
    )
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("How long (minutes)"),
        min_value=5,
        max_value=12 * 60,
        initial=60,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    residents = forms.IntegerField(
        label=gettext_lazy("Residents who came"),
        required=False,
        min_value=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text=gettext_lazy("Required once the meeting is held."),
    )
    topics = NamedMultipleChoiceField(
        label=gettext_lazy("Topics"),
        queryset=Topic.objects.filter(is_active=True),
        to_field_name="code",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    groups = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Volunteer groups that took part"),
        queryset=Group.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    decisions = forms.CharField(
        label=gettext_lazy("Decisions taken"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    notes = forms.CharField(label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, widget=forms.HiddenInput)
    lng = forms.FloatField(required=False, min_value=-180, max_value=180, widget=forms.HiddenInput)
    photo = PhotosField(label=gettext_lazy("Photos"), required=False, widget=MultiplePhotoInput({"accept": "image/*"}))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        districts = prevention_districts(user)
        self.fields["settlement"].queryset = (
            Settlement.objects.filter(district__in=districts)
            .select_related("district")
            .defer(*PLACE_DEFERRED)
            .order_by("district__code", _name_field())
        )
        self.fields["groups"].queryset = Group.objects.filter(district__in=districts, is_active=True).order_by(
            "district__code", "name"
        )

    def point(self) -> Point | None:
        """The phone's position when it sent one; None lets the service take the settlement's centre."""
        lat, lng = self.cleaned_data.get("lat"), self.cleaned_data.get("lng")
        return Point(lng, lat, srid=4326) if lat is not None and lng is not None else None


class HoldForm(forms.Form):
    residents = forms.IntegerField(
        label=gettext_lazy("Residents who came"), min_value=0, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class CrimeCountForm(forms.Form):
    month = forms.CharField(
        label=gettext_lazy("Month"),
        widget=MonthInput(attrs={"placeholder": "2026-03"}),
        help_text=gettext_lazy("YYYY-MM, for example 2026-03."),
    )
    registered = forms.IntegerField(
        label=gettext_lazy("Crimes registered"), min_value=0, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    source = forms.CharField(
        label=gettext_lazy("Source"),
        required=False,
        max_length=crime_counts.SOURCE_LIMIT,
        help_text=gettext_lazy("Where the figure comes from (the statistics report, its date)."),
    )

    def clean_month(self) -> datetime.date:
        try:
            return crime_counts.parse_month(self.cleaned_data["month"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["month"]) from error


class InitiativeForm(forms.Form):
    kind = CodeChoiceField(
        label=gettext_lazy("Kind of initiative"),
        queryset=InitiativeKind.objects.filter(is_active=True),
        to_field_name="code",
        empty_label=gettext_lazy("Choose…"),
    )
    adopted_on = forms.DateField(label=gettext_lazy("Adopted on"), widget=DateInput)
    meeting = forms.ModelChoiceField(
        label=gettext_lazy("Adopted at the meeting"),
        queryset=Meeting.objects.none(),
        required=False,
        empty_label=gettext_lazy("No meeting named"),
    )
    document = forms.FileField(
        label=gettext_lazy("The protocol"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
        help_text=gettext_lazy("A scan or photo of it."),
    )

    def __init__(self, *args, settlement: Settlement, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        held = Meeting.objects.visible_to(user).filter(settlement=settlement, status=MeetingStatus.HELD)
        self.fields["meeting"].queryset = held.order_by("-held_at")
        self.fields["meeting"].label_from_instance = _meeting_label


class LapseForm(forms.Form):
    lapsed_on = forms.DateField(label=gettext_lazy("Lapsed on"), widget=DateInput)
    reason = forms.CharField(label=gettext_lazy("Why it lapsed"), max_length=500)


class CrimeImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Table of monthly counts (CSV or XLSX)"))


def _meeting_label(meeting: Meeting) -> str:
    when = formats.date_format(timezone.localtime(meeting.held_at), "SHORT_DATETIME_FORMAT")
    return _("%(date)s, %(kind)s") % {"date": when, "kind": meeting.get_kind_display()}


def _name_field() -> str:
    """The name column of the active language, to sort places as the reader reads them."""
    language = (get_language() or "kk")[:2]
    return f"name_{language}" if language in {"kk", "ru", "en"} else "name_kk"


# Access


def _require_police(user: User) -> None:
    """Prevention work is the police's: volunteers and leaders have no village pages (403)."""
    if not is_police(user):
        raise PermissionDenied(_("Only the police see the villages' prevention work."))


def _require_keeper(user: User) -> None:
    if not meetings.may_log_meetings(user):
        raise PermissionDenied(_("Only inspectors and chiefs log prevention work."))


def _settlement_or_404(user: User, code: str) -> Settlement:
    places = Settlement.objects.filter(district__in=districts_in_scope(user)).select_related("district")
    return get_object_or_404(places.defer(*PLACE_DEFERRED), code=code)


# Villages


def _years_of(settlement_ids: list[int], year: int) -> dict[int, villages.SettlementYear]:
    """`villages.settlement_year` for many settlements in one query."""
    rows = {
        row.settlement_id: row
        for row in SettlementYearTally.objects.filter(year=year, settlement_id__in=settlement_ids).only(
            "settlement_id", "months_recorded", "crimes"
        )
    }
    required = villages.months_required(year)
    found = {}
    for pk in settlement_ids:
        row = rows.get(pk)
        recorded, crimes = (row.months_recorded, row.crimes) if row else (0, 0)
        found[pk] = villages.SettlementYear(
            year=year,
            status=villages.crime_status(year=year, months_recorded=recorded, crimes=crimes),
            months_required=required,
            months_recorded=bin(recorded).count("1"),
            crimes=crimes,
        )
    return found


@login_required
@require_GET
def village_list(request: HttpRequest) -> HttpResponse:
    """The settlements of the user's districts, each with its active initiatives, this year's status and meetings."""
    user = request.user
    _require_police(user)
    districts = list(districts_in_scope(user).defer("boundary", "centre").order_by("code"))
    code = request.GET.get("district") or ""
    chosen = next((district for district in districts if district.code == code), None)
    if code and chosen is None:
        raise Http404
    places = (
        Settlement.objects.filter(district__in=[chosen] if chosen else districts)
        .select_related("district")
        .defer(*PLACE_DEFERRED)
        .order_by("district__code", _name_field(), "code")
    )
    page = Paginator(places, PAGE_SIZE).get_page(request.GET.get("page"))
    year = local_today().year
    ids = [place.pk for place in page]
    active = defaultdict(list)
    for initiative in (
        Initiative.objects.visible_to(user)
        .filter(settlement_id__in=ids, status=InitiativeStatus.ACTIVE)
        .select_related("kind")
        .order_by("adopted_on")
    ):
        active[initiative.settlement_id].append(initiative)
    held = dict(
        Meeting.objects.visible_to(user)
        .filter(settlement_id__in=ids, status=MeetingStatus.HELD, held_at__year=year)
        .order_by()
        .values_list("settlement_id")
        .annotate(n=Count("id"))
    )
    years = _years_of(ids, year)
    for place in page:
        place.active_initiatives = active[place.pk]
        place.this_year = years[place.pk]
        place.meetings_held = held.get(place.pk, 0)
    context = {
        "page": page,
        "districts": districts if len(districts) > 1 else [],
        "chosen_district": chosen,
        "year": year,
        "can_log": meetings.may_log_meetings(user),
        "CrimeStatus": CrimeStatus,
    }
    return render(request, "patrols/prevention/village_list.html", context)


def _months_table(user: User, settlement: Settlement, year: int) -> list[dict]:
    """This year's months so far and all of last year's, newest first; a month without a count is None."""
    today = local_today()
    counts = {
        row.month: row
        for row in SettlementCrimeCount.objects.visible_to(user).filter(
            settlement=settlement, month__year__in=[year - 1, year]
        )
    }
    months = []
    for shown_year in (year, year - 1):
        last = today.month if shown_year == today.year else 12
        for month in range(last, 0, -1):
            day = datetime.date(shown_year, month, 1)
            months.append({"month": day, "count": counts.get(day)})
    return months


def _village_context(request: HttpRequest, settlement: Settlement, **bound) -> dict:
    user = request.user
    year = local_today().year
    can_edit = prevention_districts(user).filter(pk=settlement.district_id).exists()
    lapse_bound: LapseForm | None = bound.get("lapse_form")
    lapse_pk = bound.get("lapse_pk")
    found = (
        Initiative.objects.visible_to(user)
        .filter(settlement=settlement)
        .select_related("kind", "meeting")
        .order_by("status", "-adopted_on", "-id")
    )
    shown = []
    for initiative in found:
        initiative.evidence = villages.initiative_evidence(initiative)
        if can_edit and initiative.status == InitiativeStatus.ACTIVE:
            prefix = f"lapse-{initiative.pk}"
            initiative.lapse_form = (
                lapse_bound if lapse_pk == initiative.pk and lapse_bound else LapseForm(prefix=prefix)
            )
        shown.append(initiative)
    village_meetings = (
        Meeting.objects.visible_to(user)
        .filter(settlement=settlement, status__in=[MeetingStatus.PLANNED, MeetingStatus.HELD])
        .prefetch_related("topics")
        .order_by("-held_at", "-id")[:VILLAGE_MEETINGS_SHOWN]
    )
    previous_month = (local_today().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    return {
        "settlement": settlement,
        "year": year,
        "years": [villages.settlement_year(settlement, year), villages.settlement_year(settlement, year - 1)],
        "initiatives": shown,
        "meetings": village_meetings,
        "months": _months_table(user, settlement, year),
        "can_edit": can_edit,
        "count_form": bound.get("count_form") or CrimeCountForm(initial={"month": previous_month.strftime("%Y-%m")}),
        "initiative_form": bound.get("initiative_form")
        or InitiativeForm(settlement=settlement, user=user, initial={"adopted_on": local_today()}),
        "CrimeStatus": CrimeStatus,
    }


def _record_count(request: HttpRequest, settlement: Settlement) -> dict | None:
    """Record one month's count; the bound form with its errors when refused, None when saved."""
    form = CrimeCountForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            _row, created = crime_counts.crime_count_record(
                by=request.user,
                settlement=settlement,
                month=data["month"],
                registered=data["registered"],
                source=data["source"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            month = formats.date_format(data["month"], "YEAR_MONTH_FORMAT")
            if created:
                messages.success(request, _("The count of %(month)s was recorded.") % {"month": month})
            else:
                messages.success(request, _("The count of %(month)s was replaced.") % {"month": month})
            return None
    return {"count_form": form}


def _record_initiative(request: HttpRequest, settlement: Settlement) -> dict | None:
    form = InitiativeForm(request.POST, request.FILES, settlement=settlement, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            initiatives.initiative_record(
                by=request.user,
                settlement=settlement,
                kind=data["kind"],
                adopted_on=data["adopted_on"],
                meeting=data["meeting"],
                document=data["document"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The initiative was recorded."))
            return None
    return {"initiative_form": form}


def _lapse_initiative(request: HttpRequest, settlement: Settlement) -> dict | None:
    try:
        pk = int(request.POST.get("initiative") or "")
    except ValueError as error:
        raise Http404 from error
    initiative = get_object_or_404(
        Initiative.objects.manageable_by(request.user).filter(settlement=settlement, status=InitiativeStatus.ACTIVE),
        pk=pk,
    )
    form = LapseForm(request.POST, prefix=f"lapse-{initiative.pk}")
    if form.is_valid():
        try:
            initiatives.initiative_lapse(
                initiative=initiative,
                by=request.user,
                lapsed_on=form.cleaned_data["lapsed_on"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The initiative is marked as lapsed."))
            return None
    return {"lapse_form": form, "lapse_pk": initiative.pk}


VILLAGE_ACTIONS = {"count": _record_count, "initiative": _record_initiative, "lapse": _lapse_initiative}


@login_required
def village_detail(request: HttpRequest, code: str) -> HttpResponse:
    """One settlement: its initiatives with their evidence, its meetings, its monthly counts, and the forms."""
    _require_police(request.user)
    settlement = _settlement_or_404(request.user, code)
    if request.method == "POST":
        action = VILLAGE_ACTIONS.get(request.POST.get("form") or "")
        if action is None or not prevention_districts(request.user).filter(pk=settlement.district_id).exists():
            raise PermissionDenied(_("You cannot record the prevention work of this district."))
        bound = action(request, settlement)
        if bound is None:
            return redirect("village-detail", code=settlement.code)
        return render(request, "patrols/prevention/village_detail.html", _village_context(request, settlement, **bound))
    return render(request, "patrols/prevention/village_detail.html", _village_context(request, settlement))


# Meetings


@login_required
@require_GET
def meeting_list(request: HttpRequest) -> HttpResponse:
    """The meetings the user may see, newest first, by status."""
    found = (
        Meeting.objects.visible_to(request.user)
        .select_related("settlement", "district")
        .defer("location", *MEETING_DEFERRED)
        .order_by("-held_at", "-id")
    )
    status = request.GET.get("status") or ""
    if status in MeetingStatus.values:
        found = found.filter(status=status)
    else:
        status = ""
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "statuses": MeetingStatus.choices,
        "can_log": meetings.may_log_meetings(request.user),
    }
    return render(request, "patrols/prevention/meeting_list.html", context)


def _record_meeting(request: HttpRequest, form: MeetingForm) -> tuple[Meeting, bool] | None:
    """The page without JavaScript: log the meeting and its photos here, through the same services."""
    data = form.cleaned_data
    try:
        meeting, created = meetings.meeting_record(
            by=request.user,
            client_uuid=data["client_uuid"],
            settlement=data["settlement"],
            held_at=data["held_at"],
            kind=data["kind"],
            status=data["status"],
            point=form.point(),
            duration_minutes=data["duration_minutes"],
            residents=data["residents"],
            topics=data["topics"],
            groups=data["groups"],
            decisions=data["decisions"],
            notes=data["notes"],
        )
    except ValidationError as error:
        # The device's id and the position have no visible field: their messages go on top.
        add_service_errors(form, error, aliases={"client_uuid": "", "point": "", "lat": "", "lng": ""})
        return None
    if created:
        for upload in data["photo"]:
            try:
                meetings.meeting_photo_add(meeting=meeting, by=request.user, upload=upload)
            except ValidationError as error:
                messages.error(
                    request,
                    _("The meeting was logged, but a photo was refused: %(reason)s")
                    % {"reason": " ".join(error.messages)},
                )
    return meeting, created


@login_required
def meeting_new(request: HttpRequest) -> HttpResponse:
    """The phone form; with JavaScript it keeps the meeting on the phone first and sends it when it can."""
    _require_keeper(request.user)
    if request.method == "POST":
        form = MeetingForm(request.POST, request.FILES, user=request.user)
        recorded = _record_meeting(request, form) if form.is_valid() else None
        if recorded is not None:
            meeting, created = recorded
            if created:
                messages.success(request, _("The meeting was logged."))
            else:
                messages.info(request, _("This meeting was already received; nothing was added."))
            return redirect("meeting-detail", pk=meeting.pk)
    else:
        initial = {
            "client_uuid": uuid.uuid4(),
            "held_at": timezone.localtime().replace(second=0, microsecond=0),
            "settlement": request.GET.get("settlement") or None,
        }
        form = MeetingForm(initial=initial, user=request.user)
    settlements = list(form.fields["settlement"].queryset)
    context = {
        "form": form,
        "settlements": settlements,
        "many_districts": len({place.district_id for place in settlements}) > 1,
        "chosen_settlement": form["settlement"].value() or "",
        "utc_offset": _utc_offset(timezone.now()),
        "photo_max_side": PHOTO_MAX_SIDE,
        "photo_quality": PHOTO_JPEG_QUALITY,
        "photo_max_count": settings.PHOTOS_PER_REPORT,
    }
    return render(request, "patrols/prevention/meeting_new.html", context)


def _change_label(name: str) -> str:
    """A history entry's field by its translated name."""
    try:
        return str(Meeting._meta.get_field("location" if name == "point" else name).verbose_name)
    except FieldDoesNotExist:
        return name


@login_required
@require_GET
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One meeting with its history; a planned one can be marked held or cancelled here."""
    meeting = get_object_or_404(
        Meeting.objects.visible_to(request.user)
        .select_related("settlement", "district", "created_by")
        .defer(*MEETING_DEFERRED)
        .prefetch_related(
            "topics",
            "groups",
            "officers",
            "photos",
            Prefetch("events", queryset=MeetingEvent.objects.select_related("by")),
        ),
        pk=pk,
    )
    events = list(meeting.events.all())
    for event in events:
        event.changed = [
            {"label": _change_label(name), "values": values}
            for name, values in (event.changes or {}).items()
            if isinstance(values, list) and len(values) == 2
        ]
    can_manage = Meeting.objects.manageable_by(request.user).filter(pk=meeting.pk).exists()
    context = {
        "meeting": meeting,
        "events": events,
        "can_manage": can_manage and meeting.status == MeetingStatus.PLANNED,
        "hold_form": HoldForm(),
        "cancel_form": ReasonForm(initial=typed_back(request, "cancel", meeting.pk)),
    }
    return render(request, "patrols/prevention/meeting_detail.html", context)


def _manageable_meeting(request: HttpRequest, pk: int) -> Meeting:
    get_object_or_404(Meeting.objects.visible_to(request.user), pk=pk)
    found = Meeting.objects.manageable_by(request.user).filter(pk=pk).first()
    if found is None:
        raise PermissionDenied(_("You can see this meeting but not change it."))
    return found


def _show_refusal(request: HttpRequest, form: forms.Form, error: ValidationError | None = None) -> None:
    problems = error.messages if error is not None else [m for errors in form.errors.values() for m in errors]
    messages.error(request, " ".join(problems))


@login_required
@require_POST
def meeting_hold(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark a planned meeting held, with the residents who came."""
    meeting = _manageable_meeting(request, pk)
    form = HoldForm(request.POST)
    if not form.is_valid():
        _show_refusal(request, form)
        return redirect("meeting-detail", pk=meeting.pk)
    try:
        meetings.meeting_hold(meeting=meeting, by=request.user, residents=form.cleaned_data["residents"])
    except ValidationError as error:
        _show_refusal(request, form, error)
    else:
        messages.success(request, _("The meeting is marked as held: it counts from now on."))
    return redirect("meeting-detail", pk=meeting.pk)


@login_required
@require_POST
def meeting_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a planned meeting, with the reason."""
    meeting = _manageable_meeting(request, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        _show_refusal(request, form)
        keep_typed(request, "cancel", meeting.pk, ("reason",))
        return redirect("meeting-detail", pk=meeting.pk)
    try:
        meetings.meeting_cancel(meeting=meeting, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        _show_refusal(request, form, error)
        keep_typed(request, "cancel", meeting.pk, ("reason",))
    else:
        messages.success(request, _("The meeting was cancelled."))
    return redirect("meeting-detail", pk=meeting.pk)


# Importing the counts


@login_required
def crime_import(request: HttpRequest) -> HttpResponse:
    """Upload a district's table of monthly counts: every row is checked and nothing is written when one is wrong."""
    _require_keeper(request.user)
    form = CrimeImportForm(request.POST or None, request.FILES or None)
    result, problems = None, []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > settings.ROSTER_IMPORT_MAX_BYTES:
            form.add_error("file", _("The file is too large."))
        else:
            try:
                result = crime_counts.crime_counts_import(by=request.user, data=upload.read())
            except crime_counts.ImportRefused as refused:
                form.add_error(None, refused.messages)
                problems = [
                    {**problem, "label": tables.column_label(crime_counts.COLUMNS, problem["field"])}
                    for problem in refused.problems
                ]
            except ValidationError as error:
                add_service_errors(form, error)
    context = {"form": form, "result": result, "problems": problems, "columns": crime_counts.COLUMNS}
    return render(request, "patrols/prevention/crime_import.html", context)


@login_required
@require_GET
def crime_import_template(request: HttpRequest) -> HttpResponse:
    """An empty table to fill: the columns' names in the reader's language, as Excel opens a CSV (";", BOM)."""
    _require_keeper(request.user)
    out = io.StringIO()
    csv.writer(out, delimiter=";").writerow([str(column.label) for column in crime_counts.COLUMNS])
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="crime-counts-template.csv"'
    return response
