"""Tables people upload (an XLSX workbook or a CSV file from Excel): read into numbered rows by column name.

The roster, the settlements and the monthly crime counts are all such tables. A column is found by its technical
name, an alias or its label in any of the app's languages, whatever the case, spaces or a trailing "*". Problems are
`{"row": n, "field": "name", "message": "…"}`: `row` counts the header as 1 and is None for the whole file. Those
found here also carry their facts, `"code"` and `"params"` (a column by its technical name), so that an import kept
for later (the roster) stores the facts and tells the sentence in the reader's language: see `MESSAGES`.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import logging
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook

logger = logging.getLogger(__name__)

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Column:
    """A column of an uploaded table: its technical name, label, rule for the template, and other accepted names."""

    name: str
    label: Promise
    required: bool
    hint: Promise
    aliases: tuple[str, ...] = ()


@dataclass
class Row:
    """One filled row: its number in the sheet (the header is 1) and its cells by column name."""

    number: int
    cells: dict[str, object]


# The problems `read_table` finds, by code. `too_much` and `empty` name what the table holds: each import words them.
MESSAGES = {
    "unreadable": gettext_lazy("The file could not be read: save it again as XLSX or CSV and upload it."),
    "column_twice": gettext_lazy("The column “%(column)s” appears twice in the header row."),
    "no_header": gettext_lazy("The first row must name the columns: download the template to see them."),
    "column_missing": gettext_lazy("The required column “%(column)s” is missing from the header row."),
    "too_many_rows": gettext_lazy("The file has more than %(limit)d rows: split it into smaller files."),
}


def problem(row: int | None, field_name: str, message: str, *, code: str = "", params: dict | None = None) -> dict:
    found = {"row": row, "field": field_name, "message": str(message)}
    if code:
        found.update(code=code, params=params or {})
    return found


def decode_text(data: bytes) -> str | None:
    """The text of a CSV file in UTF-8 (with or without a BOM) or Windows-1251; None when it is not text."""
    if data.startswith(codecs.BOM_UTF8):
        candidates: tuple[tuple[str, bytes], ...] = (("utf-8", data[len(codecs.BOM_UTF8) :]),)
    else:
        candidates = (("utf-8", data), ("cp1251", data))
    for encoding, payload in candidates:
        try:
            text = payload.decode(encoding)
        except UnicodeDecodeError:
            continue
        # Windows-1251 decodes almost any bytes, so a binary file is told apart by its control characters.
        return None if _CONTROL_CHARACTERS.search(text) else text
    return None


def sniff(data: bytes) -> str | None:
    """The kind of file, "xlsx" or "csv", from its bytes; None when it is neither."""
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            return None
        return "xlsx" if any(name.startswith("xl/") for name in names) else None
    return "csv" if decode_text(data) is not None else None


def unpacked_bytes(data: bytes) -> int:
    """What an XLSX (a zip) holds once unpacked, as its directory declares it (zipfile reads no more than that)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile:
        return 0


def header_key(value: object) -> str:
    """A header cell compared without case, spaces, underscores or a trailing asterisk or colon."""
    text = str(value if value is not None else "").replace("_", " ").strip().rstrip("*:").strip()
    return " ".join(text.split()).casefold()


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: object) -> str:
    """A cell as text: whole numbers without ".0", dates as YYYY-MM-DD, stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def column_label(columns: Sequence[Column], name: str) -> str:
    """The label of a column (by technical name) in the active language; the name itself when unknown."""
    column = next((column for column in columns if column.name == name), None)
    return str(column.label) if column else name


def _header_names(columns: Sequence[Column]) -> dict[str, str]:
    """Every accepted header (technical names, aliases, labels in every language) mapped to its column."""
    names: dict[str, str] = {}
    for column in columns:
        accepted = {column.name, *column.aliases}
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                accepted.add(str(column.label))
        for header in accepted:
            names[header_key(header)] = column.name
    return names


def _rows_of(data: bytes, kind: str) -> Iterator[tuple[int, Iterable]]:
    """(spreadsheet row number, cells) for every row of the first sheet or of the CSV text."""
    if kind == "xlsx":
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = workbook.active or workbook.worksheets[0]
            # Some programs write a wrong sheet size, which would hide rows from a read-only workbook.
            sheet.reset_dimensions()
            yield from enumerate(sheet.iter_rows(values_only=True), start=1)
        finally:
            workbook.close()
        return
    text = decode_text(data)
    if text is None:
        raise ValueError("not a text file")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    yield from enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)


def _read_header(number: int, values: list, columns: Sequence[Column]) -> tuple[dict[int, str], list[dict]]:
    """Which column each position holds, and the header's errors (missing or repeated columns)."""
    names = _header_names(columns)
    positions: dict[str, int] = {}
    errors: list[dict] = []
    for position, value in enumerate(values):
        name = names.get(header_key(value))
        if name is None:
            continue
        if name in positions:
            message = str(MESSAGES["column_twice"]) % {"column": column_label(columns, name)}
            errors.append(problem(number, name, message, code="column_twice", params={"column": name}))
            continue
        positions[name] = position
    if not positions:
        return {}, [problem(number, "", str(MESSAGES["no_header"]), code="no_header")]
    for column in columns:
        if column.required and column.name not in positions:
            message = str(MESSAGES["column_missing"]) % {"column": column.label}
            errors.append(problem(number, column.name, message, code="column_missing", params={"column": column.name}))
    return {position: name for name, position in positions.items()}, errors


def read_table(
    data: bytes, columns: Sequence[Column], *, max_rows: int, too_much: str, empty: str
) -> tuple[list[Row], list[dict]]:
    """The file's filled rows by column name, or the problems that stop an import before any row is checked.

    `too_much` is the message for a workbook that unpacks to more than ROSTER_IMPORT_MAX_UNPACKED_BYTES, `empty`
    the one for a table without rows: both name what the table should hold."""
    unreadable = [problem(None, "", str(MESSAGES["unreadable"]), code="unreadable")]
    kind = sniff(data)
    if kind is None:
        return [], unreadable
    if kind == "xlsx" and unpacked_bytes(data) > settings.ROSTER_IMPORT_MAX_UNPACKED_BYTES:
        return [], [problem(None, "", too_much, code="too_much")]
    header: dict[int, str] | None = None
    rows: list[Row] = []
    try:
        for number, raw in _rows_of(data, kind):
            values = list(raw)
            if header is None:
                if all(is_blank(value) for value in values):
                    continue
                header, errors = _read_header(number, values, columns)
                if errors:
                    return [], errors
                continue
            cells = {name: values[position] if position < len(values) else None for position, name in header.items()}
            # A row with nothing in the known columns is skipped, such as one only numbered in advance.
            if all(is_blank(value) for value in cells.values()):
                continue
            if len(rows) >= max_rows:
                message = str(MESSAGES["too_many_rows"]) % {"limit": max_rows}
                return [], [problem(None, "", message, code="too_many_rows", params={"limit": max_rows})]
            rows.append(Row(number, cells))
    except Exception:
        # A damaged file makes the readers raise all sorts of errors; the uploader gets the same answer for each.
        logger.warning("Uploaded table could not be read", exc_info=True)
        return [], unreadable
    if not rows:
        return [], [problem(None, "", empty, code="empty")]
    return rows, []
