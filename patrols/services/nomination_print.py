"""The nomination as the akimat expects it: a PDF in the chosen language (Kazakh or Russian) addressed to the
commission, with the table of people and places for the signatures of the district inspector and the head of the
police unit, and an XLSX with the same table (numbers as numbers, dates as dates) for the akimat's own lists.

The nomination comes from the caller, already found in the reader's scope; what it shows is what the nomination
holds: a submitted one its frozen facts, a decided one the commission's decision beside each name.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from fpdf import FontFace, XPos, YPos
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..choices import NominationStatus, RewardDecision, RewardKind
from ..clock import LOCAL_TZ
from ..models import Nomination, NominationItem
from .exports import spreadsheet_safe
from .ledger import OUTCOMES
from .monthly_report import DATE, FONT, FONTS, GREY, _Document, _signature, fitted_widths
from .nominations import money, period_label, quarter_code

DATE_CELL = "DD.MM.YYYY"
HOURS_COLUMN = 5


def _outcome_words() -> dict[str, str]:
    return {
        "prevented": _("prevented"),
        "solved": _("solved"),
        "handed_over": _("handed over"),
        "assistance": _("assistance"),
        "info": _("signals"),
    }


def results_text(facts: dict) -> str:
    """The verified reports of the quarter in words: "prevented 1, assistance 2" ("—" for none)."""
    words = _outcome_words()
    reports = facts.get("reports") or {}
    parts = [f"{words.get(code, code)} {reports[code]}" for code in OUTCOMES if reports.get(code)]
    parts += [f"{code} {count}" for code, count in sorted(reports.items()) if code not in OUTCOMES and count]
    return ", ".join(parts) or "—"


def _mci(value: Decimal | None) -> str:
    return "" if value is None else formats.number_format(value.normalize(), force_grouping=True)


def _reward(kind: str) -> str:
    return str(RewardKind(kind).label) if kind in RewardKind.values else ""


@dataclass
class Line:
    """One row of the printed table."""

    number: int
    name: str
    group: str
    shifts: int
    hours: float
    no_shows: int
    reports: dict
    meetings: int
    kind: str
    amount_mci: Decimal | None
    merit: str
    decision: str
    decided_kind: str
    decided_amount_mci: Decimal | None
    decided_tenge: Decimal | None


def lines(nomination: Nomination) -> list[Line]:
    """The nomination's people in the order of the list (surname, first name), with their frozen facts."""
    items = NominationItem.objects.filter(nomination=nomination).select_related("volunteer")
    return [
        Line(
            number=number,
            name=item.volunteer.full_name,
            group=(item.facts or {}).get("group", ""),
            shifts=int((item.facts or {}).get("shifts", 0)),
            hours=float((item.facts or {}).get("hours", 0)),
            no_shows=int((item.facts or {}).get("no_shows", 0)),
            reports=dict((item.facts or {}).get("reports") or {}),
            meetings=int((item.facts or {}).get("meetings", 0)),
            kind=item.kind,
            amount_mci=item.amount_mci,
            merit=item.merit,
            decision=item.decision,
            decided_kind=item.decided_kind,
            decided_amount_mci=item.decided_amount_mci,
            decided_tenge=item.decided_tenge,
        )
        for number, item in enumerate(items, start=1)
    ]


def filename(nomination: Nomination, extension: str, language: str = "") -> str:
    """Like `nomination-KZ-19-TAL-2026-Q4-v2-kk.pdf`: what, where, when, in ASCII."""
    suffix = f"-{language}" if language else ""
    period = quarter_code(nomination.year, nomination.quarter)
    return f"nomination-{nomination.district.code}-{period}-v{nomination.version}{suffix}.{extension}"


def _today() -> datetime.date:
    return timezone.localdate(timezone=LOCAL_TZ)


def _decision_text(line: Line) -> str:
    if not line.decision:
        return ""
    if line.decision == RewardDecision.REFUSED:
        return _("refused")
    text = _reward(line.decided_kind)
    if line.decided_kind == RewardKind.CASH and line.decided_amount_mci is not None:
        text += " " + _("%(amount)s MCI (%(tenge)s tenge)") % {
            "amount": _mci(line.decided_amount_mci),
            "tenge": money(line.decided_tenge),
        }
    return text


