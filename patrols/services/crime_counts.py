"""Crimes registered per settlement and month, from the police statistics (ЕРДР), not from volunteers' reports.

The district inspector records one month (a second record of the same month replaces it), or imports the district's
table: every row is checked first and nothing is written when one is wrong. Each change moves the settlement's kept
year figures (`villages.settlement_years_refresh`) in its own transaction.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..clock import local_today
from ..models import Settlement, SettlementCrimeCount, User
from ..scope import prevention_districts
from ..validators import text_within
from . import tables
from .villages import settlement_years_refresh

MAX_REGISTERED = 100_000
SOURCE_LIMIT = 200
FIRST_YEAR = 2000
MAX_ROWS = 100_000
_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})(?:-\d{1,2})?$")
_DOTTED_RE = re.compile(r"^(?:\d{1,2}\.)?(\d{1,2})\.(\d{4})$")

COLUMNS: tuple[tables.Column, ...] = (
    tables.Column(
        "settlement",
        gettext_lazy("Settlement"),
        True,
        gettext_lazy("Required: the settlement's KATO code or its code in the system."),
        ("КАТО", "ӘАОЖ", "Населённый пункт", "Елді мекен", "kato"),
    ),
    tables.Column(
        "month",
        gettext_lazy("Month"),
        True,
        gettext_lazy("Required: the month as YYYY-MM (2026-03) or MM.YYYY (03.2026)."),
        ("Месяц", "Ай"),
    ),
    tables.Column(
        "registered",
        gettext_lazy("Crimes registered"),
        True,
        gettext_lazy("Required: the number of crimes registered in ЕРДР that month, 0 when none."),
        ("Зарегистрировано преступлений", "Тіркелген қылмыстар", "crimes"),
    ),
    tables.Column(
        "source",
        gettext_lazy("Source"),
        False,
        gettext_lazy("Optional: where the figure comes from (the statistics report, its date)."),
        ("Источник", "Дереккөз"),
    ),
)


def parse_month(value: object) -> datetime.date:
    """The first day of a month written as YYYY-MM, YYYY-MM-DD, MM.YYYY or DD.MM.YYYY, or a date cell."""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.replace(day=1)
    text = str(value or "").strip()
    found = _MONTH_RE.match(text)
    year, month = (found.group(1), found.group(2)) if found else (None, None)
    if found is None and (dotted := _DOTTED_RE.match(text)):
        month, year = dotted.group(1), dotted.group(2)
    if year is None or not 1 <= int(month) <= 12:
        raise ValidationError({"month": _("Write the month as YYYY-MM, for example 2026-03.")})
    return datetime.date(int(year), int(month), 1)


def check_month(month: datetime.date) -> datetime.date:
    """A month of the police statistics: not in the future, not before the year 2000."""
    today = local_today()
    if month > today.replace(day=1):
        raise ValidationError({"month": _("The month is in the future: its count is recorded once it has begun.")})
    if month.year < FIRST_YEAR:
        raise ValidationError({"month": _("The counts start in %(year)d.") % {"year": FIRST_YEAR}})
    return month


def check_registered(value: object) -> int:
    """A number of crimes: a whole number from 0."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError({"registered": _("Write the number of crimes as a whole number, 0 when none.")})
    if value < 0:
        raise ValidationError({"registered": _("The number of crimes cannot be negative.")})
    if value > MAX_REGISTERED:
        raise ValidationError({"registered": _("That is more crimes than one settlement registers in a month.")})
    return value


def _check_settlement(settlement: Settlement, by: User) -> None:
    if not prevention_districts(by).filter(pk=settlement.district_id).exists():
        raise ValidationError({"settlement": _("You cannot record the crimes of this settlement's district.")})


def _upsert(
    settlement: Settlement, month: datetime.date, registered: int, source: str, by: User
) -> tuple[SettlementCrimeCount, str]:
    """Write one month; returns the row and "created", "updated" or "unchanged"."""
    row = SettlementCrimeCount.objects.select_for_update().filter(settlement=settlement, month=month).first()
    if row is None:
        row = SettlementCrimeCount.objects.create(
            settlement=settlement,
            district_id=settlement.district_id,
            month=month,
            registered=registered,
            source=source,
            recorded_by=by,
        )
        return row, "created"
    if (row.registered, row.source) == (registered, source):
        return row, "unchanged"
    row.registered, row.source, row.recorded_by = registered, source, by
    row.save(update_fields=["registered", "source", "recorded_by", "updated_at"])
    return row, "updated"


