"""Roster import: a district's volunteers from an XLSX or CSV file, every row checked, all written or none.

`roster_import_start` checks and stores the upload and queues `roster_import_run` (a Celery task; inline when the
broker is down). The run reads the file in the uploader's language and checks every row. Any problem is recorded
as `{"row": n, "field": "iin", "message": "…"}` (`row` counts the header as 1 and is None for a problem with the
whole file; `field` is the column's technical name, or "") and nothing is written; otherwise the volunteers, their
history and their memberships are written in one transaction.
"""

from __future__ import annotations

import datetime
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from uuid import uuid4

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from kombu.exceptions import OperationalError
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel

from ..choices import RosterImportStatus, VolunteerStatus
from ..models import District, Group, Membership, RosterImport, User, Volunteer, VolunteerStatusChange
from ..scope import manageable_districts
from . import tables
from .roster import CURRENT_CONSENT_VERSION, _require_manageable, iin_taken_message, volunteer_build

logger = logging.getLogger(__name__)

# A polling page sees the count of checked rows move every this many rows.
PROGRESS_EVERY = 200
# Rows per INSERT, and IINs per `IN (…)` lookup (SQLite allows 999 parameters per query).
WRITE_BATCH = 1000
LOOKUP_BATCH = 900


COLUMNS: tuple[tables.Column, ...] = (
    tables.Column("last_name", gettext_lazy("Last name"), True, gettext_lazy("Required."), ("Фамилия", "Тегі")),
    tables.Column("first_name", gettext_lazy("First name"), True, gettext_lazy("Required."), ("Имя", "Аты")),
    tables.Column(
        "patronymic", gettext_lazy("Patronymic"), False, gettext_lazy("Optional."), ("Отчество", "Әкесінің аты")
    ),
    tables.Column(
        "iin",
        gettext_lazy("IIN"),
        True,
        gettext_lazy("Required: 12 digits, with any leading zeros."),
        ("ИИН", "ЖСН"),
    ),
    tables.Column(
        "phone",
        gettext_lazy("Phone"),
        True,
        gettext_lazy("Required: a Kazakh mobile number, for example +7 701 234 56 78."),
        ("Телефон",),
    ),
    tables.Column(
        "birth_date",
        gettext_lazy("Date of birth"),
        False,
        gettext_lazy("Optional: DD.MM.YYYY; taken from the IIN when empty."),
        ("Дата рождения", "Туған күні", "birth date"),
    ),
    tables.Column(
        "group",
        gettext_lazy("Group"),
        False,
        gettext_lazy("Optional: the name of a group of the district, as it is written in the system."),
        ("Группа", "Топ"),
    ),
    tables.Column(
        "joined_on",
        gettext_lazy("Joined on"),
        False,
        gettext_lazy("Optional: the day the volunteer joined the group, DD.MM.YYYY; today when empty."),
        ("Дата вступления", "Кірген күні"),
    ),
    tables.Column(
        "consent_version",
        gettext_lazy("Consent version"),
        False,
        gettext_lazy("Optional: the version of the consent text the volunteer signed; the current one when empty."),
        ("Версия согласия", "Келісім нұсқасы"),
    ),
)
COLUMNS_BY_NAME = {column.name: column for column in COLUMNS}
# Model fields whose errors point at a column of the same name.
_FIELD_COLUMNS = frozenset({"last_name", "first_name", "patronymic", "iin", "phone", "birth_date", "consent_version"})
TEXT_FIELDS = ("last_name", "first_name", "patronymic", "phone", "group", "consent_version")

_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_YEAR_MONTH_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_IIN_SHAPE = re.compile(r"\d{12}")


def column_label(name: str) -> str:
    """The label of a roster column (by technical name) in the active language; the name itself when unknown."""
    return tables.column_label(COLUMNS, name)


def _format_error() -> ValidationError:
    message = _("Upload the roster as an XLSX workbook or a CSV file (UTF-8 or Windows-1251).")
    return ValidationError({"file": ValidationError(message, code="format")})


def _too_much_unpacked() -> str:
    return _(
        "The workbook unpacks to more than %(limit)s: it holds far more than a roster. Save only the sheet with "
        "the volunteers, or save it as CSV."
    ) % {"limit": filesizeformat(settings.ROSTER_IMPORT_MAX_UNPACKED_BYTES)}


