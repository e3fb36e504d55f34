"""Groups, volunteers and memberships: how the district's roster is kept, with the registration lifecycle."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from ..choices import VILLAGE_GROUP_KINDS, GroupKind, Role, VolunteerStatus
from ..models import District, Group, Membership, Settlement, User, Volunteer, VolunteerStatusChange
from ..scope import manageable_districts
from ..validators import iin_birth_date, normalise_phone, validate_adult, validate_iin
from .updates import model_update, only_fields

# The registration lifecycle: application, police check, akimat registration; refusal with a reason;
# a registered volunteer may be suspended (and reinstated) or retire.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    VolunteerStatus.APPLICANT: frozenset({VolunteerStatus.VETTED, VolunteerStatus.REFUSED}),
    VolunteerStatus.VETTED: frozenset({VolunteerStatus.REGISTERED, VolunteerStatus.REFUSED}),
    VolunteerStatus.REGISTERED: frozenset({VolunteerStatus.SUSPENDED, VolunteerStatus.RETIRED}),
    VolunteerStatus.SUSPENDED: frozenset({VolunteerStatus.REGISTERED, VolunteerStatus.RETIRED}),
    VolunteerStatus.REFUSED: frozenset(),
    VolunteerStatus.RETIRED: frozenset(),
}

CURRENT_CONSENT_VERSION = "2025-1"


def _require_manageable(*, district: District, by: User) -> None:
    if not manageable_districts(by).filter(pk=district.pk).exists():
        raise ValidationError({"district": _("You cannot change the roster of this district.")})


def _check_group(group: Group) -> None:
    """A group's place fits its kind, and its settlement, leader and inspector belong to its district."""
    errors: dict[str, str] = {}
    if group.kind in VILLAGE_GROUP_KINDS and group.settlement_id is None:
        errors["settlement"] = _("A Sakshy or Sarbaz group belongs to a settlement: choose one.")
    if group.kind == GroupKind.STUDENT_SQUAD and not group.institution.strip():
        errors["institution"] = _("A student squad belongs to an institution: name it.")
    if group.settlement_id and group.settlement.district_id != group.district_id:
        errors["settlement"] = _("This settlement is not in the group's district.")
    if group.inspector_id and not (
        group.inspector.role == Role.INSPECTOR and group.inspector.inspector_districts.filter(pk=group.district_id)
    ):
        errors["inspector"] = _("The supervising inspector must be an inspector of the group's district.")
    if errors:
        raise ValidationError(errors)


def _ensure_leader_is_member(group: Group) -> None:
    if group.leader_id and not group.memberships.filter(volunteer_id=group.leader_id, left_on=None).exists():
        Membership.objects.create(volunteer_id=group.leader_id, group=group, joined_on=timezone.localdate())


@transaction.atomic
def group_create(
    *,
    by: User,
    name: str,
    kind: str,
    district: District,
    settlement: Settlement | None = None,
    institution: str = "",
    leader: Volunteer | None = None,
    inspector: User | None = None,
    is_active: bool = True,
) -> Group:
    """Create a group in a district the user keeps; the leader becomes a member."""
    _require_manageable(district=district, by=by)
    group = Group(
        name=name.strip(),
        kind=kind,
        district=district,
        settlement=settlement,
        institution=institution.strip(),
        leader=leader,
        inspector=inspector,
        is_active=is_active,
    )
    group.full_clean()
    _check_group(group)
    group.save()
    _ensure_leader_is_member(group)
    return group


GROUP_EDITABLE_FIELDS = frozenset({"name", "kind", "settlement", "institution", "leader", "inspector", "is_active"})


@transaction.atomic
def group_update(*, group: Group, by: User, **changes) -> Group:
    """Change a group's fields (not its district)."""
    only_fields(changes, GROUP_EDITABLE_FIELDS)
    _require_manageable(district=group.district, by=by)
    model_update(group, allowed=GROUP_EDITABLE_FIELDS, changes=changes)
    group.full_clean()
    _check_group(group)
    group.save()
    _ensure_leader_is_member(group)
    return group


