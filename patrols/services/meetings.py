"""Meetings with residents: logged once per device id, planned ahead or held, changed and cancelled with their
history, photos checked like a report's. Only a held meeting counts (`tallies.meeting_share`): its tally moves in
the same transaction as the meeting, and the volunteers who took part get its minutes and one meeting in their
ledger (`ledger.ledger_meeting_change`)."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import MeetingEventKind, MeetingKind, MeetingStatus
from ..models import (
    Group,
    Meeting,
    MeetingAttendee,
    MeetingEvent,
    MeetingPhoto,
    Membership,
    Settlement,
    Topic,
    User,
    Volunteer,
)
from ..models.prevention import MAX_RESIDENTS
from ..scope import is_police, prevention_districts
from ..validators import LONG_TEXT, NOTE_TEXT, SHORT_TEXT, text_within
from .geometry import covered_by
from .ledger import ledger_meeting_change
from .photos import photo_attach
from .reporting import district_for_point, in_kazakhstan
from .tallies import MeetingShare, meeting_share, tally_meeting_change
from .updates import only_fields

CLOCK_SKEW = datetime.timedelta(minutes=5)
BORDER_SLACK_M = 300
# What a meeting's change may touch; the status moves only through hold and cancel.
MEETING_EDITABLE_FIELDS = frozenset(
    {
        "settlement",
        "point",
        "held_at",
        "duration_minutes",
        "kind",
        "residents",
        "topics",
        "groups",
        "officers",
        "attendees",
        "akimat_representatives",
        "decisions",
        "notes",
    }
)
TEXT_LIMITS = {"akimat_representatives": SHORT_TEXT, "decisions": LONG_TEXT, "notes": NOTE_TEXT}


def meeting_max_age() -> datetime.timedelta:
    """How long after a meeting it may still be logged as held."""
    return datetime.timedelta(days=settings.MEETING_MAX_AGE_DAYS)


def may_log_meetings(user: User) -> bool:
    """Inspectors, chiefs and admins log meetings, in the districts they keep."""
    return prevention_districts(user).exists()


# Checks


def _check_settlement(settlement: Settlement, by: User) -> None:
    if not prevention_districts(by).filter(pk=settlement.district_id).exists():
        raise ValidationError({"settlement": _("You cannot log meetings in this settlement's district.")})


def _check_point(point: Point, settlement: Settlement) -> dict[str, str]:
    if not in_kazakhstan(point):
        return {"point": _("This place is outside Kazakhstan.")}
    district = settlement.district
    # The district's own boundary when it has one (a few hundred metres' slack for a hall on the border), else the
    # district the point falls to, as for reports.
    inside = (
        covered_by(district.boundary, point, tolerance_m=BORDER_SLACK_M)
        if district.boundary is not None
        else district_for_point(point).pk == district.pk
    )
    if not inside:
        return {
            "point": _("This place is outside %(district)s, the district of %(settlement)s.")
            % {"district": settlement.district.name, "settlement": settlement.name}
        }
    return {}


def _check_time(status: str, held_at: datetime.datetime) -> dict[str, str]:
    now = timezone.now()
    if status == MeetingStatus.HELD:
        if held_at > now + CLOCK_SKEW:
            return {"held_at": _("A meeting held cannot be in the future: plan it instead.")}
        if held_at < now - meeting_max_age():
            days = settings.MEETING_MAX_AGE_DAYS
            return {"held_at": _("A meeting is logged within %(days)d days of it.") % {"days": days}}
    elif status == MeetingStatus.PLANNED:
        if held_at <= now:
            return {"held_at": _("A planned meeting is in the future; one that took place is marked held.")}
        if held_at > now + datetime.timedelta(days=settings.PLAN_AHEAD_DAYS):
            return {
                "held_at": _("A meeting is planned at most %(days)d days ahead.") % {"days": settings.PLAN_AHEAD_DAYS}
            }
    return {}


def _check_residents(status: str, residents: int | None) -> dict[str, str]:
    if residents is None:
        return {"residents": _("Say how many residents came to the meeting.")} if status == MeetingStatus.HELD else {}
    if residents < 0:
        return {"residents": _("The number of residents cannot be negative.")}
    if residents > MAX_RESIDENTS:
        return {"residents": _("At most %(count)d residents come to one meeting.") % {"count": MAX_RESIDENTS}}
    return {}


def _check_people(
    settlement: Settlement,
    *,
    topics: list[Topic],
    groups: list[Group],
    officers: list[User],
    attendees: list[Volunteer],
) -> dict[str, str]:
    errors = {}
    if any(not topic.is_active for topic in topics):
        errors["topics"] = _("A topic that is no longer used cannot be chosen.")
    if any(group.district_id != settlement.district_id or not group.is_active for group in groups):
        errors["groups"] = _("Only the active groups of the settlement's district can take part.")
    district = settlement.district_id
    if any(not is_police(o) or not prevention_districts(o).filter(pk=district).exists() for o in officers):
        errors["officers"] = _("Only the district's inspectors and the region's chiefs hold its meetings.")
    # One query for all of them: the volunteers of another district who are members of a group that took part.
    elsewhere = [volunteer for volunteer in attendees if volunteer.district_id != district]
    in_groups = set(
        Membership.objects.filter(volunteer__in=elsewhere, group__in=groups).values_list("volunteer_id", flat=True)
    )
    stranger = next((volunteer for volunteer in elsewhere if volunteer.pk not in in_groups), None)
    if stranger is not None:
        errors["attendees"] = _("%(name)s is not a volunteer of this district or of a group that took part.") % {
            "name": stranger.full_name
        }
    return errors


def _check_texts(values: dict[str, Any]) -> dict[str, str]:
    """Strip the free texts given in `values` in place; an error for each that is too long."""
    errors = {}
    for name in values.keys() & TEXT_LIMITS.keys():
        try:
            values[name] = text_within(values[name], field=name, limit=TEXT_LIMITS[name])
        except ValidationError as error:
            errors.update({key: value[0] for key, value in error.message_dict.items()})
    return errors


def _check_all(meeting: Meeting, *, by: User, point: Point, relations: dict[str, list]) -> None:
    """Every rule at once, so that the inspector sees all that is wrong in one answer; nothing is saved."""
    _check_settlement(meeting.settlement, by)
    errors: dict[str, str] = {}
    if meeting.kind not in MeetingKind.values:
        errors["kind"] = _("Choose the kind of meeting.")
    if not (5 <= (meeting.duration_minutes or 0) <= 12 * 60):
        errors["duration_minutes"] = _("A meeting lasts from 5 minutes to 12 hours.")
    errors.update(_check_point(point, meeting.settlement))
    errors.update(_check_time(meeting.status, meeting.held_at))
    errors.update(_check_residents(meeting.status, meeting.residents))
    errors.update(_check_people(meeting.settlement, **relations))
    if errors:
        raise ValidationError(errors)


# History and the figures


def _event(meeting: Meeting, kind: str, *, by: User | None, changes: dict | None = None, note: str = "") -> None:
    MeetingEvent.objects.create(meeting=meeting, kind=kind, by=by, changes=changes or {}, note=note)


def _sync_attendees(meeting: Meeting, volunteers: Iterable[Volunteer] | None = None) -> None:
    """The volunteers who took part, each with the meeting's minutes once it is held (0 before, or if cancelled)."""
    minutes = meeting.duration_minutes if meeting.status == MeetingStatus.HELD else 0
    if volunteers is not None:
        keep = {volunteer.pk for volunteer in volunteers}
        meeting.attendees.exclude(volunteer_id__in=keep).delete()
        known = set(meeting.attendees.values_list("volunteer_id", flat=True))
        MeetingAttendee.objects.bulk_create(
            [MeetingAttendee(meeting=meeting, volunteer_id=pk, minutes=minutes) for pk in sorted(keep - known)]
        )
    meeting.attendees.exclude(minutes=minutes).update(minutes=minutes)


