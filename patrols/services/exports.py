"""The dashboard's tables as rows, and as CSV and XLSX files for the monthly briefing.

Every table comes from the figures services (`figures.dashboard_totals`, `by_category`, `dashboard_activity`), for
an area that `figures.dashboard_area` already checked against the viewer's scope; headers are in the viewer's language.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import formats
from django.utils.dates import MONTHS
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..choices import BenchmarkLevel, CrimeStatus, GroupKind, OutcomeCode
from . import figures
from .figures import Area

Value = str | int | float | None
# A text cell starting with one of these is a formula to a spreadsheet: names come from people, so they stay text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def pace_label(pace: str | None) -> str:
    """The pace of a figure in words: ahead of, on or behind a straight-line path to the target."""
    return {
        "ahead": _("ahead of the pace"),
        "on_track": _("on track"),
        "behind": _("behind the pace"),
    }.get(pace or "", "")


def benchmark_label(scope: str | None, area: Area) -> str:
    """Whose target a figure is measured against: always the area's own ("" when it has none)."""
    if scope == BenchmarkLevel.NATIONAL:
        return _("target for Kazakhstan")
    if scope:
        return _("target for %(area)s") % {"area": area.name}
    return ""


def no_target_label(area: Area) -> str:
    """Said where an area has no target of its own for the year."""
    if area.level == BenchmarkLevel.NATIONAL:
        return _("No national target is set for this year.")
    if area.level == BenchmarkLevel.REGION:
        return _("No target is set for this region for the year.")
    return _("No target is set for this district for the year.")


def national_share_label(figure: figures.Figure) -> str:
    """An area's count as its share of the national target, worded as a share (not progress to a target)."""
    if figure.national_share is None or figure.national_benchmark is None:
        return ""
    return _("Share of the national target of %(target)s: %(share)s%%") % {
        "target": formats.number_format(figure.national_benchmark, force_grouping=True),
        "share": formats.number_format(figure.national_share, decimal_pos=1),
    }


def targets_check_lines(check: dict | None) -> list[str]:
    """Whether the targets one level below add up to the area's own, in sentences (none when they do)."""
    if not check or check["adds_up"] or not check["parts_with_target"]:
        return []
    regions = check["parts_level"] == BenchmarkLevel.REGION
    lines = []
    for code, label in ((OutcomeCode.PREVENTED, _("Offenses prevented")), (OutcomeCode.SOLVED, _("Crimes solved"))):
        sums = check[code]
        words = {
            "figure": label,
            "sum": formats.number_format(sums["parts_sum"], force_grouping=True),
            "target": formats.number_format(sums["target"] or 0, force_grouping=True),
            "gap": formats.number_format(abs(sums["difference"] or 0), force_grouping=True),
        }
        if sums["target"] is None:
            line = (
                _("%(figure)s: the regions' targets add up to %(sum)s; there is no national target to compare.")
                if regions
                else _("%(figure)s: the districts' targets add up to %(sum)s; the region has no target to compare.")
            )
        elif sums["difference"] < 0:
            line = (
                _(
                    "%(figure)s: the regions' targets add up to %(sum)s, "
                    "%(gap)s short of the national target of %(target)s."
                )
                if regions
                else _(
                    "%(figure)s: the districts' targets add up to %(sum)s, "
                    "%(gap)s short of the region's target of %(target)s."
                )
            )
        elif sums["difference"] > 0:
            line = (
                _(
                    "%(figure)s: the regions' targets add up to %(sum)s, "
                    "%(gap)s above the national target of %(target)s."
                )
                if regions
                else _(
                    "%(figure)s: the districts' targets add up to %(sum)s, "
                    "%(gap)s above the region's target of %(target)s."
                )
            )
        else:
            line = (
                _("%(figure)s: the regions' targets add up to the national target of %(target)s.")
                if regions
                else _("%(figure)s: the districts' targets add up to the region's target of %(target)s.")
            )
        lines.append(line % words)
    missing = check["parts_without_target"]
    if missing:
        template = (
            ngettext(
                "%(count)d region has no target of its own: %(names)s.",
                "%(count)d regions have no target of their own: %(names)s.",
                len(missing),
            )
            if regions
            else ngettext(
                "%(count)d district has no target of its own: %(names)s.",
                "%(count)d districts have no target of their own: %(names)s.",
                len(missing),
            )
        )
        lines.append(template % {"count": len(missing), "names": ", ".join(missing)})
    return lines


