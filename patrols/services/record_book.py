"""A volunteer's record book: all their service month by month and the rewards granted, as an XLSX workbook in the
active language. Cells hold numbers and dates (Excel shows them with the reader's own separators), never text that
looks like them."""

from __future__ import annotations

import datetime
import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ..choices import OutcomeCode
from ..clock import local_today
from ..models import Volunteer
from .ledger import OUTCOMES, Ledger, by_month, rewards_between

DATE_CELL = "DD.MM.YYYY"
MONTH_CELL = "MM.YYYY"
WHOLE = "#,##0"
TENTHS = "#,##0.0"
MONEY = "#,##0.00"
# A sheet's name has at most 31 characters.
SHEET_NAME_LIMIT = 31


def record_book_filename(volunteer: Volunteer) -> str:
    """Like `record-book-42-2026-12-03.xlsx`: whose and when, in ASCII."""
    return f"record-book-{volunteer.pk}-{local_today().isoformat()}.xlsx"


def _bold_row(sheet: Worksheet) -> None:
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)


def _figures(ledger: Ledger) -> list[int | float]:
    return [
        ledger.shifts,
        ledger.hours,
        ledger.no_shows,
        *(ledger.reports.get(code, 0) for code in OUTCOMES),
        ledger.meetings,
        ledger.callouts,
    ]


def _figure_row(sheet: Worksheet, first: datetime.date | str, ledger: Ledger) -> None:
    sheet.append([first, *_figures(ledger)])
    for cell in sheet[sheet.max_row][1:]:
        cell.number_format = TENTHS if isinstance(cell.value, float) else WHOLE


def _widths(sheet: Worksheet, widths: list[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _service_sheet(sheet: Worksheet, volunteer: Volunteer) -> None:
    sheet.title = _("Record book")[:SHEET_NAME_LIMIT]
    sheet.append([_("Record book of service")])
    sheet["A1"].font = Font(bold=True, size=13)
    for label, value in ((_("Volunteer"), volunteer.full_name), (_("District"), volunteer.district.name)):
        sheet.append([label, value])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
        # Names come from people: text, even one that starts like a formula.
        sheet.cell(sheet.max_row, 2).data_type = "s"
    sheet.append([_("Drawn up on"), local_today()])
    sheet.cell(sheet.max_row, 1).font = Font(bold=True)
    sheet.cell(sheet.max_row, 2).number_format = DATE_CELL
    sheet.append([])
    headers = [
        _("Month"),
        _("Shifts"),
        _("Patrol hours"),
        _("No-shows"),
        *(str(OutcomeCode(code).label) for code in OUTCOMES),
        _("Meetings with residents"),
        _("Call-outs answered"),
    ]
    sheet.append(headers)
    _bold_row(sheet)
    sheet.freeze_panes = sheet.cell(sheet.max_row + 1, 2)
    months = by_month(volunteer.pk)
    for (year, month), ledger in months.items():
        _figure_row(sheet, datetime.date(year, month, 1), ledger)
        sheet.cell(sheet.max_row, 1).number_format = MONTH_CELL
    if months:
        _figure_row(sheet, _("Total"), sum(months.values(), Ledger()))
        _bold_row(sheet)
    _widths(sheet, [24] + [max(10, min(len(header) + 2, 30)) for header in headers[1:]])


def _rewards_sheet(sheet: Worksheet, volunteer: Volunteer) -> None:
    sheet.append(
        [
            _("Year"),
            _("Quarter"),
            _("Reward"),
            _("Amount (MCI)"),
            _("Amount (tenge)"),
            _("Protocol No."),
            _("Protocol date"),
        ]
    )
    _bold_row(sheet)
    sheet.freeze_panes = "A2"
    for item in rewards_between(volunteer.pk):
        nomination = item.nomination
        sheet.append(
            [
                nomination.year,
                nomination.quarter,
                str(item.get_decided_kind_display()),
                item.decided_amount_mci,
                item.decided_tenge,
                nomination.protocol_number,
                nomination.protocol_date,
            ]
        )
        row = sheet[sheet.max_row]
        row[3].number_format = row[4].number_format = MONEY
        row[5].data_type = "s"
        row[6].number_format = DATE_CELL
    _widths(sheet, [8, 8, 28, 14, 16, 16, 14])


def record_book_xlsx(volunteer: Volunteer) -> bytes:
    """The volunteer's record book as an XLSX workbook in the active language: a sheet of their service by month
    with a total, and a sheet of the rewards granted."""
    book = Workbook()
    _service_sheet(book.active, volunteer)
    _rewards_sheet(book.create_sheet(_("Rewards")[:SHEET_NAME_LIMIT]), volunteer)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
