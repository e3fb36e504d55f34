"""Patrol planning and attendance: zones, shifts and weekly series; sign-up with capacity, a waiting list and
no overlaps; check-in and check-out with the phone's position; closing shifts and flagging understaffed ones."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, LineString, MultiLineString, MultiPolygon, Polygon
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import (
    BUSY_STATUSES,
    AssignmentStatus,
    NotificationKind,
    Role,
    ShiftEventKind,
    ShiftStatus,
    VolunteerStatus,
    ZoneKind,
)
from ..clock import LOCAL_TZ, local_day
from ..models import (
    Assignment,
    CalendarFeed,
    District,
    Group,
    Shift,
    ShiftEvent,
    ShiftSeries,
    User,
    Volunteer,
    Zone,
)
from ..prepared import PreparedQuery
from ..scope import active_group_ids, manageable_districts, may_act_for, role_of
from ..selectors.schedule import seats_taken
from ..validators import NOTE_TEXT, SHORT_TEXT, text_within
from .attendance import close_grace, close_open_check_in
from .geometry import covered_by
from .ledger import NO_SHOWS, ledger_add, ledger_no_show_change
from .notifications import notify
from .updates import model_update, only_fields

MAX_SHIFT_HOURS = 24


def late_cancel_hours() -> int:
    """A sign-up cancelled later than this many hours before the start is recorded as late."""
    return settings.SHIFT_LATE_CANCEL_HOURS


def plan_ahead() -> datetime.timedelta:
    """How far ahead a shift, or a weekly series' last day, may be planned."""
    return datetime.timedelta(days=settings.PLAN_AHEAD_DAYS)


def series_horizon_days() -> int:
    """How far ahead shifts are generated from weekly series."""
    return settings.SERIES_HORIZON_DAYS


def _require_district(*, district: District, by: User) -> None:
    if not manageable_districts(by).filter(pk=district.pk).exists():
        raise ValidationError({"district": _("You cannot plan patrols in this district.")})


def _event(shift: Shift, kind: str, *, by: User | None, volunteer: Volunteer | None = None, **details) -> None:
    ShiftEvent.objects.create(shift=shift, kind=kind, by=by, volunteer=volunteer, details=details)


# Zones


def _clean_zone_shape(*, kind: str, geometry: GEOSGeometry, district: District) -> GEOSGeometry:
    if geometry is None:
        raise ValidationError({"geometry": _("Draw the zone or route on the map.")})
    if geometry.srid != 4326:
        geometry = GEOSGeometry(geometry.wkb, srid=4326) if geometry.srid is None else geometry.transform(4326, True)
    if kind == ZoneKind.AREA and not isinstance(geometry, Polygon | MultiPolygon):
        raise ValidationError({"geometry": _("A patrol zone is an area: draw a polygon.")})
    if kind == ZoneKind.ROUTE and not isinstance(geometry, LineString | MultiLineString):
        raise ValidationError({"geometry": _("A patrol route is a line: draw a line.")})
    if geometry.empty or not geometry.valid:
        raise ValidationError({"geometry": _("The shape crosses itself or is empty: draw it again.")})
    if district.boundary is not None and not covered_by(district.boundary, geometry):
        raise ValidationError({"geometry": _("The zone must lie within the district's boundary.")})
    return geometry


@transaction.atomic
def zone_create(
    *, by: User, district: District, name: str, kind: str, geometry: GEOSGeometry, description: str = ""
) -> Zone:
    """Draw a new patrol zone or route in a district the user keeps."""
    _require_district(district=district, by=by)
    zone = Zone(
        district=district,
        name=(name or "").strip(),
        kind=kind,
        geometry=_clean_zone_shape(kind=kind, geometry=geometry, district=district),
        description=text_within(description, field="description", limit=NOTE_TEXT),
        created_by=by,
    )
    zone.full_clean()
    zone.save()
    return zone


ZONE_EDITABLE_FIELDS = frozenset({"name", "kind", "geometry", "description"})