def _read_upload(upload: UploadedFile, limit: int) -> bytes:
    upload.seek(0)
    data = bytearray()
    for chunk in upload.chunks():
        data.extend(chunk)
        if len(data) > limit:
            break
    return bytes(data)


def _current_language() -> str:
    try:
        return translation.get_supported_language_variant(translation.get_language() or settings.LANGUAGE_CODE)
    except LookupError:
        return settings.LANGUAGE_CODE


@transaction.atomic
def roster_import_start(*, by: User, district: District, upload: UploadedFile) -> RosterImport:
    """Check and store an uploaded roster file for a district the user keeps, and queue its import."""
    _require_manageable(district=district, by=by)
    limit = settings.ROSTER_IMPORT_MAX_BYTES
    message = _("The file is larger than %(limit)s.") % {"limit": filesizeformat(limit)}
    too_big = ValidationError({"file": ValidationError(message, code="too_large")})
    if upload.size is not None and upload.size > limit:
        raise too_big
    data = _read_upload(upload, limit)
    if len(data) > limit:
        raise too_big
    if not data:
        raise ValidationError({"file": ValidationError(_("The file is empty."), code="empty")})
    name = Path(upload.name or "").name
    suffix = Path(name).suffix.lower()
    kind = tables.sniff(data)
    if suffix not in {".xlsx", ".csv"} or kind != suffix[1:]:
        raise _format_error()
    if kind == "xlsx" and tables.unpacked_bytes(data) > settings.ROSTER_IMPORT_MAX_UNPACKED_BYTES:
        # Checked before any worker opens it: a small file of repeated strings can unpack to hundreds of megabytes.
        raise ValidationError({"file": ValidationError(_too_much_unpacked(), code="too_large")})
    roster_import = RosterImport(
        district=district,
        uploaded_by=by,
        original_name=name[:255],
        language=_current_language(),
        heartbeat_at=timezone.now(),
    )
    # A random stored name: the uploader's file name may carry personal data into paths and logs.
    roster_import.file.save(f"{uuid4().hex}.{kind}", ContentFile(data), save=False)
    roster_import.save()
    transaction.on_commit(partial(_queue, roster_import.pk))
    return roster_import


def _queue(import_id: int) -> None:
    """Hand the import to a worker; when the broker cannot be reached, run it here so it never waits forever."""
    from ..tasks import run_roster_import

    try:
        run_roster_import.delay(import_id)
    except (OperationalError, OSError):
        logger.warning("Broker unreachable: running roster import %s inline", import_id, exc_info=True)
        roster_import_run(import_id=import_id)


def _iin(value: object) -> str:
    """An IIN as 12 digits: a spreadsheet stores it as a number and drops its leading zeros."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).zfill(12)
    return re.sub(r"\s", "", tables.cell_text(value)).lstrip("'")


def _date(value: object) -> datetime.date | None:
    """A date cell, a YYYY-MM-DD or DD.MM.YYYY text, or an unformatted spreadsheet date; raises ValueError."""
    if tables.is_blank(value):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return from_excel(value).date()
    text = str(value).strip().split()[0].split("T")[0]
    if match := _DAY_MONTH_YEAR.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
        return datetime.date(year, month, day)
    if match := _YEAR_MONTH_DAY.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
        return datetime.date(year, month, day)
    raise ValueError(text)


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass(frozen=True)
class _Known:
    """A volunteer already in the database whose IIN is in the file."""

    pk: int
    status: str
    manageable: bool


def _batches(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _known_people(*, iins: set[str], by: User, district: District) -> tuple[dict[str, _Known], set[tuple[int, int]]]:
    """The file's IINs already registered (and whether the uploader keeps them), and their open memberships here."""
    found: dict[str, tuple[int, str]] = {}
    for batch in _batches(sorted(iins), LOOKUP_BATCH):
        found.update(
            (iin, (pk, status))
            for pk, iin, status in Volunteer.objects.filter(iin__in=batch).values_list("pk", "iin", "status")
        )
    manageable: set[str] = set()
    active: set[tuple[int, int]] = set()
    for batch in _batches(sorted(found), LOOKUP_BATCH):
        manageable.update(Volunteer.objects.manageable_by(by).filter(iin__in=batch).values_list("iin", flat=True))
        active.update(
            Membership.objects.filter(volunteer__iin__in=batch, left_on=None, group__district=district).values_list(
                "volunteer_id", "group_id"
            )
        )
    known = {iin: _Known(pk, status, iin in manageable) for iin, (pk, status) in found.items()}
    return known, active


