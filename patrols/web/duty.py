"""The live board of who is on duty now (`/duty/`), its JSON twin the page polls, and the volunteer's one-tap consent
to share their position while on duty (and to stop). Data from `selectors.duty`, writes through `services.duty`."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ..scope import sees_duty_board
from ..selectors.duty import duty_board
from ..services import duty


def _board_or_404(request: HttpRequest) -> dict:
    if not sees_duty_board(request.user):
        raise Http404
    return duty_board(request.user)


def _features(board: dict) -> list[dict]:
    """The people on duty and the open alarms as GeoJSON points for the board's map (names are text, never HTML)."""
    features = []
    for alarm in board["alarms"]:
        if alarm["lat"] is not None:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [alarm["lng"], alarm["lat"]]},
                    "properties": {"name": alarm["volunteer"], "role": "alarm", "id": f"alarm-{alarm['id']}"},
                }
            )
    for person in board["on_duty"]:
        if person["lat"] is not None:
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [person["lng"], person["lat"]]},
                    "properties": {
                        "name": person["volunteer"],
                        "role": "stale" if person["stale"] else "on_duty",
                        "id": f"assignment-{person['assignment']}",
                        "url": reverse("shift-detail", args=[person["shift"]]),
                    },
                }
            )
    return features


@login_required
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    data = _board_or_404(request)
    return render(
        request,
        "patrols/duty_board.html",
        {"board": data, "map_data": {"type": "FeatureCollection", "features": _features(data)}},
    )


@login_required
@require_GET
def board_now(request: HttpRequest) -> JsonResponse:
    """What the open board polls: its list as the server renders it (translated, formatted) and its map points."""
    data = _board_or_404(request)
    parts = {
        part: render_to_string(f"includes/duty_{part}.html", {"board": data}, request=request)
        for part in ("alarms", "list")
    }
    response = JsonResponse({"parts": parts, "features": _features(data), "count": len(data["on_duty"])})
    response["Cache-Control"] = "no-store"
    return response


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("home")


def _volunteer_or_403(request: HttpRequest):
    volunteer = getattr(request.user, "volunteer", None)
    if volunteer is None:
        raise PermissionDenied
    return volunteer


@login_required
@require_POST
def consent_give(request: HttpRequest) -> HttpResponse:
    duty.duty_consent_give(volunteer=_volunteer_or_403(request), by=request.user)
    messages.success(request, _("Thank you: while you are checked in and this page is open, your position is shared."))
    return redirect(_back(request))


@login_required
@require_POST
def consent_withdraw(request: HttpRequest) -> HttpResponse:
    duty.duty_consent_withdraw(volunteer=_volunteer_or_403(request), by=request.user)
    messages.success(request, _("Your position is no longer shared. You can share it again at any time."))
    return redirect(_back(request))
