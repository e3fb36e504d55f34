"""Shifts as lists show them: who is on them, who waits, and the reader's own place and buttons."""

import datetime

from django.db.models import CharField, Count, IntegerField, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce

from ..choices import SEAT_STATUSES, AssignmentStatus, ShiftStatus
from ..models import Assignment, Group, Shift
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
