"""A volunteer in trouble: the SOS, its tiers of escalation, the answers, and the "I'm OK" check-ins.

Tier 1 is told at once, in the request that raises the alarm: the shift's inspector and the group leader (in the
app, by SMS and email) and the volunteers on duty within `SOS_NEARBY_METRES` (in the app). When the broker is
down, the web process sends tier 1's SMS itself (`notifications.queue_or_send`). Nobody of tier 1 acknowledging
within `SOS_ACK_SECONDS` sends it to the district's duty unit (tier 2: SMS to its phones, email, its signed
webhook), then as long again to the region's ЖБО (tier 3). The clock is a task timed per alarm plus the sweep every
10 seconds; both take the alarm's row lock (`skip_locked`), so two workers never escalate it twice.

Who may raise one: any volunteer's account. On duty (checked in) the alarm carries the shift, its zone and the
group; off duty it still goes out, to the leaders and supervising inspectors of the volunteer's groups (or the
district's inspectors), because a volunteer in danger on the way home is no less in danger.

An amber alarm (`missed_ok`) is raised by the sweep when an "I'm OK" check-in goes unanswered past
`OK_GRACE_MINUTES`: it goes to the shift's inspector and the group leader only, never to a duty unit.
"""

from __future__ import annotations

import datetime
import logging
import uuid

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..choices import (
    AssignmentStatus,
    DeliveryStatus,
    DutyUnitLevel,
    NotificationKind,
    SosChannel,
    SosEventKind,
    SosKind,
    SosStatus,
)
from ..models import (
    Assignment,
    DutyUnit,
    Group,
    Notification,
    PositionPing,
    Shift,
    SosAlarm,
    SosDispatch,
    SosEvent,
    User,
    Volunteer,
)
from ..scope import districts_in_scope, is_police
from ..validators import format_phone
from . import duty_webhooks
from .channels import DeliveryError, sms_backend
from .geometry import box_around, distance_m, point_from
from .notifications import notify, notify_many_once

logger = logging.getLogger(__name__)

LAST_TIER = 3
NOTE_LIMIT = 2000
ACTIVE = (SosStatus.OPEN, SosStatus.ACKNOWLEDGED)
# A position a phone sent longer ago than this does not say where a volunteer is now.
FRESH_POSITION = datetime.timedelta(minutes=30)


def ack_window() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.SOS_ACK_SECONDS)


# Who is who around an alarm


def _on_duty_assignment(volunteer: Volunteer, shift: Shift | None) -> Assignment | None:
    """The assignment an alarm is about: the one on the shift named, else the volunteer's current check-in."""
    assignments = Assignment.objects.filter(volunteer=volunteer).select_related("shift__zone")
    if shift is not None:
        found = assignments.filter(shift=shift).exclude(status=AssignmentStatus.CANCELLED).first()
        if found is None:
            raise ValidationError({"shift": _("You are not on this shift.")})
        return found
    return assignments.filter(status=AssignmentStatus.CHECKED_IN).order_by("-check_in_at", "-pk").first()


def _group_for(volunteer: Volunteer, shift: Shift | None) -> Group | None:
    """The volunteer's group the alarm concerns: one invited to the shift if any, one with a leader first."""
    groups = Group.objects.filter(memberships__volunteer=volunteer, memberships__left_on=None).select_related(
        "leader__user"
    )
    if shift is not None:
        invited = groups.filter(pk__in=shift.groups.values("pk"))
        groups = invited if invited.exists() else groups
    return groups.order_by(F("leader").asc(nulls_last=True), "pk").first()


def tier_one_people(alarm: SosAlarm) -> list[User]:
    """The shift's inspector (else the group's, else the district's inspectors) and the group leader."""
    people: list[User] = []
    if alarm.shift_id:
        people.append(alarm.shift.inspector)
    elif alarm.group_id and alarm.group.inspector_id:
        people.append(alarm.group.inspector)
    else:
        people.extend(alarm.district.inspectors.filter(is_active=True))
    leader = alarm.group.leader if alarm.group_id else None
    if leader is not None and leader.user_id:
        people.append(leader.user)
    return [person for person in people if person.pk != alarm.user_id and person.is_active]


