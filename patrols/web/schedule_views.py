"""Pages of the patrol plan: the week of shifts, a shift with its roster, one-tap sign-up and check-in on the phone,
zones on the map, and each volunteer's private calendar feed.

Reads come from `Model.objects.visible_to(user)`, writes from `services.scheduling`; out of scope is 404.
"""

import datetime
import json
import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404, HttpResponse
from django.http.request import split_domain_port
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from ..choices import SEAT_STATUSES, AssignmentStatus, CheckInConfirmation, ShiftStatus, VolunteerStatus
from ..clock import LOCAL_TZ
from ..models import Assignment, CalendarFeed, Shift, Volunteer, Zone
from ..scope import districts_in_scope, is_police, manageable_districts
from ..selectors.duty import last_positions
from ..selectors.schedule import attendance_actions, seats_taken, shifts_with_staffing
from ..services import attendance, duty, scheduling
from ..services.geometry import point_from
from ..validators import FIRST_YEAR, LAST_YEAR
from . import ical
from . import schedule_forms as forms
from .forms import keep_typed, saved

# Rows that get the inspector's "did not come" / "excuse" buttons; scheduling.attendance_mark decides when pressed.
MARKABLE_STATUSES = frozenset({AssignmentStatus.SIGNED_UP, AssignmentStatus.NO_SHOW, AssignmentStatus.EXCUSED})
OPEN_SHIFTS_DAYS = 28
OPEN_SHIFTS_LIMIT = 50
WEEK_PATTERN = re.compile(r"(\d{4})-W(\d{1,2})")
# Heavy map columns that list pages never show.
LIST_DEFERRED = ("zone__geometry", "district__boundary", "district__centre")


def _require_planner(user) -> None:
    """Planning pages are for those who keep a district; readers get 403 as on the other create pages."""
    if not manageable_districts(user).exists():
        raise PermissionDenied


def _managed_or_404(queryset, user, pk: int):
    return get_object_or_404(queryset.manageable_by(user), pk=pk)


def _next_url(request, default: str) -> str:
    """Where a one-tap form returns to: the page it was on (only this site), else `default`."""
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