@transaction.atomic
def zone_update(*, zone: Zone, by: User, **changes) -> Zone:
    """Rename, redraw or describe a zone; its district stays."""
    _require_district(district=zone.district, by=by)
    if "description" in changes:
        changes["description"] = text_within(changes["description"], field="description", limit=NOTE_TEXT)
    model_update(zone, allowed=ZONE_EDITABLE_FIELDS, changes=changes)
    zone.geometry = _clean_zone_shape(kind=zone.kind, geometry=zone.geometry, district=zone.district)
    zone.full_clean()
    zone.save()
    return zone


@transaction.atomic
def zone_archive(*, zone: Zone, by: User) -> Zone:
    """Archive a zone: it stays on past shifts but no new shift can use it."""
    _require_district(district=zone.district, by=by)
    if Shift.objects.filter(zone=zone, status=ShiftStatus.SCHEDULED, starts_at__gt=timezone.now()).exists():
        raise ValidationError(_("Cancel or move the zone's coming shifts before archiving it."))
    ShiftSeries.objects.filter(zone=zone, is_active=True).update(is_active=False)
    zone.is_archived = True
    zone.save(update_fields=["is_archived", "updated_at"])
    return zone


# Shifts


def _default_groups(district: District) -> list[Group]:
    return list(Group.objects.filter(district=district, is_active=True))


def _default_inspector(*, district: District, by: User) -> User | None:
    if role_of(by) == Role.INSPECTOR:
        return by
    return district.inspectors.filter(is_active=True).order_by("pk").first()


def _check_plan(
    *,
    zone: Zone,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    min_volunteers: int,
    max_volunteers: int,
    groups: Iterable[Group],
    inspector: User | None,
) -> None:
    """The rules every shift and series respects; all errors at once, by field."""
    errors: dict[str, str] = {}
    if zone.is_archived:
        errors["zone"] = _("This zone is archived.")
    if starts_at > timezone.now() + plan_ahead():
        errors["starts_at"] = _("Patrols are planned at most %(days)d days ahead.") % {"days": plan_ahead().days}
    if ends_at <= starts_at:
        errors["ends_at"] = _("A shift must end after it starts.")
    elif ends_at - starts_at > datetime.timedelta(hours=MAX_SHIFT_HOURS):
        errors["ends_at"] = _("A shift lasts at most %(hours)d hours.") % {"hours": MAX_SHIFT_HOURS}
    if min_volunteers < 1:
        errors["min_volunteers"] = _("A shift needs at least one volunteer.")
    if max_volunteers < min_volunteers:
        errors["max_volunteers"] = _("The maximum cannot be below the minimum.")
    groups = list(groups)
    if not groups:
        errors["groups"] = _("Invite at least one group: without one nobody can sign up for the shift.")
    elif any(group.district_id != zone.district_id for group in groups):
        errors["groups"] = _("Only groups of the zone's district can be invited.")
    if inspector is None:
        errors["inspector"] = _("Choose the responsible inspector.")
    elif not (inspector.role == Role.INSPECTOR and inspector.inspector_districts.filter(pk=zone.district_id).exists()):
        errors["inspector"] = _("The responsible inspector must be an inspector of the zone's district.")
    if errors:
        raise ValidationError(errors)


def ok_interval_default(*, starts_at: datetime.datetime, ends_at: datetime.datetime) -> int | None:
    """Ask "I'm OK" every 60 minutes on a shift that ends after midnight (local time); none asked otherwise."""
    start, end = timezone.localtime(starts_at), timezone.localtime(ends_at)
    later_day = end.date() > start.date()
    after_midnight = later_day and (end.time() > datetime.time(0, 0) or end - start > datetime.timedelta(days=1))
    return 60 if after_midnight else None


