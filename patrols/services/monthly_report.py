"""The monthly activity report of one district, as a printable PDF for the squad commander and the inspector to sign.

The figures come from the kept daily tallies (verified reports) and from the shifts and their assignments (activity);
the district comes from `figures.dashboard_area`, so it is one the viewer may read. Text is in the active language,
set in DejaVu Sans (shipped in patrols/fonts/), which has every letter of Kazakh Cyrillic.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.db.models import Count, Q, Sum
from django.utils import formats, timezone
from django.utils.dates import MONTHS
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from fpdf import FPDF, FontFace, XPos, YPos

from ..choices import AssignmentStatus, BenchmarkLevel, GroupKind, OutcomeCode, ShiftStatus
from ..clock import LOCAL_TZ
from ..models import (
    Assignment,
    Category,
    District,
    Group,
    MeetingTally,
    Membership,
    Outcome,
    ReportTally,
    SettlementYearTally,
    Shift,
)
from . import figures
from .exports import national_share_label, no_target_label, pace_label
from .villages import village_figures

FONTS = Path(__file__).resolve().parent.parent / "fonts"
FONT = "DejaVu"
ATTENDED = (AssignmentStatus.COMPLETED, AssignmentStatus.CHECKED_IN)
GREY = (235, 238, 242)
# Dates as Kazakhstan writes them, whatever the language (the pages of the app do the same).
DATE = "d.m.Y"


@dataclass
class GroupMonth:
    """One group's month: who went on patrol, how many patrols, what was verified (and the year so far)."""

    name: str
    kind: str
    volunteers: int = 0
    shifts: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    year_to_date: dict[str, int] = field(default_factory=dict)

    @property
    def verified(self) -> int:
        return sum(self.counts.values())


@dataclass
class MonthlyFigures:
    """What one district did in one month, and where it stands against the year's target at the month's end."""

    district: District
    year: int
    month: int
    as_of: datetime.date
    shifts_planned: int
    shifts_held: int
    volunteers_active: int
    patrol_hours: float
    no_show_rate: float | None
    by_outcome: list[dict]
    by_category: list[dict]
    year_to_date: dict[str, figures.Figure]
    by_group: list[GroupMonth]
    meetings: int = 0
    residents: int = 0
    prevention_year: dict[str, figures.Figure] = field(default_factory=dict)

    @property
    def verified(self) -> int:
        return sum(row["count"] for row in self.by_outcome)


def _month_bounds(year: int, month: int) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime(year, month, 1, tzinfo=LOCAL_TZ)
    end = start.replace(year=year + 1, month=1) if month == 12 else start.replace(month=month + 1)
    return start, end


def _activity(district: District, start: datetime.datetime, end: datetime.datetime) -> dict:
    shifts = Shift.objects.filter(district=district, starts_at__gte=start, starts_at__lt=end)
    planned = shifts.exclude(status=ShiftStatus.CANCELLED)
    held = planned.filter(assignments__status__in=ATTENDED).distinct()
    assignments = Assignment.objects.filter(shift__in=shifts)
    attended = assignments.filter(status__in=ATTENDED)
    attendance = assignments.aggregate(
        came=Count("pk", filter=Q(status__in=ATTENDED)),
        missed=Count("pk", filter=Q(status=AssignmentStatus.NO_SHOW)),
    )
    expected = attendance["came"] + attendance["missed"]
    minutes = attended.aggregate(total=Sum("credited_minutes"))["total"] or 0
    volunteers = set(attended.values_list("volunteer_id", flat=True))
    held_groups = Shift.groups.through.objects.filter(shift__in=held).values_list("group_id", "shift_id")
    return {
        "shifts_planned": planned.count(),
        "shifts_held": held.count(),
        "volunteers": volunteers,
        "patrol_hours": round(minutes / 60, 1),
        "no_show_rate": round(100 * attendance["missed"] / expected, 1) if expected else None,
        "held_groups": list(held_groups),
    }


def _group_volunteers(district: District, volunteers: set[int], first: datetime.date, last: datetime.date):
    """(group, volunteer) pairs of the district's groups for the volunteers who patrolled, members that month."""
    return (
        Membership.objects.filter(volunteer_id__in=volunteers, group__district=district, joined_on__lte=last)
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=first))
        .values_list("group_id", "volunteer_id")
    )


