"""Reports from the field: idempotent filing, the district from the point, photos, the checks against inflated
counts, and verification with its history. Only verified reports count (rule 2 of DESIGN.md)."""

from __future__ import annotations

import datetime
import functools
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point, Polygon
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import (
    AssignmentStatus,
    AutoReason,
    NotificationKind,
    ReportEventKind,
    ReportFlag,
    ReportStatus,
    VolunteerStatus,
)
from ..models import (
    Assignment,
    Category,
    District,
    Group,
    Membership,
    Outcome,
    Report,
    ReportEvent,
    ReportPhoto,
    Shift,
    User,
    Volunteer,
)
from ..prepared import PreparedQuery
from ..validators import LONG_TEXT, NOTE_TEXT, text_within
from .attendance import checkin_tolerance_m, close_grace
from .geometry import box_around, distance_m
from .ledger import ledger_report_change
from .notifications import notify
from .photos import photo_attach
from .tallies import tally_report_change

COUNTRY_OUTLINE = Path(__file__).resolve().parent.parent / "data" / "kazakhstan.geojson"
ERDR_RE = re.compile(r"^\d{15}$")
# A new report's relations, each an object read in the same request: model validation need not look them up again.
LOADED_RELATIONS = ["reporter", "filed_by", "shift", "district", "group", "category", "outcome", "duplicate_of"]


@functools.cache
def country_outline() -> MultiPolygon:
    """Kazakhstan's outline (Natural Earth, public domain), built with GEOS from the shipped GeoJSON."""
    geometry = json.loads(COUNTRY_OUTLINE.read_text(encoding="utf-8"))["features"][0]["geometry"]
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    outline = MultiPolygon([Polygon(*[tuple(map(tuple, ring)) for ring in rings]) for rings in polygons], srid=4326)
    if outline.valid:
        return outline
    # Rounded coordinates leave a few self-touching rings; make_valid repairs them without moving the border, and
    # leaves the touching points as lines beside the polygons: only the polygons are kept (as one MultiPolygon, a
    # point test takes a microsecond where the mixed collection took half a millisecond).
    repaired = outline.make_valid()
    parts = repaired if repaired.geom_type in ("GeometryCollection", "MultiPolygon") else [repaired]
    polygons = [polygon for part in parts for polygon in _polygons_of(part)]
    return MultiPolygon(polygons, srid=4326)


def _polygons_of(shape) -> list[Polygon]:
    if shape.geom_type == "Polygon":
        return [shape]
    if shape.geom_type == "MultiPolygon":
        return list(shape)
    return []


@functools.cache
def _prepared_outline():
    # GEOS's prepared form answers many point tests on one outline without walking all its rings each time.
    return country_outline().prepared


def in_kazakhstan(point: Point) -> bool:
    return _prepared_outline().intersects(point)


