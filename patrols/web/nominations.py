"""The pages of the quarterly nominations for rewards: the list (`/nominations/`: the inspector's districts', with
the button that opens this quarter's and the district's rules; the chief's region's, read only) and one nomination
(`/nominations/<id>/`: the people with their facts, the forms that change a draft, submit, revise and record the
commission's decision, the quarter's budget, and the PDF in Kazakh and Russian and the XLSX to download).

Reads come from `scope` (out of scope is 404, and so is the whole section for volunteers); writes go to
`services.nominations`, whose refusals are shown on the page.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from ..choices import NominationStatus, RewardDecision, RewardKind
from ..models import District, Nomination, NominationItem, User, Volunteer
from ..scope import districts_in_scope, is_police, manageable_districts
from ..services import nomination_print, nominations
from .forms import CodeChoiceField, DateInput, add_service_errors

PAGE_SIZE = 50
PDF_LANGUAGES = ("kk", "ru")
# Choosing a quarter to open: this one and the three before it (a nomination is often made after its quarter).
QUARTERS_OFFERED = 4


def _recent_quarters() -> list[tuple[str, str]]:
    year, quarter = nominations.current_quarter()
    offered = []
    for _step in range(QUARTERS_OFFERED):
        offered.append((nominations.quarter_code(year, quarter), nominations.period_label(year, quarter)))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return offered


def _amount_field() -> forms.DecimalField:
    return forms.DecimalField(
        label=gettext_lazy("Amount, MCI"),
        required=False,
        max_digits=12,
        decimal_places=2,
        help_text=gettext_lazy("For a cash reward only: more than 0 and at most 15 MCI."),
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )


def _merit_field() -> forms.CharField:
    return forms.CharField(
        label=gettext_lazy("Merit"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class OpenForm(forms.Form):
    district = CodeChoiceField(label=gettext_lazy("District"), queryset=District.objects.none(), to_field_name="code")
    quarter = forms.ChoiceField(label=gettext_lazy("Quarter"))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = manageable_districts(user).defer("boundary").order_by("code")
        self.fields["quarter"].choices = _recent_quarters()


class RulesForm(forms.Form):
    min_hours = forms.IntegerField(label=gettext_lazy("At least this many patrol hours"), min_value=0, max_value=10_000)
    min_prevented = forms.IntegerField(
        label=gettext_lazy("At least this many verified prevented offenses"), min_value=0, max_value=10_000
    )
    max_no_shows = forms.IntegerField(label=gettext_lazy("At most this many no-shows"), min_value=0, max_value=10_000)


class VolunteerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.full_name


class ItemAddForm(forms.Form):
    volunteer = VolunteerChoiceField(label=gettext_lazy("Volunteer"), queryset=Volunteer.objects.none())
    kind = forms.ChoiceField(label=gettext_lazy("Proposed reward"), choices=RewardKind.choices)
    amount_mci = _amount_field()
    merit = _merit_field()

    def __init__(self, *args, nomination: Nomination, **kwargs):
        super().__init__(*args, **kwargs)
        on_it = nomination.items.values("volunteer_id")
        self.fields["volunteer"].queryset = (
            nominations.district_volunteers(nomination.district)
            .exclude(pk__in=on_it)
            .order_by("last_name", "first_name")
        )


class ItemForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Proposed reward"), choices=RewardKind.choices)
    amount_mci = _amount_field()
    merit = _merit_field()


class DecideForm(forms.Form):
    """The protocol and, per person, the decision (`decision-<item id>`, with `kind-`, `amount_mci-` and `note-`
    for a changed one)."""

    protocol_number = forms.CharField(label=gettext_lazy("Protocol No."), max_length=40)
    protocol_date = forms.DateField(label=gettext_lazy("Protocol date"), widget=DateInput)

    def __init__(self, *args, items: list[NominationItem], **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"decision-{item.pk}"] = forms.ChoiceField(
                label=gettext_lazy("Decision"), choices=RewardDecision.choices, initial=RewardDecision.GRANTED
            )
            self.fields[f"kind-{item.pk}"] = forms.ChoiceField(
                label=gettext_lazy("Reward granted, when changed"),
                choices=[("", "—"), *RewardKind.choices],
                required=False,
            )
            self.fields[f"amount_mci-{item.pk}"] = _amount_field()
            self.fields[f"note-{item.pk}"] = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)

    def rows(self) -> list[tuple[NominationItem, dict]]:
        return [
            (item, {name: self[f"{name}-{item.pk}"] for name in ("decision", "kind", "amount_mci", "note")})
            for item in self.items
        ]

    def decisions(self) -> list[nominations.Decision]:
        data = self.cleaned_data
        return [
            nominations.Decision(
                item_id=item.pk,
                decision=data[f"decision-{item.pk}"],
                kind=data[f"kind-{item.pk}"],
                amount_mci=data[f"amount_mci-{item.pk}"],
                note=data[f"note-{item.pk}"],
            )
            for item in self.items
        ]


def _police_or_404(user) -> None:
    if not is_police(user):
        raise Http404


def _refused(request: HttpRequest, error: ValidationError | None = None, form: forms.Form | None = None) -> None:
    if error is not None:
        problems = error.messages
    else:
        problems = [message for errors in form.errors.values() for message in errors]
    messages.error(request, " ".join(problems))


@login_required
@require_GET
def nomination_list(request: HttpRequest) -> HttpResponse:
    """The nominations of the user's districts by quarter, newest first; for an inspector the button that opens a
    quarter's and the district's rules."""
    _police_or_404(request.user)
    found = (
        Nomination.objects.visible_to(request.user)
        .select_related("district")
        .defer("district__boundary", "district__centre")
        .annotate(people=Count("items"))
        .order_by("-year", "-quarter", "district__code", "-version")
    )
    district = request.GET.get("district") or ""
    if district:
        found = found.filter(district__code=district)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    for nomination in page:
        nomination.period_text = nominations.period_label(nomination.year, nomination.quarter)
    managed = list(manageable_districts(request.user).defer("boundary").order_by("code"))
    rules = [(place, RulesForm(initial=_rules_initial(place), auto_id=f"rules-{place.code}-%s")) for place in managed]
    context = {
        "page": page,
        "district": district,
        "districts": districts_in_scope(request.user).defer("boundary").order_by("code"),
        "open_form": OpenForm(user=request.user) if managed else None,
        "rules": rules,
    }
    return render(request, "patrols/nominations/list.html", context)


def _rules_initial(district: District) -> dict:
    rules = nominations.rules_for(district)
    return {"min_hours": rules.min_hours, "min_prevented": rules.min_prevented, "max_no_shows": rules.max_no_shows}


@login_required
@require_POST
def nomination_open(request: HttpRequest) -> HttpResponse:
    """Open the district's nomination for the chosen quarter (or go to the one already open)."""
    _police_or_404(request.user)
    form = OpenForm(request.POST, user=request.user)
    if not form.is_valid():
        _refused(request, form=form)
        return redirect("nomination-list")
    year, quarter = nominations.parse_quarter(form.cleaned_data["quarter"])
    try:
        nomination = nominations.nomination_open(
            district=form.cleaned_data["district"], year=year, quarter=quarter, by=request.user
        )
    except ValidationError as error:
        _refused(request, error)
        return redirect("nomination-list")
    return redirect("nomination-detail", pk=nomination.pk)


