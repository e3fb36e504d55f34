"""Roster import: a district's volunteers from an XLSX or CSV file, every row checked, all written or none.

`roster_import_start` checks and stores the upload and queues `roster_import_run` (a Celery task; inline when the
broker is down). The run checks every row. A problem is recorded as facts, never as a sentence:
`{"row": n, "field": "iin", "code": "iin_checksum", "params": {}, "person": "Серікболов Айдос", "value": "…"}`
(`row` counts the header as 1 and is None for a problem with the whole file; `field` is the column's technical name,
or ""; `person` is the row's last and first name as written, `value` the cell as written, an IIN masked), and
`problem_text` tells it in the reader's language when it is read. Imports kept from before carry `"message"`, the
sentence in the uploader's language, which is shown as it is.

By default any problem means nothing is written. An import of the valid rows (`import_valid_rows`) writes the rows
without problems and gives the others back as a workbook to fix (`roster_rows_to_fix_xlsx`); the fixed file
uploaded again imports the rest. Either way the volunteers, their history and their memberships are written in one
transaction, with the import's outcome, so a worker that dies halfway has written nothing.
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
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from kombu.exceptions import OperationalError
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel

from ..choices import AutoReason, RosterImportStatus, VolunteerStatus
from ..models import District, Group, Membership, RosterImport, User, Volunteer, VolunteerStatusChange
from ..scope import manageable_districts
from ..validators import MINIMUM_AGE, mask_iin
from . import tables
from .roster import CURRENT_CONSENT_VERSION, _require_manageable, volunteer_build

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
# A person's name and a bad value are shown back to this length: enough to find the row, not a whole cell of text.
SHOWN_LENGTH = 60

# What a stored problem says, by its code; the figures come from its `params` (a column by its technical name, a
# size in bytes), the bad value is shown beside the sentence, not in it. The codes of the person checks are those
# of the validators (patrols/validators.py, services/roster.py), with the same sentences.
MESSAGES: dict[str, Promise] = {
    **tables.MESSAGES,
    "too_much": gettext_lazy(
        "The workbook unpacks to more than %(limit)s: it holds far more than a roster. Save only the sheet with "
        "the volunteers, or save it as CSV."
    ),
    "empty": gettext_lazy("The file has no volunteers in it: fill in the rows under the header."),
    "not_allowed": gettext_lazy("You cannot change the roster of this district."),
    "collided": gettext_lazy("The roster changed while this file was being checked: upload it again."),
    "internal": gettext_lazy("The import stopped because of an internal error: upload the file again."),
    "stalled": gettext_lazy(
        "The import stopped %(times)d times before it finished (the server was restarted): upload the file again."
    ),
    "required": gettext_lazy("Fill in “%(column)s”."),
    "not_a_date": gettext_lazy("This is not a date: write it as DD.MM.YYYY or YYYY-MM-DD."),
    "joined_future": gettext_lazy("The joining date cannot be in the future."),
    "group_ambiguous": gettext_lazy("Several groups have this name: write it exactly as in the system."),
    "group_unknown": gettext_lazy("There is no active group of this name in this district."),
    "iin_repeated": gettext_lazy("This IIN is already on row %(row)d of the file."),
    # Says nothing of where: the uploader may not see this volunteer.
    "iin_elsewhere": gettext_lazy(
        "A volunteer with this IIN is registered in another district: ask that district's inspector to add them "
        "to your group."
    ),
    "known_needs_group": gettext_lazy(
        "This volunteer is already in your roster: fill in “%(column)s” to add them to a group."
    ),
    "known_departed": gettext_lazy("A refused or retired volunteer cannot join a group."),
    "iin_format": gettext_lazy("An IIN has exactly 12 digits."),
    "iin_date": gettext_lazy("This IIN does not start with a valid date of birth."),
    "iin_checksum": gettext_lazy("This IIN's check digit is wrong: please check the number."),
    "phone_format": gettext_lazy("Enter a Kazakh mobile number, for example +7 701 234 56 78."),
    "birth_date_missing": gettext_lazy("Enter the date of birth."),
    "birth_date_mismatch": gettext_lazy("The date of birth does not match the one in the IIN."),
    "birth_date_future": gettext_lazy("The date of birth is in the future."),
    "under_age": gettext_lazy("A volunteer must be at least %(age)d years old."),
    "too_long": gettext_lazy("Keep this within %(limit)d characters (now %(count)d)."),
}


# The validators' codes (without figures) whose sentences MESSAGES repeats.
PERSON_CHECKS = frozenset(
    {
        "iin_format",
        "iin_date",
        "iin_checksum",
        "phone_format",
        "birth_date_missing",
        "birth_date_mismatch",
        "birth_date_future",
    }
)


def column_label(name: str) -> str:
    """The label of a roster column (by technical name) in the active language; the name itself when unknown."""
    return tables.column_label(COLUMNS, name)


def problem_text(problem: dict) -> str:
    """A stored problem told in the active language; one stored before problems were facts keeps its sentence."""
    template = MESSAGES.get(problem.get("code") or "")
    if template is None:
        return str(problem.get("message", ""))
    params = dict(problem.get("params") or {})
    if "column" in params:
        params["column"] = column_label(params["column"])
    if "bytes" in params:
        params["limit"] = filesizeformat(params.pop("bytes"))
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        # Facts that do not fit the sentence (stored by another version): what was kept, else the bare sentence.
        return str(problem.get("message") or template).replace("%%", "%")


def problems_shown(errors: list[dict]) -> list[dict]:
    """The problems as a page or the API shows them, in the active language: row, column, whose row, the value as
    written, what is wrong."""
    return [
        {
            "row": error.get("row"),
            "field": error.get("field", ""),
            "column": column_label(error["field"]) if error.get("field") else "",
            "code": error.get("code", ""),
            "person": error.get("person", ""),
            "value": error.get("value", ""),
            "message": problem_text(error),
        }
        for error in errors
    ]


def _shown(text: str) -> str:
    return text if len(text) <= SHOWN_LENGTH else text[: SHOWN_LENGTH - 1] + "…"


def _person(row: tables.Row) -> str:
    """Whose row it is, as the file writes it: the last and first name (never the IIN)."""
    names = (tables.cell_text(row.cells.get(name)) for name in ("last_name", "first_name"))
    return _shown(" ".join(" ".join(name.split()) for name in names if name))


def _value(row: tables.Row, name: str) -> str:
    """A cell as written, shown back to the uploader beside the problem; a whole IIN only masked."""
    if not name:
        return ""
    if name == "iin":
        text = _iin(row.cells.get("iin"))
        return mask_iin(text) if _IIN_SHAPE.fullmatch(text) else _shown(text)
    return _shown(tables.cell_text(row.cells.get(name)))


def _problem(row: tables.Row | None, name: str, code: str, /, **params) -> dict:
    """A problem as facts: the row and column, what is wrong (a code of MESSAGES and its figures), whose row it is
    and the value as written."""
    if row is None:
        return {"row": None, "field": name, "code": code, "params": params}
    return {
        "row": row.number,
        "field": name,
        "code": code,
        "params": params,
        "person": _person(row),
        "value": _value(row, name),
    }


def _table_problem(found: dict) -> dict:
    """A problem `tables.read_table` found, kept as facts (its sentence is told again when read)."""
    if found.get("code") not in MESSAGES:
        return found
    facts = {"row": found["row"], "field": found["field"], "code": found["code"], "params": found["params"]}
    if found["code"] == "too_much":
        facts["params"] = {"bytes": settings.ROSTER_IMPORT_MAX_UNPACKED_BYTES}
    return facts


def _validation_problem(row: tables.Row, name: str, error: ValidationError) -> dict:
    """A check of the person's data (the validators') as facts, by its code."""
    if error.code == "max_length":
        return _problem(row, name, "too_long", limit=error.params["limit_value"], count=error.params["show_value"])
    if error.code == "under_age":
        return _problem(row, name, "under_age", age=MINIMUM_AGE)
    if error.code in PERSON_CHECKS:
        return _problem(row, name, error.code)
    # A check without a code of its own: its sentence as the uploader read it.
    return {**_problem(row, name, ""), "message": " ".join(error.messages)}


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
def roster_import_start(
    *, by: User, district: District, upload: UploadedFile, import_valid_rows: bool = False
) -> RosterImport:
    """Check and store an uploaded roster file for a district the user keeps, and queue its import: all rows or
    none, or with `import_valid_rows` the rows without problems (the others come back as a file to fix)."""
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
        import_valid_rows=import_valid_rows,
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


def _validation_errors(row: tables.Row, error: ValidationError) -> list[dict]:
    if not hasattr(error, "error_dict"):
        return [_validation_problem(row, "", item) for item in error.error_list]
    return [
        _validation_problem(row, name if name in _FIELD_COLUMNS else "", item)
        for name, items in error.error_dict.items()
        for item in items
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
        """The district's active group of that name, or the code of the problem with it."""
        candidates = self.groups.get(_name_key(name), [])
        exact = [group for group in candidates if group.name == name]
        if len(candidates) == 1 or len(exact) == 1:
            return (exact or candidates)[0], ""
        return None, "group_ambiguous" if candidates else "group_unknown"

    def _read_date(self, row: tables.Row, name: str, errors: list[dict]) -> tuple[datetime.date | None, bool]:
        """The column's date, and whether it could be read."""
        try:
            return _date(row.cells.get(name)), True
        except (ValueError, TypeError, OverflowError):
            errors.append(_problem(row, name, "not_a_date"))
            return None, False

    def check(self, row: tables.Row, plan: _Plan) -> None:
        """One row: its errors, or the volunteer and membership it adds to the plan."""
        number = row.number
        text = {name: tables.cell_text(row.cells.get(name)) for name in TEXT_FIELDS}
        iin = _iin(row.cells.get("iin"))
        errors = [
            _problem(row, column.name, "required", column=column.name)
            for column in COLUMNS
            if column.required and not (iin if column.name == "iin" else text[column.name])
        ]
        complete = not errors
        birth_date, birth_date_read = self._read_date(row, "birth_date", errors)
        joined_on, _joined_on_read = self._read_date(row, "joined_on", errors)
        joined_on = joined_on or self.today
        if joined_on > self.today:
            errors.append(_problem(row, "joined_on", "joined_future"))
        group = None
        if text["group"]:
            group, code = self._group(text["group"])
            if group is None:
                errors.append(_problem(row, "group", code))
        if iin:
            first = self.first_row_of.setdefault(iin, number)
            if first != number:
                errors.append(_problem(row, "iin", "iin_repeated", row=first))
        person = self.known.get(iin) if iin else None
        if person is not None:
            self._check_known(row, person, group, text["group"], joined_on, errors, plan)
        elif complete and birth_date_read:
            volunteer = self._build(row, text, iin, birth_date, errors)
            if volunteer is not None and not errors:
                plan.volunteers.append(volunteer)
                if group is not None:
                    plan.memberships.append(Membership(volunteer=volunteer, group=group, joined_on=joined_on))
        plan.errors.extend(errors)

    def _check_known(
        self,
        row: tables.Row,
        person: _Known,
        group: Group | None,
        group_name: str,
        joined_on: datetime.date,
        errors: list[dict],
        plan: _Plan,
    ) -> None:
        """A registered person is only put into a group, and only by someone who keeps them."""
        if not person.manageable:
            errors.append(_problem(row, "iin", "iin_elsewhere"))
            return
        if not group_name:
            errors.append(_problem(row, "iin", "known_needs_group", column="group"))
            return
        if person.status in {VolunteerStatus.REFUSED, VolunteerStatus.RETIRED}:
            errors.append(_problem(row, "iin", "known_departed"))
            return
        if group is not None and not errors and (person.pk, group.pk) not in self.active:
            plan.memberships.append(Membership(volunteer_id=person.pk, group=group, joined_on=joined_on))
            plan.added_memberships += 1

    def _build(
        self, row: tables.Row, text: dict[str, str], iin: str, birth_date: datetime.date | None, errors: list[dict]
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
            errors.extend(_validation_errors(row, error))
            return None


def _fail(import_id: int, errors: list[dict], *, processed: int | None = None) -> RosterImport:
    """Record why the import was refused, unless another run has finished it meanwhile."""
    changes: dict = {"status": RosterImportStatus.FAILED, "errors": errors, "finished_at": timezone.now()}
    if processed is not None:
        changes["processed_rows"] = processed
    unfinished = [RosterImportStatus.PENDING, RosterImportStatus.RUNNING]
    RosterImport.objects.filter(pk=import_id, status__in=unfinished).update(**changes)
    return RosterImport.objects.get(pk=import_id)


def _write(*, import_id: int, plan: _Plan, by: User, file_name: str) -> RosterImport:
    """Everything the file adds, and the import's outcome, in one transaction, unless another run has finished the
    import meanwhile. With problems left (an import of the valid rows) it is partly imported: they are kept."""
    with transaction.atomic():
        locked = RosterImport.objects.select_for_update().get(pk=import_id)
        if locked.is_finished:
            return locked
        Volunteer.objects.bulk_create(plan.volunteers, batch_size=WRITE_BATCH)
        VolunteerStatusChange.objects.bulk_create(
            [
                VolunteerStatusChange(
                    volunteer=volunteer,
                    from_status="",
                    to_status=VolunteerStatus.APPLICANT,
                    by=by,
                    reason=AutoReason.IMPORTED,
                    reason_params={"name": file_name},
                )
                for volunteer in plan.volunteers
            ],
            batch_size=WRITE_BATCH,
        )
        Membership.objects.bulk_create(plan.memberships, batch_size=WRITE_BATCH)
        locked.status = RosterImportStatus.PARTIAL if plan.errors else RosterImportStatus.DONE
        locked.processed_rows = locked.total_rows
        locked.errors = plan.errors
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


def _read_rows(data: bytes) -> tuple[list[tables.Row], list[dict]]:
    rows, errors = tables.read_table(
        data,
        COLUMNS,
        max_rows=settings.ROSTER_IMPORT_MAX_ROWS,
        too_much=_too_much_unpacked(),
        empty=str(MESSAGES["empty"]),
    )
    return rows, [_table_problem(error) for error in errors]


def _run(roster_import: RosterImport) -> RosterImport:
    import_id = roster_import.pk
    by = roster_import.uploaded_by
    if by is None or not manageable_districts(by).filter(pk=roster_import.district_id).exists():
        return _fail(import_id, [_problem(None, "", "not_allowed")])
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
    rows, errors = _read_rows(data)
    if errors:
        return _fail(import_id, errors)
    RosterImport.objects.filter(pk=import_id).update(total_rows=len(rows))
    plan = _RowChecker(roster_import=roster_import, rows=rows, by=by).check_all(rows)
    writes = plan.volunteers or plan.memberships
    if plan.errors and not (roster_import.import_valid_rows and writes):
        return _fail(import_id, plan.errors, processed=len(rows))
    try:
        return _write(import_id=import_id, plan=plan, by=by, file_name=roster_import.original_name)
    except IntegrityError:
        # Someone registered one of these people between the check and the write.
        logger.warning("Roster import %s collided with another change", import_id, exc_info=True)
        return _fail(import_id, [_problem(None, "", "collided")], processed=len(rows))


def roster_import_run(*, import_id: int) -> RosterImport:
    """Check every row of a stored roster file, then write them all (or, when asked, the valid ones) or record why
    not; a finished import is kept."""
    roster_import = RosterImport.objects.select_related("district", "uploaded_by").get(pk=import_id)
    if roster_import.is_finished:
        return roster_import
    # A check without a code of its own is kept as a sentence: in the uploader's language.
    with translation.override(roster_import.language):
        try:
            return _run(roster_import)
        except Exception:
            # Whatever went wrong, an import left "running" would keep the inspector waiting forever.
            logger.exception("Roster import %s stopped", import_id)
            return _fail(import_id, [_problem(None, "", "internal")])


def roster_imports_recover(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The minute sweep's look at imports nobody works on: waiting or "running" without a sign of work for
    `ROSTER_IMPORT_STALL_MINUTES` (a worker killed halfway, a task lost with the broker). Such an import is queued
    again, from the first row (nothing was written: the rows and the import's outcome are written in one transaction
    at the end, also when only the valid rows are); one that stalled
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
                _fail(pk, [_problem(None, "", "stalled", times=found.attempts)])
                counts["failed"] += 1
                continue
            # Looked at now: the next sweep waits a whole stall period again before it counts this one as stuck.
            RosterImport.objects.filter(pk=pk).update(status=RosterImportStatus.PENDING, heartbeat_at=now)
            transaction.on_commit(partial(_queue, pk))
            counts["requeued"] += 1
    return counts


def _roster_workbook() -> Workbook:
    """A roster workbook with its header in the active language, each column's technical name and rule as a note."""
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
    return workbook


def _saved(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def roster_template_xlsx() -> bytes:
    """An empty roster workbook: the header in the active language, each column's technical name and rule as a note."""
    return _saved(_roster_workbook())


def _put_as_written(sheet, line: int, position: int, name: str, value: object) -> None:
    """A cell of the workbook to fix as the file had it: an IIN as its 12 digits (a number would lose a zero), a
    date as a date, a text that looks like a formula as text."""
    if name == "iin" and not tables.is_blank(value):
        value = _iin(value)
    cell = sheet.cell(row=line, column=position, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
    elif isinstance(value, datetime.date):
        cell.number_format = "DD.MM.YYYY"


def roster_rows_to_fix_xlsx(roster_import: RosterImport) -> bytes:
    """The rows an import of the valid rows left out, as the file had them, under the template's header, each with
    what to fix in the active language: fixed and uploaded again, they import the rest."""
    if not roster_import.has_rows_to_fix:
        raise ValidationError(_("This import has no rows to give back."))
    problems: dict[int, list[dict]] = {}
    for error in roster_import.errors:
        if error.get("row") and error["row"] > 1:
            problems.setdefault(error["row"], []).append(error)
    try:
        data = _read_stored(roster_import)
    except OSError as error:
        raise ValidationError(_("The uploaded file is no longer kept.")) from error
    rows, _errors = _read_rows(data)
    workbook = _roster_workbook()
    sheet = workbook.active
    fix_column = len(COLUMNS) + 1
    header = sheet.cell(row=1, column=fix_column, value=_("What to fix"))
    header.font = Font(bold=True)
    sheet.column_dimensions[get_column_letter(fix_column)].width = 60
    line = 1
    for row in rows:
        if row.number not in problems:
            continue
        line += 1
        for position, column in enumerate(COLUMNS, start=1):
            _put_as_written(sheet, line, position, column.name, row.cells.get(column.name))
        told = [
            f"{column_label(error['field'])}: {problem_text(error)}" if error.get("field") else problem_text(error)
            for error in problems[row.number]
        ]
        cell = sheet.cell(row=line, column=fix_column, value="\n".join(told))
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    return _saved(workbook)
