"""The alarm page for the inspector and the group leader: where, who, the history, and the answers."""

import json

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ..models import SosAlarm
from ..services import sos


class ResolveForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("How did it end?"), max_length=sos.NOTE_LIMIT, widget=forms.Textarea(attrs={"rows": 3})
    )


def _visible_alarm(user, pk: int) -> SosAlarm:
    alarms = SosAlarm.objects.visible_to(user).select_related(
        "volunteer", "district", "shift__zone", "group__leader", "acknowledged_by", "acknowledged_unit"
    )
    return get_object_or_404(alarms, pk=pk)


def _map_data(alarm: SosAlarm) -> dict:
    """The zone and the volunteer's position, for the map of the page."""
    shapes = []
    if alarm.shift_id:
        shapes.append((alarm.shift.zone.geometry, alarm.shift.zone.name))
    if alarm.point:
        shapes.append((alarm.point, alarm.volunteer.full_name))
    features = [
        {"type": "Feature", "geometry": json.loads(shape.geojson), "properties": {"name": name}}
        for shape, name in shapes
    ]
    return {"type": "FeatureCollection", "features": features}


def _render(request, alarm: SosAlarm, *, form: ResolveForm | None = None, status: int = 200):
    user = request.user
    context = {
        "alarm": alarm,
        "events": alarm.events.select_related("by", "unit"),
        "map_data": _map_data(alarm),
        "responds": sos.may_respond(user, alarm),
        "goes": sos.may_go(user, alarm),
        "own": alarm.user_id == user.pk,
        "form": form or ResolveForm(),
    }
    return render(request, "patrols/sos_alarm.html", context, status=status)


@login_required
def alarm_detail(request, pk: int):
    return _render(request, _visible_alarm(request.user, pk))


@login_required
@require_POST
def alarm_action(request, pk: int, action: str):
    """Acknowledge, on my way, resolve (with a note) or the volunteer's false alarm; the page says why if refused."""
    user, alarm = request.user, _visible_alarm(request.user, pk)
    allowed = {
        "acknowledge": sos.may_respond(user, alarm),
        "on-my-way": sos.may_go(user, alarm),
        "resolve": sos.may_respond(user, alarm),
        "cancel": alarm.user_id == user.pk,
    }
    if not allowed.get(action):
        raise PermissionDenied
    form = ResolveForm(request.POST) if action == "resolve" else None
    try:
        if action == "acknowledge":
            sos.sos_acknowledge(alarm=alarm, by=user)
            messages.success(request, _("You have the alarm: it goes no further."))
        elif action == "on-my-way":
            sos.sos_on_my_way(alarm=alarm, by=user)
            messages.success(request, _("The volunteer is told you are on the way."))
        elif action == "cancel":
            sos.sos_cancel(alarm=alarm, by=user)
            messages.success(request, _("The alarm is called off."))
        else:
            if not form.is_valid():
                return _render(request, alarm, form=form, status=400)
            sos.sos_resolve(alarm=alarm, by=user, note=form.cleaned_data["note"])
            messages.success(request, _("The alarm is resolved."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("sos-alarm", pk=alarm.pk)