# The queries of filing a report, built once (patrols/prepared.py): a phone's report asks each of them.
_district_holding = PreparedQuery(
    lambda point: District.objects.filter(boundary__intersects=point).defer("boundary").order_by("code")[:1],
    point=GEOSGeometry,
)
_report_by_uuid = PreparedQuery(
    lambda client_uuid: Report.objects.filter(client_uuid=client_uuid)[:1], client_uuid=uuid.UUID
)
_checked_in_at = PreparedQuery(
    lambda volunteer_id, occurred_at, ends_after: (
        Assignment.objects.filter(volunteer_id=volunteer_id, check_in_at__lte=occurred_at)
        .filter(
            Q(status=AssignmentStatus.CHECKED_IN, shift__ends_at__gte=ends_after)
            | Q(status=AssignmentStatus.COMPLETED, check_out_at__gte=occurred_at)
        )
        .select_related("shift__zone")
        .order_by("-check_in_at")[:1]
    ),
    volunteer_id=int,
    occurred_at=datetime.datetime,
    ends_after=datetime.datetime,
)
# Every group the volunteer was ever in, in Membership's own order (newest joined first).
_memberships_of = PreparedQuery(
    lambda volunteer_id: Membership.objects.filter(volunteer_id=volunteer_id).select_related("group"),
    volunteer_id=int,
)
_invited_groups = PreparedQuery(
    lambda shift_id: Shift.groups.through.objects.filter(shift_id=shift_id).values_list("group_id", flat=True),
    shift_id=int,
)
_last_report_position = PreparedQuery(
    lambda volunteer_id, before, report_id: (
        Report.objects.filter(reporter_id=volunteer_id, occurred_at__lt=before)
        .exclude(pk=report_id)
        .order_by("-occurred_at")
        .values_list("occurred_at", "location")[:1]
    ),
    volunteer_id=int,
    before=datetime.datetime,
    report_id=int,
)
_last_check_in_position = PreparedQuery(
    lambda volunteer_id, before: (
        Assignment.objects.filter(volunteer_id=volunteer_id, check_in_at__lt=before, check_in_point__isnull=False)
        .order_by("-check_in_at")
        .values_list("check_in_at", "check_in_point")[:1]
    ),
    volunteer_id=int,
    before=datetime.datetime,
)
_nearby_reports = PreparedQuery(
    lambda category_id, since, until, box, reporter_id, report_id: (
        Report.objects.filter(
            category_id=category_id, occurred_at__gte=since, occurred_at__lte=until, location__intersects=box
        )
        .exclude(reporter_id=reporter_id)
        .exclude(pk=report_id)
        .exclude(status=ReportStatus.REJECTED)
        .only("id", "location")
    ),
    category_id=int,
    since=datetime.datetime,
    until=datetime.datetime,
    box=GEOSGeometry,
    reporter_id=int,
    report_id=int,
)


def district_for_point(point: Point) -> District:
    """The district whose boundary holds the point, else the one with the nearest centre."""
    holder = _district_holding.first(point=point)
    if holder is not None:
        return holder
    nearest = (
        District.objects.annotate(distance=Distance("centre", point))
        .defer("boundary")
        .order_by("distance", "code")
        .first()
    )
    if nearest is None:
        raise ValidationError({"location": _("No district is known for this place.")})
    return nearest


def _clean_case_number(*, outcome: Outcome, case_number: str) -> str:
    """`solved` needs the ЕРДР number of the crime (15 digits); other outcomes may carry a protocol number."""
    compact = re.sub(r"[\s\-]", "", case_number or "")
    if outcome.requires_case_number:
        if not compact:
            raise ValidationError({"case_number": _("Helping solve a crime needs the police case (ЕРДР) number.")})
        if not ERDR_RE.fullmatch(compact):
            raise ValidationError({"case_number": _("An ЕРДР number has 15 digits.")})
        return compact
    return (case_number or "").strip()


def _reporter_shift(volunteer: Volunteer, occurred_at: datetime.datetime) -> Assignment | None:
    """The assignment the volunteer was checked in to at that moment: from the check-in to the check-out, or, while
    still checked in, to the shift's end plus the grace for checking out. Before a check-in or after a check-out the
    report is outside any shift."""
    return _checked_in_at.first(
        volunteer_id=volunteer.pk, occurred_at=occurred_at, ends_after=occurred_at - close_grace()
    )


def reporter_group(volunteer: Volunteer, shift: Shift | None, occurred_at: datetime.datetime) -> Group | None:
    """The group a report counts for: the reporter's group invited to the shift, else their group on that day."""
    day = timezone.localtime(occurred_at).date()
    ever = _memberships_of(volunteer_id=volunteer.pk)
    # A volunteer has a handful of memberships: the day's are picked here, oldest joined first.
    that_day = sorted(
        (m for m in ever if m.joined_on <= day and (m.left_on is None or m.left_on >= day)),
        key=lambda m: (m.joined_on, m.pk),
    )
    if shift is not None:
        invited = set(_invited_groups(shift_id=shift.pk))
        for membership in that_day:
            if membership.group_id in invited:
                return membership.group
    chosen = that_day[0] if that_day else (ever[0] if ever else None)
    return chosen.group if chosen else None