@dataclass
class Table:
    """One dashboard table: a key for the file name, a title, translated headers and rows of plain values."""

    key: str
    title: str
    headers: list[str]
    rows: list[list[Value]]


def _areas(area: Area, year: int) -> Table:
    totals = figures.dashboard_totals(area, year)
    if area.level == BenchmarkLevel.DISTRICT:
        kinds = dict(GroupKind.choices)
        return Table(
            key="areas",
            title=_("By group"),
            headers=[_("Group"), _("Kind of group"), _("Offenses prevented"), _("Crimes solved")],
            rows=[
                [row["name"], str(kinds.get(row["kind"], "")), row["prevented"], row["solved"]]
                for row in totals.by_area
            ],
        )
    headers = [_("Code"), _("Region") if area.level == BenchmarkLevel.NATIONAL else _("District")]
    for label in (_("Offenses prevented"), _("Crimes solved")):
        headers += [
            label,
            _("%(figure)s: target") % {"figure": label},
            _("%(figure)s: percent of the target") % {"figure": label},
            _("%(figure)s: share of the national target, percent") % {"figure": label},
        ]
    rows = []
    for row in totals.by_area:
        line: list[Value] = [row["code"], row["name"]]
        for code in figures.HEADLINE:
            figure = row[f"{code}_figure"]
            line += [row[code], figure["benchmark"], figure["percent"], figure["national_share"]]
        rows.append(line)
    title = _("By region") if area.level == BenchmarkLevel.NATIONAL else _("By district")
    return Table(key="areas", title=title, headers=headers, rows=rows)


def _group_kinds(area: Area, year: int) -> Table:
    totals = figures.dashboard_totals(area, year)
    return Table(
        key="group-kinds",
        title=_("By kind of group"),
        headers=[_("Kind of group"), _("Offenses prevented"), _("Crimes solved")],
        rows=[[row["name"], row["prevented"], row["solved"]] for row in totals.by_group_kind],
    )


def _months(area: Area, year: int) -> Table:
    totals = figures.dashboard_totals(area, year)
    years = {"year": year, "last": year - 1}
    return Table(
        key="months",
        title=_("By month"),
        headers=[
            _("Month"),
            _("Offenses prevented, %(year)s") % years,
            _("Offenses prevented, %(last)s") % years,
            _("Crimes solved, %(year)s") % years,
            _("Crimes solved, %(last)s") % years,
        ],
        rows=[
            [
                capfirst(str(MONTHS[row["month"]])),
                row["prevented"],
                row["prevented_last_year"],
                row["solved"],
                row["solved_last_year"],
            ]
            for row in totals.by_month
        ],
    )


def _categories(area: Area, year: int) -> Table:
    return Table(
        key="categories",
        title=_("By category"),
        headers=[_("Category"), _("Offenses prevented"), _("Crimes solved"), _("All verified reports")],
        rows=[
            [row["name"], row["prevented"], row["solved"], row["verified"]] for row in figures.by_category(area, year)
        ],
    )


def _activity(area: Area, year: int) -> Table:
    activity = figures.dashboard_activity(area, year)
    return Table(
        key="activity",
        title=_("Activity"),
        headers=[_("Measure"), _("Value")],
        rows=[
            [_("Active volunteers"), activity["active_volunteers"]],
            [_("Shifts held"), activity["shifts_held"]],
            [_("Patrol hours"), activity["patrol_hours"]],
            [_("No-show rate, %"), activity["no_show_rate"]],
            [_("Reports waiting for verification"), activity["reports_waiting"]],
        ],
    )