@transaction.atomic
def crime_count_record(
    *, by: User, settlement: Settlement, month: datetime.date, registered: int, source: str = ""
) -> tuple[SettlementCrimeCount, bool]:
    """Record a month's registered crimes in a settlement; the same month again replaces it. (row, created)."""
    _check_settlement(settlement, by)
    errors: dict[str, str] = {}
    for check, value in ((check_month, month), (check_registered, registered)):
        try:
            check(value)
        except ValidationError as error:
            errors.update({key: value[0] for key, value in error.message_dict.items()})
    try:
        source = text_within(source, field="source", limit=SOURCE_LIMIT)
    except ValidationError as error:
        errors.update({key: value[0] for key, value in error.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    row, what = _upsert(settlement, month, registered, source, by)
    settlement_years_refresh([(settlement.pk, month.year)])
    return row, what == "created"


@dataclass(frozen=True)
class CrimeCountsImport:
    """What an import wrote: months created, updated and left as they were."""

    created: int
    updated: int
    unchanged: int


class ImportRefused(ValidationError):
    """Nothing was written: `problems` names each wrong row (the header is row 1)."""

    def __init__(self, problems: list[dict]):
        super().__init__(_("Nothing was imported: correct the rows named and upload the file again."))
        self.problems = problems


def _settlements_by_code(rows: list[tables.Row]) -> dict[str, Settlement]:
    codes = {tables.cell_text(row.cells.get("settlement")) for row in rows}
    found = Settlement.objects.filter(Q(kato__in=codes) | Q(code__in=codes)).select_related("district")
    by_code: dict[str, Settlement] = {}
    for settlement in found:
        by_code[settlement.code] = settlement
        if settlement.kato:
            by_code[settlement.kato] = settlement
    return by_code


def crime_counts_import(*, by: User, data: bytes) -> CrimeCountsImport:
    """Import a table of monthly counts (CSV or XLSX): all rows or none, each problem named by its row."""
    rows, problems = tables.read_table(
        data,
        COLUMNS,
        max_rows=MAX_ROWS,
        too_much=_("The workbook unpacks to more than the installation allows: save it as CSV."),
        empty=_("The file has no counts in it: fill in the rows under the header."),
    )
    if problems:
        raise ImportRefused(problems)
    places = _settlements_by_code(rows)
    allowed = set(prevention_districts(by).values_list("pk", flat=True))
    checked: dict[tuple[int, datetime.date], tuple[Settlement, int, str, int]] = {}
    for row in rows:
        row_problems = _check_row(row, places, allowed, checked)
        problems.extend(row_problems)
    if problems:
        raise ImportRefused(problems)
    outcome = {"created": 0, "updated": 0, "unchanged": 0}
    with transaction.atomic():
        for (_pk, month), (settlement, registered, source, _row) in sorted(checked.items()):
            outcome[_upsert(settlement, month, registered, source, by)[1]] += 1
        settlement_years_refresh({(pk, month.year) for pk, month in checked})
    return CrimeCountsImport(**outcome)


def _check_row(
    row: tables.Row,
    places: dict[str, Settlement],
    allowed: set[int],
    checked: dict[tuple[int, datetime.date], tuple[Settlement, int, str, int]],
) -> list[dict]:
    problems = []
    code = tables.cell_text(row.cells.get("settlement"))
    settlement = places.get(code)
    if not code:
        problems.append(tables.problem(row.number, "settlement", _("Name the settlement by its KATO code.")))
    elif settlement is None or settlement.district_id not in allowed:
        # Another district's settlement reads as unknown, as it would at its own address.
        problems.append(
            tables.problem(row.number, "settlement", _("No settlement with the code %(code)s.") % {"code": code})
        )
    values = {}
    for name, check in (
        ("month", lambda value: check_month(parse_month(value))),
        ("registered", check_registered),
        ("source", lambda value: text_within(tables.cell_text(value), field="source", limit=SOURCE_LIMIT)),
    ):
        try:
            values[name] = check(row.cells.get(name))
        except ValidationError as error:
            for message in error.message_dict.get(name, error.messages):
                problems.append(tables.problem(row.number, name, message))
    if problems:
        return problems
    key = (settlement.pk, values["month"])
    if key in checked:
        first = checked[key][3]
        return [
            tables.problem(
                row.number,
                "month",
                _("This settlement's month is already in row %(row)d.") % {"row": first},
            )
        ]
    checked[key] = (settlement, values["registered"], values["source"], row.number)
    return []