def _check_person(*, iin: str, birth_date: datetime.date | None) -> datetime.date:
    """The date of birth (from the IIN when not given), checked against the IIN and the age rule."""
    from_iin = iin_birth_date(iin) if len(iin) == 12 and iin.isdigit() else None
    if birth_date is None:
        if from_iin is None:
            raise ValidationError(
                {"birth_date": ValidationError(_("Enter the date of birth."), code="birth_date_missing")}
            )
        birth_date = from_iin
    if from_iin is not None and from_iin != birth_date:
        message = _("The date of birth does not match the one in the IIN.")
        raise ValidationError({"birth_date": ValidationError(message, code="birth_date_mismatch")})
    try:
        validate_adult(birth_date)
    except ValidationError as error:
        raise ValidationError({"birth_date": error.error_list}) from error
    return birth_date


def iin_taken_message(*, in_your_roster: bool) -> str:
    """Why an IIN cannot be added again. For someone outside the user's scope it says no more than that another
    district has them, and who can help: not which district, nor anything else about the person."""
    if in_your_roster:
        return _("A volunteer with this IIN is already in your roster: open their page to add them to a group.")
    return _(
        "A volunteer with this IIN is registered in another district: ask that district's inspector to add them "
        "to your group."
    )


def volunteer_build(
    *,
    district: District,
    last_name: str,
    first_name: str,
    iin: str,
    phone: str,
    birth_date: datetime.date | None = None,
    patronymic: str = "",
    consent_version: str = CURRENT_CONSENT_VERSION,
    consent_at: datetime.datetime | None = None,
    applied_on: datetime.date | None = None,
    check_database: bool = True,
    by: User | None = None,
) -> Volunteer:
    """An unsaved, fully checked applicant (used by one-by-one creation and by the roster import)."""
    iin = (iin or "").strip()
    # The errors keep their codes: the roster import stores a row's problems as facts (roster_import.py).
    errors: dict[str, list[ValidationError]] = {}
    try:
        validate_iin(iin)
    except ValidationError as error:
        errors["iin"] = error.error_list
    try:
        phone = normalise_phone(phone)
    except ValidationError as error:
        errors["phone"] = error.error_list
    if "iin" not in errors or birth_date is not None:
        try:
            birth_date = _check_person(iin=iin, birth_date=birth_date)
        except ValidationError as error:
            errors.update(error.error_dict)
    if errors:
        raise ValidationError(errors)
    volunteer = Volunteer(
        district=district,
        last_name=last_name.strip(),
        first_name=first_name.strip(),
        patronymic=(patronymic or "").strip(),
        iin=iin,
        phone=phone,
        birth_date=birth_date,
        status=VolunteerStatus.APPLICANT,
        applied_on=applied_on or timezone.localdate(),
        consent_at=consent_at or timezone.now(),
        consent_version=consent_version,
    )
    if check_database:
        taken = Volunteer.objects.filter(iin=iin).only("pk").first()
        if taken is not None:
            in_your_roster = by is not None and Volunteer.objects.manageable_by(by).filter(pk=taken.pk).exists()
            raise ValidationError({"iin": iin_taken_message(in_your_roster=in_your_roster)})
        volunteer.full_clean()
    else:
        # The roster import checks the district once and all the file's IINs with one query instead of
        # several queries per row; a new applicant cannot break the status and document constraints.
        volunteer.full_clean(exclude={"district"}, validate_unique=False, validate_constraints=False)
    return volunteer


@transaction.atomic
def volunteer_apply(
    *,
    by: User,
    district: District,
    last_name: str,
    first_name: str,
    iin: str,
    phone: str,
    birth_date: datetime.date | None = None,
    patronymic: str = "",
    consent_version: str = CURRENT_CONSENT_VERSION,
    consent_at: datetime.datetime | None = None,
    applied_on: datetime.date | None = None,
    groups: list[Group] | tuple[Group, ...] = (),
    user: User | None = None,
) -> Volunteer:
    """Record a volunteer's application (with consent) in a district the user keeps, and their groups."""
    _require_manageable(district=district, by=by)
    volunteer = volunteer_build(
        by=by,
        district=district,
        last_name=last_name,
        first_name=first_name,
        patronymic=patronymic,
        iin=iin,
        phone=phone,
        birth_date=birth_date,
        consent_version=consent_version,
        consent_at=consent_at,
        applied_on=applied_on,
    )
    volunteer.user = user
    volunteer.save()
    VolunteerStatusChange.objects.create(
        volunteer=volunteer, from_status="", to_status=VolunteerStatus.APPLICANT, by=by
    )
    for group in groups:
        membership_add(volunteer=volunteer, group=group, by=by, joined_on=volunteer.applied_on)
    return volunteer


