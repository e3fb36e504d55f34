"""Reports that need the police now: sent straight to the district's duty unit, and the unit's answers.

The report goes on through verification as any other (escalating changes nothing in the figures). The unit is
reached by every way it has: its system's webhook (signed JSON, `services/duty_webhooks.py`), SMS to its phones and
an email. Each way that got through is stamped on the escalation, so a retry sends only the rest and the unit never
gets the same way twice; every attempt carries the escalation's one key. Attempts follow
`ESCALATION_RETRY_SECONDS`, driven by the task queued after the commit and, should that be lost, by the
30-second sweep reading the database.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..choices import EscalationEventKind, EscalationReason, EscalationStatus, NotificationKind
from ..models import DutyUnit, Escalation, EscalationEvent, Report, User
from ..models.escalation import LIVE_STATUSES
from ..scope import manageable_districts
from ..validators import NOTE_TEXT, text_within
from .channels import DeliveryError, send_email, send_sms
from .duty_webhooks import post_signed
from .messages import Message
from .notifications import notify

logger = logging.getLogger(__name__)

# What the unit's system may answer, in the order things happen: an answer never moves the status back.
ANSWER_STATUSES = [EscalationStatus.RECEIVED, EscalationStatus.OFFICER_SENT, EscalationStatus.CLOSED]
_RANK = {
    EscalationStatus.FAILED: 0,
    EscalationStatus.PENDING: 1,
    EscalationStatus.SENT: 2,
    EscalationStatus.RECEIVED: 3,
    EscalationStatus.OFFICER_SENT: 4,
    EscalationStatus.CLOSED: 5,
}
WEBHOOK = "webhook"
EMAIL = "email"


def retry_waits() -> list[int]:
    """Seconds to wait after each failed attempt; after the last, the escalation is given up."""
    return [int(seconds) for seconds in settings.ESCALATION_RETRY_SECONDS]


def unit_for(report: Report) -> DutyUnit:
    """The active duty unit of the report's district with at least one way to reach it, or a clear error."""
    unit = DutyUnit.objects.filter(district_id=report.district_id, is_active=True).first()
    if unit is None or not (unit.webhook_url or unit.phones or unit.email):
        raise ValidationError(
            _(
                "%(district)s has no duty unit the app can reach. Call 102 now, and tell the inspector to add the "
                "duty unit's contacts."
            )
            % {"district": report.district.name}
        )
    return unit


def may_escalate(user: User, report: Report) -> bool:
    """The volunteer who filed the report, or an inspector of its districts (the caller checked the scope)."""
    if report.reporter.user_id is not None and report.reporter.user_id == user.pk:
        return True
    district_ids = [report.district_id] + ([report.shift.district_id] if report.shift_id else [])
    return manageable_districts(user).filter(pk__in=district_ids).exists()


def live_escalation(report: Report) -> Escalation | None:
    """The report's escalation under way, if any (the newest one otherwise is history)."""
    return report.escalations.filter(status__in=LIVE_STATUSES).select_related("unit").first()


def _event(escalation: Escalation, kind: str, *, status: str = "", text: str = "", by: User | None = None) -> None:
    EscalationEvent.objects.create(escalation=escalation, kind=kind, status=status, text=text, by=by)


@transaction.atomic
def report_escalate(*, report: Report, by: User, reason: str, note: str = "") -> tuple[Escalation, bool]:
    """Send a report to the duty unit now; asked again while one is under way, that one is returned (not sent twice).

    Returns the escalation and whether it is new.
    """
    report = (
        Report.objects.select_for_update(of=("self",)).select_related("reporter", "district", "shift").get(pk=report.pk)
    )
    if not may_escalate(by, report):
        raise PermissionDenied(_("Only the volunteer who filed the report or the district's inspector can do this."))
    existing = live_escalation(report)
    if existing is not None:
        return existing, False
    if reason not in EscalationReason.values:
        raise ValidationError({"reason": _("Choose why the police are needed now.")})
    note = text_within(note, field="note", limit=NOTE_TEXT)
    if reason == EscalationReason.OTHER and not note:
        raise ValidationError({"note": _("Say in a few words why the police are needed now.")})
    unit = unit_for(report)
    escalation = Escalation(report=report, unit=unit, by=by, reason=reason, note=note, next_attempt_at=timezone.now())
    escalation.full_clean()
    escalation.save()
    _event(escalation, EscalationEventKind.CREATED, status=escalation.status, text=note, by=by)
    transaction.on_commit(lambda pk=escalation.pk: queue_send(pk))
    return escalation, True


