"""Shifts as lists show them: who is on them, who waits, and the reader's own place and buttons."""

import datetime

from django.db.models import CharField, Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from rest_framework.settings import api_settings

from ..choices import SEAT_STATUSES, AssignmentStatus, ShiftStatus
from ..models import Assignment, Group, Shift
from ..prepared import PreparedQuery
from ..services import attendance


def shifts_with_staffing(queryset, user):
    """Shifts with seat and waiting-list counts and the user's own sign-up, in a fixed number of queries."""

    def count(statuses):
        per_shift = (
            Assignment.objects.filter(shift_id=OuterRef("pk"), status__in=statuses)
            .order_by()
            .values("shift_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(per_shift, output_field=IntegerField()), 0)

    # The newest sign-up is the current one: a volunteer can sign up again only after cancelling.
    own = Value(None, CharField())
    if user.is_authenticated:
        newest = Assignment.objects.filter(shift_id=OuterRef("pk"), volunteer__user=user).order_by("-created_at", "-pk")
        own = Subquery(newest.values("status")[:1])
    return (
        queryset.select_related("district", "zone", "inspector")
        # A list shows the zone's name and the district's code, never their shapes: a real district boundary
        # has thousands of points, parsed for every row if it were read.
        .defer("district__boundary", "district__centre", "zone__geometry")
        .prefetch_related(Prefetch("groups", queryset=Group.objects.only("pk"), to_attr="invited_groups"))
        .annotate(
            signed_up=count(SEAT_STATUSES),
            waitlisted=count([AssignmentStatus.WAITLISTED]),
            my_assignment=own,
        )
    )


# What a list row of a shift reads (ShiftSerializer.row): plain values, no model instances.
SHIFT_ROW_FIELDS = (
    "id",
    "zone_id",
    "series_id",
    "starts_at",
    "ends_at",
    "min_volunteers",
    "max_volunteers",
    "status",
    "cancel_reason",
    "briefing",
)


def shift_rows(queryset):
    """Shifts as a list shows them, as dictionaries of plain values; `attach_staffing` adds the staffing to a page.

    The staffing subqueries of `shifts_with_staffing` and the instances of four models per row cost more to build
    than the page's rows cost to read, so a list takes values, and its counts in one plain query over the page."""
    return queryset.values(
        *SHIFT_ROW_FIELDS,
        zone_name=F("zone__name"),
        district_code=F("district__code"),
        inspector_username=F("inspector__username"),
    )


# The staffing of a page of shifts, asked for every list of shifts (patrols/prepared.py: built once, then only the
# values change). Oldest first, so the newest of one's own sign-ups is the last one seen: it is the current one.
_page_assignments = PreparedQuery(
    lambda ids, user_id: (
        Assignment.objects.filter(
            Q(status__in=[*SEAT_STATUSES, AssignmentStatus.WAITLISTED]) | Q(volunteer__user_id=user_id),
            shift_id__in=ids,
        )
        .order_by("created_at", "pk")
        .values_list("shift_id", "status", "volunteer__user_id")
    ),
    ids=list[int],
    user_id=int,
)
# In the groups' own order, as the prefetch of `shifts_with_staffing` gives them.
_page_invitations = PreparedQuery(
    lambda ids: (
        Shift.groups.through.objects.filter(shift_id__in=ids)
        .order_by("group__district__code", "group__name", "group_id")
        .values_list("shift_id", "group_id")
    ),
    ids=list[int],
)


def open_for_sign_up(now: datetime.datetime, volunteer_id: int | None = None) -> Q:
    """Shifts open for sign-up: scheduled, not started, and for a volunteer, one of their groups invited."""
    condition = Q(status=ShiftStatus.SCHEDULED, starts_at__gt=now)
    if volunteer_id is not None:
        invited = Shift.groups.through.objects.filter(
            shift_id=OuterRef("pk"),
            group__memberships__volunteer=volunteer_id,
            group__memberships__left_on=None,
        )
        condition &= Exists(invited)
    return condition


def own_sign_ups(user_id: int):
    """The user's sign-ups to the shift of the outer query that are not cancelled (for `Exists`)."""
    return Assignment.objects.filter(shift_id=OuterRef("pk"), volunteer__user=user_id).exclude(
        status=AssignmentStatus.CANCELLED
    )


# The lists a volunteer's phone asks for most (`?open=1`, `?mine=1&from=`): the first page, built once
# (patrols/prepared.py), in scope as `Shift.objects.visible_to` has it for a volunteer.
_open_page = PreparedQuery(
    lambda volunteer_id, now: shift_rows(
        Shift.objects.for_volunteer(volunteer_id).filter(open_for_sign_up(now, volunteer_id))
    )[: api_settings.PAGE_SIZE],
    volunteer_id=int,
    now=datetime.datetime,
)


_own_page = PreparedQuery(
    lambda volunteer_id, user_id, after: shift_rows(
        Shift.objects.for_volunteer(volunteer_id).filter(Exists(own_sign_ups(user_id)), ends_at__gt=after)
    )[: api_settings.PAGE_SIZE],
    volunteer_id=int,
    user_id=int,
    after=datetime.datetime,
)


def open_shifts_first_page(volunteer, now: datetime.datetime) -> list[dict]:
    """The first page of `shift_rows` a volunteer sees open for sign-up (the API's `?open=1` for them)."""
    return _open_page(volunteer_id=volunteer.pk, now=now)


def own_shifts_first_page(volunteer, after: datetime.datetime) -> list[dict]:
    """The first page of `shift_rows` of the volunteer's own sign-ups ending after a moment (`?mine=1&from=`)."""
    return _own_page(volunteer_id=volunteer.pk, user_id=volunteer.user_id, after=after)


def attach_staffing(rows: list[dict], user) -> list[dict]:
    """Add `signed_up`, `waitlisted`, `my_assignment` and `groups` to shift rows (as `shifts_with_staffing` annotates
    and prefetches them), in two queries whatever the number of rows."""
    ids = [row["id"] for row in rows]
    if not ids:
        return rows
    # Someone signed out has no sign-ups of their own: no user has id 0.
    own_id = user.pk if user.is_authenticated else 0
    seats: dict[int, int] = dict.fromkeys(ids, 0)
    waiting: dict[int, int] = dict.fromkeys(ids, 0)
    own: dict[int, str] = {}
    for shift_id, status, user_id in _page_assignments(ids=ids, user_id=own_id):
        if status in SEAT_STATUSES:
            seats[shift_id] += 1
        elif status == AssignmentStatus.WAITLISTED:
            waiting[shift_id] += 1
        if user_id == own_id:
            own[shift_id] = status
    invited: dict[int, list[int]] = {pk: [] for pk in ids}
    for shift_id, group_id in _page_invitations(ids=ids):
        invited[shift_id].append(group_id)
    for row in rows:
        pk = row["id"]
        row.update(signed_up=seats[pk], waitlisted=waiting[pk], my_assignment=own.get(pk), groups=invited[pk])
    return rows


_assignment_answered = PreparedQuery(
    lambda assignment_id: Assignment.objects.select_related("volunteer", "confirmed_by").filter(pk=assignment_id),
    assignment_id=int,
)
_current_assignment = PreparedQuery(
    lambda shift_id, volunteer_id: (
        Assignment.objects.filter(shift_id=shift_id, volunteer_id=volunteer_id)
        .exclude(status=AssignmentStatus.CANCELLED)
        .order_by("-created_at", "-pk")[:1]
    ),
    shift_id=int,
    volunteer_id=int,
)


def assignment_as_answered(pk: int) -> Assignment:
    """A sign-up read back with its volunteer and confirmer, as a move's answer gives it (prepared: every sign-up
    asks it)."""
    return _assignment_answered.get(assignment_id=pk)


def current_assignment(shift: Shift, volunteer) -> Assignment | None:
    """The volunteer's sign-up on the shift that is not cancelled (the newest: one can sign up again after
    cancelling), or None."""
    return _current_assignment.first(shift_id=shift.pk, volunteer_id=volunteer.pk)


# Asked by every sign-up and cancel: built once (patrols/prepared.py). A shift has a handful of seats: their ids
# cost less to read than a COUNT costs to build.
_seat_holders = PreparedQuery(
    lambda shift_id: Assignment.objects.filter(shift_id=shift_id, status__in=SEAT_STATUSES).values_list(
        "pk", flat=True
    ),
    shift_id=int,
)


def seats_taken(shift: Shift) -> int:
    """How many hold a seat on one shift (signed up, checked in, completed); the waiting list does not."""
    return len(_seat_holders(shift_id=shift.pk))


def attendance_actions(assignment: Assignment, now: datetime.datetime) -> Assignment:
    """Which buttons the volunteer gets now; the services decide again when the button is pressed."""
    shift = assignment.shift
    opens = shift.starts_at - attendance.checkin_opens_before()
    assignment.check_in_opens_at = opens
    assignment.check_in_later = assignment.status == AssignmentStatus.SIGNED_UP and now < opens
    assignment.can_check_in = (
        assignment.status == AssignmentStatus.SIGNED_UP
        and shift.status == ShiftStatus.SCHEDULED
        and opens <= now <= shift.ends_at
    )
    assignment.can_check_out = (
        assignment.status == AssignmentStatus.CHECKED_IN
        and shift.starts_at <= now <= shift.ends_at + attendance.close_grace()
    )
    # Leaving before the end needs a reason: the form asks for it.
    assignment.leaving_early = assignment.can_check_out and now < shift.ends_at
    assignment.can_cancel = (
        assignment.status in {AssignmentStatus.SIGNED_UP, AssignmentStatus.WAITLISTED} and shift.starts_at > now
    )
    if assignment.status == AssignmentStatus.WAITLISTED:
        ahead = shift.assignments.filter(status=AssignmentStatus.WAITLISTED, created_at__lt=assignment.created_at)
        assignment.waiting_position = ahead.count() + 1
    return assignment