VOLUNTEER_EDITABLE_FIELDS = frozenset(
    {"last_name", "first_name", "patronymic", "phone", "birth_date", "medical_check_passed"}
)


@transaction.atomic
def volunteer_update(*, volunteer: Volunteer, by: User, **changes) -> Volunteer:
    """Correct a volunteer's profile; status moves go through the lifecycle functions below."""
    only_fields(changes, VOLUNTEER_EDITABLE_FIELDS)
    _require_manageable(district=volunteer.district, by=by)
    if "phone" in changes:
        try:
            changes["phone"] = normalise_phone(changes["phone"])
        except ValidationError as error:
            raise ValidationError({"phone": error.messages}) from error
    if "birth_date" in changes:
        changes["birth_date"] = _check_person(iin=volunteer.iin, birth_date=changes["birth_date"])
    model_update(volunteer, allowed=VOLUNTEER_EDITABLE_FIELDS, changes=changes)
    volunteer.full_clean()
    volunteer.save()
    return volunteer


def _move(volunteer: Volunteer, *, to_status: str, by: User, note: str = "") -> Volunteer:
    """Lock the volunteer, check the lifecycle allows the move, and record who made it."""
    locked = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    _require_manageable(district=locked.district, by=by)
    if to_status not in ALLOWED_TRANSITIONS[locked.status]:
        raise ValidationError(
            _("A volunteer who is “%(current)s” cannot become “%(target)s”.")
            % {"current": VolunteerStatus(locked.status).label, "target": VolunteerStatus(to_status).label}
        )
    VolunteerStatusChange.objects.create(
        volunteer=locked, from_status=locked.status, to_status=to_status, by=by, note=note
    )
    locked.status = to_status
    return locked


def _save(volunteer: Volunteer) -> Volunteer:
    volunteer.full_clean()
    volunteer.save()
    return volunteer


@transaction.atomic
def volunteer_vet(
    *, volunteer: Volunteer, by: User, on_date: datetime.date | None = None, medical_check_passed: bool | None = None
) -> Volunteer:
    """The police check of records passed (medical checks kept only as pass/fail)."""
    if medical_check_passed is False:
        raise ValidationError(
            {"medical_check_passed": _("A volunteer who failed the medical checks cannot pass; refuse instead.")}
        )
    on_date = on_date or timezone.localdate()
    if on_date > timezone.localdate():
        raise ValidationError({"on_date": _("The police check date cannot be in the future.")})
    volunteer = _move(volunteer, to_status=VolunteerStatus.VETTED, by=by)
    if on_date < volunteer.applied_on:
        raise ValidationError(
            {
                "on_date": _("The police check date cannot be before the application date (%(date)s).")
                % {"date": formats.date_format(volunteer.applied_on, "SHORT_DATE_FORMAT")}
            }
        )
    volunteer.vetted_on = on_date
    if medical_check_passed is not None:
        volunteer.medical_check_passed = medical_check_passed
    return _save(volunteer)


@transaction.atomic
def volunteer_register(*, volunteer: Volunteer, by: User, number: str, on_date: datetime.date) -> Volunteer:
    """The akimat registered the volunteer under a number on a date (or reinstates a suspended one)."""
    number = (number or "").strip()
    if not number:
        raise ValidationError({"number": _("Enter the akimat's registration number.")})
    if on_date > timezone.localdate():
        raise ValidationError({"on_date": _("The registration date cannot be in the future.")})
    volunteer = _move(volunteer, to_status=VolunteerStatus.REGISTERED, by=by, note=number)
    earliest, message = (
        volunteer.applied_on,
        _("The registration date cannot be before the application date (%(date)s)."),
    )
    if volunteer.vetted_on is not None:
        earliest = volunteer.vetted_on
        message = _("The registration date cannot be before the police check date (%(date)s).")
    if on_date < earliest:
        raise ValidationError({"on_date": message % {"date": formats.date_format(earliest, "SHORT_DATE_FORMAT")}})
    volunteer.registration_number = number
    volunteer.registered_on = on_date
    return _save(volunteer)


