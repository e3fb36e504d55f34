"""Village initiatives: a settlement's public commitment (alcohol refusal first) adopted at a meeting, with a scan
or photo of the protocol; active until it lapses, with a date and a reason. One active of a kind at once."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ..choices import InitiativeStatus, MeetingStatus
from ..clock import local_day, local_today
from ..models import Initiative, InitiativeKind, Meeting, Settlement, User
from ..scope import prevention_districts
from ..validators import SHORT_TEXT, text_within
from .photos import photo_bytes, photo_clean
from .villages import initiative_years, settlement_years_refresh


def _check_settlement(settlement: Settlement, by: User) -> None:
    if not prevention_districts(by).filter(pk=settlement.district_id).exists():
        raise ValidationError({"settlement": _("You cannot record initiatives in this settlement's district.")})


def _check_meeting(meeting: Meeting | None, settlement: Settlement, adopted_on: datetime.date) -> dict[str, str]:
    if meeting is None:
        return {}
    if meeting.settlement_id != settlement.pk:
        return {"meeting": _("The meeting took place in another settlement.")}
    if meeting.status != MeetingStatus.HELD:
        return {"meeting": _("An initiative is adopted at a meeting that was held.")}
    if adopted_on < local_day(meeting.held_at):
        return {"adopted_on": _("The initiative cannot be adopted before the meeting it came from.")}
    return {}


def _document(initiative: Initiative, upload: UploadedFile | None) -> None:
    """The protocol's scan or photo, checked and cleaned like a report's photo."""
    if upload is None:
        return
    try:
        clean = photo_clean(photo_bytes(upload))
    except ValidationError as error:
        raise ValidationError({"document": error.message_dict.get("photo", error.messages)}) from error
    initiative.document.save("protocol.jpg", ContentFile(clean.content), save=False)


def _refresh(initiative: Initiative) -> None:
    settlement_years_refresh((initiative.settlement_id, year) for year in initiative_years(initiative))


@transaction.atomic
def initiative_record(
    *,
    by: User,
    settlement: Settlement,
    kind: InitiativeKind,
    adopted_on: datetime.date,
    meeting: Meeting | None = None,
    document: UploadedFile | None = None,
) -> Initiative:
    """Record an initiative a settlement adopted; the settlement's figures follow in the same transaction."""
    _check_settlement(settlement, by)
    errors: dict[str, str] = {}
    if not kind.is_active:
        errors["kind"] = _("This kind of initiative is no longer used.")
    if adopted_on > local_today():
        errors["adopted_on"] = _("An initiative is recorded once it is adopted: the date is in the future.")
    errors.update(_check_meeting(meeting, settlement, adopted_on))
    active = Initiative.objects.filter(settlement=settlement, kind=kind, status=InitiativeStatus.ACTIVE)
    if not errors and active.exists():
        errors["kind"] = _("%(settlement)s already has an active initiative of this kind: let it lapse first.") % {
            "settlement": settlement.name
        }
    if errors:
        raise ValidationError(errors)
    initiative = Initiative(
        settlement=settlement,
        district_id=settlement.district_id,
        kind=kind,
        adopted_on=adopted_on,
        meeting=meeting,
        created_by=by,
    )
    _document(initiative, document)
    try:
        with transaction.atomic():
            initiative.save()
    except IntegrityError as error:
        # Another request recorded the same initiative a moment ago.
        raise ValidationError({"kind": _("This settlement already has an active initiative of this kind.")}) from error
    _refresh(initiative)
    return initiative


def _locked(initiative: Initiative, by: User) -> Initiative:
    locked = Initiative.objects.select_for_update(of=("self",)).get(pk=initiative.pk)
    if not Initiative.objects.manageable_by(by).filter(pk=locked.pk).exists():
        raise ValidationError(_("You cannot change the initiatives of this district."))
    return locked


@transaction.atomic
def initiative_lapse(*, initiative: Initiative, by: User, lapsed_on: datetime.date, reason: str) -> Initiative:
    """The settlement no longer keeps its commitment: from that date the initiative is lapsed."""
    initiative = _locked(initiative, by)
    reason = text_within(reason, field="reason", limit=SHORT_TEXT)
    errors: dict[str, str] = {}
    if initiative.status != InitiativeStatus.ACTIVE:
        raise ValidationError(_("This initiative has already lapsed."))
    if not reason:
        errors["reason"] = _("Say why the initiative lapsed.")
    if lapsed_on > local_today():
        errors["lapsed_on"] = _("The date is in the future.")
    elif lapsed_on < initiative.adopted_on:
        errors["lapsed_on"] = _("An initiative cannot lapse before it was adopted.")
    if errors:
        raise ValidationError(errors)
    initiative.status, initiative.lapsed_on, initiative.lapse_reason = InitiativeStatus.LAPSED, lapsed_on, reason
    initiative.save()
    _refresh(initiative)
    return initiative


@transaction.atomic
def initiative_document_attach(*, initiative: Initiative, by: User, upload: UploadedFile) -> Initiative:
    """Attach (or replace) the scan or photo of the protocol."""
    initiative = _locked(initiative, by)
    _document(initiative, upload)
    initiative.save(update_fields=["document", "updated_at"])
    return initiative
