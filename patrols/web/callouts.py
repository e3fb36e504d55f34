"""Call-out pages: the inspector's form (`/callouts/new/`), the call-out with its answers arriving (`/callouts/<id>/`,
its list refreshed every 10 s from a small JSON endpoint), and the one-tap accept link of the message."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..choices import CallOutResult
from ..clock import LOCAL_TZ
from ..models import CallOut, Group, User, Zone
from ..scope import is_police, manageable_districts
from ..services import callouts
from .forms import saved
from .schedule_forms import ZoneChoiceField

POLL_SECONDS = 10


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class CallOutForm(forms.Form):
    """The API's field names; the time is the reader's local (Almaty) time."""

    zone = ZoneChoiceField(label=gettext_lazy("Zone"), queryset=Zone.objects.none())
    place = forms.CharField(
        label=gettext_lazy("Where exactly"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("For example: at the school gate. Empty: the zone's name."),
    )
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts at"), widget=DateTimeLocalInput, input_formats=["%Y-%m-%dT%H:%M"]
    )
    hours = forms.FloatField(label=gettext_lazy("For how many hours"), min_value=0.25, max_value=12, initial=2)
    needed = forms.IntegerField(
        label=gettext_lazy("People needed"), min_value=1, max_value=callouts.MAX_NEEDED, initial=5
    )
    groups = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Groups to ask"), queryset=Group.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["zone"].queryset = (
            Zone.objects.manageable_by(user).filter(is_archived=False).select_related("district").order_by("name")
        )
        self.fields["zone"].with_district = manageable_districts(user).count() > 1
        self.fields["groups"].queryset = Group.objects.manageable_by(user).filter(is_active=True).order_by("name")
        if not self.is_bound:
            soon = timezone.localtime(timezone.now(), LOCAL_TZ) + datetime.timedelta(hours=1)
            self.initial.setdefault("starts_at", soon.replace(minute=0, second=0, microsecond=0))

    def clean_starts_at(self):
        moment = self.cleaned_data["starts_at"]
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, LOCAL_TZ)


@login_required
@require_http_methods(["GET", "POST"])
def callout_new(request):
    """Ask the chosen groups for N people at a place and time."""
    if not manageable_districts(request.user).exists():
        raise PermissionDenied
    form = CallOutForm(request.POST or None, user=request.user)
    if request.method == "POST":
        callout = saved(
            form,
            lambda data: callouts.callout_create(
                by=request.user,
                zone=data["zone"],
                place=data["place"],
                starts_at=data["starts_at"],
                hours=data["hours"],
                needed=data["needed"],
                groups=data["groups"],
            ),
        )
        if callout is not None:
            messages.success(request, _("The call-out was sent to the volunteers of the chosen groups."))
            return redirect("callout-detail", pk=callout.pk)
    return render(request, "patrols/callouts/new.html", {"form": form})


def _visible(user, pk: int) -> CallOut:
    return get_object_or_404(CallOut.objects.visible_to(user).select_related("zone", "shift", "district"), pk=pk)


def _counts(callout: CallOut, answers: list[dict]) -> dict:
    return {
        "needed": callout.needed,
        "assigned": sum(1 for a in answers if a["result"] == CallOutResult.ASSIGNED),
        "waitlisted": sum(1 for a in answers if a["result"] == CallOutResult.WAITLISTED),
    }


@login_required
@require_GET
def callout_detail(request, pk: int):
    """The call-out; for the police the answers as they arrive, for a volunteer asked their own "I'm coming"."""
    callout = _visible(request.user, pk)
    answers = callouts.callout_answers(callout)
    volunteer = getattr(request.user, "volunteer", None)
    mine = callout.answers.filter(volunteer=volunteer).first() if volunteer else None
    context = {
        "callout": callout,
        "police": is_police(request.user),
        "answers": answers if is_police(request.user) else [],
        "counts": _counts(callout, answers),
        "mine": mine,
        "may_accept": volunteer is not None and mine is None and callout.starts_at > timezone.now(),
        "poll_seconds": POLL_SECONDS,
    }
    return render(request, "patrols/callouts/detail.html", context)


@login_required
@require_GET
def callout_answers_json(request, pk: int):
    """The answers as the page refreshes them: cheap, one query for the list."""
    callout = _visible(request.user, pk)
    answers = callouts.callout_answers(callout)
    rows = [
        {
            "volunteer": a["volunteer"],
            "accepted_at": timezone.localtime(a["accepted_at"]).strftime("%H:%M:%S"),
            "result": a["result"],
            "result_label": str(CallOutResult(a["result"]).label),
        }
        for a in answers
    ]
    return JsonResponse({**_counts(callout, answers), "answers": rows if is_police(request.user) else []})


@login_required
@require_POST
def callout_accept(request, pk: int):
    """A signed-in volunteer's "I'm coming" on the call-out's page."""
    callout = _visible(request.user, pk)
    volunteer = getattr(request.user, "volunteer", None)
    if volunteer is None:
        raise PermissionDenied
    try:
        answer, _created = callouts.callout_accept(callout=callout, volunteer=volunteer, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _accepted_text(answer.result))
    return redirect("callout-detail", pk=callout.pk)


def _accepted_text(result: str) -> str:
    if result == CallOutResult.ASSIGNED:
        return _("Thank you: you are on the shift. The inspector sees you are coming.")
    return _("All the seats are taken: you are on the waiting list and will be told if a seat frees up.")


@require_http_methods(["GET", "POST"])
def callout_accept_link(request, token: str):
    """No sign-in needed: the signed token names the call-out and the volunteer; only the button acts (mail
    scanners open links)."""
    try:
        callout, volunteer = callouts.accept_read(token)
    except ValidationError as error:
        return render(request, "patrols/callouts/accept.html", {"error": " ".join(error.messages)}, status=400)
    context = {"callout": callout}
    if request.method == "POST":
        try:
            answer, _created = callouts.accept_by_link(token)
        except ValidationError as error:
            context["error"] = " ".join(error.messages)
            return render(request, "patrols/callouts/accept.html", context, status=400)
        context["done"] = _accepted_text(answer.result)
    return render(request, "patrols/callouts/accept.html", context)