@login_required
@require_POST
def nomination_rules(request: HttpRequest, code: str) -> HttpResponse:
    """The district's rules for proposing a volunteer, set by its inspector."""
    district = get_object_or_404(manageable_districts(request.user).defer("boundary"), code=code)
    form = RulesForm(request.POST)
    if not form.is_valid():
        _refused(request, form=form)
        return redirect("nomination-list")
    try:
        nominations.recognition_rules_set(district=district, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("The rules for rewards of %(district)s were saved.") % {"district": district.name})
    return redirect("nomination-list")


def _visible(user, pk: int) -> Nomination:
    return get_object_or_404(
        Nomination.objects.visible_to(user)
        .select_related("district__region")
        .defer("district__boundary", "district__centre", "district__region__boundary", "district__region__centre"),
        pk=pk,
    )


def _managed(request: HttpRequest, pk: int) -> Nomination:
    """The nomination for a change: 404 out of scope; for someone who only reads it (the chief), 404 as well, since
    the page offers them no change."""
    nomination = _visible(request.user, pk)
    if not Nomination.objects.manageable_by(request.user).filter(pk=nomination.pk).exists():
        raise Http404
    return nomination


def _items(nomination: Nomination) -> list[NominationItem]:
    items = list(nomination.items.select_related("volunteer"))
    for item in items:
        item.results = nomination_print.results_text(item.facts or {})
    return items


@login_required
@require_GET
def nomination_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _visible(request.user, pk))


def _detail(request: HttpRequest, nomination: Nomination, decide_form: DecideForm | None = None) -> HttpResponse:
    items = _items(nomination)
    can_manage = Nomination.objects.manageable_by(request.user).filter(pk=nomination.pk).exists()
    draft = nomination.status == NominationStatus.DRAFT
    submitted = nomination.status == NominationStatus.SUBMITTED
    editing = can_manage and draft
    if editing:
        for item in items:
            item.form = ItemForm(
                initial={"kind": item.kind, "amount_mci": item.amount_mci, "merit": item.merit},
                auto_id=f"item{item.pk}-%s",
            )
    versions = (
        Nomination.objects.filter(district=nomination.district, year=nomination.year, quarter=nomination.quarter)
        .only("pk", "version", "status")
        .order_by("version")
    )
    context = {
        "nomination": nomination,
        "period": nominations.period_label(nomination.year, nomination.quarter),
        "items": items,
        "budget": nominations.nomination_budget(nomination, items),
        "rules": nominations.rules_for(nomination.district),
        "versions": list(versions),
        "can_manage": can_manage,
        "editing": editing,
        "add_form": ItemAddForm(nomination=nomination) if editing else None,
        "may_revise": can_manage and submitted,
        "decide_form": (decide_form or DecideForm(items=items)) if can_manage and submitted else None,
        "pdf_languages": PDF_LANGUAGES,
        "max_cash": nominations.MAX_CASH_MCI,
    }
    return render(request, "patrols/nominations/detail.html", context)