def _attended(meeting: Meeting, share: MeetingShare | None) -> list[int]:
    """The volunteers a meeting counts for in their ledger: those who took part, once it is held."""
    return list(meeting.attendees.values_list("volunteer_id", flat=True)) if share is not None else []


def _save(meeting: Meeting, *, before, relations: dict[str, list] | None) -> None:
    """Save the meeting, its relations, its volunteers' minutes, its share of the tally and of its volunteers'
    ledgers, in one transaction."""
    attended_before = _attended(meeting, before)
    meeting.save()
    if relations is not None:
        meeting.topics.set(relations["topics"])
        meeting.groups.set(relations["groups"])
        meeting.officers.set(relations["officers"])
    _sync_attendees(meeting, relations["attendees"] if relations is not None else None)
    after = meeting_share(meeting)
    tally_meeting_change(before, after)
    ledger_meeting_change(before, attended_before, after, _attended(meeting, after))


def _relations_of(meeting: Meeting) -> dict[str, list]:
    return {
        "topics": list(meeting.topics.all()),
        "groups": list(meeting.groups.all()),
        "officers": list(meeting.officers.all()),
        "attendees": [a.volunteer for a in meeting.attendees.select_related("volunteer")],
    }


def _described(value) -> Any:
    """A value as the history keeps it: codes and ids, not objects."""
    if isinstance(value, list):
        return sorted(str(getattr(item, "code", None) or getattr(item, "pk", item)) for item in value)
    if isinstance(value, Point):
        return [round(value.x, 6), round(value.y, 6)]
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, Settlement):
        return value.code
    return value