@dataclass
class _Plan:
    """What a checked file would write, or why it cannot."""

    volunteers: list[Volunteer] = field(default_factory=list)
    memberships: list[Membership] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    added_memberships: int = 0


def _validation_errors(row: int, error: ValidationError) -> list[dict]:
    if not hasattr(error, "error_dict"):
        return [tables.problem(row, "", message) for message in error.messages]
    return [
        tables.problem(row, name if name in _FIELD_COLUMNS else "", message)
        for name, messages in error.message_dict.items()
        for message in messages
    ]


class _RowChecker:
    """Checks the rows of one import against each other, the district's groups and the people already registered."""

    def __init__(self, *, roster_import: RosterImport, rows: list[tables.Row], by: User) -> None:
        self.roster_import = roster_import
        self.district = roster_import.district
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.groups: dict[str, list[Group]] = {}
        for group in Group.objects.filter(district=self.district, is_active=True):
            self.groups.setdefault(_name_key(group.name), []).append(group)
        iins = {iin for row in rows if _IIN_SHAPE.fullmatch(iin := _iin(row.cells.get("iin")))}
        self.known, self.active = _known_people(iins=iins, by=by, district=self.district)
        self.first_row_of: dict[str, int] = {}

    def check_all(self, rows: list[tables.Row]) -> _Plan:
        """Every row checked, with the count of checked rows saved as it goes for a polling page."""
        plan = _Plan()
        for position, row in enumerate(rows, start=1):
            self.check(row, plan)
            if position % PROGRESS_EVERY == 0:
                RosterImport.objects.filter(pk=self.roster_import.pk).update(
                    processed_rows=position, heartbeat_at=timezone.now()
                )
        return plan

    def _group(self, name: str) -> tuple[Group | None, str]:
        candidates = self.groups.get(_name_key(name), [])
        exact = [group for group in candidates if group.name == name]
        if len(candidates) == 1 or len(exact) == 1:
            return (exact or candidates)[0], ""
        if candidates:
            return None, _("Several groups are called “%(name)s”: write the name exactly as in the system.") % {
                "name": name
            }
        return None, _("There is no active group “%(name)s” in this district.") % {"name": name}

    def _read_date(self, row: tables.Row, name: str, errors: list[dict]) -> tuple[datetime.date | None, bool]:
        """The column's date, and whether it could be read."""
        value = row.cells.get(name)
        try:
            return _date(value), True
        except (ValueError, TypeError, OverflowError):
            message = _("“%(value)s” is not a date: write it as DD.MM.YYYY or YYYY-MM-DD.") % {
                "value": tables.cell_text(value)
            }
            errors.append(tables.problem(row.number, name, message))
            return None, False

    def check(self, row: tables.Row, plan: _Plan) -> None:
        """One row: its errors, or the volunteer and membership it adds to the plan."""
        number = row.number
        text = {name: tables.cell_text(row.cells.get(name)) for name in TEXT_FIELDS}
        iin = _iin(row.cells.get("iin"))
        errors = [
            tables.problem(number, column.name, _("Fill in “%(column)s”.") % {"column": column.label})
            for column in COLUMNS
            if column.required and not (iin if column.name == "iin" else text[column.name])
        ]
        complete = not errors
        birth_date, birth_date_read = self._read_date(row, "birth_date", errors)
        joined_on, _joined_on_read = self._read_date(row, "joined_on", errors)
        joined_on = joined_on or self.today
        if joined_on > self.today:
            errors.append(tables.problem(number, "joined_on", _("The joining date cannot be in the future.")))
        group = None
        if text["group"]:
            group, message = self._group(text["group"])
            if group is None:
                errors.append(tables.problem(number, "group", message))
        if iin:
            first = self.first_row_of.setdefault(iin, number)
            if first != number:
                message = _("This IIN is already on row %(row)d of the file.") % {"row": first}
                errors.append(tables.problem(number, "iin", message))
        person = self.known.get(iin) if iin else None
        if person is not None:
            self._check_known(number, person, group, text["group"], joined_on, errors, plan)
        elif complete and birth_date_read:
            volunteer = self._build(number, text, iin, birth_date, errors)
            if volunteer is not None and not errors:
                plan.volunteers.append(volunteer)
                if group is not None:
                    plan.memberships.append(Membership(volunteer=volunteer, group=group, joined_on=joined_on))
        plan.errors.extend(errors)

    def _check_known(
        self,
        number: int,
        person: _Known,
        group: Group | None,
        group_name: str,
        joined_on: datetime.date,
        errors: list[dict],
        plan: _Plan,
    ) -> None:
        """A registered person is only put into a group, and only by someone who keeps them."""
        if not person.manageable:
            # Says nothing of where: the uploader may not see this volunteer.
            errors.append(tables.problem(number, "iin", iin_taken_message(in_your_roster=False)))
            return
        if not group_name:
            message = _("This volunteer is already in your roster: fill in “%(column)s” to add them to a group.") % {
                "column": column_label("group")
            }
            errors.append(tables.problem(number, "iin", message))
            return
        if person.status in {VolunteerStatus.REFUSED, VolunteerStatus.RETIRED}:
            errors.append(tables.problem(number, "iin", _("A refused or retired volunteer cannot join a group.")))
            return
        if group is not None and not errors and (person.pk, group.pk) not in self.active:
            plan.memberships.append(Membership(volunteer_id=person.pk, group=group, joined_on=joined_on))
            plan.added_memberships += 1

    def _build(
        self, number: int, text: dict[str, str], iin: str, birth_date: datetime.date | None, errors: list[dict]
    ) -> Volunteer | None:
        try:
            return volunteer_build(
                district=self.district,
                last_name=text["last_name"],
                first_name=text["first_name"],
                patronymic=text["patronymic"],
                iin=iin,
                phone=text["phone"],
                birth_date=birth_date,
                consent_version=text["consent_version"] or CURRENT_CONSENT_VERSION,
                consent_at=self.now,
                applied_on=self.today,
                check_database=False,
            )
        except ValidationError as error:
            errors.extend(_validation_errors(number, error))
            return None


