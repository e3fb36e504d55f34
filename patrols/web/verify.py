"""The inspector's verification queue (`/verify/`) and the report page (`/reports/<id>/`).

Reads go through `scope`: a report outside the user's scope answers 404. Every decision is one of reporting's
services, which hold the rules and write the history; a refused decision changes nothing and says why.
Chiefs and analysts read the queue and the reports of their scope but decide nothing (403 on a decision).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from ..choices import AccessChannel, ReportFlag, ReportStatus
from ..models import Report
from ..scope import (
    districts_in_scope,
    is_police,
    manageable_districts,
    sees_third_party_details,
)
from ..services import audit, reporting
from ..services.attendance import distance_text
from .escalation import escalation_context
from .forms import saved
from .verify_forms import QueueFilterForm, ReportActionForm

QUEUE_PAGE_SIZE = 25
_REPORT_RELATIONS = ("reporter", "category", "outcome", "district", "shift__zone", "verified_by", "duplicate_of")
_DISTRICT_NAMES = ("id", "code", "name_kk", "name_ru", "name_en")


@dataclass
class Twin:
    """A report the flag names as a likely duplicate; `status` is empty when it is outside the user's scope."""

    pk: int
    status: str = ""
    duplicate_of: int | None = None

    @property
    def visible(self) -> bool:
        return bool(self.status)

    @property
    def status_label(self) -> str:
        return ReportStatus(self.status).label if self.status else ""

    @property
    def may_stand_for_others(self) -> bool:
        """A rejected report is no original (reporting refuses it); one that is a duplicate leads to its original."""
        return self.visible and (self.status != ReportStatus.REJECTED or self.duplicate_of is not None)


@dataclass
class FlagView:
    code: str
    label: str
    detail: str = ""
    twins: list[Twin] = field(default_factory=list)


def _local(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "d.m.Y H:i")


def _twin_ids(reports) -> set[int]:
    return {
        pk
        for report in reports
        for flag in report.flags or []
        if flag.get("code") == ReportFlag.LIKELY_DUPLICATE
        for pk in flag.get("reports", [])
    }


def _visible_twins(user, ids: set[int]) -> dict[int, tuple[str, int | None]]:
    """Status of the named twins the user may open, in one query; the others stay numbers without a link."""
    if not ids:
        return {}
    rows = Report.objects.visible_to(user).filter(pk__in=ids).values_list("pk", "status", "duplicate_of_id")
    return {pk: (status, original) for pk, status, original in rows}


def _flag_detail(flag: dict) -> str:
    code = flag.get("code")
    if code == ReportFlag.OUTSIDE_ZONE and "distance_m" in flag:
        return _("%(distance)s from the shift's zone") % {"distance": distance_text(flag["distance_m"])}
    if code == ReportFlag.TOO_FAST and "km" in flag:
        km = formats.number_format(flag["km"], decimal_pos=1)
        if flag.get("minutes", 0) <= 0:
            return _("%(km)s km from the previous position at the same moment") % {"km": km}
        return _("%(km)s km in %(minutes)s min from the previous position") % {"km": km, "minutes": flag["minutes"]}
    return ""


def describe_flags(flags, twins: dict[int, tuple[str, int | None]]) -> list[FlagView]:
    """The report's flags with their translated labels and details, for the templates."""
    views = []
    for flag in flags or []:
        code = flag.get("code", "")
        label = ReportFlag(code).label if code in ReportFlag.values else code
        named = [Twin(pk, *twins.get(pk, ("", None))) for pk in flag.get("reports", [])]
        views.append(FlagView(code=code, label=label, detail=_flag_detail(flag), twins=named))
    return views


def _report_feature(report: Report, *, next_url: str = "") -> dict:
    url = reverse("report-detail", args=[report.pk])
    if next_url:
        url = f"{url}?{urlencode({'next': next_url})}"
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [report.location.x, report.location.y]},
        "properties": {
            "kind": "report",
            "url": url,
            "title": _("Report No. %(number)d") % {"number": report.pk},
            "lines": [report.category.name, report.outcome.name, _local(report.occurred_at)],
            "flagged": bool(report.flags),
        },
    }