def queue_send(escalation_id: int, *, countdown: int = 0) -> bool:
    """Hand the sending to a worker; with the broker down the 30-second sweep sends it instead."""
    from ..tasks import send_escalation

    try:
        send_escalation.apply_async(args=[escalation_id], countdown=countdown or None, retry=False)
    except Exception as error:  # any broker failure: the sweep reads the database
        logger.warning("Broker unavailable, escalation %s waits for the sweep: %s", escalation_id, error)
        return False
    return True


def payload(escalation: Escalation) -> dict:
    """What the unit's system receives. Personal data kept to the minimum an officer needs at the scene: the
    reporter's phone, to find them; no names, no IIN, nor the details of other people in the report."""
    report = escalation.report
    return {
        "key": str(escalation.key),
        "report": {
            "id": report.pk,
            "number": report.pk,
            "category": report.category.code,
            "outcome": report.outcome.code,
            "description": report.description,
            "occurred_at": report.occurred_at.isoformat(),
            "lat": round(report.location.y, 6),
            "lng": round(report.location.x, 6),
            "district": report.district.code,
        },
        "reason": escalation.reason,
        "note": escalation.note,
        "reporter_phone": report.reporter.phone,
        "sent_at": timezone.now().isoformat(),
    }


def unit_message(escalation: Escalation) -> Message:
    """The SMS and email to the unit, in the site's language: what, where, why; the reply goes by phone or system."""
    report = escalation.report
    with translation.override(settings.LANGUAGE_CODE):
        words = {
            "number": report.pk,
            "reason": EscalationReason(escalation.reason).label,
            "category": report.category.name,
            "district": report.district.name,
            "lat": f"{report.location.y:.5f}",
            "lng": f"{report.location.x:.5f}",
            "when": timezone.localtime(report.occurred_at).strftime("%d.%m.%Y %H:%M"),
            "note": escalation.note,
        }
        subject = _("Police needed now: report No. %(number)d") % words
        body = (
            _(
                "Police needed now (%(reason)s): %(category)s, %(district)s, at %(lat)s, %(lng)s, %(when)s. "
                "Report No. %(number)d from the volunteer patrols."
            )
            % words
        )
        if escalation.note:
            body += " " + escalation.note
    link = f"geo:{words['lat']},{words['lng']}"
    return Message(subject=str(subject), body=str(body), link=link, short=f"{body} {link}")


def _outstanding(escalation: Escalation) -> list[str]:
    """The ways out not yet through: the webhook, each phone, the email."""
    unit = escalation.unit
    ways = ([WEBHOOK] if unit.webhook_url else []) + [f"sms:{phone}" for phone in unit.phones or []]
    ways += [EMAIL] if unit.email else []
    return [way for way in ways if way not in (escalation.delivered or [])]


def _send_one(escalation: Escalation, way: str, message: Message) -> None:
    if way == WEBHOOK:
        post_signed(escalation.unit, payload(escalation), key=str(escalation.key))
    elif way == EMAIL:
        send_email(
            to=escalation.unit.email,
            message=message,
            language=settings.LANGUAGE_CODE,
            message_id=f"<escalation-{escalation.key}@{settings.SITE_URL.split('://')[-1].split('/')[0]}>",
        )
    else:
        send_sms(to=way.removeprefix("sms:"), message=message)


def _tell_people(escalation: Escalation, **details) -> None:
    report = escalation.report
    notify(
        users=[report.reporter.user, escalation.by],
        kind=NotificationKind.ESCALATION_UPDATE,
        report=report,
        escalation=escalation.pk,
        status=escalation.status,
        **details,
    )