def _fail(import_id: int, errors: list[dict], *, processed: int | None = None) -> RosterImport:
    """Record why the import was refused, unless another run has finished it meanwhile."""
    changes: dict = {"status": RosterImportStatus.FAILED, "errors": errors, "finished_at": timezone.now()}
    if processed is not None:
        changes["processed_rows"] = processed
    unfinished = [RosterImportStatus.PENDING, RosterImportStatus.RUNNING]
    RosterImport.objects.filter(pk=import_id, status__in=unfinished).update(**changes)
    return RosterImport.objects.get(pk=import_id)


def _write(*, import_id: int, plan: _Plan, by: User, note: str) -> RosterImport:
    """Everything the file adds, in one transaction, unless another run has finished the import meanwhile."""
    with transaction.atomic():
        locked = RosterImport.objects.select_for_update().get(pk=import_id)
        if locked.is_finished:
            return locked
        Volunteer.objects.bulk_create(plan.volunteers, batch_size=WRITE_BATCH)
        VolunteerStatusChange.objects.bulk_create(
            [
                VolunteerStatusChange(
                    volunteer=volunteer, from_status="", to_status=VolunteerStatus.APPLICANT, by=by, note=note
                )
                for volunteer in plan.volunteers
            ],
            batch_size=WRITE_BATCH,
        )
        Membership.objects.bulk_create(plan.memberships, batch_size=WRITE_BATCH)
        locked.status = RosterImportStatus.DONE
        locked.processed_rows = locked.total_rows
        locked.errors = []
        locked.created_count = len(plan.volunteers)
        locked.updated_count = plan.added_memberships
        locked.finished_at = timezone.now()
        locked.save(
            update_fields=["status", "processed_rows", "errors", "created_count", "updated_count", "finished_at"]
        )
    return locked


def _read_stored(roster_import: RosterImport) -> bytes:
    with roster_import.file.open("rb") as stored:
        return stored.read()