def _prevention(area: Area, year: int) -> Table:
    totals = figures.dashboard_totals(area, year)
    if area.level == BenchmarkLevel.DISTRICT:
        return Table(
            key="prevention",
            title=_("Prevention work by settlement"),
            headers=[
                _("Code"),
                _("KATO code"),
                _("Settlement"),
                _("Meetings held"),
                _("Residents reached"),
                _("Initiative"),
                _("Crime status"),
                _("Months with a count"),
                _("Crimes registered"),
            ],
            rows=[
                [
                    row["code"],
                    row["kato"] or "",
                    row["name"],
                    row["meetings"],
                    row["residents"],
                    _("Yes") if row["initiative"] else _("No"),
                    str(CrimeStatus(row["crime_status"]).label),
                    row["months_recorded"],
                    row["crimes"],
                ]
                for row in totals.by_settlement
            ],
        )
    headers = [_("Code"), _("Region") if area.level == BenchmarkLevel.NATIONAL else _("District")]
    headers += [_("Meetings held"), _("Meetings held: target"), _("Residents reached")]
    headers += [_("Villages with an initiative"), _("Villages with an initiative: target"), _("Without crime")]
    rows = [
        [
            row["code"],
            row["name"],
            row["meetings"],
            row["meetings_figure"]["benchmark"],
            row["residents"],
            row["initiative_settlements"],
            row["initiative_settlements_figure"]["benchmark"],
            row["crime_free_settlements"],
        ]
        for row in totals.by_area
    ]
    return Table(key="prevention", title=_("Prevention work with residents"), headers=headers, rows=rows)


TABLES: dict[str, Callable[[Area, int], Table]] = {
    "areas": _areas,
    "group-kinds": _group_kinds,
    "months": _months,
    "categories": _categories,
    "activity": _activity,
    "prevention": _prevention,
}
FORMATS = ("csv", "xlsx")


def dashboard_table(name: str, area: Area, year: int) -> Table:
    """The named table (one of `TABLES`) of the area and year; `KeyError` for a name that is not one."""
    return TABLES[name](area, year)


def table_filename(table: Table, area: Area, year: int, extension: str) -> str:
    """Like `dashboard-areas-KZ-19-2025.csv`: what, where and when, in ASCII."""
    return f"dashboard-{table.key}-{area.code}-{year}.{extension}"


def spreadsheet_safe(value: Value) -> Value:
    """A text never starts a formula in a spreadsheet (a leading quote keeps it text); other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def table_csv(table: Table) -> bytes:
    """The table as CSV in UTF-8 with a byte order mark, so Excel opens Cyrillic and Kazakh letters right.

    CSV is for machines: numbers with a dot and no grouping, dates as YYYY-MM-DD, in every language (the XLSX is
    the file for people)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow(["" if value is None else spreadsheet_safe(value) for value in row])
    return out.getvalue().encode("utf-8-sig")


def table_xlsx(table: Table) -> bytes:
    """The table as an XLSX workbook: headers in bold, numbers as numbers, names never read as formulas."""
    book = Workbook()
    sheet = book.active
    sheet.title = table.key
    sheet.append(table.headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
            elif isinstance(cell.value, bool):
                continue
            elif isinstance(cell.value, int):
                # Grouped thousands: Excel shows the reader's own separators (a space and a comma in kk and ru).
                cell.number_format = "#,##0"
            elif isinstance(cell.value, float):
                cell.number_format = "#,##0.0"
    sheet.freeze_panes = "A2"
    for index, header in enumerate(table.headers, start=1):
        widest = max([len(header)] + [len(str(row[index - 1] or "")) for row in table.rows])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(10, widest + 2), 60)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