@transaction.atomic
def shift_create(
    *,
    by: User,
    zone: Zone,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    min_volunteers: int = 2,
    max_volunteers: int = 6,
    groups: Iterable[Group] | None = None,
    inspector: User | None = None,
    briefing: str = "",
    ok_interval_minutes: int | None = None,
) -> Shift:
    """Plan a one-off shift; invited groups default to the district's groups, the inspector to the planner.

    "I'm OK" check-ins: every `ok_interval_minutes`; by default every 60 for a shift that ends after midnight;
    0 asks none."""
    _require_district(district=zone.district, by=by)
    groups = list(groups) if groups else _default_groups(zone.district)
    inspector = inspector or _default_inspector(district=zone.district, by=by)
    if starts_at <= timezone.now():
        raise ValidationError({"starts_at": _("A new shift cannot start in the past.")})
    _check_plan(
        zone=zone,
        starts_at=starts_at,
        ends_at=ends_at,
        min_volunteers=min_volunteers,
        max_volunteers=max_volunteers,
        groups=groups,
        inspector=inspector,
    )
    shift = Shift(
        district=zone.district,
        zone=zone,
        starts_at=starts_at,
        ends_at=ends_at,
        min_volunteers=min_volunteers,
        max_volunteers=max_volunteers,
        inspector=inspector,
        briefing=text_within(briefing, field="briefing", limit=NOTE_TEXT),
        ok_interval_minutes=(
            ok_interval_default(starts_at=starts_at, ends_at=ends_at)
            if ok_interval_minutes is None
            else ok_interval_minutes or None
        ),
    )
    shift.full_clean()
    shift.save()
    shift.groups.set(groups)
    _event(shift, ShiftEventKind.CREATED, by=by)
    return shift


def _people_on(shift: Shift) -> list[User]:
    """Accounts of the volunteers holding a seat or waiting on a shift (those to tell about a change)."""
    return list(
        User.objects.filter(
            volunteer__assignments__shift=shift,
            volunteer__assignments__status__in=[AssignmentStatus.SIGNED_UP, AssignmentStatus.WAITLISTED],
        ).distinct()
    )


SHIFT_EDITABLE_FIELDS = frozenset(
    {"zone", "starts_at", "ends_at", "min_volunteers", "max_volunteers", "groups", "inspector", "briefing"}
)


@transaction.atomic
def shift_update(*, shift: Shift, by: User, **changes) -> Shift:
    """Change one shift (also one generated from a series); the people on it are told."""
    only_fields(changes, SHIFT_EDITABLE_FIELDS)
    shift = Shift.objects.select_for_update().get(pk=shift.pk)
    _require_district(district=shift.district, by=by)
    if shift.status != ShiftStatus.SCHEDULED:
        raise ValidationError(_("A cancelled or closed shift cannot be changed."))
    now = timezone.now()
    if shift.starts_at <= now and ({"starts_at", "ends_at", "zone"} & set(changes)):
        raise ValidationError(_("The shift has started: its time and zone can no longer change."))
    groups = list(changes.pop("groups")) if "groups" in changes else list(shift.groups.all())
    if "briefing" in changes:
        changes["briefing"] = text_within(changes["briefing"], field="briefing", limit=NOTE_TEXT)
    before = model_update(shift, allowed=SHIFT_EDITABLE_FIELDS, changes=changes)
    if "starts_at" in changes and shift.starts_at <= now:
        raise ValidationError({"starts_at": _("A shift cannot be moved into the past.")})
    if shift.zone.district_id != shift.district_id:
        raise ValidationError({"zone": _("The zone must be in the shift's district.")})
    _check_plan(
        zone=shift.zone,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        min_volunteers=shift.min_volunteers,
        max_volunteers=shift.max_volunteers,
        groups=groups,
        inspector=shift.inspector,
    )
    seats = seats_taken(shift)
    if shift.max_volunteers < seats:
        raise ValidationError(
            {
                "max_volunteers": _("%(count)d volunteers already hold a seat: the maximum cannot be lower.")
                % {"count": seats}
            }
        )
    shift.full_clean()
    shift.save()
    shift.groups.set(groups)
    changed = {field: str(value) for field, value in before.items()}
    _event(shift, ShiftEventKind.UPDATED, by=by, changed=sorted(changed))
    _promote_waiting(shift, by=by)
    if changed.keys() & {"starts_at", "ends_at", "zone", "briefing"}:
        notify(users=_people_on(shift), kind=NotificationKind.SHIFT_CHANGED, shift=shift, changed=sorted(changed))
    return shift