def _previous_position(volunteer: Volunteer, before: datetime.datetime, *, exclude: int | None = None):
    """The volunteer's last known position and time before a moment: a report or a check-in."""
    # No report has id 0: a report not saved yet excludes nothing.
    report = _last_report_position.first(volunteer_id=volunteer.pk, before=before, report_id=exclude or 0)
    check_in = _last_check_in_position.first(volunteer_id=volunteer.pk, before=before)
    known = [p for p in (report, check_in) if p is not None]
    return max(known, key=lambda p: p[0]) if known else None


def flags_for(
    *, on_shift: bool, zone_distance_m: int | None, previous: tuple[float, float] | None, twins: Iterable[int]
) -> list[dict]:
    """The checks against inflated counts, from what was measured: outside any shift, or farther from the shift's
    zone than a check-in's tolerance; implausibly fast from the reporter's previous position (`previous` is (hours,
    km) since it); likely the same event as other volunteers' reports (`twins`). The rules alone: `report_flags`
    measures for a report being filed, the demo measures its drafts its own way."""
    flags: list[dict] = []
    if not on_shift:
        flags.append({"code": ReportFlag.OUTSIDE_SHIFT})
    elif zone_distance_m is not None and zone_distance_m > checkin_tolerance_m():
        flags.append({"code": ReportFlag.OUTSIDE_ZONE, "distance_m": zone_distance_m})
    if previous is not None:
        hours, km = previous
        if km > 1 and (hours <= 0 or km / hours > settings.REPORT_MAX_SPEED_KMH):
            flags.append({"code": ReportFlag.TOO_FAST, "km": round(km, 1), "minutes": round(hours * 60)})
    twins = sorted(twins)
    if twins:
        flags.append({"code": ReportFlag.LIKELY_DUPLICATE, "reports": twins})
    return flags


def report_flags(report: Report, assignment: Assignment | None) -> list[dict]:
    """Checks against inflated counts; each flag is shown to the inspector and never drops the report."""
    zone_distance = None
    if assignment is not None:
        zone_distance = round(distance_m(assignment.shift.zone.geometry, report.location))
    since = None
    previous = _previous_position(report.reporter, report.occurred_at, exclude=report.pk)
    if previous is not None:
        when, where = previous
        since = ((report.occurred_at - when).total_seconds() / 3600, distance_m(where, report.location) / 1000)
    window = datetime.timedelta(minutes=settings.REPORT_DUPLICATE_WINDOW_MINUTES)
    radius = settings.REPORT_DUPLICATE_RADIUS_M
    # The box cuts the candidates in SQL (spatial index): without it every report of the category in the window,
    # country-wide, had its distance computed here, and filing grew slower with every report of a busy evening.
    nearby = _nearby_reports(
        category_id=report.category_id,
        since=report.occurred_at - window,
        until=report.occurred_at + window,
        box=box_around(report.location, radius),
        reporter_id=report.reporter_id,
        report_id=report.pk or 0,
    )
    twins = [other.pk for other in nearby if distance_m(other.location, report.location) <= radius]
    return flags_for(on_shift=assignment is not None, zone_distance_m=zone_distance, previous=since, twins=twins)


def _event(
    report: Report,
    kind: str,
    *,
    by: User | None,
    from_status: str = "",
    note: str = "",
    reason: str = "",
    reason_params: dict | None = None,
) -> None:
    """One line of the report's history: what a person wrote in `note`, the app's own reason as facts."""
    ReportEvent.objects.create(
        report=report,
        kind=kind,
        by=by,
        from_status=from_status,
        to_status=report.status,
        note=note,
        reason=reason,
        reason_params=reason_params or {},
    )


