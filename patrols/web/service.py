"""A volunteer's service: "My service" (`/service/`: the ledger of this quarter and this year, the record book by
month, the rewards granted, the certificates) and the same page of one volunteer for the police
(`/volunteers/<id>/service/`, in scope, else 404), with the record book as XLSX from each.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from ..choices import OutcomeCode
from ..clock import local_today
from ..models import User, Volunteer
from ..services import record_book
from ..services.ledger import OUTCOMES, Ledger, by_month, ledger_for, quarter_bounds, rewards_between
from ..services.nominations import current_quarter, period_label
from .dashboard import XLSX


def _own(user: User) -> Volunteer:
    """The signed-in person's own volunteer record; 404 for an account without one."""
    volunteer = getattr(user, "volunteer", None)
    if volunteer is None:
        raise Http404
    return Volunteer.objects.select_related("district").get(pk=volunteer.pk)


def _in_scope(user: User, pk: int) -> Volunteer:
    return get_object_or_404(Volunteer.objects.visible_to(user).select_related("district"), pk=pk)


@dataclass
class _Figures:
    """One ledger as the page shows it: the figures, and the verified reports in the order of the outcomes."""

    ledger: Ledger
    reports: list[tuple[str, int]]


def _figures(ledger: Ledger) -> _Figures:
    return _Figures(ledger, [(OutcomeCode(code).label, ledger.reports.get(code, 0)) for code in OUTCOMES])


def _page(request: HttpRequest, volunteer: Volunteer) -> HttpResponse:
    today = local_today()
    year, quarter = current_quarter(today)
    months = [(datetime.date(y, m, 1), _figures(ledger)) for (y, m), ledger in reversed(by_month(volunteer.pk).items())]
    rewards = list(reversed(rewards_between(volunteer.pk)))
    for reward in rewards:
        reward.period = period_label(reward.nomination.year, reward.nomination.quarter)
    return render(
        request,
        "patrols/service/page.html",
        {
            "v": volunteer,
            "volunteer": volunteer,
            "own": volunteer.user_id == request.user.pk,
            "quarter_label": period_label(year, quarter),
            "quarter": _figures(ledger_for(volunteer.pk, *quarter_bounds(year, quarter))),
            "year": year,
            "this_year": _figures(ledger_for(volunteer.pk, datetime.date(year, 1, 1), today)),
            "months": months,
            "outcomes": [OutcomeCode(code).label for code in OUTCOMES],
            "rewards": rewards,
        },
    )


def _record_book(volunteer: Volunteer) -> HttpResponse:
    response = HttpResponse(record_book.record_book_xlsx(volunteer), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, record_book.record_book_filename(volunteer))
    return response


@login_required
@require_GET
def my_service(request: HttpRequest) -> HttpResponse:
    return _page(request, _own(request.user))


@login_required
@require_GET
def my_record_book(request: HttpRequest) -> HttpResponse:
    return _record_book(_own(request.user))


@login_required
@require_GET
def volunteer_service(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _in_scope(request.user, pk))


@login_required
@require_GET
def volunteer_record_book(request: HttpRequest, pk: int) -> HttpResponse:
    return _record_book(_in_scope(request.user, pk))
