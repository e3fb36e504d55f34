"""Volunteers on duty as the phone puts them there: a shift under way, signed up, checked in at the zone's centre."""

import datetime
import uuid

from django.contrib.gis.geos import Point
from django.utils import timezone

from patrols.choices import AssignmentStatus
from patrols.models import Assignment, Shift
from patrols.services import attendance, scheduling
from tests.factories import ShiftFactory


def shift_starting_soon(zone, inspector, groups, *, minutes: int = 10, hours: int = 4) -> Shift:
    """A shift starting in `minutes`: sign-up is still open and check-in already is."""
    start = timezone.now() + datetime.timedelta(minutes=minutes)
    return ShiftFactory(
        zone=zone, inspector=inspector, groups=groups, starts_at=start, ends_at=start + datetime.timedelta(hours=hours)
    )


def shift_under_way(zone, inspector, groups, volunteer_user, *, checked_in_minutes_ago: int = 50) -> Shift:
    """A shift that started an hour ago (three hours to go) with `volunteer_user` checked in at the zone's centre,
    written directly: the stories of SOS start from there, not from the check-in."""
    now = timezone.now()
    shift = ShiftFactory(
        zone=zone,
        inspector=inspector,
        groups=groups,
        starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(hours=3),
    )
    centre = zone.geometry.centroid
    Assignment.objects.create(
        shift=shift,
        volunteer=volunteer_user.volunteer,
        status=AssignmentStatus.CHECKED_IN,
        check_in_at=now - datetime.timedelta(minutes=checked_in_minutes_ago),
        check_in_point=Point(centre.x, centre.y, srid=4326),
    )
    return shift


def sign_up(shift: Shift, user) -> Assignment:
    return scheduling.shift_signup(shift=shift, volunteer=user.volunteer, by=user)


def check_in(shift: Shift, user) -> Assignment:
    """`user` (signed up already, or now) checks in at the centre of the shift's zone."""
    assignment = Assignment.objects.filter(shift=shift, volunteer=user.volunteer).exclude(
        status="cancelled"
    ).first() or sign_up(shift, user)
    return attendance.shift_check_in(assignment=assignment, by=user, point=shift.zone.geometry.centroid, accuracy_m=10)


def fix(shift: Shift, *, seconds_ago: float = 0, east_m: float = 0, accuracy: float | None = 12, **extra) -> dict:
    """One position as the phone sends it: near the zone's centre, `east_m` metres east, taken `seconds_ago`."""
    centre = shift.zone.geometry.centroid
    recorded = timezone.now() - datetime.timedelta(seconds=seconds_ago)
    return {
        "lat": round(centre.y, 6),
        "lng": round(centre.x + east_m / 78_000, 6),
        "accuracy": accuracy,
        "recorded_at": recorded.isoformat(),
        "client_uuid": str(uuid.uuid4()),
    } | extra