def report_submit(
    *,
    by: User,
    client_uuid: uuid.UUID | str,
    occurred_at: datetime.datetime,
    point: Point,
    category: Category,
    outcome: Outcome,
    description: str,
    case_number: str = "",
    third_party_details: str = "",
) -> tuple[Report, bool]:
    """File a report; the same `client_uuid` again returns the first report, never a second one.

    Returns (report, created). The district comes from the point, the shift from the reporter's assignments.
    """
    volunteer = getattr(by, "volunteer", None)
    if volunteer is None:
        raise ValidationError(_("Only volunteers file reports."))
    try:
        client_uuid = uuid.UUID(str(client_uuid))
    except ValueError as error:
        raise ValidationError({"client_uuid": _("The report id from the device is not valid.")}) from error
    existing = _report_by_uuid.first(client_uuid=client_uuid)
    if existing is not None:
        return _same_reporter(existing, volunteer), False
    if volunteer.status != VolunteerStatus.REGISTERED:
        raise ValidationError(_("Only registered volunteers file reports."))
    errors: dict[str, str] = {}
    now = timezone.now()
    if occurred_at > now + datetime.timedelta(minutes=5):
        errors["occurred_at"] = _("The time is in the future.")
    elif occurred_at < now - datetime.timedelta(days=settings.REPORT_MAX_AGE_DAYS):
        errors["occurred_at"] = _("A report is filed within %(days)d days.") % {"days": settings.REPORT_MAX_AGE_DAYS}
    if not in_kazakhstan(point):
        errors["location"] = _("This place is outside Kazakhstan.")
    if not (description or "").strip():
        errors["description"] = _("Say what happened.")
    for name, text, limit in (
        ("description", description, LONG_TEXT),
        ("third_party_details", third_party_details, NOTE_TEXT),
    ):
        try:
            text_within(text, field=name, limit=limit)
        except ValidationError as error:
            errors.update({key: value[0] for key, value in error.message_dict.items()})
    if not category.is_active:
        errors["category"] = _("This category is no longer used.")
    if errors:
        raise ValidationError(errors)
    case_number = _clean_case_number(outcome=outcome, case_number=case_number)
    assignment = _reporter_shift(volunteer, occurred_at)
    group = reporter_group(volunteer, assignment.shift if assignment else None, occurred_at)
    report = Report(
        client_uuid=client_uuid,
        reporter=volunteer,
        filed_by=by,
        shift=assignment.shift if assignment else None,
        district=district_for_point(point),
        group=group,
        group_kind=group.kind if group else "",
        occurred_at=occurred_at,
        location=point,
        category=category,
        outcome=outcome,
        description=description.strip(),
        case_number=case_number,
        third_party_details=(third_party_details or "").strip(),
    )
    # The related rows were all read in this request; the database's foreign keys still guard a deletion since.
    # Its one check constraint (not a duplicate of itself) holds for a report not saved yet; the database keeps it too.
    report.full_clean(exclude=LOADED_RELATIONS, validate_unique=False, validate_constraints=False)
    report.flags = report_flags(report, assignment)
    try:
        with transaction.atomic():
            report.save()
            _event(report, ReportEventKind.SUBMITTED, by=by)
    except IntegrityError:
        # Another request with the same client_uuid won the race: answer with its report.
        existing = Report.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise
        return _same_reporter(existing, volunteer), False
    return report, True


def _same_reporter(report: Report, volunteer: Volunteer) -> Report:
    if report.reporter_id != volunteer.pk:
        raise ValidationError({"client_uuid": _("This report id is already used by another report.")})
    return report