@login_required
@require_POST
def item_add(request: HttpRequest, pk: int) -> HttpResponse:
    nomination = _managed(request, pk)
    form = ItemAddForm(request.POST, nomination=nomination)
    if not form.is_valid():
        _refused(request, form=form)
        return redirect("nomination-detail", pk=nomination.pk)
    try:
        item = nominations.nomination_item_add(nomination=nomination, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("%(name)s is on the nomination.") % {"name": item.volunteer.full_name})
    return redirect("nomination-detail", pk=nomination.pk)


def _item_of(nomination: Nomination, item_pk: int) -> NominationItem:
    return get_object_or_404(nomination.items.select_related("volunteer", "nomination"), pk=item_pk)


@login_required
@require_POST
def item_set(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    nomination = _managed(request, pk)
    item = _item_of(nomination, item_pk)
    form = ItemForm(request.POST)
    if not form.is_valid():
        _refused(request, form=form)
        return redirect("nomination-detail", pk=nomination.pk)
    try:
        nominations.nomination_item_set(item=item, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("The proposal for %(name)s was saved.") % {"name": item.volunteer.full_name})
    return redirect(f"{nomination_url(nomination)}#item-{item.pk}")


def nomination_url(nomination: Nomination) -> str:
    return reverse("nomination-detail", args=[nomination.pk])


@login_required
@require_POST
def item_remove(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    nomination = _managed(request, pk)
    item = _item_of(nomination, item_pk)
    try:
        nominations.nomination_item_remove(item=item, by=request.user)
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("%(name)s was taken off the nomination.") % {"name": item.volunteer.full_name})
    return redirect("nomination-detail", pk=nomination.pk)


@login_required
@require_POST
def nomination_submit(request: HttpRequest, pk: int) -> HttpResponse:
    nomination = _managed(request, pk)
    try:
        nominations.nomination_submit(nomination=nomination, by=request.user)
    except ValidationError as error:
        _refused(request, error)
    else:
        messages.success(request, _("The nomination was submitted to the commission. It can no longer be changed."))
    return redirect("nomination-detail", pk=nomination.pk)


@login_required
@require_POST
def nomination_revise(request: HttpRequest, pk: int) -> HttpResponse:
    nomination = _managed(request, pk)
    try:
        revision = nominations.nomination_revise(nomination=nomination, by=request.user)
    except ValidationError as error:
        _refused(request, error)
        return redirect("nomination-detail", pk=nomination.pk)
    messages.success(
        request,
        _("Version %(version)d was made: change it and submit it again. Version %(old)d stays as it was.")
        % {"version": revision.version, "old": nomination.version},
    )
    return redirect("nomination-detail", pk=revision.pk)


@login_required
@require_POST
def nomination_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """The commission's decision: on a refusal the page again, with what was typed and why."""
    nomination = _managed(request, pk)
    items = _items(nomination)
    form = DecideForm(request.POST, items=items)
    if form.is_valid():
        try:
            nominations.nomination_decide(
                nomination=nomination,
                by=request.user,
                protocol_number=form.cleaned_data["protocol_number"],
                protocol_date=form.cleaned_data["protocol_date"],
                decisions=form.decisions(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The commission's decision was recorded; each volunteer is told."))
            return redirect("nomination-detail", pk=nomination.pk)
    return _detail(request, nomination, decide_form=form)


@login_required
@require_GET
def nomination_pdf(request: HttpRequest, pk: int, language: str) -> HttpResponse:
    if language not in PDF_LANGUAGES:
        raise Http404
    nomination = _visible(request.user, pk)
    response = HttpResponse(
        nomination_print.nomination_pdf(nomination, language=language), content_type="application/pdf"
    )
    response["Content-Disposition"] = content_disposition_header(
        False, nomination_print.filename(nomination, "pdf", language)
    )
    return response


@login_required
@require_GET
def nomination_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    nomination = _visible(request.user, pk)
    response = HttpResponse(
        nomination_print.nomination_xlsx(nomination, language=request.LANGUAGE_CODE),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = content_disposition_header(True, nomination_print.filename(nomination, "xlsx"))
    return response
