"""What each person's home page opens with: the volunteer's next shift, tonight's roster for a group leader,
tonight's shifts for an inspector. Reads only; the buttons they lead to are decided again by the services."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Case, Prefetch, Q, When

from ..choices import SEAT_STATUSES, AssignmentStatus, ShiftStatus
from ..clock import LOCAL_TZ
from ..models import Assignment, Group, Shift, User, Volunteer
from ..scope import manageable_districts
from ..services import attendance
from .schedule import attendance_actions

# Tonight lasts until this hour of the next morning (shifts run late in the evening and past midnight).
MORNING_HOUR = 6
# A volunteer signed up but not checked in this long after the start is missing.
MISSING_AFTER = datetime.timedelta(minutes=15)
LIST_DEFERRED = ("district__boundary", "district__centre", "zone__geometry")


def tonight(now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """From now until 06:00 of the next morning, local time (before 06:00: until 06:00 of this morning)."""
    local = now.astimezone(LOCAL_TZ)
    morning = local.replace(hour=MORNING_HOUR, minute=0, second=0, microsecond=0)
    if local >= morning:
        morning += datetime.timedelta(days=1)
    return now, morning


def next_assignment(volunteer: Volunteer, user: User, now: datetime.datetime) -> Assignment | None:
    """The volunteer's shift on patrol now, or else the next one signed up for (or waited for), with its buttons
    and the others on it (`partners`: names)."""
    on_patrol = Q(status=AssignmentStatus.CHECKED_IN, shift__ends_at__gt=now - attendance.close_grace())
    coming = Q(status__in=[AssignmentStatus.SIGNED_UP, AssignmentStatus.WAITLISTED], shift__ends_at__gt=now)
    found = (
        Assignment.objects.visible_to(user)
        .filter(volunteer=volunteer, shift__status=ShiftStatus.SCHEDULED)
        .filter(on_patrol | coming)
        .select_related("shift__zone", "shift__district")
        .defer("shift__district__boundary", "shift__district__centre")
        .annotate(later=Case(When(status=AssignmentStatus.CHECKED_IN, then=0), default=1))
        .order_by("later", "shift__starts_at", "id")
        .first()
    )
    if found is None:
        return None
    attendance_actions(found, now)
    others = (
        found.shift.assignments.filter(status__in=SEAT_STATUSES)
        .exclude(volunteer=volunteer)
        .select_related("volunteer")
        .order_by("volunteer__last_name", "volunteer__first_name")
    )
    found.partners = [other.volunteer.full_name for other in others]
    place = found.shift.zone.geometry.point_on_surface
    found.meeting_point = f"{place.y:.5f},{place.x:.5f}"  # for a geo: link, in every language
    return found


@dataclass
class TonightShift:
    """One shift of tonight as a home page lists it: who has checked in, who is missing, who is still to come."""

    shift: Shift
    checked_in: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    coming: list[str] = field(default_factory=list)


def _tonight_shifts(shifts, now: datetime.datetime, *, members: set[int] | None = None) -> list[TonightShift]:
    _start, end = tonight(now)
    on_it = Assignment.objects.filter(status__in=SEAT_STATUSES).select_related("volunteer")
    if members is not None:
        on_it = on_it.filter(volunteer_id__in=members)
    shifts = (
        shifts.filter(status=ShiftStatus.SCHEDULED, starts_at__lt=end, ends_at__gt=now)
        .select_related("zone", "district")
        .defer(*LIST_DEFERRED)
        .prefetch_related(Prefetch("assignments", queryset=on_it.order_by("volunteer__last_name"), to_attr="seats"))
        .order_by("starts_at", "id")
    )
    rows = []
    for shift in shifts:
        row = TonightShift(shift=shift)
        for seat in shift.seats:
            name = seat.volunteer.full_name
            if seat.status in {AssignmentStatus.CHECKED_IN, AssignmentStatus.COMPLETED}:
                row.checked_in.append(name)
            elif now >= shift.starts_at + MISSING_AFTER:
                row.missing.append(name)
            else:
                row.coming.append(name)
        rows.append(row)
    return rows


def tonight_for_inspector(user: User, now: datetime.datetime) -> list[TonightShift]:
    """Tonight's shifts in the districts the inspector keeps."""
    return _tonight_shifts(Shift.objects.filter(district__in=manageable_districts(user)), now)


def tonight_for_leader(group: Group, now: datetime.datetime) -> list[TonightShift]:
    """Tonight's shifts the group is invited to or its members are on, with only the group's members listed."""
    members = set(group.memberships.filter(left_on=None).values_list("volunteer_id", flat=True))
    shifts = Shift.objects.filter(Q(groups=group) | Q(assignments__volunteer_id__in=members)).distinct()
    return _tonight_shifts(shifts, now, members=members)