@transaction.atomic
def report_photo_add(*, report: Report, by: User, upload: UploadedFile) -> tuple[ReportPhoto, bool]:
    """Attach a checked photo; the same photo sent again (a retry) is kept once. Returns (photo, created)."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.reporter.user_id != by.pk:
        raise ValidationError(_("Only the reporter adds photos to a report."))
    if report.status not in {ReportStatus.SUBMITTED, ReportStatus.NEEDS_INFO}:
        raise ValidationError(_("Photos can be added only while the report waits for verification."))
    too_many = _("A report has at most %(count)d photos.") % {"count": settings.PHOTOS_PER_REPORT}
    photo, created = photo_attach(report.photos, upload, too_many=too_many)
    if created:
        _event(report, ReportEventKind.PHOTO_ADDED, by=by, from_status=report.status)
    return photo, created


# Verification


def _locked_for_inspector(report: Report, by: User) -> Report:
    locked = Report.objects.select_for_update(of=("self",)).select_related("reporter__user").get(pk=report.pk)
    if not Report.objects.verifiable_by(by).filter(pk=locked.pk).exists():
        raise ValidationError(_("You cannot verify reports of this district."))
    return locked


def _note_required(text: str, field: str, missing: str) -> str:
    """A reason, question or answer the other side reads: within the note limit and not empty."""
    text = text_within(text, field=field, limit=NOTE_TEXT)
    if not text:
        raise ValidationError({field: missing})
    return text


def _move(
    report: Report,
    *,
    to: str,
    by: User,
    allowed_from: Iterable[str],
    note: str,
    kind: str,
    duplicate_of: Report | None = None,
    reason: str = "",
    reason_params: dict | None = None,
) -> Report:
    """Change the status, keep the history, the tallies and the reporter's ledger: all in the caller's transaction.
    `note` is what the inspector or the reporter wrote; the app's own reason goes as facts (`reason`,
    `reason_params`)."""
    if report.status not in allowed_from:
        raise ValidationError(
            _("A report that is “%(current)s” cannot become “%(target)s”.")
            % {"current": ReportStatus(report.status).label, "target": ReportStatus(to).label}
        )
    before, counted_before = report.status, report.counts
    report.status = to
    report.status_note = note
    if duplicate_of is not None:
        report.duplicate_of = duplicate_of
    if to == ReportStatus.VERIFIED:
        report.verified_by, report.verified_at = by, timezone.now()
    report.save()
    tally_report_change(report, counted_before=counted_before)
    ledger_report_change(report, counted_before=counted_before)
    _event(report, kind, by=by, from_status=before, note=note, reason=reason, reason_params=reason_params)
    return report


@transaction.atomic
def report_verify(*, report: Report, by: User) -> Report:
    """Confirm a report: from now on it counts."""
    report = _locked_for_inspector(report, by)
    if report.duplicate_of_id:
        raise ValidationError(_("This report is a duplicate; the original counts instead."))
    report = _move(
        report,
        to=ReportStatus.VERIFIED,
        by=by,
        allowed_from={ReportStatus.SUBMITTED, ReportStatus.NEEDS_INFO, ReportStatus.REJECTED},
        note="",
        kind=ReportEventKind.VERIFIED,
    )
    notify(users=[report.reporter.user], kind=NotificationKind.REPORT_VERIFIED, report=report)
    return report


@transaction.atomic
def report_reject(*, report: Report, by: User, reason: str) -> Report:
    """Reject a report (also one verified before: it stops counting); a reason is required."""
    reason = _note_required(reason, "reason", _("Say why the report is rejected: the volunteer will read it."))
    report = _locked_for_inspector(report, by)
    report = _move(
        report,
        to=ReportStatus.REJECTED,
        by=by,
        allowed_from={ReportStatus.SUBMITTED, ReportStatus.NEEDS_INFO, ReportStatus.VERIFIED},
        note=reason,
        kind=ReportEventKind.REJECTED,
    )
    notify(users=[report.reporter.user], kind=NotificationKind.REPORT_REJECTED, report=report, reason=reason)
    return report


@transaction.atomic
def report_request_info(*, report: Report, by: User, question: str) -> Report:
    """Ask the volunteer for more information; they answer and the report comes back to the queue."""
    question = _note_required(question, "question", _("Write what information is missing."))
    report = _locked_for_inspector(report, by)
    report = _move(
        report,
        to=ReportStatus.NEEDS_INFO,
        by=by,
        allowed_from={ReportStatus.SUBMITTED},
        note=question,
        kind=ReportEventKind.NEEDS_INFO,
    )
    notify(users=[report.reporter.user], kind=NotificationKind.REPORT_NEEDS_INFO, report=report, question=question)
    return report


@transaction.atomic
def report_resubmit(*, report: Report, by: User, answer: str, case_number: str | None = None) -> Report:
    """The reporter answers the inspector's question; the answer joins the description and the report waits again."""
    report = Report.objects.select_for_update(of=("self",)).select_related("reporter", "outcome").get(pk=report.pk)
    if report.reporter.user_id != by.pk:
        raise ValidationError(_("Only the reporter answers for a report."))
    answer = _note_required(answer, "answer", _("Write your answer."))
    if case_number is not None:
        report.case_number = _clean_case_number(outcome=report.outcome, case_number=case_number)
    report.description = f"{report.description}\n\n{answer}"
    return _move(
        report,
        to=ReportStatus.SUBMITTED,
        by=by,
        allowed_from={ReportStatus.NEEDS_INFO},
        note=answer,
        kind=ReportEventKind.RESUBMITTED,
    )