def escalation_send(*, escalation_id: int, now: datetime.datetime | None = None) -> str:
    """One attempt at every way still outstanding; returns what happened ("sent", "retry", "failed", "later"...).

    The row stays locked while the attempt goes out, so a second worker given the same escalation skips it.
    """
    with transaction.atomic():
        escalation = (
            Escalation.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("unit", "report__category", "report__outcome", "report__district", "report__reporter")
            .filter(pk=escalation_id)
            .first()
        )
        if escalation is None:
            return "locked"
        now = now or timezone.now()
        outstanding = _outstanding(escalation)
        if escalation.status == EscalationStatus.FAILED or escalation.next_attempt_at is None or not outstanding:
            return "done"
        if now < escalation.next_attempt_at:
            return "later"
        escalation.attempts += 1
        message = unit_message(escalation)
        errors = []
        for way in outstanding:
            try:
                _send_one(escalation, way, message)
            except DeliveryError as error:
                errors.append(f"{way.split(':')[0]}: {error}")
            else:
                escalation.delivered = [*(escalation.delivered or []), way]
        newly = [way.split(":")[0] for way in escalation.delivered if way in outstanding]
        first_through = bool(newly) and escalation.status == EscalationStatus.PENDING
        if first_through:
            escalation.status = EscalationStatus.SENT
            escalation.sent_at = now
        if newly:
            _event(escalation, EscalationEventKind.DELIVERED, status=escalation.status, text=", ".join(newly))
        escalation.last_error = "; ".join(errors)[:2000]
        waits = retry_waits()
        if not errors:
            escalation.next_attempt_at = None
            result = "sent"
        elif escalation.attempts <= len(waits):
            escalation.next_attempt_at = now + datetime.timedelta(seconds=waits[escalation.attempts - 1])
            _event(escalation, EscalationEventKind.ATTEMPT_FAILED, status=escalation.status, text=escalation.last_error)
            result = "retry"
        else:
            escalation.next_attempt_at = None
            if escalation.status == EscalationStatus.PENDING:
                escalation.status = EscalationStatus.FAILED
            _event(escalation, EscalationEventKind.FAILED, status=escalation.status, text=escalation.last_error)
            result = "failed"
        escalation.save()
        if first_through or escalation.status == EscalationStatus.FAILED:
            _tell_people(escalation)
        if result == "retry":
            wait = int((escalation.next_attempt_at - now).total_seconds())
            transaction.on_commit(lambda pk=escalation.pk, wait=wait: queue_send(pk, countdown=wait))
        return result


def escalations_due(*, now: datetime.datetime | None = None) -> list[int]:
    """Escalations whose next attempt is due (a lost task, a broker that was down): the sweep queues them."""
    now = now or timezone.now()
    return list(
        Escalation.objects.filter(
            status__in=[EscalationStatus.PENDING, EscalationStatus.SENT], next_attempt_at__lte=now
        ).values_list("pk", flat=True)[:1000]
    )


def escalations_retry(*, now: datetime.datetime | None = None) -> int:
    """The sweep: a task for every escalation due. One already on its way finds the row locked or not yet due."""
    return sum(queue_send(pk) for pk in escalations_due(now=now))


@transaction.atomic
def escalation_answer(*, unit: DutyUnit, key: str, status: str, text: str = "") -> Escalation:
    """The unit's system tells how it stands (its signature checked by the caller). The same answer twice is
    recorded once; an answer never moves the status back, but its text stays in the history."""
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("report__reporter")
        .filter(unit=unit, key=key)
        .first()
    )
    if escalation is None:
        raise Escalation.DoesNotExist
    if status not in ANSWER_STATUSES:
        raise ValidationError({"status": _("The status must be received, officer_sent or closed.")})
    text = text_within(text, field="text", limit=NOTE_TEXT)
    if escalation.events.filter(kind=EscalationEventKind.ANSWERED, status=status, text=text).exists():
        return escalation
    if _RANK[status] > _RANK[EscalationStatus(escalation.status)]:
        escalation.status = status
    # The unit has it: the ways still outstanding are not tried again.
    escalation.next_attempt_at = None
    escalation.save(update_fields=["status", "next_attempt_at", "updated_at"])
    _event(escalation, EscalationEventKind.ANSWERED, status=status, text=text)
    _tell_people(escalation, answer=status, text=text)
    return escalation


def update_words(notification) -> tuple[str, str]:
    """(subject, body) of an ESCALATION_UPDATE in the active language: how the duty unit stands, and its words."""
    details = notification.details or {}
    status = details.get("status", "")
    words = {
        "number": notification.report_id or 0,
        "status": EscalationStatus(status).label if status in EscalationStatus.values else status,
    }
    subject = _("Report No. %(number)d: %(status)s") % words
    body = _("Report No. %(number)d sent to the police duty unit: %(status)s.") % words
    if details.get("text"):
        body += " " + _("The duty unit writes: %(text)s") % {"text": details["text"]}
    return subject, body