# Logging a meeting


def meeting_record(
    *,
    by: User,
    client_uuid: uuid.UUID | str,
    settlement: Settlement,
    held_at: datetime.datetime,
    kind: str,
    status: str = MeetingStatus.PLANNED,
    point: Point | None = None,
    duration_minutes: int = 60,
    residents: int | None = None,
    topics: Iterable[Topic] = (),
    groups: Iterable[Group] = (),
    officers: Iterable[User] | None = None,
    attendees: Iterable[Volunteer] = (),
    akimat_representatives: str = "",
    decisions: str = "",
    notes: str = "",
) -> tuple[Meeting, bool]:
    """Log a meeting, planned ahead or already held; the same `client_uuid` again returns the first one.

    Returns (meeting, created). The point is the settlement's centre when not given; the officers are the person
    logging it when not given."""
    try:
        client_uuid = uuid.UUID(str(client_uuid))
    except ValueError as error:
        raise ValidationError({"client_uuid": _("The meeting id from the device is not valid.")}) from error
    existing = Meeting.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        return _same_keeper(existing, by), False
    if status not in {MeetingStatus.PLANNED, MeetingStatus.HELD}:
        raise ValidationError({"status": _("A new meeting is either planned or held.")})
    point = point or settlement.centre
    texts = {"akimat_representatives": akimat_representatives, "decisions": decisions, "notes": notes}
    text_errors = _check_texts(texts)
    relations = {
        "topics": list(topics),
        "groups": list(groups),
        "officers": list(officers) if officers is not None else ([by] if is_police(by) else []),
        "attendees": list(attendees),
    }
    meeting = Meeting(
        client_uuid=client_uuid,
        district_id=settlement.district_id,
        settlement=settlement,
        location=point,
        held_at=held_at,
        duration_minutes=duration_minutes,
        kind=kind,
        status=status,
        residents=residents,
        created_by=by,
        **texts,
    )
    if text_errors:
        _check_settlement(settlement, by)
        raise ValidationError(text_errors)
    _check_all(meeting, by=by, point=point, relations=relations)
    try:
        with transaction.atomic():
            _save(meeting, before=None, relations=relations)
            kind_of_event = MeetingEventKind.HELD if status == MeetingStatus.HELD else MeetingEventKind.PLANNED
            _event(meeting, kind_of_event, by=by)
    except IntegrityError:
        # Another request with the same client_uuid won the race: answer with its meeting.
        existing = Meeting.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise
        return _same_keeper(existing, by), False
    return meeting, True


def _same_keeper(meeting: Meeting, by: User) -> Meeting:
    if not Meeting.objects.manageable_by(by).filter(pk=meeting.pk).exists():
        raise ValidationError({"client_uuid": _("This meeting id is already used by another meeting.")})
    return meeting


def _locked(meeting: Meeting, by: User) -> Meeting:
    locked = Meeting.objects.select_for_update(of=("self",)).select_related("settlement__district").get(pk=meeting.pk)
    if not Meeting.objects.manageable_by(by).filter(pk=locked.pk).exists():
        raise ValidationError(_("You cannot change the meetings of this district."))
    return locked


