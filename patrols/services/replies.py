"""Answers that come back from messengers and SMS: a button's payload or a typed "1", "2", "OK" turned into the same
service call the web makes, and the answer told back in the person's language.

A payload names an action and what it acts on, for example `decline:41`. It needs no signature: it only ever acts for
the person the channel identifies (a linked Telegram chat, an opted-in WhatsApp number, the phone an SMS went to),
and each action checks that the thing is theirs. What no longer applies (the shift has started, the seat was taken)
gets a clear answer, never silence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from ..choices import AssignmentStatus, CallOutResult, NotificationKind, ReportStatus
from ..models import Assignment, CallOut, Notification, Report, SosAlarm, User
from ..scope import is_police, manageable_districts

COMING, DECLINE, CALLOUT, OK, ACK, ON_MY_WAY, QUEUE = "coming", "decline", "callout", "ok", "ack", "going", "queue"

# What a typed answer means, in Kazakh, Russian and English (compared without case and trailing punctuation).
YES_WORDS = frozenset({"1", "ИӘ", "ИА", "IYA", "ДА", "YES", "Y", "+"})
NO_WORDS = frozenset({"2", "ЖОҚ", "ЖОК", "НЕТ", "NO", "N", "-"})
OK_WORDS = frozenset({"OK", "ОК", "OKAY", "ОКЕЙ", "ЖАҚСЫ", "ХОРОШО", "ВСЁ ХОРОШО", "ВСЕ ХОРОШО", "IM OK", "I'M OK"})
STOP_WORDS = frozenset({"STOP", "/STOP", "СТОП", "ТОҚТАТУ"})


@dataclass(frozen=True)
class Answered:
    """What a reply did: `acted` is False when it was refused (no longer possible); `text` is told back."""

    acted: bool
    text: str


def reply_options(notification: Notification) -> tuple[list[tuple[str, str]], str]:
    """The answers a message offers in the active language: (label, payload) buttons and the SMS hint."""
    details, kind = notification.details or {}, notification.kind
    if kind == NotificationKind.SHIFT_REMINDER and details.get("assignment"):
        a = details["assignment"]
        buttons = [(_("I'm coming"), f"{COMING}:{a}"), (_("I can't come"), f"{DECLINE}:{a}")]
        return buttons, _("Reply 1 if you are coming, 2 if you cannot come.")
    if kind == NotificationKind.CALLOUT and details.get("callout"):
        return [(_("I'm coming"), f"{CALLOUT}:{details['callout']}")], _("Reply 1 if you are coming.")
    if kind == NotificationKind.OK_PROMPT and details.get("assignment"):
        return [(_("I'm OK"), f"{OK}:{details['assignment']}")], _("Reply OK if you are safe.")
    if kind in {NotificationKind.SOS_ALARM, NotificationKind.OK_MISSED} and details.get("alarm"):
        if details.get("nearby"):
            return [(_("I'm on my way"), f"{ON_MY_WAY}:{details['alarm']}")], _("Reply 1 if you are on your way.")
        return [(_("I have it"), f"{ACK}:{details['alarm']}")], _("Reply 1 if you take this alarm.")
    if kind == NotificationKind.INSPECTOR_DIGEST:
        return [(_("Open the queue"), QUEUE)], ""
    return [], ""


def payload_from_words(text: str, payloads: list[str]) -> str | None:
    """Which of a message's answers a typed reply means: yes/1 the first, no/2 the "can't come", OK the "I'm OK"."""
    word = re.sub(r"[\s.!,;:)(]+$", "", (text or "").strip()).upper().replace("Ё", "Е").strip()
    word = re.sub(r"\s+", " ", word)
    actions = {payload.split(":", 1)[0]: payload for payload in payloads}
    if word in OK_WORDS:
        return actions.get(OK)
    if word in YES_WORDS and payloads:
        return payloads[0]
    if word in NO_WORDS:
        return actions.get(DECLINE)
    return None


def is_stop(text: str) -> bool:
    return (text or "").strip().upper() in STOP_WORDS


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _own_assignment(user: User, pk: int) -> Assignment:
    assignment = (
        Assignment.objects.select_related("shift__zone", "volunteer").filter(pk=pk, volunteer__user=user).first()
    )
    if assignment is None:
        raise ValidationError(_("This shift is not one of yours."))
    return assignment


def _coming(user: User, pk: int) -> str:
    assignment = _own_assignment(user, pk)
    words = {"zone": assignment.shift.zone.name, "start": _when(assignment.shift.starts_at)}
    if assignment.shift.starts_at <= timezone.now():
        raise ValidationError(_("The shift in %(zone)s has already started; this answer was not recorded.") % words)
    if assignment.status != AssignmentStatus.SIGNED_UP:
        raise ValidationError(_("You are no longer on the shift in %(zone)s on %(start)s.") % words)
    from .reminders import assignment_confirm

    assignment_confirm(assignment=assignment)
    return _("Thank you: the inspector knows you are coming to %(zone)s at %(start)s.") % words


