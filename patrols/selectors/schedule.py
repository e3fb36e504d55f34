"""Shifts as lists show them: who is on them, who waits, and the reader's own place and buttons."""

import datetime

from django.db.models import CharField, Count, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce

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
    lambda assignment_id: Assignment.objects.select_related("volunteer").filter(pk=assignment_id), assignment_id=int
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
    """A sign-up read back with its volunteer, as a move's answer gives it (prepared: every sign-up asks it)."""
    found = _assignment_answered(assignment_id=pk)
    if not found:
        raise Assignment.DoesNotExist(f"No assignment {pk}")
    return found[0]


def current_assignment(shift: Shift, volunteer) -> Assignment | None:
    """The volunteer's sign-up on the shift that is not cancelled (the newest: one can sign up again after
    cancelling), or None."""
    found = _current_assignment(shift_id=shift.pk, volunteer_id=volunteer.pk)
    return found[0] if found else None


def seats_taken(shift: Shift) -> int:
    """How many hold a seat on one shift (signed up, checked in, completed); the waiting list does not."""
    return shift.assignments.filter(status__in=SEAT_STATUSES).count()


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