def monthly_figures(district: District, year: int, month: int, *, today: datetime.date | None = None) -> MonthlyFigures:
    """The district's month: activity from shifts, verified reports from the tallies, the year to the month's end."""
    today = today or timezone.localdate(timezone=LOCAL_TZ)
    start, end = _month_bounds(year, month)
    first, last = start.date(), (end - datetime.timedelta(days=1)).date()
    activity = _activity(district, start, end)

    outcomes = {outcome.pk: outcome for outcome in Outcome.objects.all()}
    tallies = ReportTally.objects.filter(district=district, year=year).exclude(count=0)
    in_month = list(
        tallies.filter(month=month)
        .values("group_id", "category_id", "outcome_id")
        .annotate(n=Sum("count"))
        .values_list("group_id", "category_id", "outcome_id", "n")
    )
    so_far = list(
        tallies.filter(month__lte=month)
        .values("group_id", "outcome_id")
        .annotate(n=Sum("count"))
        .values_list("group_id", "outcome_id", "n")
    )

    by_outcome: dict[int, int] = defaultdict(int)
    by_category: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    group_counts: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for group_id, category_id, outcome_id, n in in_month:
        code = outcomes[outcome_id].code
        by_outcome[outcome_id] += n
        by_category[category_id][code] += n
        by_category[category_id]["all"] += n
        group_counts[group_id][code] += n
    group_ytd: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    headline = {code: 0 for code in figures.HEADLINE}
    for group_id, outcome_id, n in so_far:
        code = outcomes[outcome_id].code
        group_ytd[group_id][code] += n
        if code in headline:
            headline[code] += n

    as_of = min(today, last)
    own, national = figures.benchmarks_for(
        year, figures.Area(BenchmarkLevel.DISTRICT, region=district.region, district=district)
    )
    elapsed = figures.year_elapsed(year, as_of)
    year_to_date = {
        code: figures.figure(
            headline[code],
            own=own.of(code) if own else None,
            national=national.of(code) if national else None,
            level=BenchmarkLevel.DISTRICT,
            elapsed=elapsed,
        )
        for code in figures.HEADLINE
    }

    members = defaultdict(set)
    for group_id, volunteer_id in _group_volunteers(district, activity["volunteers"], first, last):
        members[group_id].add(volunteer_id)
    patrols = defaultdict(set)
    for group_id, shift_id in activity["held_groups"]:
        patrols[group_id].add(shift_id)
    kinds = dict(GroupKind.choices)
    named = set(group_counts) | set(group_ytd)
    groups = Group.objects.filter(Q(district=district) | Q(pk__in=[pk for pk in named if pk])).order_by("name")
    by_group = [
        GroupMonth(
            name=group.name,
            kind=str(kinds.get(group.kind, "")),
            volunteers=len(members.get(group.pk, ())),
            shifts=len(patrols.get(group.pk, ())),
            counts=dict(group_counts.get(group.pk, {})),
            year_to_date=dict(group_ytd.get(group.pk, {})),
        )
        for group in groups
    ]
    if None in named:
        by_group.append(
            GroupMonth(
                name=_("Without a group"),
                kind="",
                counts=dict(group_counts.get(None, {})),
                year_to_date=dict(group_ytd.get(None, {})),
            )
        )

    categories = Category.objects.in_bulk(list(by_category))
    category_rows = sorted(
        (
            {
                "name": categories[pk].name,
                "prevented": counts[OutcomeCode.PREVENTED],
                "solved": counts[OutcomeCode.SOLVED],
                "count": counts["all"],
            }
            for pk, counts in by_category.items()
        ),
        key=lambda row: (-row["count"], row["name"]),
    )
    prevention = _prevention(district, year, month, as_of, own, national, elapsed)
    return MonthlyFigures(
        district=district,
        year=year,
        month=month,
        as_of=as_of,
        shifts_planned=activity["shifts_planned"],
        shifts_held=activity["shifts_held"],
        volunteers_active=len(activity["volunteers"]),
        patrol_hours=activity["patrol_hours"],
        no_show_rate=activity["no_show_rate"],
        by_outcome=[
            {"code": outcome.code, "name": outcome.name, "count": by_outcome.get(pk, 0)}
            for pk, outcome in sorted(outcomes.items(), key=lambda item: (item[1].sort_order, item[1].code))
        ],
        by_category=category_rows,
        year_to_date=year_to_date,
        by_group=by_group,
        **prevention,
    )


def _prevention(district: District, year: int, month: int, as_of: datetime.date, own, national, elapsed) -> dict:
    """The month's meetings with residents, and the year so far: meetings, initiative villages, crime-free ones."""
    kept = MeetingTally.objects.filter(district=district, year=year)
    in_month = kept.filter(month=month).aggregate(n=Sum("meetings"), people=Sum("residents"))
    so_far = kept.filter(month__lte=month).aggregate(n=Sum("meetings"))["n"] or 0
    counts = {"meetings": so_far}
    counts.update(village_figures(SettlementYearTally.objects.filter(district=district), year, as_of))
    return {
        "meetings": in_month["n"] or 0,
        "residents": in_month["people"] or 0,
        "prevention_year": {
            code: figures.figure(
                counts[code],
                own=own.of(code) if own else None,
                national=national.of(code) if national else None,
                level=BenchmarkLevel.DISTRICT,
                elapsed=elapsed,
            )
            for code in counts
        },
    }