@transaction.atomic
def shift_cancel(*, shift: Shift, by: User, reason: str) -> Shift:
    """Cancel a shift: everyone on it or waiting is released and told why."""
    shift = Shift.objects.select_for_update().get(pk=shift.pk)
    _require_district(district=shift.district, by=by)
    reason = text_within(reason, field="reason", limit=SHORT_TEXT)
    if not reason:
        raise ValidationError({"reason": _("Say why the shift is cancelled: the volunteers will read it.")})
    if shift.status != ShiftStatus.SCHEDULED:
        raise ValidationError(_("Only a scheduled shift can be cancelled."))
    if shift.ends_at <= timezone.now():
        raise ValidationError(_("This shift is over; it can no longer be cancelled."))
    people = _people_on(shift)
    now = timezone.now()
    shift.assignments.filter(status__in=[AssignmentStatus.SIGNED_UP, AssignmentStatus.WAITLISTED]).update(
        status=AssignmentStatus.CANCELLED, cancelled_at=now
    )
    shift.status = ShiftStatus.CANCELLED
    shift.cancel_reason = reason
    shift.save(update_fields=["status", "cancel_reason", "updated_at"])
    _event(shift, ShiftEventKind.CANCELLED, by=by, reason=reason)
    notify(users=people, kind=NotificationKind.SHIFT_CANCELLED, shift=shift, reason=reason)
    return shift


# Sign-up


# The reads of a volunteer's sign-up and cancelling, the most frequent writes there are: built once
# (patrols/prepared.py), then run with each tap's values.
_locked_shift = PreparedQuery(lambda shift_id: Shift.objects.select_for_update().filter(pk=shift_id), shift_id=int)
_locked_volunteer = PreparedQuery(
    lambda volunteer_id: Volunteer.objects.select_for_update().filter(pk=volunteer_id), volunteer_id=int
)
# The groups a volunteer is a member of today that are invited to the shift.
_invited_groups_of = PreparedQuery(
    lambda shift_id, volunteer_id: Shift.groups.through.objects.filter(
        shift_id=shift_id, group_id__in=active_group_ids(volunteer_id)
    ).values_list("group_id", flat=True),
    shift_id=int,
    volunteer_id=int,
)
_on_shift_already = PreparedQuery(
    lambda shift_id, volunteer_id: (
        Assignment.objects.filter(shift_id=shift_id, volunteer_id=volunteer_id)
        .exclude(status=AssignmentStatus.CANCELLED)
        .values_list("pk", flat=True)[:1]
    ),
    shift_id=int,
    volunteer_id=int,
)
_first_clash = PreparedQuery(
    lambda volunteer_id, shift_id, starts_at, ends_at: (
        Assignment.objects.filter(
            volunteer_id=volunteer_id,
            status__in=BUSY_STATUSES,
            shift__starts_at__lt=ends_at,
            shift__ends_at__gt=starts_at,
        )
        .exclude(shift_id=shift_id)
        .select_related("shift__zone")
        .defer("shift__zone__geometry")[:1]
    ),
    volunteer_id=int,
    shift_id=int,
    starts_at=datetime.datetime,
    ends_at=datetime.datetime,
)
_assignment_with_shift = PreparedQuery(
    lambda assignment_id: Assignment.objects.select_related("volunteer", "shift").filter(pk=assignment_id),
    assignment_id=int,
)


def _may_sign_up(*, shift: Shift, volunteer: Volunteer, by: User) -> bool:
    """The volunteer for themselves, a leader for a member of their invited group, the district's keeper for anyone."""
    if manageable_districts(by).filter(pk=shift.district_id).exists():
        return Volunteer.objects.manageable_by(by).filter(pk=volunteer.pk).exists() or bool(
            set(active_group_ids(volunteer)) & set(shift.groups.values_list("pk", flat=True))
        )
    invited = set(_invited_groups_of(shift_id=shift.pk, volunteer_id=volunteer.pk))
    if not invited:
        return False
    if volunteer.user_id is not None and volunteer.user_id == by.pk:
        return True
    leader = getattr(by, "volunteer", None)
    return leader is not None and Group.objects.filter(pk__in=invited, leader=leader).exists()