def last_position(assignment: Assignment) -> Point | None:
    """Where the phone on this assignment last was: its latest position on duty, else its check-in point."""
    ping = assignment.positions.order_by("-recorded_at", "-pk").only("point").first()
    return ping.point if ping is not None else assignment.check_in_point


def nearby_on_duty(alarm: SosAlarm) -> list[User]:
    """Accounts of the other volunteers on duty now within `SOS_NEARBY_METRES` of the alarm (last known position)."""
    if alarm.point is None:
        return []
    radius = settings.SOS_NEARBY_METRES
    box = box_around(alarm.point, radius)
    on_duty = Assignment.objects.filter(status=AssignmentStatus.CHECKED_IN, volunteer__user__isnull=False).exclude(
        volunteer_id=alarm.volunteer_id
    )
    recent = PositionPing.objects.filter(
        point__intersects=box, recorded_at__gte=timezone.now() - FRESH_POSITION, assignment__in=on_duty
    ).values("assignment_id")
    candidates = on_duty.filter(Q(check_in_point__intersects=box) | Q(pk__in=recent)).select_related("volunteer__user")
    users = {}
    for assignment in candidates:
        where = last_position(assignment)
        if where is not None and distance_m(where, alarm.point) <= radius:
            users[assignment.volunteer.user_id] = assignment.volunteer.user
    return [user for user in users.values() if user.is_active]


def _names(users: list[User]) -> list[str]:
    return [user.get_full_name() or user.username for user in users]


def _event(alarm: SosAlarm, kind: str, *, by: User | None = None, **fields) -> SosEvent:
    return SosEvent.objects.create(alarm=alarm, kind=kind, by=by, **fields)


# Raising


def _timer_on_commit(alarm_id: int, delay: datetime.timedelta) -> None:
    """The alarm's own clock, a task due when its window closes; the sweep is the safety net if it is lost."""

    def schedule() -> None:
        from ..tasks import escalate_sos

        try:
            with escalate_sos.app.producer_or_acquire() as producer:
                if not escalate_sos.app.conf.task_always_eager:
                    producer.connection.ensure_connection(max_retries=0)
                escalate_sos.apply_async(
                    args=[alarm_id], countdown=delay.total_seconds() + 0.5, retry=False, producer=producer
                )
        except Exception as error:  # the broker is down: the sweep escalates when it is back
            logger.warning("Broker unavailable, SOS %s waits for the sweep to escalate: %s", alarm_id, error)

    from ..tasks import escalate_sos

    # Run at once, a timer would find nothing due: eager runs (tests, a first run without Redis) rely on the sweep.
    if not escalate_sos.app.conf.task_always_eager:
        transaction.on_commit(schedule)


def _tell_tier_one(alarm: SosAlarm, *, kind: str, with_nearby: bool) -> None:
    people = tier_one_people(alarm)
    notify(users=people, kind=kind, shift=alarm.shift, send_if_broker_down=True, alarm=alarm.pk)
    nearby = [user for user in nearby_on_duty(alarm) if user.pk not in {p.pk for p in people}] if with_nearby else []
    # In the app only: a volunteer nearby is asked to look, not woken by an SMS.
    Notification.objects.bulk_create(
        [
            Notification(user=user, kind=kind, shift=alarm.shift, details={"alarm": alarm.pk, "nearby": True})
            for user in nearby
        ]
    )
    alarm.nearby.add(*nearby)
    _event(
        alarm,
        SosEventKind.TIER_NOTIFIED,
        tier=1,
        details={"people": _names(people), "user_ids": [p.pk for p in people], "nearby": len(nearby)},
    )