def _run(roster_import: RosterImport) -> RosterImport:
    import_id = roster_import.pk
    by = roster_import.uploaded_by
    if by is None or not manageable_districts(by).filter(pk=roster_import.district_id).exists():
        return _fail(import_id, [tables.problem(None, "", _("You cannot change the roster of this district."))])
    RosterImport.objects.filter(pk=import_id).update(
        status=RosterImportStatus.RUNNING,
        total_rows=0,
        processed_rows=0,
        errors=[],
        heartbeat_at=timezone.now(),
        attempts=F("attempts") + 1,
    )
    try:
        data = _read_stored(roster_import)
    except OSError:
        logger.warning("Roster import %s: the stored file cannot be opened", import_id, exc_info=True)
        data = b""
    rows, errors = tables.read_table(
        data,
        COLUMNS,
        max_rows=settings.ROSTER_IMPORT_MAX_ROWS,
        too_much=_too_much_unpacked(),
        empty=_("The file has no volunteers in it: fill in the rows under the header."),
    )
    if errors:
        return _fail(import_id, errors)
    RosterImport.objects.filter(pk=import_id).update(total_rows=len(rows))
    plan = _RowChecker(roster_import=roster_import, rows=rows, by=by).check_all(rows)
    if plan.errors:
        return _fail(import_id, plan.errors, processed=len(rows))
    note = _("Imported from the file “%(name)s”.") % {"name": roster_import.original_name}
    try:
        return _write(import_id=import_id, plan=plan, by=by, note=note)
    except IntegrityError:
        # Someone registered one of these people between the check and the write.
        logger.warning("Roster import %s collided with another change", import_id, exc_info=True)
        message = _("The roster changed while this file was being checked: upload it again.")
        return _fail(import_id, [tables.problem(None, "", message)], processed=len(rows))


def roster_import_run(*, import_id: int) -> RosterImport:
    """Check every row of a stored roster file, then write them all or record why not; a finished import is kept."""
    roster_import = RosterImport.objects.select_related("district", "uploaded_by").get(pk=import_id)
    if roster_import.is_finished:
        return roster_import
    with translation.override(roster_import.language):
        try:
            return _run(roster_import)
        except Exception:
            # Whatever went wrong, an import left "running" would keep the inspector waiting forever.
            logger.exception("Roster import %s stopped", import_id)
            message = _("The import stopped because of an internal error: upload the file again.")
            return _fail(import_id, [tables.problem(None, "", message)])


def roster_imports_recover(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The minute sweep's look at imports nobody works on: waiting or "running" without a sign of work for
    `ROSTER_IMPORT_STALL_MINUTES` (a worker killed halfway, a task lost with the broker). Such an import is queued
    again, from the first row (nothing was written: writing is all at once at the end); one that stalled
    `ROSTER_IMPORT_ATTEMPTS` times is marked failed with a message the inspector reads on its page."""
    now = now or timezone.now()
    stalled_since = now - datetime.timedelta(minutes=settings.ROSTER_IMPORT_STALL_MINUTES)
    unfinished = [RosterImportStatus.PENDING, RosterImportStatus.RUNNING]
    stale = Q(status__in=unfinished) & (
        Q(heartbeat_at__lt=stalled_since) | Q(heartbeat_at__isnull=True, created_at__lt=stalled_since)
    )
    counts = {"requeued": 0, "failed": 0}
    for pk in list(RosterImport.objects.filter(stale).values_list("pk", flat=True)):
        with transaction.atomic():
            found = RosterImport.objects.select_for_update(skip_locked=True).filter(stale, pk=pk).first()
            if found is None:
                continue
            if found.attempts >= settings.ROSTER_IMPORT_ATTEMPTS:
                with translation.override(found.language):
                    message = _(
                        "The import stopped %(times)d times before it finished (the server was restarted): "
                        "upload the file again."
                    ) % {"times": found.attempts}
                    _fail(pk, [tables.problem(None, "", message)])
                counts["failed"] += 1
                continue
            # Looked at now: the next sweep waits a whole stall period again before it counts this one as stuck.
            RosterImport.objects.filter(pk=pk).update(status=RosterImportStatus.PENDING, heartbeat_at=now)
            transaction.on_commit(partial(_queue, pk))
            counts["requeued"] += 1
    return counts


def roster_template_xlsx() -> bytes:
    """An empty roster workbook: the header in the active language, each column's technical name and rule as a note."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = re.sub(r"[\[\]:*?/\\]", " ", _("Volunteers"))[:31]
    for position, column in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=position, value=str(column.label))
        cell.font = Font(bold=True)
        cell.comment = Comment(f"{column.name}\n{column.hint}", "")
        cell.comment.width, cell.comment.height = 260, 90
        letter = get_column_letter(position)
        sheet.column_dimensions[letter].width = max(16, len(cell.value) + 4)
        if column.name in {"iin", "phone"}:
            # Text cells, so a spreadsheet keeps an IIN's leading zeros and a phone's plus sign.
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