@transaction.atomic
def shift_signup(*, shift: Shift, volunteer: Volunteer, by: User) -> Assignment:
    """Put a volunteer on a shift: a seat while there is one, else the waiting list.

    The shift row is locked first, then the volunteer's, so two people racing for the last seat are served one
    after the other, and one person cannot slip into two overlapping shifts at once.
    """
    shift = _locked_shift.get(shift_id=shift.pk)
    volunteer = _locked_volunteer.get(volunteer_id=volunteer.pk)
    if not _may_sign_up(shift=shift, volunteer=volunteer, by=by):
        raise ValidationError(_("This volunteer is not in a group invited to this shift."))
    if shift.status != ShiftStatus.SCHEDULED:
        raise ValidationError(_("This shift is cancelled or closed."))
    if shift.starts_at <= timezone.now():
        raise ValidationError(_("Sign-up closed when the shift started."))
    if volunteer.status != VolunteerStatus.REGISTERED:
        raise ValidationError(_("Only registered volunteers can patrol."))
    if _on_shift_already(shift_id=shift.pk, volunteer_id=volunteer.pk):
        raise ValidationError(_("This volunteer is already on this shift."))
    clash = _first_clash.first(
        volunteer_id=volunteer.pk, shift_id=shift.pk, starts_at=shift.starts_at, ends_at=shift.ends_at
    )
    if clash is not None:
        raise ValidationError(
            _("This overlaps another shift of the same volunteer: %(zone)s, %(start)s.")
            % {
                "zone": clash.shift.zone.name,
                "start": timezone.localtime(clash.shift.starts_at).strftime("%d.%m.%Y %H:%M"),
            }
        )
    seats = seats_taken(shift)
    status = AssignmentStatus.SIGNED_UP if seats < shift.max_volunteers else AssignmentStatus.WAITLISTED
    assignment = Assignment.objects.create(shift=shift, volunteer=volunteer, status=status, signed_up_by=by)
    kind = ShiftEventKind.SIGNED_UP if status == AssignmentStatus.SIGNED_UP else ShiftEventKind.WAITLISTED
    _event(shift, kind, by=by, volunteer=volunteer)
    if volunteer.user_id and by.pk != volunteer.user_id:
        notify(
            users=[volunteer.user],
            kind=NotificationKind.ASSIGNED,
            shift=shift,
            waitlisted=status == AssignmentStatus.WAITLISTED,
        )
    return assignment


def _promote_waiting(shift: Shift, *, by: User | None) -> list[Assignment]:
    """Fill free seats from the waiting list, first come first served (the shift is locked by the caller)."""
    free = shift.max_volunteers - seats_taken(shift)
    if free <= 0 or shift.starts_at <= timezone.now():
        return []
    promoted = list(
        shift.assignments.filter(status=AssignmentStatus.WAITLISTED).select_related("volunteer__user")[:free]
    )
    for assignment in promoted:
        assignment.status = AssignmentStatus.SIGNED_UP
        assignment.save(update_fields=["status"])
        _event(shift, ShiftEventKind.PROMOTED, by=by, volunteer=assignment.volunteer)
    users = [a.volunteer.user for a in promoted if a.volunteer.user_id]
    notify(users=users, kind=NotificationKind.PROMOTED, shift=shift)
    return promoted


@transaction.atomic
def shift_cancel_signup(*, assignment: Assignment, by: User) -> Assignment:
    """Withdraw from a shift before it starts; late when close to the start; the waiting list moves up."""
    shift = _locked_shift.get(shift_id=assignment.shift_id)
    assignment = _assignment_with_shift.get(assignment_id=assignment.pk)
    if not may_act_for(by, assignment.volunteer, district_id=shift.district_id):
        raise ValidationError(_("You cannot change this volunteer's shifts."))
    if assignment.status not in {AssignmentStatus.SIGNED_UP, AssignmentStatus.WAITLISTED}:
        raise ValidationError(_("Only a sign-up that has not started can be cancelled."))
    now = timezone.now()
    if shift.starts_at <= now:
        raise ValidationError(_("The shift has started: ask the inspector to excuse you instead."))
    held_seat = assignment.status == AssignmentStatus.SIGNED_UP
    assignment.status = AssignmentStatus.CANCELLED
    assignment.cancelled_at = now
    assignment.cancelled_late = held_seat and shift.starts_at - now < datetime.timedelta(hours=late_cancel_hours())
    assignment.save(update_fields=["status", "cancelled_at", "cancelled_late"])
    _event(
        shift, ShiftEventKind.SIGNUP_CANCELLED, by=by, volunteer=assignment.volunteer, late=assignment.cancelled_late
    )
    if held_seat:
        _promote_waiting(shift, by=None)
    return assignment


