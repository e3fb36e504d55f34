"""The words of each notification, in the reader's language, with a link to the right page."""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..choices import NotificationKind
from ..models import Notification


@dataclass
class Message:
    """A notification's words in one language. `actions` are links (email); `replies` are (label, payload) answers a
    messenger's buttons carry back (services/replies.py acts on them); `reply_hint` tells an SMS reader what to
    answer; `words` fill a WhatsApp template's parameters."""

    subject: str
    body: str
    link: str
    short: str
    actions: list[tuple[str, str]] = field(default_factory=list)
    replies: list[tuple[str, str]] = field(default_factory=list)
    reply_hint: str = ""
    words: dict[str, str] = field(default_factory=dict)


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _when(moment) -> str:
    """A moment as the reader's language writes it short (03.12.2026 19:30), in local time."""
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _shift_words(notification: Notification) -> dict:
    shift = notification.shift
    if shift is None:
        return {"zone": "", "start": ""}
    return {"zone": shift.zone.name, "start": _when(shift.starts_at)}


SOS_KINDS = frozenset({NotificationKind.SOS_ALARM, NotificationKind.SOS_UPDATE, NotificationKind.OK_MISSED})


def _link(notification: Notification) -> str:
    alarm = (notification.details or {}).get("alarm")
    if notification.kind in SOS_KINDS and alarm:
        return absolute(f"/sos/{alarm}/")
    if notification.kind == NotificationKind.CALLOUT and (notification.details or {}).get("callout"):
        from .callouts import accept_link

        return accept_link(callout_id=notification.details["callout"], user_id=notification.user_id)
    if notification.kind == NotificationKind.REWARD_DECIDED and (notification.details or {}).get("volunteer"):
        return absolute(f"/volunteers/{notification.details['volunteer']}/#rewards")
    if notification.meeting_id:
        return absolute(f"/meetings/{notification.meeting_id}/")
    if notification.shift_id:
        return absolute(f"/shifts/{notification.shift_id}/")
    if notification.report_id:
        return absolute(f"/reports/{notification.report_id}/")
    if notification.kind == NotificationKind.INSPECTOR_DIGEST:
        return absolute("/verify/")
    return absolute("/")


def _body(notification: Notification) -> tuple[str, str]:
    """(subject, body) for a notification, in the active language."""
    kind, details, words = notification.kind, notification.details or {}, _shift_words(notification)
    if kind in SOS_KINDS | {NotificationKind.OK_PROMPT}:
        from .sos import alarm_words

        return alarm_words(notification)
    if kind == NotificationKind.ESCALATION_UPDATE:
        from .escalation import update_words

        return update_words(notification)
    if kind == NotificationKind.CALLOUT:
        from .callouts import callout_words

        return callout_words(notification)
    if kind == NotificationKind.REWARD_DECIDED:
        from .nominations import reward_words

        return reward_words(details)
    if kind == NotificationKind.SHIFT_REMINDER:
        return (
            _("Patrol at %(start)s") % words,
            _("Reminder: your patrol in %(zone)s starts at %(start)s.") % words,
        )
    if kind == NotificationKind.SHIFT_CHANGED:
        return _("Your shift was changed") % words, _("Your shift in %(zone)s on %(start)s was changed.") % words
    if kind == NotificationKind.SHIFT_CANCELLED:
        reason = details.get("reason", "")
        return (
            _("Your shift was cancelled"),
            _("The shift in %(zone)s on %(start)s was cancelled: %(reason)s") % {**words, "reason": reason},
        )
    if kind == NotificationKind.PROMOTED:
        return (
            _("You have a seat on the shift"),
            _("A seat freed up: you are now on the shift in %(zone)s on %(start)s.") % words,
        )
    if kind == NotificationKind.ASSIGNED:
        return _("You were put on a shift"), _("You were put on the shift in %(zone)s on %(start)s.") % words
    if kind == NotificationKind.UNDERSTAFFED:
        return (
            _("A shift is understaffed"),
            _("The shift in %(zone)s on %(start)s has %(seats)d of the %(minimum)d volunteers it needs.")
            % {**words, "seats": details.get("seats", 0), "minimum": notification.shift.min_volunteers},
        )
    if kind == NotificationKind.CHECKIN_MISSING:
        return (
            _("You have not checked in"),
            _("Your shift in %(zone)s started at %(start)s and you have not checked in.") % words,
        )
    if kind == NotificationKind.CHECKIN_MISSING_INSPECTOR:
        return (
            _("Volunteers have not checked in"),
            _("%(count)d volunteers have not checked in to the shift in %(zone)s that started at %(start)s.")
            % {**words, "count": len(details.get("missing", []))},
        )
    if kind == NotificationKind.CHECKIN_DECLINED:
        return (
            _("Your check-in was not confirmed"),
            _(
                "The inspector did not confirm your check-in to the shift in %(zone)s on %(start)s, so its hours "
                "do not count: %(reason)s"
            )
            % {**words, "reason": details.get("reason", "")},
        )
    if kind == NotificationKind.REPORT_VERIFIED:
        return _("Your report was verified"), _("Your report No. %(number)d was verified. Thank you!") % {
            "number": notification.report_id or 0
        }
    if kind == NotificationKind.REPORT_REJECTED:
        return _("Your report was rejected"), _("Your report No. %(number)d was rejected: %(reason)s") % {
            "number": notification.report_id or 0,
            "reason": details.get("reason", ""),
        }
    if kind == NotificationKind.REPORT_NEEDS_INFO:
        return _("Your report needs more information"), _(
            "The inspector asks about report No. %(number)d: %(question)s"
        ) % {
            "number": notification.report_id or 0,
            "question": details.get("question", ""),
        }
    if kind == NotificationKind.INSPECTOR_DIGEST:
        return (
            _("Morning digest"),
            _(
                "Reports waiting for verification: %(waiting)d. "
                "Shifts tonight: %(shifts)d, of them below minimum: %(thin)d."
            )
            % {
                "waiting": details.get("waiting", 0),
                "shifts": details.get("shifts", 0),
                "thin": details.get("understaffed", 0),
            },
        )
    if kind == NotificationKind.CHIEF_SUMMARY:
        return _("Weekly summary"), _summary_text(details)
    if kind == NotificationKind.MEETING_REMINDER and notification.meeting is not None:
        meeting = notification.meeting
        words = {"place": meeting.settlement.name, "start": _when(meeting.held_at)}
        return (
            _("Meeting with residents at %(start)s") % words,
            _("Reminder: the meeting with the residents of %(place)s starts at %(start)s.") % words,
        )
    return NotificationKind(kind).label, NotificationKind(kind).label