@transaction.atomic
def report_mark_duplicate(*, report: Report, original: Report, by: User) -> Report:
    """Mark a report as a duplicate of another: it is rejected with a pointer, so the event counts once."""
    report = _locked_for_inspector(report, by)
    original = Report.objects.select_for_update().get(pk=original.pk)
    if original.duplicate_of_id:
        original = Report.objects.get(pk=original.duplicate_of_id)
    if original.pk == report.pk:
        raise ValidationError({"original": _("A report cannot be a duplicate of itself.")})
    if not Report.objects.verifiable_by(by).filter(pk=original.pk).exists():
        raise ValidationError({"original": _("The original report is not in your districts.")})
    if original.status == ReportStatus.REJECTED:
        raise ValidationError({"original": _("The original report is rejected: it cannot stand for others.")})
    # No sentence is stored: each reader is told "Duplicate of report No. …" in their own language (reasons.py).
    report = _move(
        report,
        to=ReportStatus.REJECTED,
        by=by,
        allowed_from={ReportStatus.SUBMITTED, ReportStatus.NEEDS_INFO, ReportStatus.VERIFIED},
        note="",
        kind=ReportEventKind.DUPLICATE,
        duplicate_of=original,
        reason=AutoReason.DUPLICATE,
        reason_params={"number": original.pk},
    )
    # Reports that pointed at this one now point at its original.
    Report.objects.filter(duplicate_of=report).update(duplicate_of=original)
    return report


@dataclass
class BulkVerification:
    """What a bulk verification did: how many were verified, which were not and why, which flagged ones were left."""

    verified: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    flagged_left_out: list[int] = field(default_factory=list)


def flag_labels(report: Report) -> str:
    """The report's flags in words, for a sentence."""
    labels = [ReportFlag(flag["code"]).label for flag in report.flags or [] if flag.get("code") in ReportFlag.values]
    return "; ".join(str(label) for label in labels)


def report_bulk_verify(
    *, reports: Iterable[Report], by: User, flagged_on_purpose: Iterable[int] = ()
) -> BulkVerification:
    """Verify several reports; each one on its own, so one that cannot be verified does not stop the rest.

    A flagged report (a likely duplicate, outside any shift, ...) is verified only when its id is among
    `flagged_on_purpose`, the reports the inspector ticked one by one; the others are left out and named.
    """
    chosen, result = set(flagged_on_purpose), BulkVerification()
    for report in reports:
        if report.flags and report.pk not in chosen:
            result.flagged_left_out.append(report.pk)
            result.skipped.append(
                (
                    report.pk,
                    _("It is flagged (%(flags)s): open it, or tick it on its own to verify it anyway.")
                    % {"flags": flag_labels(report)},
                )
            )
            continue
        try:
            report_verify(report=report, by=by)
        except ValidationError as error:
            result.skipped.append((report.pk, " ".join(error.messages)))
        else:
            result.verified += 1
    return result


def report_queue(user: User):
    """The inspector's verification queue: pending reports of their districts, oldest first."""
    return (
        Report.objects.verifiable_by(user)
        .filter(status=ReportStatus.SUBMITTED)
        .select_related("reporter", "category", "outcome", "district", "shift__zone")
        .order_by("created_at", "id")
    )


def reports_waiting(user: User) -> int:
    return report_queue(user).count()