# On the day: check-in and check-out are `attendance.py`'s; the inspector marks who did not come.


@transaction.atomic
def attendance_mark(*, assignment: Assignment, by: User, status: str, note: str = "") -> Assignment:
    """The inspector marks a volunteer who did not come, or excuses them (also after the shift is closed)."""
    shift = Shift.objects.select_for_update().get(pk=assignment.shift_id)
    assignment = Assignment.objects.select_for_update().select_related("shift", "volunteer").get(pk=assignment.pk)
    _require_district(district=shift.district, by=by)
    if status not in {AssignmentStatus.NO_SHOW, AssignmentStatus.EXCUSED}:
        raise ValidationError({"status": _("Mark a volunteer as not come or excused.")})
    allowed_from = {AssignmentStatus.SIGNED_UP, AssignmentStatus.NO_SHOW, AssignmentStatus.EXCUSED}
    if assignment.status not in allowed_from:
        raise ValidationError(_("Only a volunteer who did not check in can be marked so."))
    if status == AssignmentStatus.NO_SHOW and assignment.shift.starts_at > timezone.now():
        raise ValidationError(_("The shift has not started yet."))
    status_before = assignment.status
    assignment.status = status
    assignment.note = (note or "").strip()
    assignment.save(update_fields=["status", "note"])
    ledger_no_show_change(assignment, shift, status_before=status_before)
    kind = ShiftEventKind.NO_SHOW if status == AssignmentStatus.NO_SHOW else ShiftEventKind.EXCUSED
    _event(assignment.shift, kind, by=by, volunteer=assignment.volunteer, note=assignment.note)
    if status == AssignmentStatus.EXCUSED and shift.starts_at > timezone.now():
        _promote_waiting(shift, by=by)
    return assignment


# Periodic work (called by Celery beat through tasks.py)


def shifts_close_finished(*, now: datetime.datetime | None = None) -> int:
    """Close shifts past their end plus the grace period: open check-ins end at the shift's end, absentees are
    recorded as not come (the inspector may excuse them). Safe to run again and from two workers at once."""
    now = now or timezone.now()
    closed = 0
    due = Shift.objects.filter(status=ShiftStatus.SCHEDULED, ends_at__lte=now - close_grace()).values_list(
        "pk", flat=True
    )
    for pk in list(due):
        with transaction.atomic():
            shift = (
                Shift.objects.select_for_update(skip_locked=True).filter(pk=pk, status=ShiftStatus.SCHEDULED).first()
            )
            if shift is None:
                continue
            for assignment in shift.assignments.select_for_update().filter(status=AssignmentStatus.CHECKED_IN):
                close_open_check_in(assignment, shift)
            absent = shift.assignments.select_for_update().filter(status=AssignmentStatus.SIGNED_UP)
            volunteer_ids = sorted(absent.values_list("volunteer_id", flat=True))
            absent.update(status=AssignmentStatus.NO_SHOW)
            for volunteer_id in volunteer_ids:
                ledger_add(volunteer_id=volunteer_id, day=local_day(shift.starts_at), measure=NO_SHOWS, delta=1)
            shift.assignments.filter(status=AssignmentStatus.WAITLISTED).update(
                status=AssignmentStatus.CANCELLED, cancelled_at=now
            )
            shift.status = ShiftStatus.CLOSED
            shift.closed_at = now
            shift.save(update_fields=["status", "closed_at", "updated_at"])
            _event(shift, ShiftEventKind.CLOSED, by=None, automatic=True)
            closed += 1
    return closed