@transaction.atomic
def sos_raise(
    *,
    by: User,
    lat,
    lng,
    accuracy_m: float | None = None,
    shift: Shift | None = None,
    client_uuid: uuid.UUID | None = None,
) -> tuple[SosAlarm, bool]:
    """Raise an SOS from the volunteer's phone and tell tier 1 now; (the alarm, whether it is new).

    The same `client_uuid` again (a phone that never heard the answer), or a second press while the volunteer's
    SOS is still open, gives the alarm already raised, with the newer position."""
    volunteer = Volunteer.objects.select_for_update().filter(user=by).first()
    if volunteer is None:
        raise ValidationError(_("Only a volunteer's account raises an SOS. In danger, call 102."))
    point = point_from(lat, lng)
    accuracy = round(accuracy_m) if accuracy_m is not None else None
    if client_uuid is not None:
        again = SosAlarm.objects.filter(user=by, client_uuid=client_uuid).first()
        if again is not None:
            return again, False
    open_one = SosAlarm.objects.filter(volunteer=volunteer, kind=SosKind.SOS, status__in=ACTIVE).first()
    if open_one is not None:
        open_one.point, open_one.accuracy_m = point, accuracy
        open_one.save(update_fields=["point", "accuracy_m"])
        return open_one, False
    assignment = _on_duty_assignment(volunteer, shift)
    shift = assignment.shift if assignment is not None else None
    now = timezone.now()
    alarm = SosAlarm.objects.create(
        kind=SosKind.SOS,
        volunteer=volunteer,
        user=by,
        district=shift.district if shift is not None else volunteer.district,
        assignment=assignment,
        shift=shift,
        group=_group_for(volunteer, shift),
        point=point,
        accuracy_m=accuracy,
        next_escalation_at=now + ack_window(),
        client_uuid=client_uuid,
    )
    _event(alarm, SosEventKind.RAISED, by=by, details={"accuracy_m": accuracy})
    _tell_tier_one(alarm, kind=NotificationKind.SOS_ALARM, with_nearby=True)
    _timer_on_commit(alarm.pk, ack_window())
    return alarm, True


# Escalation to the duty units


def unit_for(alarm: SosAlarm, tier: int) -> DutyUnit | None:
    """Tier 2: the district's duty unit; tier 3: the region's ЖБО (active ones only)."""
    units = DutyUnit.objects.filter(is_active=True)
    if tier == 2:
        return units.filter(level=DutyUnitLevel.DISTRICT, district_id=alarm.district_id).first()
    return units.filter(level=DutyUnitLevel.REGION, region_id=alarm.district.region_id).first()


def _dispatch(alarm: SosAlarm, unit: DutyUnit, tier: int) -> list[int]:
    """One message per phone, the email and the webhook of the unit, each under its own key (made once)."""
    base = f"sos{alarm.pk}:t{tier}:u{unit.pk}"
    rows = [SosDispatch(key=f"{base}:sms:{phone}", channel=SosChannel.SMS, address=phone) for phone in unit.phones]
    if unit.email:
        rows.append(SosDispatch(key=f"{base}:email", channel=SosChannel.EMAIL, address=unit.email))
    if unit.webhook_url:
        rows.append(SosDispatch(key=f"{base}:webhook", channel=SosChannel.WEBHOOK, address=unit.webhook_url))
    for row in rows:
        row.alarm, row.unit, row.tier = alarm, unit, tier
    SosDispatch.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        SosDispatch.objects.filter(key__in=[row.key for row in rows], status=DeliveryStatus.PENDING).values_list(
            "pk", flat=True
        )
    )