def nomination_pdf(nomination: Nomination, *, language: str, compress: bool = True) -> bytes:
    """The nomination as an A4 landscape PDF in `language`, set in DejaVu Sans (every Kazakh letter)."""
    with translation.override(language):
        return _pdf(nomination, language=language, compress=compress)


def _pdf(nomination: Nomination, *, language: str, compress: bool) -> bytes:
    district = nomination.district
    period = period_label(nomination.year, nomination.quarter)
    rows = lines(nomination)
    decided = nomination.status == NominationStatus.DECIDED
    pdf = _Document(orientation="L", unit="mm", format="A4")
    pdf.compress = compress
    pdf.set_margins(15, 12, 15)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    title = _("Nomination for rewards")
    pdf.set_title(f"{title}: {district.name}, {period}")
    pdf.set_subject(f"{district.name} ({district.code}), {district.region.name}")
    pdf.set_creator(_("Volunteer patrols"))
    pdf.set_lang(language)
    pdf.footer_text = _("%(district)s · %(period)s · version %(version)d · printed on %(date)s") % {
        "district": district.name,
        "period": period,
        "version": nomination.version,
        "date": formats.date_format(_today(), DATE),
    }
    pdf.add_page()
    width = pdf.epw

    # The addressee, top right, as a letter to the commission is laid out.
    pdf.set_font(FONT, "", 10)
    pdf.set_x(pdf.l_margin + width * 0.55)
    pdf.multi_cell(
        width * 0.45,
        5,
        _(
            "To the commission of the akimat of %(district)s on rewarding citizens who take part in protecting "
            "public order"
        )
        % {"district": district.name},
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.ln(4)
    pdf.set_font(FONT, "B", 14)
    pdf.cell(width, 8, title, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 11)
    pdf.multi_cell(
        width,
        6,
        _("of the volunteers of %(district)s (%(region)s) for their service in the %(period)s")
        % {"district": district.name, "region": district.region.name, "period": period},
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    state = [_("Version %(version)d") % {"version": nomination.version}, nomination.get_status_display()]
    if nomination.submitted_at:
        state.append(
            _("submitted on %(date)s")
            % {"date": formats.date_format(timezone.localdate(nomination.submitted_at), DATE)}
        )
    pdf.set_font(FONT, "", 9)
    pdf.cell(width, 6, " · ".join(state), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)

    headers = [
        _("No."),
        _("Full name"),
        _("Group"),
        _("Hours"),
        _("Verified results"),
        _("Proposed reward"),
        _("Amount, MCI"),
        _("Merit"),
    ]
    widths = [10, 46, 36, 15, 44, 30, 17, 69]
    align = ["RIGHT", "LEFT", "LEFT", "RIGHT", "LEFT", "LEFT", "RIGHT", "LEFT"]
    if decided:
        headers.append(_("Decision of the commission"))
        widths[7] = 39
        widths.append(30)
        align.append("LEFT")
    body = []
    for line in rows:
        row = [
            str(line.number),
            line.name,
            line.group or "—",
            formats.number_format(line.hours, decimal_pos=1),
            results_text({"reports": line.reports}),
            _reward(line.kind),
            _mci(line.amount_mci) if line.kind == RewardKind.CASH else "",
            line.merit,
        ]
        if decided:
            row.append(_decision_text(line))
        body.append(row)
    widths = fitted_widths(pdf, headers, widths, size=8)
    pdf.set_font(FONT, "", 8)
    with pdf.table(
        col_widths=widths,
        text_align=tuple(align),
        line_height=4.5,
        width=sum(widths),
        align="LEFT",
        headings_style=FontFace(emphasis="BOLD", fill_color=GREY),
    ) as table:
        table.row(headers)
        for row in body:
            table.row(row)
    if not rows:
        pdf.cell(width, 6, _("Nobody is on this nomination."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    cash = sum((line.amount_mci or Decimal(0) for line in rows if line.kind == RewardKind.CASH), Decimal(0))
    pdf.ln(2)
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(
        width,
        5,
        _("People on the nomination: %(people)d; patrol hours: %(hours)s; cash proposed: %(cash)s MCI.")
        % {
            "people": len(rows),
            "hours": formats.number_format(round(sum(line.hours for line in rows), 1), decimal_pos=1),
            "cash": _mci(cash) or "0",
        },
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    if decided and nomination.protocol_date:
        pdf.multi_cell(
            width,
            5,
            _("Decided by the commission: protocol No. %(number)s of %(date)s.")
            % {"number": nomination.protocol_number, "date": formats.date_format(nomination.protocol_date, DATE)},
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    pdf.set_font(FONT, "", 8)
    pdf.multi_cell(
        width,
        4,
        _(
            "Hours are patrol hours from the kept check-in and check-out times; results are verified reports only. "
            "A cash reward is at most 15 MCI a person."
        ),
        align="L",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )

    # The signatures stay together on one page.
    if pdf.get_y() > pdf.h - 16 - 44:
        pdf.add_page()
    pdf.ln(6)
    top = pdf.get_y()
    column = (width - 20) / 2
    _signature(pdf, pdf.l_margin, top, column, _("District inspector"))
    _signature(pdf, pdf.l_margin + column + 20, top, column, _("Head of the police unit"))
    return bytes(pdf.output())


def nomination_xlsx(nomination: Nomination, *, language: str) -> bytes:
    """The nomination as an XLSX workbook in `language`: a heading block, then one row per person."""
    with translation.override(language):
        return _xlsx(nomination)


def _xlsx(nomination: Nomination) -> bytes:
    district = nomination.district
    book = Workbook()
    sheet = book.active
    sheet.title = quarter_code(nomination.year, nomination.quarter)
    bold = Font(bold=True)
    sheet.append([_("Nomination for rewards")])
    sheet["A1"].font = Font(bold=True, size=13)
    heading = [
        (_("District"), district.name),
        (_("Quarter"), period_label(nomination.year, nomination.quarter)),
        (_("Version"), nomination.version),
        (_("Status"), str(nomination.get_status_display())),
        (_("Submitted on"), timezone.localdate(nomination.submitted_at) if nomination.submitted_at else None),
        (_("Protocol No."), nomination.protocol_number or None),
        (_("Protocol date"), nomination.protocol_date),
    ]
    for label, value in heading:
        sheet.append([label, value])
        sheet.cell(sheet.max_row, 1).font = bold
        if isinstance(value, datetime.date):
            sheet.cell(sheet.max_row, 2).number_format = DATE_CELL
            sheet.cell(sheet.max_row, 2).alignment = Alignment(horizontal="left")
    sheet.append([])
    words = _outcome_words()
    headers = [
        _("No."),
        _("Full name"),
        _("Group"),
        _("Shifts"),
        _("Hours"),
        _("No-shows"),
        *[words[code] for code in OUTCOMES],
        _("Meetings"),
        _("Proposed reward"),
        _("Amount, MCI"),
        _("Merit"),
        _("Decision"),
        _("Reward granted"),
        _("Granted, MCI"),
        _("Granted, tenge"),
    ]
    sheet.append(headers)
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = bold
    decisions = {
        RewardDecision.GRANTED: _("granted"),
        RewardDecision.CHANGED: _("granted, changed"),
        RewardDecision.REFUSED: _("refused"),
    }
    for line in lines(nomination):
        sheet.append(
            [
                line.number,
                spreadsheet_safe(line.name),
                spreadsheet_safe(line.group),
                line.shifts,
                line.hours,
                line.no_shows,
                *[int(line.reports.get(code, 0)) for code in OUTCOMES],
                line.meetings,
                _reward(line.kind),
                float(line.amount_mci) if line.amount_mci is not None else None,
                spreadsheet_safe(line.merit),
                decisions.get(line.decision, ""),
                _reward(line.decided_kind),
                float(line.decided_amount_mci) if line.decided_amount_mci is not None else None,
                float(line.decided_tenge) if line.decided_tenge is not None else None,
            ]
        )
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"
            elif isinstance(cell.value, float):
                cell.number_format = "#,##0.0" if cell.column == HOURS_COLUMN else "#,##0.00"
    sizes = (6, 34, 26, 8, 8, 9, 10, 10, 10, 10, 10, 10, 20, 10, 40, 14, 20, 10, 14)
    for index, size in enumerate(sizes, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = size
    sheet.freeze_panes = sheet.cell(header_row + 1, 3)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