def shifts_flag_understaffed(*, now: datetime.datetime | None = None) -> int:
    """Flag (once) each shift starting within 24 hours that is below its minimum, and tell its inspector."""
    now = now or timezone.now()
    flagged = 0
    candidates = Shift.objects.filter(
        status=ShiftStatus.SCHEDULED,
        understaffed_at__isnull=True,
        starts_at__gt=now,
        starts_at__lte=now + datetime.timedelta(hours=24),
    ).values_list("pk", flat=True)
    for pk in list(candidates):
        with transaction.atomic():
            shift = (
                Shift.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, understaffed_at__isnull=True)
                .select_related("inspector")
                .first()
            )
            if shift is None:
                continue
            seats = seats_taken(shift)
            if seats >= shift.min_volunteers:
                continue
            shift.understaffed_at = now
            shift.save(update_fields=["understaffed_at", "updated_at"])
            _event(shift, ShiftEventKind.UNDERSTAFFED, by=None, seats=seats, minimum=shift.min_volunteers)
            notify(users=[shift.inspector], kind=NotificationKind.UNDERSTAFFED, shift=shift, seats=seats)
            flagged += 1
    return flagged


# Weekly series


def _local_datetime(day: datetime.date, at: datetime.time) -> datetime.datetime:
    return datetime.datetime.combine(day, at, tzinfo=LOCAL_TZ)


def series_occurrences(series: ShiftSeries, *, start: datetime.date, end: datetime.date):
    """(starts_at, ends_at) of each occurrence from `start` to `end`; an end at or before the start is the next day."""
    first, last = max(start, series.starts_on), min(end, series.ends_on) if series.ends_on else end
    day = first
    while day <= last:
        if day.isoweekday() in series.weekdays:
            starts_at = _local_datetime(day, series.start_time)
            end_day = day + datetime.timedelta(days=1) if series.end_time <= series.start_time else day
            yield starts_at, _local_datetime(end_day, series.end_time)
        day += datetime.timedelta(days=1)


def _clean_weekdays(weekdays) -> list[int]:
    try:
        days = sorted({int(day) for day in weekdays})
    except (TypeError, ValueError) as error:
        raise ValidationError({"weekdays": _("Weekdays are numbers from 1 (Monday) to 7 (Sunday).")}) from error
    if not days or days[0] < 1 or days[-1] > 7:
        raise ValidationError({"weekdays": _("Choose at least one weekday, from 1 (Monday) to 7 (Sunday).")})
    return days


@transaction.atomic
def series_create(
    *,
    by: User,
    zone: Zone,
    weekdays: Iterable[int],
    start_time: datetime.time,
    end_time: datetime.time,
    starts_on: datetime.date,
    ends_on: datetime.date | None = None,
    min_volunteers: int = 2,
    max_volunteers: int = 6,
    groups: Iterable[Group] | None = None,
    inspector: User | None = None,
    briefing: str = "",
) -> ShiftSeries:
    """A weekly rule; its shifts for the coming weeks are generated at once, and further ahead by a daily task."""
    _require_district(district=zone.district, by=by)
    groups = list(groups) if groups else _default_groups(zone.district)
    inspector = inspector or _default_inspector(district=zone.district, by=by)
    weekdays = _clean_weekdays(weekdays)
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": _("The last day cannot be before the first day.")})
    if ends_on is not None and ends_on < timezone.localdate():
        raise ValidationError({"ends_on": _("The last day is already past.")})
    if starts_on > timezone.localdate() + plan_ahead():
        raise ValidationError(
            {"starts_on": _("Patrols are planned at most %(days)d days ahead.") % {"days": plan_ahead().days}}
        )
    if ends_on is not None and ends_on > timezone.localdate() + plan_ahead():
        raise ValidationError(
            {
                "ends_on": _("A series is planned at most %(days)d days ahead: leave the last day empty for no end.")
                % {"days": plan_ahead().days}
            }
        )
    sample_day = starts_on
    end_day = sample_day + datetime.timedelta(days=1) if end_time <= start_time else sample_day
    _check_plan(
        zone=zone,
        starts_at=_local_datetime(sample_day, start_time),
        ends_at=_local_datetime(end_day, end_time),
        min_volunteers=min_volunteers,
        max_volunteers=max_volunteers,
        groups=groups,
        inspector=inspector,
    )
    series = ShiftSeries(
        district=zone.district,
        zone=zone,
        weekdays=weekdays,
        start_time=start_time,
        end_time=end_time,
        starts_on=starts_on,
        ends_on=ends_on,
        min_volunteers=min_volunteers,
        max_volunteers=max_volunteers,
        inspector=inspector,
        briefing=text_within(briefing, field="briefing", limit=NOTE_TEXT),
    )
    series.full_clean()
    series.save()
    series.groups.set(groups)
    series_generate(series=series)
    return series


