"""Call-outs: an inspector asks for N people at a place and time ("5 people at the school at 21:00, for 2 hours").

A call-out is a shift made for it (in a zone of the district, or a small zone drawn around the point) with N seats,
and a message to every registered volunteer of the chosen groups by their channels, with a one-tap accept link.
Accepting is signing up for that shift (`scheduling.shift_signup`, so its rules hold: registered, invited, no
overlap): the first N get a seat, later ones its waiting list.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.contrib.gis.geos import Point
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from ..choices import (
    SEAT_STATUSES,
    AssignmentStatus,
    CallOutResult,
    CallOutStatus,
    NotificationKind,
    VolunteerStatus,
    ZoneKind,
)
from ..models import CallOut, CallOutAnswer, District, Group, User, Volunteer, Zone
from ..scope import active_group_ids, manageable_districts
from ..validators import SHORT_TEXT, text_within
from . import scheduling
from .geometry import box_around
from .ledger import ledger_callout_answered
from .notifications import notify

ACCEPT_SALT = "patrols.callout-accept"
# A zone made around a point: a square of about 300 m, the size of a school's grounds and the street before it.
POINT_ZONE_METRES = 150
MAX_NEEDED = 100
MAX_HOURS = 12


def _district_of(*, by: User, zone: Zone | None, point: Point | None) -> District:
    districts = manageable_districts(by)
    if zone is not None:
        if not districts.filter(pk=zone.district_id).exists():
            raise ValidationError({"zone": _("You cannot call people out in this district.")})
        return zone.district
    if point is None:
        raise ValidationError({"zone": _("Choose a zone or put the place on the map.")})
    district = districts.filter(boundary__intersects=point).defer("boundary").first()
    if district is None:
        raise ValidationError({"lat": _("The place is not in a district you keep.")})
    return district


def _ends_at(starts_at: datetime.datetime, ends_at: datetime.datetime | None, hours: float | None):
    if ends_at is None:
        if hours is None:
            raise ValidationError({"hours": _("Say for how many hours the people are needed.")})
        if not 0 < hours <= MAX_HOURS:
            raise ValidationError({"hours": _("A call-out lasts up to %(hours)d hours.") % {"hours": MAX_HOURS}})
        ends_at = starts_at + datetime.timedelta(hours=hours)
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("A call-out must end after it starts.")})
    return ends_at


def recipients(groups: Iterable[Group]) -> QuerySet[User]:
    """The accounts of the registered volunteers who are members of the groups today."""
    return User.objects.filter(
        is_active=True,
        volunteer__status=VolunteerStatus.REGISTERED,
        volunteer__memberships__group__in=list(groups),
        volunteer__memberships__left_on=None,
    ).distinct()


@transaction.atomic
def callout_create(
    *,
    by: User,
    place: str,
    starts_at: datetime.datetime,
    needed: int,
    groups: Iterable[Group],
    zone: Zone | None = None,
    point: Point | None = None,
    ends_at: datetime.datetime | None = None,
    hours: float | None = None,
) -> CallOut:
    """Ask the chosen groups for `needed` people: the shift made for it, and the message to each volunteer."""
    district = _district_of(by=by, zone=zone, point=point)
    groups = list(groups)
    place = text_within(place, field="place", limit=200) or (zone.name if zone else "")
    if not place:
        raise ValidationError({"place": _("Say where the people should come.")})
    if not 1 <= needed <= MAX_NEEDED:
        raise ValidationError({"needed": _("Ask for 1 to %(most)d people.") % {"most": MAX_NEEDED}})
    ends_at = _ends_at(starts_at, ends_at, hours)
    if not groups:
        raise ValidationError({"groups": _("Choose the groups to ask.")})
    if any(group.district_id != district.pk for group in groups):
        raise ValidationError({"groups": _("Only groups of the call-out's district can be asked.")})
    if zone is None:
        start = timezone.localtime(starts_at).strftime("%d.%m %H:%M")
        zone = scheduling.zone_create(
            by=by,
            district=district,
            name=_("Call-out: %(place)s, %(start)s") % {"place": place[:150], "start": start},
            kind=ZoneKind.AREA,
            geometry=box_around(point, POINT_ZONE_METRES),
            description=text_within(place, field="place", limit=SHORT_TEXT),
        )
    shift = scheduling.shift_create(
        by=by,
        zone=zone,
        starts_at=starts_at,
        ends_at=ends_at,
        min_volunteers=needed,
        max_volunteers=needed,
        groups=groups,
        briefing=place,
    )
    callout = CallOut(
        by=by,
        district=district,
        zone=zone,
        point=point,
        place=place,
        starts_at=starts_at,
        ends_at=ends_at,
        needed=needed,
        shift=shift,
    )
    callout.full_clean(exclude=["groups"])
    callout.save()
    callout.groups.set(groups)
    notify(users=recipients(groups), kind=NotificationKind.CALLOUT, shift=shift, callout=callout.pk, place=place)
    return callout


@transaction.atomic
def callout_accept(*, callout: CallOut, volunteer: Volunteer, by: User) -> tuple[CallOutAnswer, bool]:
    """ "I'm coming": a seat while there is one, else the waiting list. Accepting again returns the first answer."""
    callout = CallOut.objects.select_for_update().get(pk=callout.pk)
    answer = CallOutAnswer.objects.filter(callout=callout, volunteer=volunteer).first()
    if answer is not None:
        return answer, False
    if not set(active_group_ids(volunteer)) & set(callout.groups.values_list("pk", flat=True)):
        raise ValidationError(_("This call-out was not sent to your groups."))
    if callout.status == CallOutStatus.CLOSED:
        raise ValidationError(_("This call-out is closed."))
    assignment = scheduling.shift_signup(shift=callout.shift, volunteer=volunteer, by=by)
    seated = assignment.status == AssignmentStatus.SIGNED_UP
    answer = CallOutAnswer.objects.create(
        callout=callout,
        volunteer=volunteer,
        assignment=assignment,
        result=CallOutResult.ASSIGNED if seated else CallOutResult.WAITLISTED,
    )
    ledger_callout_answered(answer, callout)
    seats = callout.shift.assignments.filter(status__in=SEAT_STATUSES).count()
    if callout.status == CallOutStatus.OPEN and seats >= callout.needed:
        callout.status = CallOutStatus.FILLED
        callout.save(update_fields=["status"])
    return answer, True


def open_callouts(user: User) -> QuerySet[CallOut]:
    """For the duty board: the user's call-outs not yet over, soonest first, each with `assigned` and `waitlisted`
    (how many answers got a seat and how many wait) and its zone and shift loaded."""
    return (
        CallOut.objects.visible_to(user)
        .filter(status__in=[CallOutStatus.OPEN, CallOutStatus.FILLED], ends_at__gt=timezone.now())
        .select_related("zone", "shift", "district")
        .annotate(
            assigned=Count("answers", filter=Q(answers__result=CallOutResult.ASSIGNED)),
            waitlisted=Count("answers", filter=Q(answers__result=CallOutResult.WAITLISTED)),
        )
        .order_by("starts_at", "pk")
    )


def callout_answers(callout: CallOut) -> list[dict]:
    """Who answered, in order, with the state of their place on the shift now (a seat may have been freed)."""
    rows = callout.answers.select_related("volunteer", "assignment").order_by("accepted_at", "pk")
    return [
        {
            "volunteer": answer.volunteer.full_name,
            "accepted_at": answer.accepted_at,
            "result": answer.result,
            "assignment_status": answer.assignment.status if answer.assignment else "",
        }
        for answer in rows
    ]


# The one-tap link in the message


def accept_token(*, callout_id: int, user_id: int) -> str:
    return signing.dumps({"c": callout_id, "u": user_id}, salt=ACCEPT_SALT, compress=True)


def accept_link(*, callout_id: int, user_id: int) -> str:
    from .messages import absolute

    return absolute(f"/callouts/accept/{accept_token(callout_id=callout_id, user_id=user_id)}/")


def accept_read(token: str) -> tuple[CallOut, Volunteer]:
    """The call-out and the volunteer a link stands for; a clear error for a forged or expired link."""
    try:
        data = signing.loads(token, salt=ACCEPT_SALT, max_age=datetime.timedelta(days=2))
    except signing.BadSignature as error:
        raise ValidationError(_("This link is not valid.")) from error
    callout = CallOut.objects.select_related("shift", "zone").filter(pk=data.get("c")).first()
    volunteer = Volunteer.objects.select_related("user").filter(user_id=data.get("u")).first()
    if callout is None or volunteer is None or volunteer.user is None:
        raise ValidationError(_("This link is not valid."))
    if callout.starts_at <= timezone.now():
        raise ValidationError(_("This link has expired: the call-out has started."))
    return callout, volunteer


def accept_by_link(token: str) -> tuple[CallOutAnswer, bool]:
    callout, volunteer = accept_read(token)
    return callout_accept(callout=callout, volunteer=volunteer, by=volunteer.user)


def callout_words(notification) -> tuple[str, str]:
    """(subject, body) of a CALLOUT message in the active language."""
    shift = notification.shift
    details = notification.details or {}
    words = {
        "place": details.get("place", ""),
        "needed": shift.max_volunteers if shift else 0,
        "start": formats.date_format(timezone.localtime(shift.starts_at), "SHORT_DATETIME_FORMAT") if shift else "",
        "end": formats.time_format(timezone.localtime(shift.ends_at), "H:i") if shift else "",
    }
    return (
        _("People needed: %(place)s, %(start)s") % words,
        _("The inspector asks for %(needed)d people at %(place)s, %(start)s–%(end)s. Can you come? Tap the link.")
        % words,
    )