def _safe_next(request, target: str | None) -> str:
    """Where to go back after a decision: a page of this site only."""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else ""


@login_required
@require_GET
def verify_queue(request):
    """Pending reports of the user's districts, oldest first, with their flags, on a list and a map."""
    user = request.user
    if not is_police(user):
        raise PermissionDenied
    keeps = manageable_districts(user)
    can_decide = keeps.exists()
    if can_decide:
        pending, districts = reporting.report_queue(user), keeps
    else:
        # Chiefs and analysts read what waits in their scope, in the queue's order; nothing here is theirs to decide.
        pending = (
            Report.objects.visible_to(user)
            .filter(status=ReportStatus.SUBMITTED)
            .select_related("reporter", "category", "outcome", "district", "shift__zone")
            .order_by("created_at", "id")
        )
        districts = districts_in_scope(user)
    districts = districts.only(*_DISTRICT_NAMES).order_by("code")
    form = QueueFilterForm(request.GET or None, districts=districts)
    pending = form.apply(pending).defer("shift__zone__geometry").annotate(photo_count=Count("photos"))
    page = Paginator(pending, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    reports = list(page)
    twins = _visible_twins(user, _twin_ids(reports))
    here = request.get_full_path()
    for report in reports:
        report.flag_views = describe_flags(report.flags, twins)
    geojson = {"type": "FeatureCollection", "features": [_report_feature(r, next_url=here) for r in reports]}
    return render(
        request,
        "patrols/verify/queue.html",
        {
            "page": page,
            "reports": reports,
            "form": form,
            "show_district_filter": districts.count() > 1,
            "can_decide": can_decide,
            "geojson": geojson,
            "next": here,
        },
    )


@login_required
@require_POST
def verify_bulk(request):
    """Verify the selected reports one by one; say how many were verified and why the others were not."""
    user = request.user
    if not manageable_districts(user).exists():
        raise PermissionDenied
    back = _safe_next(request, request.POST.get("next")) or reverse("verify-queue")

    def numbers(name: str) -> set[int]:
        return {int(value) for value in request.POST.getlist(name) if value.isdigit()}

    # A flagged report's box is named `flagged`: "select all" leaves it alone, so it is only ever ticked on purpose.
    on_purpose = numbers("flagged")
    ids = sorted(numbers("reports") | on_purpose)
    if not ids:
        messages.error(request, _("Select at least one report to verify."))
        return redirect(back)
    found = Report.objects.verifiable_by(user).in_bulk(ids)
    result = reporting.report_bulk_verify(
        reports=[found[pk] for pk in ids if pk in found], by=user, flagged_on_purpose=on_purpose
    )
    skipped = result.skipped + [(pk, _("There is no such report in your districts.")) for pk in ids if pk not in found]
    if result.verified:
        messages.success(
            request,
            ngettext("%(count)d report was verified.", "%(count)d reports were verified.", result.verified)
            % {"count": result.verified},
        )
    if result.flagged_left_out:
        count = len(result.flagged_left_out)
        messages.warning(
            request,
            ngettext(
                "%(count)d flagged report was left out: check it and tick it on its own to verify it.",
                "%(count)d flagged reports were left out: check each and tick it on its own to verify it.",
                count,
            )
            % {"count": count},
        )
    for pk, reason in sorted(skipped):
        messages.warning(
            request, _("Report No. %(number)d was not verified: %(reason)s") % {"number": pk, "reason": reason}
        )
    return redirect(back)


def _visible_report(user, pk: int) -> Report:
    return get_object_or_404(Report.objects.visible_to(user).select_related(*_REPORT_RELATIONS), pk=pk)


def _offered_actions(report: Report) -> frozenset[str]:
    """Which decision forms the page shows for the report's status; the services decide and refuse the rest."""
    form = ReportActionForm
    if report.duplicate_of_id:
        return frozenset()
    return {
        ReportStatus.SUBMITTED: frozenset({form.VERIFY, form.REJECT, form.REQUEST_INFO, form.DUPLICATE}),
        ReportStatus.NEEDS_INFO: frozenset({form.VERIFY, form.REJECT, form.DUPLICATE}),
        ReportStatus.VERIFIED: frozenset({form.REJECT, form.DUPLICATE}),
        ReportStatus.REJECTED: frozenset({form.VERIFY}),
    }.get(report.status, frozenset())


def _detail_map(report: Report) -> dict:
    features = [_report_feature(report)]
    if report.shift_id is not None:
        zone = report.shift.zone
        features.insert(
            0,
            {
                "type": "Feature",
                "geometry": json.loads(zone.geometry.geojson),
                "properties": {"kind": "zone", "title": zone.name, "lines": [zone.get_kind_display()]},
            },
        )
    return {"type": "FeatureCollection", "features": features}


def _render_detail(request, report: Report, *, form: ReportActionForm | None = None):
    user = request.user
    police = is_police(user)
    is_reporter = report.reporter.user_id == user.pk
    can_decide = Report.objects.verifiable_by(user).filter(pk=report.pk).exists()
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    third_party = sees_third_party_details(user)
    if third_party:
        audit.report_third_party_shown(request, report, how=AccessChannel.WEB)
    context = {
        "report": report,
        "photos": report.photos.all(),
        "police": police,
        "flags": describe_flags(report.flags, _visible_twins(user, _twin_ids([report]))) if police else [],
        "third_party": third_party,
        "sees_note": police or is_reporter,
        "history": report.events.select_related("by").order_by("at", "id") if police else None,
        "duplicates": report.duplicates.order_by("id") if police else None,
        "can_decide": can_decide,
        "actions": _offered_actions(report) if can_decide else frozenset(),
        # The reporter answers a question through the report pages' own form (reports.report_answer).
        "mine": is_reporter,
        "form": form,
        "failed": form.data.get("action") if form is not None else "",
        "geojson": _detail_map(report),
        "next": next_url,
        **escalation_context(user, report),
    }
    return render(request, "patrols/verify/report_detail.html", context)


@login_required
@require_GET
def report_detail(request, pk: int):
    """Everything about one report, its flags and history, and the inspector's decisions."""
    return _render_detail(request, _visible_report(request.user, pk))


def _original(user, number: int | None) -> Report:
    if number is None:
        raise ValidationError({"original": _("Enter the number of the original report.")})
    original = Report.objects.visible_to(user).filter(pk=number).first()
    if original is None:
        raise ValidationError({"original": _("There is no report No. %(number)d in your scope.") % {"number": number}})
    return original


def _decide(data: dict, report: Report, user) -> str:
    """Call the service for the chosen decision; returns what to tell the user."""
    action, number = data["action"], {"number": report.pk}
    if action == ReportActionForm.VERIFY:
        reporting.report_verify(report=report, by=user)
        return _("Report No. %(number)d is verified.") % number
    if action == ReportActionForm.REJECT:
        reporting.report_reject(report=report, by=user, reason=data["reason"])
        return _("Report No. %(number)d is rejected.") % number
    if action == ReportActionForm.REQUEST_INFO:
        reporting.report_request_info(report=report, by=user, question=data["question"])
        return _("The question about report No. %(number)d was sent to the reporter.") % number
    marked = reporting.report_mark_duplicate(report=report, original=_original(user, data["original"]), by=user)
    return _("Report No. %(number)d is marked as a duplicate of No. %(original)d.") % {
        **number,
        "original": marked.duplicate_of_id,
    }


@login_required
@require_POST
def report_action(request, pk: int):
    """One inspector's decision on a report; on an error nothing changes and the page says why."""
    user = request.user
    report = _visible_report(user, pk)
    if not Report.objects.verifiable_by(user).filter(pk=report.pk).exists():
        raise PermissionDenied
    form = ReportActionForm(request.POST)
    message = saved(form, lambda data: _decide(data, report, user))
    if message is not None:
        messages.success(request, message)
        back = _safe_next(request, form.cleaned_data["next"])
        return redirect(back or reverse("report-detail", args=[report.pk]))
    return _render_detail(request, report, form=form)