def _decline(user: User, pk: int) -> str:
    assignment = _own_assignment(user, pk)
    words = {"zone": assignment.shift.zone.name, "start": _when(assignment.shift.starts_at)}
    if assignment.shift.starts_at <= timezone.now():
        raise ValidationError(
            _("The shift in %(zone)s has already started: ask the inspector to excuse you instead.") % words
        )
    if assignment.status not in {AssignmentStatus.SIGNED_UP, AssignmentStatus.WAITLISTED}:
        raise ValidationError(_("You are no longer on the shift in %(zone)s on %(start)s.") % words)
    from .scheduling import shift_cancel_signup

    shift_cancel_signup(assignment=assignment, by=user)
    return (
        _("Your seat on the shift in %(zone)s on %(start)s is freed; the next person on the waiting list takes it.")
        % words
    )


def _callout(user: User, pk: int) -> str:
    from .callouts import callout_accept

    callout = CallOut.objects.select_related("shift", "zone").filter(pk=pk).first()
    volunteer = getattr(user, "volunteer", None)
    if callout is None or volunteer is None:
        raise ValidationError(_("This call-out was not sent to your groups."))
    if callout.starts_at <= timezone.now() and callout.ends_at <= timezone.now():
        raise ValidationError(_("This call-out is over."))
    answer, _new = callout_accept(callout=callout, volunteer=volunteer, by=user)
    if answer.result == CallOutResult.WAITLISTED:
        return _("All seats are taken: you are on the waiting list and will be told if one frees up.")
    return _("Thank you: you are on duty from %(start)s. The inspector sees you are coming.") % {
        "start": _when(callout.starts_at)
    }


def _ok(user: User, pk: int) -> str:
    from .sos import ok_check_in

    assignment = _own_assignment(user, pk)
    if assignment.status != AssignmentStatus.CHECKED_IN:
        raise ValidationError(_("You are not checked in on this shift, so there is nothing to confirm."))
    ok_check_in(assignment=assignment, by=user)
    return _("Thank you: the inspector knows you are safe.")


def _alarm(user: User, pk: int) -> SosAlarm:
    alarm = SosAlarm.objects.select_related("volunteer", "district").filter(pk=pk).first()
    if alarm is None:
        raise ValidationError(_("This alarm does not exist."))
    if not alarm.is_active:
        raise ValidationError(_("This alarm is already closed."))
    return alarm


def _ack(user: User, pk: int) -> str:
    from .sos import may_respond, sos_acknowledge

    alarm = _alarm(user, pk)
    if not may_respond(user, alarm):
        raise ValidationError(_("You cannot take this alarm."))
    if alarm.acknowledged_at is not None:
        by = alarm.acknowledged_by
        name = (by.get_full_name() or by.username) if by else (alarm.acknowledged_unit or "")
        raise ValidationError(_("%(by)s has already taken this alarm.") % {"by": name})
    sos_acknowledge(alarm=alarm, by=user)
    return _("You have the alarm of %(name)s: the escalation has stopped. Open %(link)s") % {
        "name": alarm.volunteer.full_name,
        "link": _absolute(f"/sos/{alarm.pk}/"),
    }


def _going(user: User, pk: int) -> str:
    from .sos import may_go, sos_on_my_way

    alarm = _alarm(user, pk)
    if not may_go(user, alarm):
        raise ValidationError(_("You cannot take this alarm."))
    sos_on_my_way(alarm=alarm, by=user)
    return _("Thank you: %(name)s is told you are on your way.") % {"name": alarm.volunteer.full_name}


def _queue(user: User, pk: int | None) -> str:
    if not is_police(user):
        raise ValidationError(_("Only the police verify reports."))
    waiting = Report.objects.filter(district__in=manageable_districts(user), status=ReportStatus.SUBMITTED).count()
    return _("Reports waiting for verification: %(count)d. Open %(link)s") % {
        "count": waiting,
        "link": _absolute("/verify/"),
    }


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


ACTIONS = {COMING: _coming, DECLINE: _decline, CALLOUT: _callout, OK: _ok, ACK: _ack, ON_MY_WAY: _going, QUEUE: _queue}


def reply_act(*, user: User, payload: str) -> Answered:
    """Do what a reply asks for the person who sent it, once per call; the answer in their language."""
    action, _sep, raw = (payload or "").partition(":")
    handler = ACTIONS.get(action)
    with translation.override(user.language or settings.LANGUAGE_CODE):
        if handler is None or (raw and not raw.isdigit()) or (not raw and action != QUEUE):
            return Answered(False, help_text())
        try:
            with transaction.atomic():
                return Answered(True, str(handler(user, int(raw) if raw else None)))
        except ValidationError as error:
            return Answered(False, " ".join(str(m) for m in error.messages))


def help_text() -> str:
    """What to do when a reply is not understood (in the active language)."""
    return _(
        "We did not understand this reply. Answer with the buttons under a message, or reply 1 (coming), "
        "2 (cannot come) or OK to the last message. Everything else is on the website: %(link)s"
    ) % {"link": _absolute("/")}