def _escalate(alarm: SosAlarm, now: datetime.datetime) -> list[int]:
    """Move a locked alarm up one tier (past a tier that has no unit); the ids of the messages to send."""
    dispatched: list[int] = []
    while alarm.tier < LAST_TIER:
        alarm.tier += 1
        unit = unit_for(alarm, alarm.tier)
        if unit is None:
            _event(alarm, SosEventKind.TIER_NOTIFIED, tier=alarm.tier, details={"unit": None})
            continue
        dispatched = _dispatch(alarm, unit, alarm.tier)
        _event(
            alarm,
            SosEventKind.TIER_NOTIFIED,
            tier=alarm.tier,
            unit=unit,
            details={"unit": unit.name, "channels": sorted({d.channel for d in alarm.dispatches.filter(unit=unit)})},
        )
        break
    alarm.next_escalation_at = now + ack_window() if alarm.tier < LAST_TIER else None
    alarm.save(update_fields=["tier", "next_escalation_at"])
    if alarm.next_escalation_at is not None:
        _timer_on_commit(alarm.pk, ack_window())
    return dispatched


def alarms_escalate_due(*, now: datetime.datetime | None = None, alarm_id: int | None = None) -> int:
    """Escalate every open SOS whose window has closed (or just `alarm_id`); how many moved up.

    Each alarm is taken with its row lock, skipping rows another worker holds, and checked again under it: an
    alarm acknowledged a moment ago, or escalated by the other worker, is left alone."""
    now = now or timezone.now()
    due = SosAlarm.objects.filter(
        kind=SosKind.SOS, status=SosStatus.OPEN, next_escalation_at__lte=now, tier__lt=LAST_TIER
    )
    if alarm_id is not None:
        due = due.filter(pk=alarm_id)
    moved = 0
    for pk in list(due.order_by("next_escalation_at").values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            alarm = (
                SosAlarm.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("district", "volunteer", "shift__zone")
                .filter(pk=pk, status=SosStatus.OPEN, next_escalation_at__lte=now, tier__lt=LAST_TIER)
                .first()
            )
            if alarm is None:
                continue
            ids = _escalate(alarm, now)
            transaction.on_commit(lambda ids=ids: queue_dispatches(ids))
            moved += 1
    return moved


def queue_dispatches(ids: list[int]) -> int:
    """Hand messages to duty units to the workers; with the broker down the sweep queues them again."""
    from ..tasks import send_sos_dispatch

    if not ids:
        return 0
    SosDispatch.objects.filter(pk__in=ids).update(queued_at=timezone.now())
    done = 0
    try:
        with send_sos_dispatch.app.producer_or_acquire() as producer:
            if not send_sos_dispatch.app.conf.task_always_eager:
                producer.connection.ensure_connection(max_retries=0)
            for pk in ids:
                send_sos_dispatch.apply_async(args=[pk], retry=False, producer=producer)
                done += 1
    except Exception as error:  # any broker failure: the sweep queues them again
        logger.warning("Broker unavailable, %s messages to duty units wait for the sweep: %s", len(ids) - done, error)
        SosDispatch.objects.filter(pk__in=ids[done:]).update(queued_at=None)
    return done


def dispatches_requeue(*, now: datetime.datetime | None = None) -> int:
    """Queue again the pending messages to duty units whose task may have been lost."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.DELIVERY_REQUEUE_SECONDS)
    waiting = (
        SosDispatch.objects.filter(status=DeliveryStatus.PENDING)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=cutoff))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return queue_dispatches(list(waiting[:5000]))


def _position_words(alarm: SosAlarm) -> dict:
    point = alarm.point
    return {
        "lat": f"{point.y:.5f}" if point else "?",
        "lng": f"{point.x:.5f}" if point else "?",
        "accuracy": alarm.accuracy_m if alarm.accuracy_m is not None else "?",
    }


def unit_text(alarm: SosAlarm) -> str:
    """The SMS and email a duty unit gets, in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        words = {
            **_position_words(alarm),
            "name": alarm.volunteer.full_name,
            "phone": format_phone(alarm.volunteer.phone, space=" "),
            "district": alarm.district.name,
            "minutes": max(1, settings.SOS_ACK_SECONDS // 60),
        }
        return (
            _(
                "SOS: volunteer %(name)s (%(phone)s) needs help at %(lat)s,%(lng)s (within %(accuracy)s m), "
                "%(district)s. Not acknowledged on the spot within %(minutes)s min. "
                "https://www.openstreetmap.org/?mlat=%(lat)s&mlon=%(lng)s"
            )
            % words
        )


def unit_payload(alarm: SosAlarm, dispatch: SosDispatch) -> dict:
    """The JSON a duty unit's system gets on its webhook (signed; `key` is the same on every retry)."""
    point = alarm.point
    return {
        "type": "sos",
        "key": dispatch.key,
        "alarm": alarm.pk,
        "tier": dispatch.tier,
        "status": alarm.status,
        "raised_at": alarm.created_at.isoformat(),
        "district": alarm.district.code,
        "shift": alarm.shift_id,
        "position": {"lat": point.y, "lng": point.x, "accuracy_m": alarm.accuracy_m} if point else None,
        "volunteer": {"name": alarm.volunteer.full_name, "phone": alarm.volunteer.phone},
        "text": unit_text(alarm),
    }


def _backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=min(15 * 2 ** (attempts - 1), 600))


def dispatch_send(*, dispatch_id: int) -> str:
    """Send one message to a duty unit if still pending; the row stays locked meanwhile, so it goes out once."""
    with transaction.atomic():
        dispatch = (
            SosDispatch.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("alarm__volunteer", "alarm__district", "unit")
            .filter(pk=dispatch_id)
            .first()
        )
        if dispatch is None:
            return "locked"
        if dispatch.status != DeliveryStatus.PENDING:
            return dispatch.status
        now = timezone.now()
        if dispatch.not_before is not None and now < dispatch.not_before:
            return "later"
        dispatch.attempts += 1
        alarm = dispatch.alarm
        try:
            if dispatch.channel == SosChannel.SMS:
                sms_backend().send(phone=dispatch.address, text=unit_text(alarm)[:480])
            elif dispatch.channel == SosChannel.EMAIL:
                _send_unit_email(dispatch)
            else:
                duty_webhooks.post_signed(dispatch.unit, unit_payload(alarm, dispatch), key=dispatch.key)
        except DeliveryError as error:
            dispatch.last_error = str(error)[:2000]
            if dispatch.attempts >= settings.DELIVERY_MAX_ATTEMPTS:
                dispatch.status = DeliveryStatus.FAILED
            else:
                dispatch.not_before = now + _backoff(dispatch.attempts)
                dispatch.queued_at = None
            dispatch.save(update_fields=["attempts", "last_error", "status", "not_before", "queued_at"])
            return "failed" if dispatch.status == DeliveryStatus.FAILED else "retry"
        dispatch.status, dispatch.sent_at, dispatch.last_error = DeliveryStatus.SENT, timezone.now(), ""
        dispatch.save(update_fields=["attempts", "status", "sent_at", "last_error"])
        return dispatch.status


def _send_unit_email(dispatch: SosDispatch) -> None:
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("SOS: a volunteer needs help (%(district)s)") % {"district": dispatch.alarm.district.name}
    email = EmailMessage(
        subject=subject,
        body=unit_text(dispatch.alarm),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[dispatch.address],
        headers={"Message-ID": f"<sos-{dispatch.pk}@{settings.SITE_URL.split('://')[-1].split('/')[0]}>"},
    )
    try:
        email.send(fail_silently=False)
    except Exception as error:  # any SMTP failure means "try again"
        raise DeliveryError(f"{error.__class__.__name__}: {error}") from error


# Answers


def may_respond(user: User, alarm: SosAlarm) -> bool:
    """Acknowledge and resolve: the district's police in scope and the group's leader, never the volunteer."""
    if not (user and user.is_authenticated) or user.pk == alarm.user_id:
        return False
    if is_police(user):
        return districts_in_scope(user).filter(pk=alarm.district_id).exists()
    leader = alarm.group.leader if alarm.group_id else None
    return leader is not None and leader.user_id == user.pk


def may_go(user: User, alarm: SosAlarm) -> bool:
    """Who may say "on my way": those who may respond, and the volunteers nearby who were called."""
    if may_respond(user, alarm):
        return True
    return user.pk != alarm.user_id and alarm.nearby.filter(pk=user.pk).exists()


def _locked(alarm: SosAlarm) -> SosAlarm:
    return (
        SosAlarm.objects.select_for_update(of=("self",))
        .select_related("volunteer", "group__leader", "shift__inspector", "district")
        .get(pk=alarm.pk)
    )


def _tell(alarm: SosAlarm, *, by: User | None, event: str, **details) -> None:
    """In the app: the volunteer and tier 1 (except whoever acted) hear what changed."""
    users = [alarm.user, *tier_one_people(alarm)]
    notify(
        users=[user for user in users if user is not None and (by is None or user.pk != by.pk)],
        kind=NotificationKind.SOS_UPDATE,
        shift=alarm.shift,
        alarm=alarm.pk,
        event=event,
        by=(by.get_full_name() or by.username) if by else "",
        **details,
    )


def _still_active(alarm: SosAlarm) -> None:
    if not alarm.is_active:
        raise ValidationError(_("This alarm is already closed."))


@transaction.atomic
def sos_acknowledge(*, alarm: SosAlarm, by: User | None = None, unit: DutyUnit | None = None) -> SosAlarm:
    """Someone has it: the escalation stops. Acknowledging again changes nothing."""
    alarm = _locked(alarm)
    _still_active(alarm)
    if alarm.status == SosStatus.ACKNOWLEDGED:
        return alarm
    alarm.status, alarm.acknowledged_at = SosStatus.ACKNOWLEDGED, timezone.now()
    alarm.acknowledged_by, alarm.acknowledged_unit, alarm.next_escalation_at = by, unit, None
    alarm.save(
        update_fields=["status", "acknowledged_at", "acknowledged_by", "acknowledged_unit", "next_escalation_at"]
    )
    _event(alarm, SosEventKind.ACKNOWLEDGED, by=by, unit=unit, tier=alarm.tier)
    _tell(alarm, by=by, event=SosEventKind.ACKNOWLEDGED, unit=unit.name if unit else "")
    return alarm


@transaction.atomic
def sos_on_my_way(*, alarm: SosAlarm, by: User) -> SosAlarm:
    """Someone is going to the volunteer: kept in the history and told to the volunteer (the status stays)."""
    alarm = _locked(alarm)
    _still_active(alarm)
    _event(alarm, SosEventKind.ON_MY_WAY, by=by)
    _tell(alarm, by=by, event=SosEventKind.ON_MY_WAY)
    return alarm


def _note(note: str, *, required: bool) -> str:
    note = (note or "").strip()
    if required and not note:
        raise ValidationError({"note": _("Say in a few words how it ended.")})
    if len(note) > NOTE_LIMIT:
        raise ValidationError({"note": _("At most %(limit)d characters.") % {"limit": NOTE_LIMIT}})
    return note


def _close(alarm: SosAlarm, *, status: str, by: User | None, note: str, event: str) -> SosAlarm:
    alarm.status, alarm.closed_at, alarm.next_escalation_at, alarm.note = status, timezone.now(), None, note
    alarm.save(update_fields=["status", "closed_at", "next_escalation_at", "note"])
    _event(alarm, event, by=by, note=note)
    _tell(alarm, by=by, event=event, note=note)
    return alarm


@transaction.atomic
def sos_resolve(*, alarm: SosAlarm, by: User | None, note: str) -> SosAlarm:
    """The volunteer is safe: the alarm closes with a note of how it ended."""
    alarm = _locked(alarm)
    _still_active(alarm)
    return _close(alarm, status=SosStatus.RESOLVED, by=by, note=_note(note, required=True), event=SosEventKind.RESOLVED)


@transaction.atomic
def sos_cancel(*, alarm: SosAlarm, by: User, note: str = "") -> SosAlarm:
    """The volunteer's own "false alarm": only they cancel their alarm."""
    alarm = _locked(alarm)
    if alarm.user_id != by.pk:
        raise ValidationError(_("Only the volunteer who raised the alarm can call it a false alarm."))
    _still_active(alarm)
    return _close(
        alarm, status=SosStatus.CANCELLED, by=by, note=_note(note, required=False), event=SosEventKind.CANCELLED
    )


def open_alarms_for(user: User):
    """The open and acknowledged alarms the user may see, unacknowledged first, newest first (for /duty/)."""
    return (
        SosAlarm.objects.visible_to(user)
        .filter(status__in=ACTIVE)
        .select_related("volunteer", "shift__zone", "group", "district", "acknowledged_by", "acknowledged_unit")
        .order_by("-status", "-created_at", "-pk")
    )


# "I'm OK" check-ins


def _ok_anchor(assignment: Assignment) -> datetime.datetime:
    return max(filter(None, [assignment.check_in_at, assignment.ok_at]))


def ok_next_due(assignment: Assignment) -> datetime.datetime | None:
    """When the volunteer is next asked "I'm OK" (None: this shift asks nothing, or they are not checked in)."""
    interval = assignment.shift.ok_interval_minutes
    if not interval or assignment.status != AssignmentStatus.CHECKED_IN or assignment.check_in_at is None:
        return None
    return _ok_anchor(assignment) + datetime.timedelta(minutes=interval)


@transaction.atomic
def ok_check_in(*, assignment: Assignment, by: User) -> Assignment:
    """The volunteer taps "I'm OK": the next check-in is counted from now; an amber alarm of theirs is resolved."""
    assignment = Assignment.objects.select_for_update(of=("self",)).select_related("volunteer").get(pk=assignment.pk)
    if assignment.volunteer.user_id != by.pk:
        raise ValidationError(_("Only the volunteer says they are OK, from their own phone."))
    if assignment.status != AssignmentStatus.CHECKED_IN:
        raise ValidationError(_("You are not checked in on this shift."))
    assignment.ok_at = timezone.now()
    assignment.save(update_fields=["ok_at"])
    for alarm in SosAlarm.objects.filter(assignment=assignment, kind=SosKind.MISSED_OK, status__in=ACTIVE):
        _close(
            _locked(alarm),
            status=SosStatus.RESOLVED,
            by=by,
            note=_('The volunteer said "I\'m OK".'),
            event=SosEventKind.RESOLVED,
        )
    return assignment


def _raise_amber(assignment: Assignment, *, key: str, missed_at: datetime.datetime) -> SosAlarm | None:
    volunteer, shift = assignment.volunteer, assignment.shift
    try:
        with transaction.atomic():
            alarm = SosAlarm.objects.create(
                kind=SosKind.MISSED_OK,
                volunteer=volunteer,
                user=volunteer.user,
                district=shift.district,
                assignment=assignment,
                shift=shift,
                group=_group_for(volunteer, shift),
                point=last_position(assignment),
                key=key,
            )
            _event(alarm, SosEventKind.RAISED, details={"missed_at": missed_at.isoformat()})
            _tell_tier_one(alarm, kind=NotificationKind.OK_MISSED, with_nearby=False)
    except IntegrityError:  # another sweep raised it a moment ago
        return None
    return alarm


def ok_sweep(*, now: datetime.datetime | None = None) -> dict:
    """Ask the volunteers whose "I'm OK" is due (in the app), and raise an amber alarm past the grace period."""
    now = now or timezone.now()
    grace = datetime.timedelta(minutes=settings.OK_GRACE_MINUTES)
    checked_in = (
        Assignment.objects.filter(
            status=AssignmentStatus.CHECKED_IN,
            shift__ok_interval_minutes__isnull=False,
            check_in_at__isnull=False,
            volunteer__user__isnull=False,
        )
        .select_related("shift__district", "shift__inspector", "volunteer__user")
        .order_by("pk")
    )
    prompts, raised = [], 0
    for assignment in checked_in.iterator(chunk_size=1000):
        anchor = _ok_anchor(assignment)
        due = anchor + datetime.timedelta(minutes=assignment.shift.ok_interval_minutes)
        if now < due:
            continue
        stamp = int(anchor.timestamp())
        prompts.append(
            Notification(
                key=f"ok-prompt:{assignment.pk}:{stamp}",
                user=assignment.volunteer.user,
                kind=NotificationKind.OK_PROMPT,
                shift=assignment.shift,
                details={"assignment": assignment.pk},
            )
        )
        key = f"ok-missed:{assignment.pk}:{stamp}"
        if now >= due + grace and not SosAlarm.objects.filter(key=key).exists():
            raised += bool(_raise_amber(assignment, key=key, missed_at=due))
    # On the phone only (never by email): a messenger button, a push, or an SMS answered with "OK".
    notify_many_once(prompts)
    return {"prompts": len(prompts), "amber": raised}


def sos_sweep(*, now: datetime.datetime | None = None) -> dict:
    """Every 10 seconds: escalate what is due, queue lost messages to duty units again, the "I'm OK" round."""
    now = now or timezone.now()
    return {
        "escalated": alarms_escalate_due(now=now),
        "requeued": dispatches_requeue(now=now),
        **ok_sweep(now=now),
    }


# Words of the notifications (called by services/messages.py)


def alarm_words(notification: Notification) -> tuple[str, str]:
    """(subject, body) of an alarm's notification, in the active language."""
    details = notification.details or {}
    kind = notification.kind
    if kind == NotificationKind.OK_PROMPT:
        return _("Are you OK?"), _('Tap "I\'m OK" here or on the patrol page to tell the inspector you are safe.')
    alarm = (
        SosAlarm.objects.select_related("volunteer", "shift__zone", "district").filter(pk=details.get("alarm")).first()
    )
    if alarm is None:
        return NotificationKind(kind).label, NotificationKind(kind).label
    words = {
        **_position_words(alarm),
        "name": alarm.volunteer.full_name,
        "phone": format_phone(alarm.volunteer.phone, space=" "),
        "zone": alarm.shift.zone.name if alarm.shift_id else alarm.district.name,
        "by": details.get("by") or details.get("unit") or "",
        "note": details.get("note", ""),
    }
    if kind == NotificationKind.SOS_ALARM and details.get("nearby"):
        return (
            _("SOS near you"),
            _("SOS: %(name)s, a volunteer on duty near you, needs help at %(lat)s,%(lng)s.") % words,
        )
    if kind == NotificationKind.SOS_ALARM:
        return (
            _("SOS: %(name)s needs help") % words,
            _("SOS! %(name)s (%(phone)s) needs help at %(lat)s,%(lng)s (within %(accuracy)s m), %(zone)s.") % words,
        )
    if kind == NotificationKind.OK_MISSED:
        return (
            _("%(name)s did not say they are OK") % words,
            _(
                '%(name)s (%(phone)s) on duty in %(zone)s has not answered the "I\'m OK" check-in. '
                "Last known position: %(lat)s,%(lng)s."
            )
            % words,
        )
    event = details.get("event")
    if event == SosEventKind.ACKNOWLEDGED:
        return _("The alarm was acknowledged"), _("%(by)s acknowledged the alarm of %(name)s.") % words
    if event == SosEventKind.ON_MY_WAY:
        return _("Help is on the way"), _("%(by)s is on the way to %(name)s.") % words
    if event == SosEventKind.RESOLVED:
        return _("The alarm was resolved"), _("The alarm of %(name)s was resolved: %(note)s") % words
    if event == SosEventKind.CANCELLED:
        return _("False alarm"), _("%(name)s called off the alarm: it was a false alarm.") % words
    return NotificationKind(kind).label, NotificationKind(kind).label
