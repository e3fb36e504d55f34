"""The live board of who is on duty now (`/duty/` and `GET /api/v1/duty/now/`), in the reader's scope.

Read every few seconds by every open board, so it stays cheap: one query for the people on duty with their last
position (an index probe per person on `position_track_latest`), one for their groups, one for the shifts that
started with nobody checked in, one for the open alarms, one for the call-outs under way.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone

from ..choices import AssignmentStatus, ShiftStatus, SosStatus
from ..models import Assignment, Membership, PositionPing, Shift, SosAlarm
from ..services.callouts import open_callouts


def stale_after() -> datetime.timedelta:
    """A volunteer on duty whose phone sent nothing for this long is shown as not seen lately."""
    return datetime.timedelta(seconds=settings.DUTY_STALE_SECONDS)


def open_alarms(user) -> list[dict]:
    """SOS alarms still open or acknowledged, in the user's scope, newest first: the slot at the top of the board."""
    alarms = (
        SosAlarm.objects.visible_to(user)
        .filter(status__in=[SosStatus.OPEN, SosStatus.ACKNOWLEDGED])
        .select_related("volunteer", "shift__zone")
        .order_by("-created_at", "-id")
    )
    return [
        {
            "id": alarm.pk,
            "kind": alarm.kind,
            "status": alarm.status,
            "status_label": str(alarm.get_status_display()),
            "volunteer": alarm.volunteer.full_name,
            "shift": alarm.shift_id,
            "zone": alarm.shift.zone.name if alarm.shift_id else "",
            "lat": round(alarm.point.y, 6) if alarm.point else None,
            "lng": round(alarm.point.x, 6) if alarm.point else None,
            "created_at": alarm.created_at,
        }
        for alarm in alarms
    ]


def _on_duty(user):
    latest = PositionPing.objects.filter(assignment=OuterRef("pk")).order_by("-recorded_at", "-id")
    groups = Prefetch(
        "volunteer__memberships",
        queryset=Membership.objects.filter(left_on=None).select_related("group").only("volunteer_id", "group__name"),
        to_attr="current_memberships",
    )
    return (
        Assignment.objects.visible_to(user)
        .filter(status=AssignmentStatus.CHECKED_IN)
        .select_related("volunteer", "shift__zone")
        .only(
            "id",
            "check_in_at",
            "check_in_point",
            "check_in_accuracy_m",
            "volunteer__first_name",
            "volunteer__last_name",
            "volunteer__patronymic",
            "volunteer__anonymised_at",
            "shift__id",
            "shift__starts_at",
            "shift__ends_at",
            "shift__zone__name",
        )
        .annotate(
            last_point=Subquery(latest.values("point")[:1]),
            last_recorded_at=Subquery(latest.values("recorded_at")[:1]),
            last_accuracy=Subquery(latest.values("accuracy_m")[:1]),
        )
        .prefetch_related(groups)
        .order_by("shift__starts_at", "shift_id", "volunteer__last_name", "volunteer__first_name", "pk")
    )


def _person(assignment: Assignment, now: datetime.datetime) -> dict:
    point, seen, accuracy = assignment.last_point, assignment.last_recorded_at, assignment.last_accuracy
    if point is None:
        # Nothing sent yet (or the volunteer does not share): the check-in is the last place and time known.
        point, seen, accuracy = assignment.check_in_point, assignment.check_in_at, assignment.check_in_accuracy_m
    shift = assignment.shift
    return {
        "assignment": assignment.pk,
        "volunteer": assignment.volunteer.full_name,
        "shift": shift.pk,
        "zone": shift.zone.name,
        "shift_starts_at": shift.starts_at,
        "shift_ends_at": shift.ends_at,
        "groups": sorted(m.group.name for m in assignment.volunteer.current_memberships),
        "since": assignment.check_in_at,
        "last_seen": seen,
        "stale": seen is None or now - seen > stale_after(),
        "lat": round(point.y, 6) if point is not None else None,
        "lng": round(point.x, 6) if point is not None else None,
        "accuracy": accuracy,
    }


def _started_empty(user, now: datetime.datetime):
    """Shifts under way that nobody is checked in on (whoever may see them: the truth, not the reader's part)."""
    checked_in = Assignment.objects.filter(shift=OuterRef("pk"), status=AssignmentStatus.CHECKED_IN)
    return (
        Shift.objects.visible_to(user)
        .filter(status=ShiftStatus.SCHEDULED, starts_at__lte=now, ends_at__gt=now)
        .filter(~Exists(checked_in))
        .select_related("zone")
        .only("id", "starts_at", "ends_at", "min_volunteers", "zone__name")
        .annotate(signed_up=Count("assignments", filter=Q(assignments__status=AssignmentStatus.SIGNED_UP)))
        .order_by("starts_at", "pk")
    )


def duty_board(user, *, now: datetime.datetime | None = None) -> dict:
    """Who is on duty now in the user's scope, where and since when, the shifts started with nobody checked in, the
    call-outs with their answers so far, and the open alarms (first)."""
    now = now or timezone.now()
    return {
        "now": now,
        "stale_after_seconds": settings.DUTY_STALE_SECONDS,
        "alarms": open_alarms(user),
        "on_duty": [_person(assignment, now) for assignment in _on_duty(user)],
        "started_empty": [
            {
                "shift": shift.pk,
                "zone": shift.zone.name,
                "starts_at": shift.starts_at,
                "ends_at": shift.ends_at,
                "min_volunteers": shift.min_volunteers,
                "signed_up": shift.signed_up,
            }
            for shift in _started_empty(user, now)
        ],
        "callouts": [
            {
                "id": callout.pk,
                "place": callout.place or callout.zone.name,
                "starts_at": callout.starts_at,
                "ends_at": callout.ends_at,
                "needed": callout.needed,
                "assigned": callout.assigned,
                "waitlisted": callout.waitlisted,
            }
            for callout in open_callouts(user)
        ],
    }


def last_positions(assignments) -> dict[int, tuple]:
    """The last position sent for each of these assignments: {assignment id: (point, recorded_at)} (one query)."""
    ids = [assignment.pk for assignment in assignments]
    if not ids:
        return {}
    latest = PositionPing.objects.filter(assignment=OuterRef("pk")).order_by("-recorded_at", "-id")
    rows = (
        Assignment.objects.filter(pk__in=ids)
        .annotate(
            last_point=Subquery(latest.values("point")[:1]),
            last_recorded_at=Subquery(latest.values("recorded_at")[:1]),
        )
        .filter(last_point__isnull=False)
        .values_list("pk", "last_point", "last_recorded_at")
    )
    return {pk: (point, at) for pk, point, at in rows}