# The PDF


def _number(value: float | int | None) -> str:
    if value is None:
        return "—"
    return formats.number_format(value, force_grouping=True)


def month_name(month: int) -> str:
    return capfirst(str(MONTHS[month]))


class _Document(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(110, 118, 130)
        self.cell(0, 5, self.footer_text, align="L")
        self.cell(0, 5, _("Page %(page)s of %(pages)s") % {"page": self.page_no(), "pages": "{nb}"}, align="R")


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9)


# Room a table cell keeps beside its text, in mm (fpdf2's cell padding on both sides, and a little air).
CELL_ROOM = 3.0


def fitted_widths(
    pdf: FPDF, headers: list[str], widths: tuple[float, ...] | list[float], *, size: float
) -> tuple[float, ...]:
    """Column widths in which a header breaks only between words (Kazakh words run long: «көрсеткіштің»).

    A column narrower than the longest word of its header (in the bold type of the headings, measured with the
    font) is widened; the room comes first from the page beside the table, then from the widest columns that have
    some to spare, levelled down together, never below their own longest word. What cannot be found that way
    leaves the table wider than the page: `_table` then sets its headers in a smaller type."""
    pdf.set_font(FONT, "B", size)
    need = [max((pdf.get_string_width(word) for word in header.split()), default=0) + CELL_ROOM for header in headers]
    fitted = [max(width, needed) for width, needed in zip(widths, need, strict=True)]
    extra = sum(fitted) - max(sum(widths), pdf.epw)
    while extra > 1e-6:
        givers = [index for index, width in enumerate(fitted) if width - need[index] > 1e-6]
        if not givers:
            break
        widest = max(fitted[index] for index in givers)
        level = [index for index in givers if fitted[index] >= widest - 1e-6]
        lower = max((fitted[index] for index in givers if fitted[index] < widest - 1e-6), default=0.0)
        step = min(extra / len(level), *(fitted[index] - max(need[index], lower) for index in level))
        for index in level:
            fitted[index] -= step
        extra -= step * len(level)
    return tuple(fitted)


def _table(pdf: FPDF, headers: list[str], rows: list[list[str]], widths: tuple[float, ...], *, size: float = 9) -> None:
    align = tuple(["LEFT"] + ["RIGHT"] * (len(headers) - 1))
    fitted = fitted_widths(pdf, headers, widths, size=size)
    # When even that is wider than the page, the headers get a smaller type until they fit.
    while sum(fitted) > pdf.epw and size > 6:
        size -= 0.5
        fitted = fitted_widths(pdf, headers, widths, size=size)
    widths = fitted
    pdf.set_font(FONT, "", size)
    with pdf.table(
        col_widths=widths,
        text_align=align,
        line_height=5,
        width=sum(widths),
        align="LEFT",
        headings_style=FontFace(emphasis="BOLD", fill_color=GREY),
    ) as table:
        table.row(headers)
        for row in rows:
            table.row(row)


def _signature(pdf: FPDF, x: float, y: float, width: float, role: str) -> None:
    pdf.set_xy(x, y)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(width, 6, role)
    pdf.set_font(FONT, "", 9)
    for offset, label in ((13, _("Full name")), (23, _("Signature")), (33, _("Date"))):
        pdf.set_xy(x, y + offset - 4)
        pdf.cell(24, 5, label)
        pdf.line(x + 24, y + offset, x + width, y + offset)