def series_generate(*, series: ShiftSeries, until: datetime.date | None = None) -> int:
    """Create the series' shifts up to `until` (default: the horizon); existing ones are left alone, so running
    twice (or from two workers at once) creates each shift once. Returns how many were created."""
    today = timezone.localdate()
    until = until or today + datetime.timedelta(days=series_horizon_days())
    now = timezone.now()
    wanted = [(s, e) for s, e in series_occurrences(series, start=today, end=until) if s > now]
    if not wanted or not series.is_active:
        return 0
    group_ids = list(series.groups.values_list("pk", flat=True))
    with transaction.atomic():
        existing = set(series.shifts.filter(starts_at__in=[s for s, _e in wanted]).values_list("starts_at", flat=True))
        fresh = [
            Shift(
                district_id=series.district_id,
                zone_id=series.zone_id,
                series=series,
                starts_at=starts_at,
                ends_at=ends_at,
                min_volunteers=series.min_volunteers,
                max_volunteers=series.max_volunteers,
                inspector_id=series.inspector_id,
                briefing=series.briefing,
                ok_interval_minutes=ok_interval_default(starts_at=starts_at, ends_at=ends_at),
            )
            for starts_at, ends_at in wanted
            if starts_at not in existing
        ]
        Shift.objects.bulk_create(fresh, ignore_conflicts=True)
        created = list(
            series.shifts.filter(starts_at__in=[shift.starts_at for shift in fresh], groups__isnull=True).distinct()
        )
        Through = Shift.groups.through
        Through.objects.bulk_create(
            [Through(shift_id=shift.pk, group_id=group_id) for shift in created for group_id in group_ids],
            ignore_conflicts=True,
        )
        ShiftEvent.objects.bulk_create(
            [ShiftEvent(shift=shift, kind=ShiftEventKind.CREATED, details={"series": series.pk}) for shift in created]
        )
        ShiftSeries.objects.filter(pk=series.pk).update(generated_until=until)
    return len(created)


def series_generate_all(*, until: datetime.date | None = None) -> int:
    """The daily task: every active series generates its shifts up to the horizon."""
    today = timezone.localdate()
    active = ShiftSeries.objects.filter(is_active=True).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    return sum(series_generate(series=series, until=until) for series in active)


@transaction.atomic
def series_stop(*, series: ShiftSeries, by: User) -> ShiftSeries:
    """Stop a series: no more shifts are generated; shifts already generated stay and can be cancelled one by one."""
    _require_district(district=series.district, by=by)
    series.is_active = False
    series.save(update_fields=["is_active"])
    return series


# Hours and the calendar feed


def patrol_hours(*, volunteer: Volunteer, year: int | None = None) -> float:
    """Hours on patrol that count (see `attendance.credited_minutes`), optionally of one year by the shifts' start."""
    done = Assignment.objects.filter(volunteer=volunteer, status=AssignmentStatus.COMPLETED)
    if year is not None:
        start = datetime.datetime(year, 1, 1, tzinfo=LOCAL_TZ)
        done = done.filter(shift__starts_at__gte=start, shift__starts_at__lt=start.replace(year=year + 1))
    return round((done.aggregate(minutes=Sum("credited_minutes"))["minutes"] or 0) / 60, 2)


def calendar_feed_for(*, volunteer: Volunteer) -> CalendarFeed:
    feed, _created = CalendarFeed.objects.get_or_create(volunteer=volunteer)
    return feed


@transaction.atomic
def calendar_feed_renew(*, volunteer: Volunteer, by: User) -> CalendarFeed:
    """Give the feed a new secret address; the old one stops working at once."""
    if volunteer.user_id != by.pk:
        raise ValidationError(_("Only the volunteer can renew their calendar address."))
    from ..models.schedule import new_feed_token

    feed = calendar_feed_for(volunteer=volunteer)
    feed.token = new_feed_token()
    feed.save(update_fields=["token", "created_at"])
    return feed