PACE = {
    "ahead": gettext_lazy("ahead of the pace"),
    "on_track": gettext_lazy("on the pace"),
    "behind": gettext_lazy("behind the pace"),
}


def _summary_text(details: dict) -> str:
    text = _("Verified this year: %(prevented)d offenses prevented, %(solved)d crimes solved.") % {
        "prevented": details.get("prevented", 0),
        "solved": details.get("solved", 0),
    }
    for code, line in (
        ("prevented", _("Prevented: %(percent)s%% of the benchmark of %(benchmark)d")),
        ("solved", _("Solved: %(percent)s%% of the benchmark of %(benchmark)d")),
    ):
        if details.get(f"{code}_benchmark"):
            text += " " + line % {"percent": details[f"{code}_percent"], "benchmark": details[f"{code}_benchmark"]}
            pace = PACE.get(details.get(f"{code}_pace") or "")
            text += f" ({pace})." if pace else "."
    return text


def render(notification: Notification, language: str | None = None, *, signup_open: bool | None = None) -> Message:
    """The notification's subject, body and link in a language (the recipient's own by default). A caller that has
    just read whether a reminder's sign-up still stands says so in `signup_open`, and it is not read again."""
    language = language or notification.user.language or settings.LANGUAGE_CODE
    from .replies import reply_options

    with translation.override(language):
        subject, body = _body(notification)
        link = _link(notification)
        short = f"{body} {link}"
        actions = _actions(notification, signup_open)
        replies, hint = reply_options(notification)
        words = {"subject": str(subject), "body": str(body), "link": link, **_shift_words(notification)}
    return Message(
        subject=str(subject),
        body=str(body),
        link=link,
        short=short,
        actions=actions,
        replies=replies,
        reply_hint=hint,
        words=words,
    )


def _actions(notification: Notification, signup_open: bool | None = None) -> list[tuple[str, str]]:
    """One-tap answers carried by a reminder: "I'm coming" and "I can't come"."""
    if notification.kind != NotificationKind.SHIFT_REMINDER:
        return []
    from ..models import Assignment
    from .reminders import REPLY_COMING, REPLY_DECLINE, reply_links

    assignment_id = (notification.details or {}).get("assignment")
    if signup_open is None:
        signup_open = assignment_id is not None and Assignment.objects.filter(pk=assignment_id).exists()
    if assignment_id is None or not signup_open:
        return []
    links = reply_links(assignment_id)
    return [(str(_("I'm coming")), links[REPLY_COMING]), (str(_("I can't come")), links[REPLY_DECLINE])]