@transaction.atomic
def volunteer_refuse(*, volunteer: Volunteer, by: User, reason: str) -> Volunteer:
    """A written refusal: the reason is required and shown to the applicant."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("A refusal needs a written reason.")})
    volunteer = _move(volunteer, to_status=VolunteerStatus.REFUSED, by=by, note=reason)
    volunteer.refusal_reason = reason
    return _save(volunteer)


@transaction.atomic
def volunteer_suspend(*, volunteer: Volunteer, by: User, reason: str) -> Volunteer:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the volunteer is suspended.")})
    return _save(_move(volunteer, to_status=VolunteerStatus.SUSPENDED, by=by, note=reason))


@transaction.atomic
def volunteer_reinstate(*, volunteer: Volunteer, by: User, note: str = "") -> Volunteer:
    if volunteer.status != VolunteerStatus.SUSPENDED:
        raise ValidationError(_("Only a suspended volunteer can be reinstated."))
    return _save(_move(volunteer, to_status=VolunteerStatus.REGISTERED, by=by, note=note))


@transaction.atomic
def volunteer_retire(*, volunteer: Volunteer, by: User, note: str = "") -> Volunteer:
    """The volunteer leaves the service; their open memberships end today."""
    volunteer = _move(volunteer, to_status=VolunteerStatus.RETIRED, by=by, note=note)
    volunteer.memberships.filter(left_on=None).update(left_on=timezone.localdate())
    return _save(volunteer)


@transaction.atomic
def volunteer_issue_documents(*, volunteer: Volunteer, by: User, id_card_number: str, badge_number: str) -> Volunteer:
    """Record the ID card and breast badge given to a registered volunteer."""
    locked = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
    _require_manageable(district=locked.district, by=by)
    if locked.status != VolunteerStatus.REGISTERED:
        raise ValidationError(_("An ID card and a badge are issued only to a registered volunteer."))
    id_card_number, badge_number = (id_card_number or "").strip(), (badge_number or "").strip()
    errors = {}
    if not id_card_number:
        errors["id_card_number"] = _("Enter the ID card number.")
    if not badge_number:
        errors["badge_number"] = _("Enter the badge number.")
    if errors:
        raise ValidationError(errors)
    locked.id_card_number, locked.badge_number = id_card_number, badge_number
    return _save(locked)


@transaction.atomic
def membership_add(
    *, volunteer: Volunteer, group: Group, by: User, joined_on: datetime.date | None = None
) -> Membership:
    """Put a volunteer in a group of a district the user keeps."""
    _require_manageable(district=group.district, by=by)
    if volunteer.status in {VolunteerStatus.REFUSED, VolunteerStatus.RETIRED}:
        raise ValidationError(_("A refused or retired volunteer cannot join a group."))
    membership = Membership(volunteer=volunteer, group=group, joined_on=joined_on or timezone.localdate())
    membership.full_clean()
    membership.save()
    return membership


@transaction.atomic
def membership_end(*, volunteer: Volunteer, group: Group, by: User, left_on: datetime.date | None = None) -> Membership:
    """End a volunteer's membership in a group; a leader who leaves stops leading it."""
    _require_manageable(district=group.district, by=by)
    membership = Membership.objects.select_for_update().filter(volunteer=volunteer, group=group, left_on=None).first()
    if membership is None:
        raise ValidationError(_("The volunteer is not a member of this group."))
    membership.left_on = left_on or timezone.localdate()
    membership.full_clean()
    membership.save()
    if group.leader_id == volunteer.pk:
        Group.objects.filter(pk=group.pk).update(leader=None)
    return membership
