"""Exports of reports: the reports in the reader's scope, with the dashboard's filters, as CSV, XLSX or GeoJSON.

The filters mean what they mean on the dashboard: `year` is the calendar year in Asia/Almaty (this year when none is
given), `region` and `district` go through `figures.dashboard_area` (out of scope: `NotInScope`, a 404), and the
area's reports are those whose point lies in it, as the dashboard counts them. `status`, `outcome` and `category`
narrow further; with no area the export holds every report of the reader's scope (`Report.objects.visible_to`).

Up to `REPORT_EXPORT_STREAM_MAX_ROWS` rows are sent in the request as they are read; more become a `ReportExport`
that a worker writes (`report_export_run`) with a server-side cursor, its progress kept every `PROGRESS_EVERY` rows,
into a temporary file moved into place at the end. Its owner alone downloads it, for `REPORT_EXPORT_KEEP_HOURS`.

Columns are in the reader's language (the job keeps the language it was asked in), times in Asia/Almaty. A report's
details of other people are personal data: they are in the file only when asked for (`personal`), only for the roles
that read them (`sees_third_party_details`), and every report whose details go into a file is written to the access
log. The reporter's name and the description are not masked anywhere in the app for those who read the report, so
they are in every export, as in the reports' list.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import logging
import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.db import connections, transaction
from django.db.models import CharField, DateTimeField, F, FloatField, Func, QuerySet, Value
from django.db.models.sql.constants import MULTI
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from kombu.exceptions import OperationalError

from ..choices import AccessChannel, AccessKind, ExportFormat, ExportStatus, GroupKind, ReportStatus
from ..clock import LOCAL_TZ
from ..models import Category, District, Outcome, Report, ReportExport, User
from ..scope import sees_figures, sees_third_party_details
from . import audit, figures, xlsx_stream
from .exports import spreadsheet_safe

logger = logging.getLogger(__name__)

# Rows fetched from the server-side cursor at a time, rows between two progress notes, rows per streamed chunk.
CHUNK = 2000
# Reporters' names an export keeps at a time (each written once per reporter, not once per report).
NAMES_KEPT = 10_000
PROGRESS_EVERY = 20_000
STREAM_BATCH = 500
# Chunks a job's reading thread may fetch ahead of the writing.
READ_AHEAD = 4
CONTENT_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.GEOJSON: "application/geo+json",
}
TRUE_WORDS, FALSE_WORDS = {"1", "true", "yes", "on"}, {"", "0", "false", "no", "off"}


@dataclass(frozen=True)
class Column:
    """One column of an export: its key (a GeoJSON property), its header and its width in a sheet."""

    key: str
    label: str
    width: int


# Headers are translated when a file is written, in the language it is written in.
COLUMNS = (
    Column("id", gettext_lazy("Report number"), 10),
    Column("occurred_at", gettext_lazy("Happened at (Asia/Almaty)"), 17),
    Column("region", gettext_lazy("Region"), 22),
    Column("district", gettext_lazy("District"), 24),
    Column("zone", gettext_lazy("Zone"), 20),
    Column("group", gettext_lazy("Group"), 24),
    Column("group_kind", gettext_lazy("Kind of group"), 18),
    Column("category", gettext_lazy("Category"), 24),
    Column("outcome", gettext_lazy("Outcome"), 20),
    Column("status", gettext_lazy("Status"), 14),
    Column("counted", gettext_lazy("Counts in the totals"), 10),
    Column("duplicate_of", gettext_lazy("Duplicate of report"), 10),
    Column("case_number", gettext_lazy("Police case number"), 18),
    Column("verified_at", gettext_lazy("Verified at (Asia/Almaty)"), 17),
    Column("latitude", gettext_lazy("Latitude"), 11),
    Column("longitude", gettext_lazy("Longitude"), 11),
    Column("reporter", gettext_lazy("Reporter"), 28),
    Column("description", gettext_lazy("What happened"), 60),
)
PERSONAL_COLUMN = Column("third_party_details", gettext_lazy("Details of other people"), 40)
# Positions in a row (see `_Shaper`) of the times, the coordinates and the texts people wrote.
OCCURRED, VERIFIED, LATITUDE, LONGITUDE, REPORTER = 1, 13, 14, 15, 16
PEOPLES_TEXT = (4, 5, 12, 16, 17, 18)


class ExportTooLarge(ValidationError):
    """More rows than the format holds."""


# Filters


@dataclass(frozen=True)
class ExportFilters:
    """What an export holds: a year, an area (None: the reader's whole scope), and optionally a status, an outcome
    and a category by code; `personal` adds the details of other people."""

    year: int
    area: figures.Area | None = None
    status: str = ""
    outcome: str = ""
    category: str = ""
    personal: bool = False

    def codes(self) -> dict:
        """The filters as the query string names them (kept on a job and run again as the owner)."""
        codes: dict = {"year": self.year, **(self.area.query() if self.area else {})}
        codes.update({name: getattr(self, name) for name in ("status", "outcome", "category") if getattr(self, name)})
        if self.personal:
            codes["personal"] = True
        return codes


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _flag(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    word = _text(value).lower()
    if word in TRUE_WORDS:
        return True
    return False if word in FALSE_WORDS else None


def _known_code(model, code: str) -> bool:
    # No code has a NUL character, and PostgreSQL cannot even compare text with one.
    return "\x00" not in code and model.objects.filter(code=code).exists()


def export_filters(user: User, params: Mapping[str, object]) -> ExportFilters:
    """The filters of `params` (a query string or a job's codes) checked for `user`: `figures.NotInScope` for an
    area outside their scope (or a user who reads no figures), `ValidationError` by field for anything else wrong."""
    region, district = _text(params.get("region")), _text(params.get("district"))
    area = None
    if region or district:
        area = figures.dashboard_area(user, region=region or None, district=district or None)
    elif not sees_figures(user):
        raise figures.NotInScope
    errors: dict[str, list] = {}
    year = None
    try:
        year = figures.dashboard_year(_text(params.get("year")))
    except ValidationError as error:
        errors.update(error.error_dict)
    status, outcome, category = (_text(params.get(name)) for name in ("status", "outcome", "category"))
    if status and status not in ReportStatus.values:
        message = _("Choose one of the statuses: %(choices)s.") % {"choices": ", ".join(ReportStatus.values)}
        errors["status"] = [ValidationError(message, code="invalid_choice")]
    if outcome and not _known_code(Outcome, outcome):
        errors["outcome"] = [ValidationError(_("There is no such outcome."), code="invalid_choice")]
    if category and not _known_code(Category, category):
        errors["category"] = [ValidationError(_("There is no such category."), code="invalid_choice")]
    personal = _flag(params.get("personal"))
    if personal is None:
        errors["personal"] = [ValidationError(_("Say yes (1) or no (0)."), code="invalid")]
    elif personal and not sees_third_party_details(user):
        message = _("Your role does not read the details of other people in reports.")
        errors["personal"] = [ValidationError(message, code="not_allowed")]
    if errors:
        raise ValidationError(errors)
    return ExportFilters(
        year=year, area=area, status=status, outcome=outcome, category=category, personal=bool(personal)
    )


def export_format(value: object) -> str:
    """The format asked for (csv, xlsx or geojson); `ValidationError` on `format` for anything else."""
    fmt = _text(value).lower()
    if fmt not in ExportFormat.values:
        message = _("Choose one of the formats: %(choices)s.") % {"choices": ", ".join(ExportFormat.values)}
        raise ValidationError({"format": [ValidationError(message, code="invalid_choice")]})
    return fmt


def export_request(user: User, params: Mapping[str, object]) -> tuple[str, ExportFilters]:
    """The format and the filters of `params`, every mistake in one `ValidationError` (`NotInScope` first)."""
    errors: dict[str, list] = {}
    fmt = filters = None
    try:
        filters = export_filters(user, params)
    except ValidationError as error:
        errors.update(error.error_dict)
    try:
        fmt = export_format(params.get("format"))
    except ValidationError as error:
        errors.update(error.error_dict)
    if errors:
        raise ValidationError(errors)
    return fmt, filters


def export_reports(user: User, filters: ExportFilters) -> QuerySet[Report]:
    """The reports of the export: in the user's scope, then the filters."""
    reports = Report.objects.visible_to(user)
    area = filters.area
    if area is not None and area.district is not None:
        reports = reports.filter(district=area.district)
    elif area is not None and area.region is not None:
        reports = reports.filter(district__region=area.region)
    start = datetime.datetime(filters.year, 1, 1, tzinfo=LOCAL_TZ)
    reports = reports.filter(occurred_at__gte=start, occurred_at__lt=start.replace(year=filters.year + 1))
    if filters.status:
        reports = reports.filter(status=filters.status)
    if filters.outcome:
        reports = reports.filter(outcome__code=filters.outcome)
    if filters.category:
        reports = reports.filter(category__code=filters.category)
    return reports


def export_check_size(fmt: str, rows: int) -> None:
    """A sheet holds 1,048,575 rows besides its header: more cannot be an XLSX file."""
    if fmt == ExportFormat.XLSX and rows > xlsx_stream.MAX_ROWS - 1:
        message = ngettext(
            "An XLSX sheet holds at most %(limit)s report and these filters select %(count)s: narrow them or "
            "choose CSV.",
            "An XLSX sheet holds at most %(limit)s reports and these filters select %(count)s: narrow them or "
            "choose CSV.",
            xlsx_stream.MAX_ROWS - 1,
        ) % {"limit": f"{xlsx_stream.MAX_ROWS - 1:,}", "count": f"{rows:,}"}
        raise ExportTooLarge({"format": [ValidationError(message, code="too_large")]})


def export_filename(fmt: str, filters: ExportFilters) -> str:
    """Like `reports-KZ-19-TAL-2026.csv`: what, where and when, in ASCII."""
    where = filters.area.code if filters.area else "scope"
    return f"reports-{where}-{filters.year}.{fmt}"


# Rows


def _local(name: str) -> Func:
    """The moment as Almaty wall time (the reports' pages show it to the minute)."""
    return Func(Value(settings.TIME_ZONE), F(name), function="timezone", output_field=DateTimeField())


def _time_text(name: str) -> Func:
    # to_char leaves the seconds out: the minute, as the pages show it.
    return Func(_local(name), Value("YYYY-MM-DD HH24:MI"), function="to_char", output_field=CharField())


def _time_serial(name: str) -> Func:
    # Days since 1899-12-30 with the time as a fraction: a date and time to a spreadsheet, in local wall time, to the
    # minute. date_part is float8 arithmetic (EXTRACT is numeric, a third slower at a million rows).
    minute = Func(Value("minute"), _local(name), function="date_trunc", output_field=DateTimeField())
    return Func(
        minute,
        template="(date_part('epoch', %(expressions)s) / 86400 + 25569)",
        output_field=FloatField(),
    )


def _values(reports: QuerySet[Report], *, fmt: str, personal: bool) -> QuerySet:
    """The rows as the database gives them, joins and local times done in SQL, in the order reports came in."""
    time = _time_serial if fmt == ExportFormat.XLSX else _time_text
    fields = [
        "id",
        "occurred",
        "district_id",
        "shift__zone__name",
        "group__name",
        "group_kind",
        "category_id",
        "outcome_id",
        "status",
        "duplicate_of_id",
        "case_number",
        "verified",
        "lat",
        "lng",
        "reporter_id",
        "reporter__last_name",
        "reporter__first_name",
        "reporter__patronymic",
        "reporter__anonymised_at",
        "description",
    ]
    if personal:
        fields.append("third_party_details")
    return (
        reports.order_by("id")
        .annotate(
            occurred=time("occurred_at"),
            verified=time("verified_at"),
            lat=Func(F("location"), function="ST_Y", output_field=FloatField()),
            lng=Func(F("location"), function="ST_X", output_field=FloatField()),
        )
        .values_list(*fields)
    )


class _Shaper:
    """Turns database rows into the export's rows: names in the active language, labels, the reporter's name."""

    def __init__(self, *, fmt: str, personal: bool) -> None:
        places = District.objects.select_related("region").only(
            "name_kk", "name_ru", "name_en", "region__name_kk", "region__name_ru", "region__name_en"
        )
        self.places = {place.pk: (place.region.name, place.name) for place in places}
        self.categories = {category.pk: category.name for category in Category.objects.all()}
        self.outcomes = {outcome.pk: outcome.name for outcome in Outcome.objects.all()}
        self.statuses = {value: str(label) for value, label in ReportStatus.choices}
        self.kinds = {value: str(label) for value, label in GroupKind.choices}
        self.yes, self.no = _("Yes"), _("No")
        self.verified = str(ReportStatus.VERIFIED)
        self.anonymised = _("Anonymised volunteer #%(id)d")
        self.personal = personal
        # Names and texts come from people: a spreadsheet opening the CSV must not run them as formulas. The
        # reporter's name is made safe once, when first met.
        self.safe_names = fmt == ExportFormat.CSV
        texts = PEOPLES_TEXT if personal else PEOPLES_TEXT[:-1]
        self.safe = tuple(index for index in texts if index != REPORTER) if self.safe_names else ()
        # Reporters' names as written (made safe once), by reporter; at most `NAMES_KEPT` at a time.
        self.reporters: dict[int, str] = {}

    def reporter(self, reporter_id: int, last_name: str, first_name: str, patronymic: str, anonymised_at) -> str:
        if anonymised_at is None:
            name = " ".join(part for part in (last_name, first_name, patronymic) if part)
        else:
            name = self.anonymised % {"id": reporter_id}
        if self.safe_names:
            name = spreadsheet_safe(name)
        if len(self.reporters) >= NAMES_KEPT:
            self.reporters.clear()
        self.reporters[reporter_id] = name
        return name

    def __call__(self, row: tuple) -> list:
        (
            pk,
            occurred,
            district_id,
            zone,
            group,
            kind,
            category_id,
            outcome_id,
            status,
            duplicate_of,
            case_number,
            verified,
            lat,
            lng,
            reporter_id,
            last_name,
            first_name,
            patronymic,
            anonymised_at,
            description,
            *details,
        ) = row
        region, district = self.places.get(district_id, ("", ""))
        reporter = self.reporters.get(reporter_id)
        if reporter is None:
            reporter = self.reporter(reporter_id, last_name, first_name, patronymic, anonymised_at)
        shaped = [
            pk,
            occurred,
            region,
            district,
            zone or "",
            group or "",
            self.kinds.get(kind, ""),
            self.categories.get(category_id, ""),
            self.outcomes.get(outcome_id, ""),
            self.statuses.get(status, status),
            self.yes if status == self.verified and duplicate_of is None else self.no,
            duplicate_of,
            case_number,
            verified,
            lat,
            lng,
            reporter,
            description,
        ]
        if self.personal:
            shaped.append(details[0])
        for index in self.safe:
            shaped[index] = spreadsheet_safe(shaped[index])
        return shaped


AccessNote = Callable[[list[int]], None]


_DONE = object()


def _batches(values: QuerySet) -> Iterator[list[tuple]]:
    """The rows of `values` `CHUNK` at a time through a server-side cursor (as `QuerySet.iterator` reads them),
    as the database driver gives them: every column of `_values` already is its Python type (texts, numbers, a
    datetime only tested for None), so Django's per-row conversions (a float() per coordinate) are left out."""
    chunked = not connections[values.db].settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    compiler = values.query.get_compiler(using=values.db)
    yield from compiler.execute_sql(MULTI, chunked_fetch=chunked, chunk_size=CHUNK)


def _read_ahead(rows: QuerySet) -> Iterator[list[tuple]]:
    """The rows of `rows` in `_batches`, fetched by a thread of its own while the caller works on the ones before.

    Outside a transaction Django's server-side cursor is WITH HOLD, and PostgreSQL computes every row before it
    sends the first; the thread reads in a transaction of its own connection instead, so the database makes the
    next rows while this process writes the last ones (on two cores, a million rows as CSV in about half the
    time). At most `READ_AHEAD` chunks wait between the two: memory stays flat. Inside a transaction (a caller's,
    or a test's) another connection would not see its rows: they are read here, the cursor is not held anyway."""
    if connections[rows.db].in_atomic_block:
        yield from _batches(rows)
        return
    waiting: queue.Queue = queue.Queue(maxsize=READ_AHEAD)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            with transaction.atomic(using=rows.db):
                for batch in _batches(rows):
                    if not put(batch):
                        return
            put(_DONE)
        except BaseException as error:  # handed to the caller, who raises it
            put(error)
        finally:
            # The thread's own connection: nobody else closes it.
            connections.close_all()

    reader = threading.Thread(target=read, name="report-export-reader", daemon=True)
    reader.start()
    try:
        while (item := waiting.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()


def export_rows(
    reports: QuerySet[Report],
    *,
    fmt: str,
    personal: bool,
    shown: AccessNote | None = None,
    read_ahead: bool = False,
) -> Iterator[list]:
    """The export's rows, read through a server-side cursor `CHUNK` rows at a time (in a thread of their own with
    `read_ahead`); with `personal`, `shown` is told the ids of each chunk's reports whose details of other people
    went out (for the access log)."""
    shaper = _Shaper(fmt=fmt, personal=personal)
    pending: list[int] = []
    values = _values(reports, fmt=fmt, personal=personal)
    for batch in _read_ahead(values) if read_ahead else _batches(values):
        if personal and shown is not None:
            # Logged before the rows go out, `CHUNK` reports or more at a time.
            pending.extend(row[0] for row in batch if row[-1])
            if len(pending) >= CHUNK:
                shown(pending)
                pending = []
        yield from map(shaper, batch)
    if pending and shown is not None:
        shown(pending)


def columns(personal: bool) -> list[Column]:
    return [*COLUMNS, PERSONAL_COLUMN] if personal else list(COLUMNS)


def access_logger(user: User, *, path: str, ip: str | None = None) -> AccessNote:
    """What writes the access log entries of an export: one per report whose details of other people it holds."""

    def shown(ids: list[int]) -> None:
        audit.access_log_write(
            user=user,
            shown=[(AccessKind.REPORT_THIRD_PARTY, pk, AccessChannel.EXPORT) for pk in ids],
            path=path,
            ip=ip,
        )

    return shown


# Writers


def csv_chunks(rows: Iterable[list], *, personal: bool) -> Iterator[bytes]:
    """CSV in UTF-8 with a byte order mark (Excel then reads Kazakh and Russian letters right), in pieces."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(column.label) for column in columns(personal)])
    # The mark is encoded with the first piece.
    first = True
    for count, row in enumerate(rows, 1):
        writer.writerow(row)
        if count % STREAM_BATCH == 0:
            yield buffer.getvalue().encode("utf-8-sig" if first else "utf-8")
            first = False
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8-sig" if first else "utf-8")


def geojson_chunks(rows: Iterable[list], *, personal: bool) -> Iterator[bytes]:
    """A GeoJSON FeatureCollection of points (longitude, latitude), one feature per report, written one by one."""
    keys = [column.key for column in columns(personal)]
    properties = [index for index in range(len(keys)) if index not in (LATITUDE, LONGITUDE)]
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    yield b'{"type":"FeatureCollection","features":['
    pieces: list[str] = []
    separator = ""
    for row in rows:
        feature = {
            "type": "Feature",
            "id": row[0],
            "geometry": {"type": "Point", "coordinates": [row[LONGITUDE], row[LATITUDE]]},
            "properties": {keys[index]: row[index] for index in properties},
        }
        pieces.append(separator + dumps(feature))
        separator = ",\n"
        if len(pieces) >= STREAM_BATCH:
            yield "".join(pieces).encode()
            pieces = []
    pieces.append("]}\n")
    yield "".join(pieces).encode()


def write_xlsx(out: IO[bytes], rows: Iterable[list], *, personal: bool, large: bool) -> int:
    """The rows as a workbook of one sheet: dates as dates, numbers as numbers, texts never formulas."""
    chosen = columns(personal)
    return xlsx_stream.write_sheet(
        out,
        title=_("Reports"),
        headers=[str(column.label) for column in chosen],
        rows=rows,
        widths=[column.width for column in chosen],
        datetime_columns=frozenset({OCCURRED, VERIFIED}),
        large=large,
    )


def write_file(out: IO[bytes], fmt: str, rows: Iterable[list], *, personal: bool, large: bool = False) -> None:
    """The rows in the format, written to a binary file."""
    if fmt == ExportFormat.XLSX:
        write_xlsx(out, rows, personal=personal, large=large)
        return
    chunks = csv_chunks if fmt == ExportFormat.CSV else geojson_chunks
    for chunk in chunks(rows, personal=personal):
        out.write(chunk)


def stream_chunks(fmt: str, rows: Iterable[list], *, personal: bool) -> Iterator[bytes]:
    """A small export's bytes as they are made (CSV and GeoJSON; a small XLSX is built whole first)."""
    if fmt == ExportFormat.XLSX:
        buffer = io.BytesIO()
        write_xlsx(buffer, rows, personal=personal, large=False)
        yield buffer.getvalue()
        return
    chunks = csv_chunks if fmt == ExportFormat.CSV else geojson_chunks
    yield from chunks(rows, personal=personal)


# Background jobs


def _current_language() -> str:
    try:
        return translation.get_supported_language_variant(translation.get_language() or settings.LANGUAGE_CODE)
    except LookupError:
        return settings.LANGUAGE_CODE


def _keep() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.REPORT_EXPORT_KEEP_HOURS)


@transaction.atomic
def report_export_start(*, by: User, fmt: str, filters: ExportFilters, rows_total: int = 0) -> ReportExport:
    """Keep a job for the export and queue it for a worker (once the transaction commits)."""
    now = timezone.now()
    job = ReportExport.objects.create(
        owner=by,
        format=fmt,
        filters=filters.codes(),
        language=_current_language(),
        rows_total=rows_total,
        created_at=now,
        expires_at=now + _keep(),
        heartbeat_at=now,
    )
    transaction.on_commit(partial(_queue, job.pk))
    return job


def _queue(export_id: int) -> None:
    """Hand the job to a worker; a broker that cannot be reached leaves it to the sweep, never to the web process."""
    from ..tasks import run_report_export

    try:
        run_report_export.delay(export_id)
    except (OperationalError, OSError):
        logger.warning("Broker unreachable: report export %s waits for the sweep", export_id, exc_info=True)


class _Superseded(Exception):
    """Another run has taken the job over (or it was deleted): this one stops and keeps nothing."""


def _beat(export_id: int, attempt: int, **changes) -> None:
    """Note progress as this run; `_Superseded` when the job is no longer this run's."""
    alive = ReportExport.objects.filter(pk=export_id, attempts=attempt, status=ExportStatus.RUNNING)
    if not alive.update(heartbeat_at=timezone.now(), **changes):
        raise _Superseded


class _Counted:
    """Rows passed on, counted, with `note(count)` every `every` rows."""

    def __init__(self, rows: Iterable[list], *, every: int, note: Callable[[int], None]) -> None:
        self.rows, self.every, self.note, self.count = rows, every, note, 0

    def __iter__(self) -> Iterator[list]:
        for row in self.rows:
            yield row
            self.count += 1
            if self.count % self.every == 0:
                self.note(self.count)


def _temporary(job: ReportExport, storage) -> tuple[Path, bool]:
    """A temporary file for the job: beside its final place in a folder storage (so it moves in one rename),
    elsewhere on local disk."""
    if isinstance(storage, FileSystemStorage):
        folder = Path(storage.path("report-exports"))
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(prefix=f"{job.pk}-", suffix=".part", dir=folder)
        os.close(descriptor)
        return Path(name), True
    descriptor, name = tempfile.mkstemp(prefix=f"report-export-{job.pk}-", suffix=".part")
    os.close(descriptor)
    return Path(name), False


def _place(temporary: Path, name: str, storage, *, renamed: bool) -> str:
    """Move the finished file into the storage under `name`; returns the name it was stored as."""
    if renamed:
        os.replace(temporary, storage.path(name))
        return name
    with temporary.open("rb") as finished:
        stored = storage.save(name, File(finished))
    temporary.unlink(missing_ok=True)
    return stored


def job_filename(job: ReportExport) -> str:
    """A job's file as the owner downloads it, named as a streamed export of the same filters would be."""
    where = job.filters.get("district") or job.filters.get("region") or "scope"
    return f"reports-{where}-{job.filters.get('year')}.{job.format}"


def job_path(job: ReportExport) -> str:
    return reverse("report-export", args=[job.pk])


def _write(job: ReportExport, attempt: int) -> None:
    owner = job.owner
    filters = export_filters(owner, job.filters)
    reports = export_reports(owner, filters)
    total = reports.count()
    export_check_size(job.format, total)
    _beat(job.pk, attempt, rows_total=total)
    storage = ReportExport._meta.get_field("file").storage
    temporary, renamed = _temporary(job, storage)
    try:
        shown = access_logger(owner, path=job_path(job)) if filters.personal else None
        rows = _Counted(
            export_rows(reports, fmt=job.format, personal=filters.personal, shown=shown, read_ahead=True),
            every=PROGRESS_EVERY,
            note=lambda count: _beat(job.pk, attempt, rows_done=min(count, total)),
        )
        with temporary.open("wb") as out:
            # A sheet above 2 GiB needs ZIP64; only a large export can grow that big.
            write_file(out, job.format, rows, personal=filters.personal, large=total > 100_000)
        size = temporary.stat().st_size
        name = f"report-exports/{job.pk}-{get_random_string(16)}.{job.format}"
        stored = _place(temporary, name, storage, renamed=renamed)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    now = timezone.now()
    done = ReportExport.objects.filter(pk=job.pk, attempts=attempt, status=ExportStatus.RUNNING).update(
        status=ExportStatus.DONE,
        file=stored,
        size_bytes=size,
        # What was written: reports filed or changed since the count are in it as they are now.
        rows_total=rows.count,
        rows_done=rows.count,
        finished_at=now,
        heartbeat_at=now,
        expires_at=now + _keep(),
    )
    if not done:
        storage.delete(stored)
        raise _Superseded


def _fail(export_id: int, message: str, *, attempt: int | None = None) -> None:
    unfinished = ReportExport.objects.filter(pk=export_id, status__in=[ExportStatus.PENDING, ExportStatus.RUNNING])
    if attempt is not None:
        unfinished = unfinished.filter(attempts=attempt)
    unfinished.update(status=ExportStatus.FAILED, error=message, finished_at=timezone.now())


def _message(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


def report_export_run(*, export_id: int) -> ReportExport | None:
    """Write a waiting job's file as its owner, with the filters checked again (their scope may have changed);
    a job that is running elsewhere, finished or gone is left as it is. None when it is gone."""
    claimed = ReportExport.objects.filter(pk=export_id, status=ExportStatus.PENDING).update(
        status=ExportStatus.RUNNING, attempts=F("attempts") + 1, heartbeat_at=timezone.now(), rows_done=0, error=""
    )
    job = ReportExport.objects.select_related("owner").filter(pk=export_id).first()
    if job is None or not claimed:
        return job
    attempt = job.attempts
    with translation.override(job.language):
        try:
            _write(job, attempt)
        except _Superseded:
            logger.info("Report export %s: run %s was superseded", export_id, attempt)
        except figures.NotInScope:
            _fail(export_id, _("The area of this export is no longer in your scope."), attempt=attempt)
        except ValidationError as error:
            _fail(export_id, _message(error), attempt=attempt)
        except Exception:
            # Whatever went wrong, a job left "running" would keep its owner waiting until the sweep gives up.
            logger.exception("Report export %s stopped", export_id)
            _fail(export_id, _("The export could not be written. Try again later."), attempt=attempt)
    return ReportExport.objects.filter(pk=export_id).first()


def report_exports_recover(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The minute sweep's look at jobs nobody works on: waiting or running without a sign of work for
    `REPORT_EXPORT_STALL_MINUTES` (a worker killed halfway, a task lost with the broker). Such a job is queued again
    from the first row (its temporary file is not used again); one that stalled `REPORT_EXPORT_ATTEMPTS` times
    is marked failed."""
    now = now or timezone.now()
    stalled_since = now - datetime.timedelta(minutes=settings.REPORT_EXPORT_STALL_MINUTES)
    stale = {"status__in": [ExportStatus.PENDING, ExportStatus.RUNNING], "heartbeat_at__lt": stalled_since}
    counts = {"requeued": 0, "failed": 0}
    for pk in list(ReportExport.objects.filter(**stale).values_list("pk", flat=True)):
        with transaction.atomic():
            found = ReportExport.objects.select_for_update(skip_locked=True).filter(pk=pk, **stale).first()
            if found is None:
                continue
            if found.attempts >= settings.REPORT_EXPORT_ATTEMPTS:
                with translation.override(found.language):
                    message = ngettext(
                        "The export stopped %(count)d time without finishing. Try again later.",
                        "The export stopped %(count)d times without finishing. Try again later.",
                        found.attempts,
                    ) % {"count": found.attempts}
                _fail(pk, message)
                counts["failed"] += 1
                continue
            # Looked at now: the next sweep waits a whole stall period again before it counts this one as stuck.
            ReportExport.objects.filter(pk=pk).update(status=ExportStatus.PENDING, heartbeat_at=now)
            transaction.on_commit(partial(_queue, pk))
            counts["requeued"] += 1
    return counts
