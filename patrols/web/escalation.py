"""The report page's "Needs the police now": a confirm step, then the report goes to the district's duty unit."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from ..choices import EscalationReason
from ..models import Report
from ..services import escalation as escalations
from .forms import saved


class EscalateForm(forms.Form):
    """The same field names as `POST /api/v1/reports/{id}/escalate/`."""

    reason = forms.ChoiceField(
        label=gettext_lazy("Why are the police needed now?"), choices=EscalationReason.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=gettext_lazy("What the officers should know (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def escalation_context(user, report: Report) -> dict:
    """For the report page: the newest escalation with its history, and whether this reader may escalate now."""
    escalation = report.escalations.select_related("unit").first()
    live = escalation is not None and escalation.status in escalations.LIVE_STATUSES
    return {
        "escalation": escalation,
        "escalation_events": escalation.events.order_by("at", "id") if escalation else [],
        "can_escalate": not live and escalations.may_escalate(user, report),
    }


@login_required
@require_http_methods(["GET", "POST"])
def report_escalate(request, pk: int):
    """GET: the confirm step; POST: send. Out of scope is 404; in scope but not theirs to send is 403."""
    report = get_object_or_404(Report.objects.visible_to(request.user).select_related("reporter", "shift"), pk=pk)
    if not escalations.may_escalate(request.user, report):
        raise PermissionDenied
    form = EscalateForm(request.POST or None)
    if request.method == "POST":
        done = saved(
            form,
            lambda data: escalations.report_escalate(
                report=report, by=request.user, reason=data["reason"], note=data["note"]
            ),
        )
        if done is not None:
            escalation, created = done
            messages.success(
                request,
                _("Report No. %(number)d is being sent to %(unit)s.")
                % {"number": report.pk, "unit": escalation.unit.name}
                if created
                else _("This report was already sent to the duty unit: its state is below."),
            )
            return redirect("report-detail", pk=report.pk)
    live = report.escalations.filter(status__in=escalations.LIVE_STATUSES).first()
    return render(request, "patrols/escalation/confirm.html", {"report": report, "form": form, "live": live})