def monthly_report_pdf(data: MonthlyFigures, *, compress: bool = True) -> bytes:
    """The month as an A4 PDF in the active language, with places for the commander's and inspector's signatures."""
    district = data.district
    when = _("%(month)s %(year)s") % {"month": month_name(data.month), "year": data.year}
    title = _("Monthly activity report of the volunteer patrols")
    pdf = _Document(orientation="P", unit="mm", format="A4")
    pdf.compress = compress
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"{title}: {district.name}, {when}")
    pdf.set_subject(f"{district.name} ({district.code}), {district.region.name}")
    pdf.set_creator(_("Volunteer patrols"))
    pdf.set_lang(get_language() or "kk")
    pdf.footer_text = _("%(district)s · %(month)s · made on %(date)s") % {
        "district": district.name,
        "month": when,
        "date": formats.date_format(timezone.localdate(timezone=LOCAL_TZ), DATE),
    }
    pdf.add_page()
    width = pdf.epw

    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(width, 7, title, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 12)
    pdf.multi_cell(width, 7, f"{district.name}, {district.region.name}", align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 11)
    pdf.cell(width, 7, when, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    _heading(pdf, _("What was done"))
    _table(
        pdf,
        [_("Measure"), _("This month")],
        [
            [_("Shifts held (of those planned)"), f"{_number(data.shifts_held)} / {_number(data.shifts_planned)}"],
            [_("Volunteers on patrol"), _number(data.volunteers_active)],
            [_("Patrol hours"), _number(data.patrol_hours)],
            [_("No-show rate, %"), _number(data.no_show_rate)],
            [_("Verified reports"), _number(data.verified)],
        ],
        (120, 40),
    )

    _heading(pdf, _("Verified reports by outcome"))
    _table(
        pdf, [_("Outcome"), _("Reports")], [[row["name"], _number(row["count"])] for row in data.by_outcome], (120, 40)
    )

    _heading(pdf, _("Verified reports by category"))
    if data.by_category:
        _table(
            pdf,
            [_("Category"), _("Offenses prevented"), _("Crimes solved"), _("All")],
            [
                [row["name"], _number(row["prevented"]), _number(row["solved"]), _number(row["count"])]
                for row in data.by_category
            ],
            (90, 30, 30, 30),
        )
    else:
        pdf.cell(width, 6, _("No verified reports this month."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    _heading(
        pdf,
        _("The year so far against the target (to %(date)s)") % {"date": formats.date_format(data.as_of, DATE)},
    )
    _table(
        pdf,
        [_("Figure"), _("Verified"), _("Target"), _("Percent of target"), _("Expected by now"), _("Pace")],
        [
            [
                label,
                _number(value.count),
                f"{_number(value.benchmark)}" if value.benchmark is not None else "—",
                _number(value.percent),
                _number(value.expected_to_date),
                pace_label(value.pace) or "—",
            ]
            for label, value in (
                (_("Offenses prevented"), data.year_to_date[OutcomeCode.PREVENTED]),
                (_("Crimes solved"), data.year_to_date[OutcomeCode.SOLVED]),
            )
        ],
        (42, 30, 22, 22, 30, 34),
    )
    prevented = data.year_to_date[OutcomeCode.PREVENTED]
    pdf.set_font(FONT, "", 8)
    if prevented.benchmark_scope:
        notes = [_("Set against the district's own target for the year.")]
    else:
        notes = [str(no_target_label(figures.Area(BenchmarkLevel.DISTRICT, district=data.district)))]
        notes += [
            f"{label}: {share}"
            for label, share in (
                (_("Offenses prevented"), national_share_label(prevented)),
                (_("Crimes solved"), national_share_label(data.year_to_date[OutcomeCode.SOLVED])),
            )
            if share
        ]
    for note in notes:
        pdf.multi_cell(width, 4, note, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    _heading(pdf, _("Prevention work with residents"))
    prevention_labels = {
        "meetings": _("Meetings held"),
        "initiative_settlements": _("Villages with an initiative"),
        "crime_free_settlements": _("Initiative villages without crime"),
    }
    _table(
        pdf,
        [_("Measure"), _("This month")],
        [[_("Meetings held"), _number(data.meetings)], [_("Residents reached"), _number(data.residents)]],
        (120, 40),
    )
    _table(
        pdf,
        [_("Figure"), _("Year so far"), _("Target"), _("Percent of target")],
        [
            [
                prevention_labels[code],
                _number(value.count),
                _number(value.benchmark) if value.benchmark is not None else "—",
                _number(value.percent),
            ]
            for code, value in data.prevention_year.items()
        ],
        (80, 30, 30, 40),
    )

    _heading(pdf, _("By group"))
    _table(
        pdf,
        [
            _("Group"),
            _("Kind"),
            _("Volunteers"),
            _("Shifts"),
            _("Prevented"),
            _("Solved"),
            _("All verified"),
            _("Year so far: prevented / solved"),
        ],
        [
            [
                group.name,
                group.kind,
                _number(group.volunteers),
                _number(group.shifts),
                _number(group.counts.get(OutcomeCode.PREVENTED, 0)),
                _number(group.counts.get(OutcomeCode.SOLVED, 0)),
                _number(group.verified),
                f"{_number(group.year_to_date.get(OutcomeCode.PREVENTED, 0))} / "
                f"{_number(group.year_to_date.get(OutcomeCode.SOLVED, 0))}",
            ]
            for group in data.by_group
        ],
        (36, 24, 20, 22, 20, 18, 18, 22),
        size=7.5,
    )

    # The signatures stay together on one page.
    if pdf.get_y() > pdf.h - 18 - 44:
        pdf.add_page()
    pdf.ln(6)
    top = pdf.get_y()
    column = (width - 10) / 2
    _signature(pdf, pdf.l_margin, top, column, _("Squad commander"))
    _signature(pdf, pdf.l_margin + column + 10, top, column, _("District inspector"))
    return bytes(pdf.output())
