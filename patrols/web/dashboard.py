"""The dashboard (`/dashboard/`), its exports (CSV, XLSX) and the monthly district report (PDF).

Every number comes from the figures services, for the area that `figures.dashboard_area` allows the viewer (out of
scope, or not a police role: 404). This module only shapes them for the page: bars, the month chart as server-drawn
SVG (no script, no inline style: the page runs under `style-src 'self'; script-src 'self'`), links to drill down.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS, MONTHS_3
from django.utils.http import content_disposition_header, urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET

from ..choices import BenchmarkLevel, CrimeStatus, GroupKind, OutcomeCode, Role
from ..clock import LOCAL_TZ
from ..models import District, Group, Region
from ..scope import districts_in_scope, role_of
from ..services import exports, figures, monthly_report, targets
from .forms import saved

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class BadInput(ValueError):
    """A query parameter that is not what the page needs; the message is translated and shown with a 400."""


def _bad_request(request, message: str) -> HttpResponse:
    return render(request, "dashboard/bad_request.html", {"message": message}, status=400)


def _area(request) -> figures.Area:
    try:
        return figures.dashboard_area(
            request.user, region=request.GET.get("region") or None, district=request.GET.get("district") or None
        )
    except figures.NotInScope as missing:
        raise Http404 from missing


def _number(value: str | None, *, low: int, high: int, default: int, message: str) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise BadInput(message)
    return number


def _year(request) -> int:
    try:
        return figures.dashboard_year(request.GET.get("year"))
    except ValidationError as error:
        raise BadInput(" ".join(error.messages)) from None


def _link(name: str, year: int, area: figures.Area | None = None, **query: str) -> str:
    params = {"year": year, **(area.query() if area else {}), **query}
    return f"{reverse(name)}?{urlencode(params)}"


# Shapes for the page


def _share(value: float, whole: float) -> str:
    """`value` as a percentage of `whole` for an SVG width, clamped to 0..100, with a dot whatever the language."""
    if not whole:
        return "0"
    return f"{max(0.0, min(100.0, 100 * value / whole)):.1f}"


@dataclass
class Card:
    """A headline card: the figure, whose target it is measured against, and the bar to draw."""

    code: str
    label: str
    figure: figures.Figure
    target: str
    no_target: str
    national_share: str
    pace: str
    done: str
    expected: str | None


def _card(code: str, label: str, figure: figures.Figure, area: figures.Area) -> Card:
    whole = figure.benchmark or 0
    return Card(
        code=code,
        label=label,
        figure=figure,
        target=exports.benchmark_label(figure.benchmark_scope, area),
        no_target=exports.no_target_label(area),
        national_share=exports.national_share_label(figure),
        pace=exports.pace_label(figure.pace),
        done=_share(figure.count, whole),
        expected=_share(figure.expected_to_date, whole) if figure.expected_to_date is not None and whole else None,
    )


def _prevention_rows(year: int, area: figures.Area, totals: figures.Totals) -> list[dict]:
    """The prevention work by region or district (with drill-down links), or a district's settlements."""
    if area.level == BenchmarkLevel.DISTRICT:
        return [
            {
                **row,
                "url": reverse("village-detail", args=[row["code"]]),
                "status": CrimeStatus(row["crime_status"]).label,
            }
            for row in totals.by_settlement
        ]
    rows = []
    for row in totals.by_area:
        key = "region" if row["level"] == BenchmarkLevel.REGION else "district"
        rows.append({**row, "url": _link("dashboard", year, **{key: row["code"]})})
    return rows


def _area_rows(user, year: int, area: figures.Area, rows: list[dict]) -> list[dict]:
    """The breakdown by area with drill-down links and bars.

    Every region row of the national page and every district row of a region's page may be opened by whoever may
    open the page itself (only national roles see the country; a chief's region holds the chief's districts), so the
    links need no check per row. Groups link to their page when the viewer may open it.
    """
    top = {code: max([row[code] for row in rows] + [0]) for code in figures.HEADLINE}
    groups = set()
    if area.level == BenchmarkLevel.DISTRICT:
        ids = [int(row["code"]) for row in rows if row["code"]]
        groups = {str(pk) for pk in Group.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True)}
    shaped = []
    for row in rows:
        url = None
        if row["level"] == BenchmarkLevel.REGION:
            url = _link("dashboard", year, region=row["code"])
        elif row["level"] == BenchmarkLevel.DISTRICT:
            url = _link("dashboard", year, district=row["code"])
        elif row["code"] in groups:
            url = reverse("group-detail", args=[int(row["code"])])
        shaped.append(
            {
                **row,
                "kind_name": str(GroupKind(row["kind"]).label) if row.get("kind") in GroupKind.values else "",
                "url": url,
                "bars": {code: _share(row[code], top[code]) for code in figures.HEADLINE},
            }
        )
    return shaped