def _apply(meeting: Meeting, *, by: User, changes: dict[str, Any], status: str | None = None) -> dict[str, list]:
    """Apply the changes (and a new status) to the locked meeting, check it all, save it; returns what changed."""
    only_fields(changes, MEETING_EDITABLE_FIELDS)
    before_share = meeting_share(meeting)
    relations = _relations_of(meeting)
    changed: dict[str, list] = {}
    texts = {name: changes[name] for name in TEXT_LIMITS if name in changes}
    text_errors = _check_texts(texts)
    if text_errors:
        raise ValidationError(text_errors)
    changes = {**changes, **texts}
    for name, value in changes.items():
        if name in relations:
            value = list(value)
            old = relations[name]
            relations[name] = value
        elif name == "point":
            old, value = meeting.location, value
            meeting.location = value
        else:
            old = getattr(meeting, name)
            setattr(meeting, name, value)
        if _described(old) != _described(value):
            changed[name] = [_described(old), _described(value)]
    if "settlement" in changes:
        meeting.district_id = meeting.settlement.district_id
        if "point" not in changes:
            meeting.location = meeting.settlement.centre
    if status is not None and status != meeting.status:
        changed["status"] = [meeting.status, status]
        meeting.status = status
    _check_all(meeting, by=by, point=meeting.location, relations=relations)
    _save(meeting, before=before_share, relations=relations)
    return changed


@transaction.atomic
def meeting_update(*, meeting: Meeting, by: User, **changes) -> Meeting:
    """Change a planned or held meeting (a correction of a held one moves its figures too); the history keeps it."""
    meeting = _locked(meeting, by)
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError(_("A cancelled meeting cannot be changed."))
    changed = _apply(meeting, by=by, changes=changes)
    if changed:
        _event(meeting, MeetingEventKind.CHANGED, by=by, changes=changed)
    return meeting


@transaction.atomic
def meeting_hold(*, meeting: Meeting, by: User, residents: int | None, **changes) -> Meeting:
    """Mark a planned meeting held, with how many residents came (and any correction): from now on it counts."""
    meeting = _locked(meeting, by)
    if meeting.status != MeetingStatus.PLANNED:
        raise ValidationError(
            _("A meeting that is “%(current)s” cannot be marked held.")
            % {"current": MeetingStatus(meeting.status).label}
        )
    if "held_at" not in changes and meeting.held_at > timezone.now() + CLOCK_SKEW:
        # Held earlier than planned: it took place now.
        changes["held_at"] = timezone.now()
    changed = _apply(meeting, by=by, changes={**changes, "residents": residents}, status=MeetingStatus.HELD)
    _event(meeting, MeetingEventKind.HELD, by=by, changes=changed)
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, by: User, reason: str) -> Meeting:
    """Cancel a planned meeting, or withdraw a held one logged by mistake (it stops counting); a reason is needed."""
    reason = text_within(reason, field="reason", limit=SHORT_TEXT)
    if not reason:
        raise ValidationError({"reason": _("Say why the meeting is cancelled.")})
    meeting = _locked(meeting, by)
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError(_("This meeting is already cancelled."))
    before_share = meeting_share(meeting)
    previous = meeting.status
    meeting.status, meeting.cancel_reason = MeetingStatus.CANCELLED, reason
    _save(meeting, before=before_share, relations=None)
    _event(meeting, MeetingEventKind.CANCELLED, by=by, changes={"status": [previous, meeting.status]}, note=reason)
    return meeting


@transaction.atomic
def meeting_photo_add(*, meeting: Meeting, by: User, upload: UploadedFile) -> tuple[MeetingPhoto, bool]:
    """Attach a checked photo; the same photo sent again (a retry) is kept once. Returns (photo, created)."""
    meeting = _locked(meeting, by)
    too_many = _("A meeting has at most %(count)d photos.") % {"count": settings.PHOTOS_PER_REPORT}
    photo, created = photo_attach(meeting.photos, upload, too_many=too_many)
    if created:
        _event(meeting, MeetingEventKind.PHOTO_ADDED, by=by)
    return photo, created


def meeting_minutes(*, volunteer: Volunteer, year: int | None = None) -> int:
    """The minutes a volunteer spent at held meetings (in a year, Asia/Almaty), for their hours."""
    rows = MeetingAttendee.objects.filter(volunteer=volunteer, meeting__status=MeetingStatus.HELD)
    if year is not None:
        rows = rows.filter(meeting__held_at__year=year)
    return rows.aggregate(total=Sum("minutes"))["total"] or 0