def _show_error(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


def _hhmm(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def _staffing(shift: Shift, seats: int) -> str:
    """low: below the minimum; full: every seat taken; enough: in between."""
    if seats < shift.min_volunteers:
        return "low"
    if seats >= shift.max_volunteers:
        return "full"
    return "enough"


def _decorate(shift: Shift) -> Shift:
    shift.staffing = _staffing(shift, shift.signed_up)
    shift.is_full = shift.signed_up >= shift.max_volunteers
    shift.is_cancelled = shift.status == ShiftStatus.CANCELLED
    return shift


def _district_choice(request):
    """The districts in scope for a filter select (only worth showing when there are several), and the chosen one."""
    districts = list(districts_in_scope(request.user).defer("boundary", "centre"))
    code = request.GET.get("district") or ""
    chosen = next((d for d in districts if d.code == code), None)
    return (districts if len(districts) > 1 else []), chosen


# The week of shifts (police roles) and "my shifts" (volunteers)


def _week_monday(value: str | None) -> datetime.date:
    """The Monday of an ISO week like 2026-W49; this week for anything else (also a week outside the data's years,
    whose neighbours would not even be dates)."""
    match = WEEK_PATTERN.fullmatch(value or "")
    if match and FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
        try:
            return datetime.date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            pass
    today = timezone.localdate()
    return today - datetime.timedelta(days=today.weekday())


def _week_label(day: datetime.date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


@login_required
def shift_list(request):
    """Police roles plan and watch a week of their districts' shifts; volunteers see theirs and the open ones."""
    if is_police(request.user):
        return _week_calendar(request)
    return _my_shifts(request)


def _week_calendar(request):
    user = request.user
    monday = _week_monday(request.GET.get("week"))
    start = datetime.datetime.combine(monday, datetime.time.min, tzinfo=LOCAL_TZ)
    districts, chosen = _district_choice(request)
    shifts = (
        shifts_with_staffing(Shift.objects.visible_to(user), user)
        .filter(starts_at__gte=start, starts_at__lt=start + datetime.timedelta(days=7))
        .select_related("zone", "district")
        .defer(*LIST_DEFERRED)
        .order_by("starts_at", "id")
    )
    if chosen is not None:
        shifts = shifts.filter(district=chosen)
    today = timezone.localdate()
    days = [
        {"date": day, "is_today": day == today, "shifts": []}
        for day in (monday + datetime.timedelta(days=n) for n in range(7))
    ]
    total = 0
    for shift in shifts:
        # A shift belongs to the day it starts on, also when it ends after midnight.
        days[(timezone.localtime(shift.starts_at).date() - monday).days]["shifts"].append(_decorate(shift))
        total += 1
    return render(
        request,
        "patrols/shift_week.html",
        {
            "days": days,
            "total": total,
            "monday": monday,
            "sunday": monday + datetime.timedelta(days=6),
            "week": _week_label(monday),
            "previous_week": _week_label(monday - datetime.timedelta(days=7)),
            "next_week": _week_label(monday + datetime.timedelta(days=7)),
            "this_week": _week_label(today),
            "districts": districts,
            "chosen_district": chosen,
            "show_district": len(districts) > 1 and chosen is None,
            "can_plan": manageable_districts(user).exists(),
        },
    )


def _my_shifts(request):
    user = request.user
    volunteer = getattr(user, "volunteer", None)
    if volunteer is None:
        return render(request, "patrols/shift_mine.html", {"volunteer": None})
    now = timezone.now()
    coming = Q(status__in=[AssignmentStatus.SIGNED_UP, AssignmentStatus.WAITLISTED], shift__ends_at__gt=now)
    on_patrol = Q(status=AssignmentStatus.CHECKED_IN, shift__ends_at__gt=now - attendance.close_grace())
    mine = (
        Assignment.objects.visible_to(user)
        .filter(volunteer=volunteer)
        .filter(coming | on_patrol)
        .select_related("shift__zone", "shift__district")
        .defer(*(f"shift__{name}" for name in LIST_DEFERRED))
        .order_by("shift__starts_at", "id")
    )
    taken = Assignment.objects.filter(volunteer=volunteer).exclude(status=AssignmentStatus.CANCELLED)
    invited = Shift.groups.through.objects.filter(
        shift_id=OuterRef("pk"), group__memberships__volunteer=volunteer, group__memberships__left_on=None
    )
    open_shifts = (
        shifts_with_staffing(Shift.objects.visible_to(user), user)
        .filter(Exists(invited), status=ShiftStatus.SCHEDULED, starts_at__gt=now)
        .filter(starts_at__lte=now + datetime.timedelta(days=OPEN_SHIFTS_DAYS))
        .exclude(pk__in=taken.values("shift_id"))
        .select_related("zone", "district")
        .defer(*LIST_DEFERRED)
        .order_by("starts_at", "id")[:OPEN_SHIFTS_LIMIT]
    )
    # Read only: the address is made by a POST (calendar_renew makes the first one too), never by opening the page.
    feed = CalendarFeed.objects.filter(volunteer=volunteer).first()
    feed_url = request.build_absolute_uri(reverse("calendar-feed", kwargs={"token": feed.token})) if feed else ""
    return render(
        request,
        "patrols/shift_mine.html",
        {
            "volunteer": volunteer,
            "mine": [attendance_actions(a, now) for a in mine],
            "open_shifts": [_decorate(s) for s in open_shifts],
            "may_patrol": volunteer.status == VolunteerStatus.REGISTERED,
            "feed_url": feed_url,
            "webcal_url": "webcal://" + feed_url.split("://", 1)[1] if feed_url else "",
        },
    )


# One shift


def _field_label(name: str) -> str:
    try:
        return str(Shift._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _event_detail(event) -> str:
    """The details of a history entry, in words."""
    details = event.details or {}
    if details.get("reason"):
        return details["reason"]
    if details.get("changed"):
        return _("Changed: %(fields)s") % {"fields": ", ".join(_field_label(name) for name in details["changed"])}
    if "minutes_before" in details:
        return _("From %(before)s to %(after)s hours") % {
            "before": formats.number_format(details["minutes_before"] / 60, decimal_pos=2),
            "after": formats.number_format(details.get("minutes", 0) / 60, decimal_pos=2),
        }
    if "attempt" in details:
        return _("Position accurate only to %(accuracy)s (try %(attempt)d)") % {
            "accuracy": attendance.distance_text(details.get("accuracy_m") or 0),
            "attempt": details["attempt"],
        }
    if details.get("distance_m") is not None:
        if details.get("outside"):
            return _("%(distance)s outside the zone") % {"distance": attendance.distance_text(details["distance_m"])}
        return _("Inside the zone")
    if details.get("late"):
        return _("Cancelled late")
    if "seats" in details:
        return _("%(seats)d on the shift, %(minimum)d needed") % {
            "seats": details["seats"],
            "minimum": details.get("minimum", 0),
        }
    if details.get("series"):
        return _("Generated from a weekly series")
    if details.get("automatic"):
        return _("Closed automatically after the shift")
    return details.get("note") or ""


def _shape_features(shift: Shift, roster) -> dict:
    """The zone and, for those who see the roster, where people checked in: GeoJSON for the shift's map."""
    features = [
        {
            "type": "Feature",
            "geometry": _geojson(shift.zone.geometry),
            "properties": {"name": shift.zone.name, "role": "zone"},
        }
    ]
    checked_in = [a for a in roster or [] if a.status == AssignmentStatus.CHECKED_IN]
    for assignment_id, (point, _at) in last_positions(checked_in).items():
        name = next(a.volunteer.full_name for a in checked_in if a.pk == assignment_id)
        features.append(
            {"type": "Feature", "geometry": _geojson(point), "properties": {"name": name, "role": "position"}}
        )
    for assignment in roster or []:
        if assignment.check_in_point is not None:
            features.append(
                {
                    "type": "Feature",
                    "geometry": _geojson(assignment.check_in_point),
                    "properties": {
                        "name": assignment.volunteer.full_name,
                        "role": "outside" if assignment.check_in_outside else "inside",
                    },
                }
            )
    return {"type": "FeatureCollection", "features": features}


def _geojson(geometry) -> dict:
    return json.loads(geometry.geojson)


@login_required
def shift_detail(request, pk: int):
    user = request.user
    shift = get_object_or_404(
        Shift.objects.visible_to(user)
        .select_related("zone", "district", "inspector", "series")
        .defer("district__boundary"),
        pk=pk,
    )
    now = timezone.now()
    police = is_police(user)
    can_manage = Shift.objects.manageable_by(user).filter(pk=shift.pk).exists()
    volunteer = getattr(user, "volunteer", None)
    invited = list(shift.groups.order_by("name"))
    led = [group for group in invited if volunteer is not None and group.leader_id == volunteer.pk]
    is_open = shift.status == ShiftStatus.SCHEDULED and shift.starts_at > now
    seats = seats_taken(shift)

    roster = waiting = None
    if police or led:
        visible = list(
            Assignment.objects.visible_to(user)
            .filter(shift=shift)
            .select_related("volunteer", "signed_up_by")
            .order_by("created_at", "id")
        )
        roster = [a for a in visible if a.status != AssignmentStatus.WAITLISTED]
        waiting = [a for a in visible if a.status == AssignmentStatus.WAITLISTED]
        for assignment in visible:
            assignment.can_mark = can_manage and assignment.status in MARKABLE_STATUSES
            assignment.can_confirm = can_manage and assignment.confirmation != CheckInConfirmation.NOT_NEEDED
            assignment.can_correct = can_manage and assignment.status == AssignmentStatus.COMPLETED
            assignment.can_withdraw = is_open and assignment.status in {
                AssignmentStatus.SIGNED_UP,
                AssignmentStatus.WAITLISTED,
            }

    mine = None
    if volunteer is not None:
        mine = shift.assignments.filter(volunteer=volunteer).exclude(status=AssignmentStatus.CANCELLED).first()
        if mine is not None:
            mine.shift = shift
            attendance_actions(mine, now)

    on_patrol = mine is not None and mine.status == AssignmentStatus.CHECKED_IN

    member_form = None
    if is_open and (led or can_manage):
        on_shift = shift.assignments.exclude(status=AssignmentStatus.CANCELLED).values("volunteer_id")
        members = (
            Volunteer.objects.visible_to(user)
            .filter(
                memberships__group__in=invited if can_manage else led,
                memberships__left_on=None,
                status=VolunteerStatus.REGISTERED,
            )
            .exclude(pk__in=on_shift)
            .distinct()
            .order_by("last_name", "first_name")
        )
        if volunteer is not None:
            members = members.exclude(pk=volunteer.pk)
        member_form = forms.MemberSignupForm(members=members)

    history = None
    if police:
        history = list(shift.events.select_related("by", "volunteer"))
        for event in history:
            event.detail = _event_detail(event)

    return render(
        request,
        "patrols/shift_detail.html",
        {
            "shift": shift,
            "invited": invited,
            "seats": seats,
            "staffing": _staffing(shift, seats),
            "waiting_count": shift.assignments.filter(status=AssignmentStatus.WAITLISTED).count(),
            "police": police,
            "can_manage": can_manage,
            "is_open": is_open,
            "roster": roster,
            "waiting": waiting,
            "mine": mine,
            "may_sign_up": volunteer is not None and mine is None and is_open,
            "member_form": member_form if member_form and member_form.fields["volunteer"].queryset.exists() else None,
            "history": history,
            "map_data": _shape_features(shift, roster),
            "duty_consent": duty.consent_record(volunteer) if on_patrol else None,
            "retention_days": settings.POSITION_RETENTION_DAYS,
            "started": shift.starts_at <= now,
        },
    )


# Planning: one-off shifts, weekly series, cancelling


def _initial_from_query(request) -> dict:
    """A day column's "+" link passes the day (and a zone page may pass the zone)."""
    initial = {}
    try:
        if request.GET.get("date"):
            initial["date"] = datetime.date.fromisoformat(request.GET["date"])
    except ValueError:
        pass
    if (request.GET.get("zone") or "").isdigit():
        initial["zone"] = int(request.GET["zone"])
    return initial


@login_required
def shift_create(request):
    _require_planner(request.user)
    form = forms.ShiftForm(request.POST or None, user=request.user, initial=_initial_from_query(request))
    shift = saved(form, lambda data: scheduling.shift_create(by=request.user, **form.plan()), form.error_aliases)
    if shift is not None:
        messages.success(request, _("The shift was planned."))
        return redirect("shift-detail", pk=shift.pk)
    return render(request, "patrols/shift_form.html", {"form": form, "title": _("New shift"), "shift": None})


@login_required
def shift_edit(request, pk: int):
    shift = _managed_or_404(Shift.objects.select_related("zone"), request.user, pk)
    starts, ends = timezone.localtime(shift.starts_at), timezone.localtime(shift.ends_at)
    current = {
        "zone": shift.zone,
        "starts_at": shift.starts_at,
        "ends_at": shift.ends_at,
        "min_volunteers": shift.min_volunteers,
        "max_volunteers": shift.max_volunteers,
        "groups": set(shift.groups.all()),
        "inspector": shift.inspector,
        "briefing": shift.briefing,
    }
    initial = {
        **current,
        "zone": shift.zone_id,
        "date": starts.date(),
        "start_time": starts.time(),
        "end_time": ends.time(),
        "groups": list(current["groups"]),
        "inspector": shift.inspector_id,
    }
    form = forms.ShiftForm(request.POST or None, user=request.user, initial=initial)
    form.fields["groups"].help_text = ""

    def save(data: dict) -> dict:
        plan = form.plan()
        changes = {
            field: value
            for field, value in plan.items()
            if (set(value) if field == "groups" else value) != current[field]
        }
        if changes:
            scheduling.shift_update(shift=shift, by=request.user, **changes)
        return changes

    changes = saved(form, save, form.error_aliases)
    if changes is not None:
        messages.success(request, _("The shift was saved.") if changes else _("Nothing was changed."))
        return redirect("shift-detail", pk=shift.pk)
    return render(request, "patrols/shift_form.html", {"form": form, "title": _("Edit the shift"), "shift": shift})


@login_required
def shift_cancel(request, pk: int):
    shift = _managed_or_404(Shift.objects.select_related("zone"), request.user, pk)
    form = forms.CancelShiftForm(request.POST or None)
    if saved(form, lambda data: scheduling.shift_cancel(shift=shift, by=request.user, reason=data["reason"])):
        messages.success(request, _("The shift was cancelled; the volunteers on it were told."))
        return redirect("shift-detail", pk=shift.pk)
    seats = shift.assignments.filter(status__in=[*SEAT_STATUSES, AssignmentStatus.WAITLISTED]).count()
    return render(request, "patrols/shift_cancel.html", {"form": form, "shift": shift, "people": seats})


@login_required
def series_create(request):
    _require_planner(request.user)
    form = forms.SeriesForm(request.POST or None, user=request.user)
    series = saved(form, lambda data: scheduling.series_create(by=request.user, **form.plan()))
    if series is not None:
        count = series.shifts.count()
        messages.success(
            request,
            ngettext(
                "The weekly series was saved: %(count)d shift is planned so far.",
                "The weekly series was saved: %(count)d shifts are planned so far.",
                count,
            )
            % {"count": count},
        )
        first = series.shifts.order_by("starts_at").first()
        week = _week_label(timezone.localdate(first.starts_at) if first else series.starts_on)
        return redirect(f"{reverse('shift-list')}?week={week}")
    return render(request, "patrols/shift_form.html", {"form": form, "title": _("New weekly series"), "shift": None})


# Sign-up, check-in and check-out, attendance


@login_required
@require_POST
def shift_signup(request, pk: int):
    """One tap: the volunteer signs up; a leader (or the inspector) may name a member of an invited group."""
    shift = get_object_or_404(Shift.objects.visible_to(request.user), pk=pk)
    back = _next_url(request, reverse("shift-detail", args=[shift.pk]))
    own = getattr(request.user, "volunteer", None)
    if request.POST.get("volunteer"):
        form = forms.MemberSignupForm(request.POST, members=Volunteer.objects.visible_to(request.user))
        if not form.is_valid():
            messages.error(request, _("Choose a volunteer from the list."))
            return redirect(back)
        person = form.cleaned_data["volunteer"]
    elif own is not None:
        person = own
    else:
        messages.error(request, _("Only volunteers sign up for shifts."))
        return redirect(back)
    try:
        assignment = scheduling.shift_signup(shift=shift, volunteer=person, by=request.user)
    except ValidationError as error:
        _show_error(request, error)
        return redirect(back)
    waiting = assignment.status == AssignmentStatus.WAITLISTED
    if person == own:
        if waiting:
            messages.warning(
                request, _("The shift is full: you are on the waiting list and move up when a seat frees.")
            )
        else:
            messages.success(request, _("You are on the shift in %(zone)s.") % {"zone": shift.zone.name})
    elif waiting:
        messages.warning(request, _("The shift is full: %(name)s is on the waiting list.") % {"name": person.full_name})
    else:
        messages.success(request, _("%(name)s is on the shift.") % {"name": person.full_name})
    return redirect(back)


@login_required
@require_POST
def shift_cancel_signup(request, pk: int):
    """Withdraw from a shift; a leader or the inspector may withdraw someone they look after."""
    shift = get_object_or_404(Shift.objects.visible_to(request.user), pk=pk)
    back = _next_url(request, reverse("shift-detail", args=[shift.pk]))
    active = Assignment.objects.visible_to(request.user).filter(shift=shift).exclude(status=AssignmentStatus.CANCELLED)
    chosen = request.POST.get("assignment") or ""
    if chosen:
        if not chosen.isdigit():
            raise Http404
        assignment = get_object_or_404(active, pk=int(chosen))
    else:
        assignment = get_object_or_404(active, volunteer__user=request.user)
    try:
        assignment = scheduling.shift_cancel_signup(assignment=assignment, by=request.user)
    except ValidationError as error:
        _show_error(request, error)
    else:
        if assignment.cancelled_late:
            messages.warning(
                request,
                _(
                    "The sign-up was cancelled less than %(hours)d hours before the start: "
                    "it is recorded as a late cancellation."
                )
                % {"hours": scheduling.late_cancel_hours()},
            )
        else:
            messages.success(request, _("The sign-up was cancelled."))
    return redirect(back)


def _own_assignment(request, pk: int) -> tuple[Shift, Assignment]:
    shift = get_object_or_404(Shift.objects.visible_to(request.user), pk=pk)
    assignment = get_object_or_404(
        Assignment.objects.visible_to(request.user)
        .filter(shift=shift, volunteer__user=request.user)
        .exclude(status=AssignmentStatus.CANCELLED)
    )
    return shift, assignment


def _position(request):
    """The phone's position (and its accuracy in metres) sent by static/js/checkin.js; None without one."""
    lat, lng = (request.POST.get("lat") or "").strip(), (request.POST.get("lng") or "").strip()
    if not lat or not lng:
        return None, None
    accuracy = (request.POST.get("accuracy") or "").strip()
    try:
        metres = float(accuracy) if accuracy else None
    except ValueError:
        metres = None
    if metres is not None and not 0 <= metres < 1_000_000:
        metres = None
    return point_from(lat, lng), metres


def _at_position(request, pk: int, act, position_needed: str) -> tuple[Assignment | None, str]:
    """Run a check-in or check-out with the phone's position: the changed place, or None after saying why not."""
    shift, assignment = _own_assignment(request, pk)
    back = _next_url(request, reverse("shift-detail", args=[shift.pk]))
    try:
        point, accuracy = _position(request)
        if point is None:
            messages.error(request, position_needed)
            return None, back
        return act(assignment, point, accuracy), back
    except ValidationError as error:
        _show_error(request, error)
        return None, back


@login_required
@require_POST
def shift_check_in(request, pk: int):
    assignment, back = _at_position(
        request,
        pk,
        lambda assignment, point, accuracy: attendance.shift_check_in(
            assignment=assignment, by=request.user, point=point, accuracy_m=accuracy
        ),
        _("Checking in needs your position: allow this site to use your location, then tap “Check in” again."),
    )
    if assignment is None:
        return redirect(back)
    at = _hhmm(assignment.check_in_at)
    if assignment.confirmation == CheckInConfirmation.NEEDED and assignment.check_in_outside:
        messages.warning(
            request,
            _("Checked in at %(time)s, %(distance)s from the zone: the inspector confirms it before your hours count.")
            % {"time": at, "distance": attendance.distance_text(assignment.check_in_distance_m)},
        )
    elif assignment.confirmation == CheckInConfirmation.NEEDED:
        messages.warning(
            request,
            _(
                "Checked in at %(time)s, but your phone could not find its position precisely: the inspector "
                "confirms it before your hours count."
            )
            % {"time": at},
        )
    else:
        messages.success(request, _("Checked in at %(time)s, inside the zone. Have a safe patrol.") % {"time": at})
    return redirect(back)


@login_required
@require_POST
def shift_check_out(request, pk: int):
    assignment, back = _at_position(
        request,
        pk,
        lambda assignment, point, accuracy: attendance.shift_check_out(
            assignment=assignment,
            by=request.user,
            point=point,
            accuracy_m=accuracy,
            reason=request.POST.get("reason", ""),
        ),
        _("Checking out needs your position: allow this site to use your location, then tap “Check out” again."),
    )
    if assignment is None:
        return redirect(back)
    if assignment.confirmation == CheckInConfirmation.NEEDED:
        messages.success(
            request,
            _("Checked out at %(time)s. Your hours count once the inspector confirms your check-in. Thank you!")
            % {"time": _hhmm(assignment.check_out_at)},
        )
    else:
        messages.success(
            request,
            _("Checked out at %(time)s: %(hours)s hours on patrol. Thank you!")
            % {
                "time": _hhmm(assignment.check_out_at),
                "hours": formats.number_format(assignment.patrol_hours, decimal_pos=2),
            },
        )
    return redirect(back)


def _managed_assignment(request, pk: int, assignment_pk: int) -> tuple[Shift, Assignment]:
    """A shift the inspector keeps (else 404) and one volunteer's place on it."""
    shift = _managed_or_404(Shift.objects, request.user, pk)
    return shift, get_object_or_404(shift.assignments.select_related("volunteer"), pk=assignment_pk)


@login_required
@require_POST
def attendance_confirm(request, pk: int, assignment_pk: int):
    """The inspector confirms a doubtful check-in, or does not (with a reason)."""
    shift, assignment = _managed_assignment(request, pk, assignment_pk)
    form = forms.ConfirmCheckInForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose: confirm or do not confirm."))
        keep_typed(request, "confirm", assignment.pk, ("reason",))
        return redirect("shift-detail", pk=shift.pk)
    data = form.cleaned_data
    try:
        if data["decision"] == forms.ConfirmCheckInForm.CONFIRM:
            attendance.attendance_confirm(assignment=assignment, by=request.user, note=data["reason"])
            messages.success(
                request, _("%(name)s: the check-in is confirmed.") % {"name": assignment.volunteer.full_name}
            )
        else:
            attendance.attendance_decline(assignment=assignment, by=request.user, reason=data["reason"])
            messages.success(
                request,
                _("%(name)s: the check-in is not confirmed; its hours do not count.")
                % {"name": assignment.volunteer.full_name},
            )
    except ValidationError as error:
        _show_error(request, error)
        keep_typed(request, "confirm", assignment.pk, ("reason",))
    return redirect("shift-detail", pk=shift.pk)


@login_required
@require_POST
def attendance_hours(request, pk: int, assignment_pk: int):
    """The inspector corrects a volunteer's patrol hours, with a reason kept in the history."""
    shift, assignment = _managed_assignment(request, pk, assignment_pk)
    form = forms.CorrectHoursForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        keep_typed(request, "hours", assignment.pk, ("hours", "reason"))
        return redirect("shift-detail", pk=shift.pk)
    try:
        attendance.attendance_correct_hours(
            assignment=assignment,
            by=request.user,
            minutes=round(form.cleaned_data["hours"] * 60),
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        _show_error(request, error)
        keep_typed(request, "hours", assignment.pk, ("hours", "reason"))
    else:
        messages.success(
            request,
            _("%(name)s: %(hours)s hours on patrol.")
            % {
                "name": assignment.volunteer.full_name,
                "hours": formats.number_format(form.cleaned_data["hours"], decimal_pos=2),
            },
        )
    return redirect("shift-detail", pk=shift.pk)


@login_required
@require_POST
def attendance_mark(request, pk: int, assignment_pk: int):
    """The inspector marks a volunteer who did not come, or excuses them."""
    shift, assignment = _managed_assignment(request, pk, assignment_pk)
    form = forms.AttendanceForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose: did not come, or excused."))
        keep_typed(request, "mark", assignment.pk, ("note",))
        return redirect("shift-detail", pk=shift.pk)
    try:
        assignment = scheduling.attendance_mark(
            assignment=assignment, by=request.user, status=form.cleaned_data["status"], note=form.cleaned_data["note"]
        )
    except ValidationError as error:
        _show_error(request, error)
        keep_typed(request, "mark", assignment.pk, ("note",))
    else:
        messages.success(
            request,
            _("%(name)s: %(status)s.")
            % {"name": assignment.volunteer.full_name, "status": assignment.get_status_display()},
        )
    return redirect("shift-detail", pk=shift.pk)


# Zones


@login_required
def zone_list(request):
    """All the zones of the user's districts on one map, and as a list."""
    user = request.user
    districts, chosen = _district_choice(request)
    zones = (
        Zone.objects.visible_to(user)
        .select_related("district")
        .defer("district__boundary", "district__centre")
        .annotate(
            coming=Count(
                "shifts",
                filter=Q(shifts__status=ShiftStatus.SCHEDULED, shifts__starts_at__gt=timezone.now()),
            )
        )
        .order_by("district__code", "name")
    )
    if chosen is not None:
        zones = zones.filter(district=chosen)
    zones = list(zones)
    active = [zone for zone in zones if not zone.is_archived]
    manageable = set(Zone.objects.manageable_by(user).filter(pk__in=[z.pk for z in zones]).values_list("pk", flat=True))
    for zone in zones:
        zone.can_manage = zone.pk in manageable
    features = [
        {
            "type": "Feature",
            "geometry": _geojson(zone.geometry),
            "properties": {
                "name": zone.name,
                "kind": zone.kind,
                "url": reverse("zone-edit", args=[zone.pk]) if zone.can_manage else "",
            },
        }
        for zone in active
    ]
    return render(
        request,
        "patrols/zone_list.html",
        {
            "zones": active,
            "archived": [zone for zone in zones if zone.is_archived],
            "map_data": {"type": "FeatureCollection", "features": features},
            "districts": districts,
            "chosen_district": chosen,
            "can_plan": manageable_districts(user).exists(),
        },
    )


def _zone_form_page(request, form, zone):
    district = form.district
    boundary = _geojson(district.boundary) if district is not None and district.boundary is not None else None
    if boundary is not None:
        form.fields["geometry"].widget.attrs["reference"] = "district-boundary"
    return render(request, "patrols/zone_form.html", {"form": form, "zone": zone, "boundary": boundary})


@login_required
def zone_create(request):
    _require_planner(request.user)
    form = forms.ZoneForm(request.POST or None, user=request.user)
    zone = saved(
        form,
        lambda data: scheduling.zone_create(
            by=request.user,
            district=data.get("district") or form.district,
            name=data["name"],
            kind=data["kind"],
            geometry=data["geometry"],
            description=data["description"],
        ),
    )
    if zone is not None:
        messages.success(request, _("The zone “%(name)s” was saved.") % {"name": zone.name})
        return redirect("zone-list")
    return _zone_form_page(request, form, None)


@login_required
def zone_edit(request, pk: int):
    zone = _managed_or_404(Zone.objects.select_related("district"), request.user, pk)
    initial = {"name": zone.name, "kind": zone.kind, "geometry": zone.geometry, "description": zone.description}
    form = forms.ZoneForm(request.POST or None, user=request.user, zone=zone, initial=initial)
    if saved(form, lambda data: scheduling.zone_update(zone=zone, by=request.user, **data)):
        messages.success(request, _("The zone “%(name)s” was saved.") % {"name": zone.name})
        return redirect("zone-list")
    return _zone_form_page(request, form, zone)


@login_required
@require_POST
def zone_archive(request, pk: int):
    zone = _managed_or_404(Zone.objects.select_related("district"), request.user, pk)
    try:
        scheduling.zone_archive(zone=zone, by=request.user)
    except ValidationError as error:
        _show_error(request, error)
    else:
        messages.success(request, _("The zone “%(name)s” was archived.") % {"name": zone.name})
    return redirect("zone-list")


# The private calendar feed


@require_GET
def calendar_feed(request, token: str):
    """A volunteer's shifts as iCalendar. No login: the secret token in the address is the key, and a renewed
    token makes the old address answer 404."""
    feed = get_object_or_404(CalendarFeed.objects.select_related("volunteer__user"), token=token)
    volunteer = feed.volunteer
    assignments = (
        volunteer.assignments.exclude(status=AssignmentStatus.CANCELLED)
        .select_related("shift__zone", "shift__district")
        .defer("shift__district__boundary", "shift__district__centre")
        .order_by("shift__starts_at", "id")
    )
    host, _port = split_domain_port(request.get_host())
    language = volunteer.user.language if volunteer.user_id else settings.LANGUAGE_CODE
    with translation.override(language):
        events = [_calendar_event(request, assignment, host) for assignment in assignments]
        body = ical.calendar(name=_("Patrol shifts"), events=events, stamp=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="patrol-shifts.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


def _calendar_event(request, assignment: Assignment, host: str) -> ical.Event:
    shift = assignment.shift
    waiting = assignment.status == AssignmentStatus.WAITLISTED
    summary = _("Patrol (waiting list): %(zone)s") if waiting else _("Patrol: %(zone)s")
    return ical.Event(
        uid=f"assignment-{assignment.pk}@{host}",
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        summary=summary % {"zone": shift.zone.name},
        location=_("%(zone)s, %(district)s") % {"zone": shift.zone.name, "district": shift.district.name},
        description=shift.briefing,
        url=request.build_absolute_uri(reverse("shift-detail", args=[shift.pk])),
        tentative=waiting,
        modified_at=shift.updated_at,
    )


@login_required
@require_POST
def calendar_renew(request):
    """A new secret address for the volunteer's calendar; the old one stops working."""
    volunteer = getattr(request.user, "volunteer", None)
    if volunteer is None:
        raise Http404
    first = not CalendarFeed.objects.filter(volunteer=volunteer).exists()
    try:
        scheduling.calendar_feed_renew(volunteer=volunteer, by=request.user)
    except ValidationError as error:
        _show_error(request, error)
    else:
        if first:
            messages.success(request, _("Your calendar address is ready: subscribe to it in the calendar app."))
        else:
            messages.success(
                request, _("Your calendar has a new address: subscribe to it again. The old address no longer works.")
            )
    return redirect("shift-list")