def _kind_rows(rows: list[dict]) -> list[dict]:
    top = {code: max([row[code] for row in rows] + [0]) for code in figures.HEADLINE}
    return [{**row, "bars": {code: _share(row[code], top[code]) for code in figures.HEADLINE}} for row in rows]


def _category_rows(rows: list[dict]) -> list[dict]:
    top = max([row["verified"] for row in rows] + [0])
    return [{**row, "bar": _share(row["verified"], top)} for row in rows]


def _nice_top(value: int) -> int:
    """The chart's top: the smallest of 1, 2, 4, then 1, 2, 2.5, 5 × 10ⁿ, that holds the value."""
    for small in (1, 2, 4):
        if value <= small:
            return small
    scale = 10 ** (len(str(value)) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * scale:
            return int(step * scale)
    return value


CHART_WIDTH, CHART_HEIGHT = 360, 190
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 40, 6, 10, 22


def month_chart(rows: list[dict], code: str, year: int) -> dict:
    """Bars for this year and last year, month by month, as SVG geometry (strings with dots, for attributes)."""
    now_key, last_key = code, f"{code}_last_year"
    top = _nice_top(max([row[now_key] for row in rows] + [row[last_key] for row in rows] + [0]))
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    slot = (CHART_WIDTH - CHART_LEFT - CHART_RIGHT) / 12
    bar = slot * 0.36
    base = CHART_TOP + plot_height

    def height(value: int) -> float:
        return plot_height * value / top

    months = []
    for index, row in enumerate(rows):
        left = CHART_LEFT + index * slot + slot * 0.12
        name = capfirst(str(MONTHS[row["month"]]))
        bars = []
        for key, css, offset, which in (
            (last_key, "last", 0.0, year - 1),
            (now_key, "now", bar, year),
        ):
            value = row[key]
            bars.append(
                {
                    "css": css,
                    "x": f"{left + offset:.1f}",
                    "y": f"{base - height(value):.1f}",
                    "width": f"{bar:.1f}",
                    "height": f"{height(value):.1f}",
                    "title": f"{name} {which}: {value}",
                }
            )
        months.append(
            {
                "label": capfirst(str(MONTHS_3[row["month"]])),
                "label_x": f"{CHART_LEFT + index * slot + slot / 2:.1f}",
                "bars": bars,
            }
        )
    # A line at the middle only where it falls on a whole number.
    levels = [0, top // 2, top] if top % 2 == 0 else [0, top]
    ticks = [{"value": value, "y": f"{base - height(value):.1f}"} for value in levels]
    return {
        "code": code,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "right": CHART_WIDTH - CHART_RIGHT,
        "label_y": CHART_HEIGHT - 6,
        "tick_x": CHART_LEFT - 6,
        "months": months,
        "ticks": ticks,
    }


def _crumbs(user, year: int, area: figures.Area) -> list[dict]:
    chain = [area]
    while chain[-1].parent is not None:
        chain.append(chain[-1].parent)
    crumbs = []
    for step in reversed(chain[1:]):
        if figures.may_open(user, step):
            crumbs.append({"name": step.name, "url": _link("dashboard", year, step)})
    crumbs.append({"name": area.name, "url": None})
    return crumbs


def _default_month(year: int) -> int:
    """The month a monthly report is usually asked for: the last one that has ended (or January)."""
    today = timezone.localdate(timezone=LOCAL_TZ)
    if year < today.year:
        return 12
    if year > today.year:
        return 1
    return max(1, today.month - 1)


def _report_districts(area: figures.Area):
    if area.district:
        return [area.district]
    if area.region:
        return list(District.objects.filter(region=area.region).order_by("code"))
    return []


def _exports(year: int, area: figures.Area) -> dict[str, dict[str, str]]:
    query = urlencode({"year": year, **area.query()})
    # Keyed with underscores so that templates can name them (export_links.group_kinds.csv).
    return {
        table.replace("-", "_"): {
            fmt: f"{reverse('dashboard-export', kwargs={'table': table, 'fmt': fmt})}?{query}"
            for fmt in exports.FORMATS
        }
        for table in exports.TABLES
    }


def home_figures(user) -> dict | None:
    """The headline figures of the viewer's own area this year against its targets, with its areas' rows, for the
    chief's (and the analyst's) home page; None for whoever sees no figures."""
    try:
        area = figures.dashboard_area(user)
    except figures.NotInScope:
        return None
    year = timezone.localdate(timezone=LOCAL_TZ).year
    totals = figures.dashboard_totals(area, year)
    return {
        "area": area,
        "year": year,
        "cards": [
            _card(OutcomeCode.PREVENTED, _("Offenses prevented"), totals.prevented, area),
            _card(OutcomeCode.SOLVED, _("Crimes solved"), totals.solved, area),
        ],
        "by_area": _area_rows(user, year, area, totals.by_area),
        "url": _link("dashboard", year, area),
    }


@login_required
@require_GET
def dashboard(request) -> HttpResponse:
    """Verified totals against the benchmarks, the breakdowns, the map and activity for one area and year."""
    user = request.user
    area = _area(request)
    try:
        year = _year(request)
    except BadInput as error:
        return _bad_request(request, str(error))
    totals = figures.dashboard_totals(area, year)
    activity = figures.dashboard_activity(area, year)
    years = figures.dashboard_years()
    if year not in years:
        years = sorted([*years, year], reverse=True)
    role = role_of(user)
    inspector_districts = []
    if role == Role.INSPECTOR:
        inspector_districts = [
            {"name": d.name, "url": _link("dashboard", year, district=d.code), "current": d == area.district}
            for d in districts_in_scope(user).select_related("region").order_by("code")
        ]
    verify_url = reverse("verify-queue")
    if area.district:
        verify_url += f"?{urlencode({'district': area.district.code})}"
    context = {
        "area": area,
        "year": year,
        "years": years,
        "totals": totals,
        "cards": [
            _card(OutcomeCode.PREVENTED, _("Offenses prevented"), totals.prevented, area),
            _card(OutcomeCode.SOLVED, _("Crimes solved"), totals.solved, area),
        ],
        "prevention_cards": [
            _card("meetings", _("Meetings with residents"), totals.meetings, area),
            _card("initiative_settlements", _("Villages with an initiative"), totals.initiative_settlements, area),
            _card(
                "crime_free_settlements", _("Initiative villages without crime"), totals.crime_free_settlements, area
            ),
        ],
        "residents": totals.residents,
        "prevention_rows": _prevention_rows(year, area, totals),
        "by_area": _area_rows(user, year, area, totals.by_area),
        "targets_check": exports.targets_check_lines(totals.targets_check),
        "can_set_targets": role == Role.ADMIN,
        "by_kind": _kind_rows(totals.by_group_kind),
        "by_category": _category_rows(figures.by_category(area, year)),
        "charts": [
            {"title": _("Offenses prevented by month"), **month_chart(totals.by_month, OutcomeCode.PREVENTED, year)},
            {"title": _("Crimes solved by month"), **month_chart(totals.by_month, OutcomeCode.SOLVED, year)},
        ],
        "by_month": [{**row, "name": capfirst(str(MONTHS[row["month"]]))} for row in totals.by_month],
        "activity": activity,
        "crumbs": _crumbs(user, year, area),
        "inspector_districts": inspector_districts if len(inspector_districts) > 1 else [],
        "export_links": _exports(year, area),
        "report_export_url": _link("report-export-new", year, area),
        "map_url": f"{reverse('api:dashboard-map')}?{urlencode({'year': year, **area.query()})}",
        "verify_url": verify_url,
        "report_districts": _report_districts(area),
        "months": [(number, capfirst(str(MONTHS[number]))) for number in range(1, 13)],
        "default_month": _default_month(year),
    }
    return render(request, "dashboard/dashboard.html", context)


@login_required
@require_GET
def dashboard_export(request, table: str, fmt: str) -> HttpResponse:
    """One of the dashboard's tables as CSV (UTF-8 with a BOM) or XLSX, for the same area and year."""
    area = _area(request)
    if table not in exports.TABLES or fmt not in exports.FORMATS:
        raise Http404
    try:
        year = _year(request)
    except BadInput as error:
        return _bad_request(request, str(error))
    data = exports.dashboard_table(table, area, year)
    if fmt == "csv":
        response = HttpResponse(exports.table_csv(data), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(exports.table_xlsx(data), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, exports.table_filename(data, area, year, fmt))
    return response


@login_required
@require_GET
def monthly_pdf(request) -> HttpResponse:
    """The monthly activity report of one district as a PDF: its inspectors, its region's chief, analysts, admins."""
    area = _area(request)
    if area.district is None:
        return _bad_request(request, _("Choose the district of the monthly report."))
    try:
        year = _year(request)
        month = _number(
            request.GET.get("month"),
            low=1,
            high=12,
            default=_default_month(year),
            message=_("Give a month from 1 to 12."),
        )
    except BadInput as error:
        return _bad_request(request, str(error))
    data = monthly_report.monthly_figures(area.district, year, month)
    response = HttpResponse(monthly_report.monthly_report_pdf(data), content_type="application/pdf")
    filename = f"monthly-report-{area.district.code}-{year}-{month:02d}.pdf"
    response["Content-Disposition"] = content_disposition_header(False, filename)
    return response


# The year's targets (administrators)


# The targets an administrator sets per area, in the order of the page's columns (TargetPair's fields).
TARGET_COLUMNS = (
    ("prevented", gettext_lazy("Offenses prevented")),
    ("solved", gettext_lazy("Crimes solved")),
    ("meetings", gettext_lazy("Meetings with residents")),
    ("initiative", gettext_lazy("Villages with an initiative")),
    ("crime_free", gettext_lazy("Initiative villages without crime")),
)


class YearTargetsForm(forms.Form):
    """The national target and one pair of targets per region; both empty means "no target"."""

    def __init__(self, *args, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.regions = list(regions)
        self.rows = [("national", _("Kazakhstan"))] + [(str(region.pk), region.name) for region in self.regions]
        for prefix, name in self.rows:
            for code, label in TARGET_COLUMNS:
                self.fields[f"{prefix}_{code}"] = forms.IntegerField(
                    label=f"{name}: {label}", required=False, min_value=0, max_value=10_000_000
                )

    def pairs(self) -> tuple[targets.TargetPair, dict[int, targets.TargetPair]]:
        data = self.cleaned_data

        def pair(prefix: str) -> targets.TargetPair:
            return targets.TargetPair(*(data.get(f"{prefix}_{code}") for code, _label in TARGET_COLUMNS))

        return pair("national"), {region.pk: pair(str(region.pk)) for region in self.regions}

    def table(self) -> list[dict]:
        return [
            {"name": name, "fields": [self[f"{prefix}_{code}"] for code, _label in TARGET_COLUMNS]}
            for prefix, name in self.rows
        ]


def _initial(national: targets.TargetPair, regions: dict[int, targets.TargetPair]) -> dict:
    initial = {}
    for prefix, pair in (("national", national), *((str(pk), pair) for pk, pair in regions.items())):
        for code, _label in TARGET_COLUMNS:
            initial[f"{prefix}_{code}"] = getattr(pair, code)
    return initial


@login_required
def dashboard_targets(request) -> HttpResponse:
    """One page for the year's national target and every region's, with whether the regions add up."""
    if role_of(request.user) != Role.ADMIN:
        raise Http404
    try:
        year = _year(request)
    except BadInput as error:
        return _bad_request(request, str(error))
    regions = Region.objects.only("pk", "code", "name_kk", "name_ru", "name_en").order_by("code")
    national, by_region = targets.year_targets(year)
    form = YearTargetsForm(request.POST or None, regions=regions, initial=_initial(national, by_region))

    def save(data: dict) -> int:
        national_pair, region_pairs = form.pairs()
        return targets.year_targets_set(year=year, by=request.user, national=national_pair, regions=region_pairs)

    changed = saved(form, save)
    if changed is not None:
        messages.success(
            request,
            ngettext("%(count)d target was saved.", "%(count)d targets were saved.", changed) % {"count": changed},
        )
        return redirect(_link("dashboard-targets", year))
    totals = figures.dashboard_totals(figures.Area(BenchmarkLevel.NATIONAL), year)
    return render(
        request,
        "dashboard/targets.html",
        {
            "form": form,
            "year": year,
            "years": sorted({*figures.dashboard_years(), year, year + 1}, reverse=True),
            "check": exports.targets_check_lines(totals.targets_check),
            "sums": totals.targets_check,
            "dashboard_url": _link("dashboard", year),
        },
    )
