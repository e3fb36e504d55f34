"""The dashboard pages, their exports, the map and the monthly PDF, seen by the Almaty Region chief, Talgar's
inspector and a ministry analyst.

Talgar's volunteers file reports and the inspector verifies them through `services.reporting` (so the tallies are
kept); Abay District, in Karaganda Region, has its own. The chief reads the region with its districts against the
region's target and drills down to Talgar and its groups; nobody reads a figure outside their scope: the page, each
export, the map and the PDF answer 404.
"""

import csv
import datetime
import io
import re
import uuid

import openpyxl
import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from patrols.choices import AssignmentStatus, BenchmarkLevel, GroupKind
from patrols.clock import LOCAL_TZ
from patrols.models import Assignment, Benchmark, Category
from patrols.services import exports, figures, meetings, monthly_report, report_map
from patrols.services.tallies import tallies_rebuild
from tests.factories import (
    DistrictFactory,
    GroupFactory,
    MembershipFactory,
    SettlementFactory,
    ShiftFactory,
    UserFactory,
    VolunteerFactory,
    square,
)
from tests.support.pdf_text import pdf_text
from tests.support.reports import file_report, verified
from tests.test_csp import assert_strict

pytestmark = pytest.mark.django_db

THIS_YEAR = timezone.localdate(timezone=LOCAL_TZ).year
TABLES = list(exports.TABLES)


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def enbek(district, inspector):
    """A second district of Almaty Region, 80 km east of Talgar, with a Sarbaz group and one volunteer."""
    place = DistrictFactory(
        code="KZ-19-ENB",
        name_en="Enbekshikazakh District",
        name_ru="Енбекшиказахский район",
        name_kk="Еңбекшіқазақ ауданы",
        centre=Point(78.0, 43.6, srid=4326),
        boundary=square(78.0, 43.6),
    )
    inspector.inspector_districts.add(place)
    group = GroupFactory(name="Есік сарбаздары", district=place, kind=GroupKind.SARBAZ, inspector=inspector)
    person = VolunteerFactory(district=place, user=UserFactory(username="enbek_volunteer"))
    MembershipFactory(volunteer=person, group=group)
    return place


@pytest.fixture
def story(volunteer, other_volunteer, inspector, other_inspector, district, group):
    """Talgar: 3 prevented and 1 solved verified, 1 waiting; Abay (another region): 5 prevented verified."""
    Benchmark.objects.create(year=THIS_YEAR, level=BenchmarkLevel.NATIONAL, prevented_target=15000, solved_target=307)
    Benchmark.objects.create(
        year=THIS_YEAR, level=BenchmarkLevel.REGION, region=district.region, prevented_target=4, solved_target=2
    )
    for _ in range(3):
        verified(volunteer, inspector)
    verified(volunteer, inspector, outcome="solved", category="theft")
    file_report(volunteer)
    for _ in range(5):
        verified(other_volunteer, other_inspector)
    # And one village assembly in Belbulak, held yesterday with 70 residents.
    village = SettlementFactory(district=district, code="KZ-19-TAL-BEL", name_kk="Белбұлақ", name_en="Belbulak")
    meetings.meeting_record(
        by=inspector,
        client_uuid=uuid.uuid4(),
        settlement=village,
        held_at=timezone.now() - datetime.timedelta(hours=3),
        kind="village_assembly",
        status="held",
        residents=70,
    )


def test_the_dashboard_counts_the_meetings_with_residents_down_to_the_village(web, chief, inspector, story):
    region = web(chief).get(reverse("dashboard")).content.decode()
    assert headline(region, "meetings")["count"] == "1"
    assert row_of(region, "data-place", "KZ-19-TAL").count('data-value="1"') == 1
    district_page = web(inspector).get(reverse("dashboard"), {"district": "KZ-19-TAL"}).content.decode()
    assert "Белбұлақ" in row_of(district_page, "data-place", "KZ-19-TAL-BEL")
    rows = get_csv(web(chief), "prevention")
    assert [row[2] for row in rows[1:] if row[0] == "KZ-19-TAL"] == ["1"]


def headline(html: str, code: str) -> dict[str, str]:
    """The figures of one headline card, by their data-figure names, as the page shows them."""
    card = html.split(f'data-headline="{code}"', 1)[1].split("</article>", 1)[0]
    return dict(re.findall(r'data-figure="(\w+)">([^<]+)<', card))


def row_of(html: str, attribute: str, value: str) -> str:
    return html.split(f'{attribute}="{value}"', 1)[1].split("</tr>", 1)[0]


def get_csv(client, table: str, language: str = "en", **query) -> list[list[str]]:
    url = reverse("dashboard-export", kwargs={"table": table, "fmt": "csv"})
    response = client.get(url, query, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.content
    assert response.content.startswith(b"\xef\xbb\xbf"), "Excel needs the byte order mark to read UTF-8"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def get_xlsx(client, table: str, language: str = "en", **query) -> list[tuple]:
    url = reverse("dashboard-export", kwargs={"table": table, "fmt": "xlsx"})
    response = client.get(url, query, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, response.content
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return list(book.active.iter_rows(values_only=True))


# The page


def test_the_dashboard_is_where_the_contract_says():
    assert reverse("dashboard") == "/dashboard/"
    assert reverse("dashboard-export", kwargs={"table": "areas", "fmt": "csv"}) == "/dashboard/export/areas.csv"
    assert reverse("dashboard-monthly-pdf") == "/dashboard/monthly.pdf"
    assert reverse("api:dashboard-map") == "/api/v1/dashboard/map/"


def test_the_chief_reads_the_region_against_its_target(web, chief, story, district, english):
    response = web(chief).get("/dashboard/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Dashboard: Almaty Region" in html
    crumbs = html.split('class="dash-crumbs"')[1].split("</nav>")[0]
    assert "Kazakhstan" not in crumbs, "a chief has no national page to go up to"
    prevented = headline(html, "prevented")
    assert prevented["count"] == "3"
    assert prevented["benchmark"] == "4"
    assert prevented["percent"] == "75%"
    assert headline(html, "solved")["count"] == "1"
    assert "target for Almaty Region" in html
    elapsed = figures.year_elapsed(THIS_YEAR, timezone.localdate(timezone=LOCAL_TZ))
    assert f"At this pace the year ends at {round(3 / elapsed):,}." in html
    assert "pace" in prevented, "a region with its own target shows the pace"
    talgar = row_of(html, "data-code", district.code)
    assert f'href="/dashboard/?year={THIS_YEAR}&amp;district={district.code}"' in talgar
    assert 'data-value="3"' in talgar and 'data-value=""' in talgar, "Talgar has no target: no percent"
    assert 'data-value="0.0"' not in talgar
    public = row_of(html, "data-kind", GroupKind.PUBLIC_ASSISTANTS)
    assert 'data-value="3"' in public and 'data-value="1"' in public
    assert 'data-category="theft"' in html
    assert "1 report waits for verification." in html
    # The month chart is SVG drawn on the server, one column a month for this year and for last year.
    assert html.count('class="dash-col dash-col-now"') == 24 and html.count('class="dash-col dash-col-last"') == 24
    assert_strict(response)


def test_the_chief_never_sees_another_regions_names_or_figures(web, chief, story, english):
    html = web(chief).get("/dashboard/").content.decode()
    for word in ("Abay", "Абай", "Karaganda", "Қарағанды", "KZ-35"):
        assert word not in html
    for table in TABLES:
        for fmt in ("csv", "xlsx"):
            body = web(chief).get(reverse("dashboard-export", kwargs={"table": table, "fmt": fmt})).content
            text = body.decode("utf-8-sig") if fmt == "csv" else str(get_xlsx(web(chief), table))
            assert "Abay" not in text and "Абай" not in text and "KZ-35" not in text
    months = get_csv(web(chief), "months")
    assert sum(int(row[1]) for row in months[1:]) == 3, "Abay's five are not in the chief's months"


def test_the_analyst_drills_down_from_the_country_to_a_group(web, analyst, story, district, group, english):
    client = web(analyst)
    national = client.get("/dashboard/").content.decode()
    assert "Dashboard: Kazakhstan" in national
    assert headline(national, "prevented") == {
        "count": "8",
        "benchmark": "15,000",
        "percent": "0.1%",
        "pace": "behind the pace",
    }
    almaty = row_of(national, "data-code", "KZ-19")
    assert f'href="/dashboard/?year={THIS_YEAR}&amp;region=KZ-19"' in almaty

    region = client.get("/dashboard/", {"region": "KZ-19"}).content.decode()
    assert '<a href="/dashboard/?year=' in region.split('class="dash-crumbs"')[1].split("</nav>")[0]
    assert headline(region, "prevented")["count"] == "3"

    talgar = client.get("/dashboard/", {"district": district.code}).content.decode()
    assert "Dashboard: Talgar District" in talgar
    crumbs = talgar.split('class="dash-crumbs"')[1].split("</nav>")[0]
    assert "Kazakhstan" in crumbs and "Almaty Region" in crumbs
    row = row_of(talgar, "data-code", str(group.pk))
    assert f'href="/groups/{group.pk}/"' in row
    assert "Public assistants to the police" in row
    assert 'data-value="3"' in row


def test_the_inspector_sees_their_districts_and_the_queue(web, inspector, story, district, enbek, english):
    first = web(inspector).get("/dashboard/").content.decode()
    assert "Dashboard: Enbekshikazakh District" in first, "the first of the inspector's districts by code"
    assert headline(first, "prevented")["count"] == "0"
    switch = first.split('class="dash-switch"')[1].split("</nav>")[0]
    assert f'href="/dashboard/?year={THIS_YEAR}&amp;district={district.code}">Talgar District</a>' in switch

    html = web(inspector).get("/dashboard/", {"district": district.code}).content.decode()
    assert headline(html, "prevented")["count"] == "3"
    assert f'href="/verify/?district={district.code}"' in html
    assert "Almaty Region" not in html.split('class="dash-crumbs"')[1].split("</nav>")[0]


@pytest.mark.parametrize("persona", ["inspector", "chief", "analyst"])
def test_every_dashboard_keeps_to_the_content_security_policy(web, request, persona, story, district):
    client = web(request.getfixturevalue(persona))
    assert_strict(client.get("/dashboard/"))
    assert_strict(client.get("/dashboard/", {"district": district.code}))


def test_the_page_speaks_kazakh_by_default(web, chief, story, district):
    html = web(chief).get("/dashboard/", HTTP_ACCEPT_LANGUAGE="kk").content.decode()
    assert district.region.name_kk in html
    assert district.name_kk in html
    assert '<html lang="kk">' in html


def test_the_year_selector_offers_years_with_figures(web, analyst, story, english):
    Benchmark.objects.create(year=2023, level=BenchmarkLevel.NATIONAL, prevented_target=14000, solved_target=290)
    html = web(analyst).get("/dashboard/", {"year": 2023}).content.decode()
    options = re.findall(r'<option value="(\d{4})"( selected)?>', html.split('id="dash-year"')[1].split("</select>")[0])
    offered = {THIS_YEAR, 2023} | set(Benchmark.objects.values_list("year", flat=True))
    assert [int(year) for year, _selected in options] == sorted(offered, reverse=True)
    assert dict(options)["2023"] == " selected"
    assert headline(html, "prevented") == {
        "count": "0",
        "benchmark": "14,000",
        "percent": "0%",
        "pace": "behind the pace",
    }


def test_a_wrong_year_is_a_clear_error(web, chief, english):
    response = web(chief).get("/dashboard/", {"year": "былтыр"})
    assert response.status_code == 400
    assert "Give a year from 2000 to 2100." in response.content.decode()
    assert web(chief).get("/dashboard/monthly.pdf", {"year": "1999", "district": "KZ-19-TAL"}).status_code == 400
    assert web(chief).get("/dashboard/export/areas.csv", {"year": "3000"}).status_code == 400


def test_the_navigation_offers_the_dashboard_to_police_roles_only(web, chief, volunteer, english):
    assert 'href="/dashboard/"' in web(chief).get("/").content.decode()
    assert 'href="/dashboard/"' not in web(volunteer).get("/").content.decode()


def test_the_page_costs_the_same_few_queries_however_many_groups(
    web, chief, story, district, django_assert_max_num_queries
):
    client = web(chief)
    client.get("/dashboard/")
    with django_assert_max_num_queries(40) as few:
        client.get("/dashboard/", {"district": district.code})
    for _ in range(15):
        GroupFactory(district=district)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/dashboard/", {"district": district.code}).status_code == 200


# Scope: 404 for everything outside


OUT_OF_SCOPE = [
    ("chief", {"region": "KZ-35"}, "KZ-35-ABA"),
    ("chief", {"district": "KZ-35-ABA"}, "KZ-35-ABA"),
    ("chief", {"region": "KZ-99"}, "KZ-99-NOP"),
    ("inspector", {"region": "KZ-19"}, "KZ-35-ABA"),
    ("inspector", {"district": "KZ-35-ABA"}, "KZ-35-ABA"),
    ("other_inspector", {"district": "KZ-19-TAL"}, "KZ-19-TAL"),
    ("volunteer", {}, "KZ-19-TAL"),
    ("leader", {}, "KZ-19-TAL"),
]


@pytest.mark.parametrize(("persona", "query", "pdf_district"), OUT_OF_SCOPE)
def test_nothing_outside_the_scope_is_served(web, api, request, persona, query, pdf_district, story, leader):
    user = request.getfixturevalue(persona)
    client = web(user)
    assert client.get("/dashboard/", query).status_code == 404
    for table in TABLES:
        for fmt in exports.FORMATS:
            url = reverse("dashboard-export", kwargs={"table": table, "fmt": fmt})
            assert client.get(url, query).status_code == 404, url
    pdf_query = {"district": pdf_district, "year": THIS_YEAR, "month": 1}
    assert client.get("/dashboard/monthly.pdf", pdf_query).status_code == 404
    assert api(user).get("/api/v1/dashboard/map/", query).status_code == 404


def test_an_unknown_table_or_format_is_not_found(web, chief):
    assert web(chief).get("/dashboard/export/people.csv").status_code == 404
    assert web(chief).get("/dashboard/export/areas.pdf").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for url in ("/dashboard/", "/dashboard/export/areas.csv", "/dashboard/monthly.pdf"):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")


# Exports


def test_the_areas_table_parses_back_with_the_right_numbers(web, chief, story, district, english):
    client = web(chief)
    response = client.get("/dashboard/export/areas.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="dashboard-areas-KZ-19-{THIS_YEAR}.csv"'
    rows = get_csv(client, "areas")
    assert rows[0][:3] == ["Code", "District", "Offenses prevented"]
    talgar = next(row for row in rows if row[0] == district.code)
    # Talgar has no target of its own: no target, no percent; its share of the national one is labelled so.
    assert talgar[1:] == ["Talgar District", "3", "", "", "0.0", "1", "", "", "0.3"]

    sheet = get_xlsx(client, "areas")
    assert sheet[0] == tuple(rows[0])
    row = next(row for row in sheet if row[0] == district.code)
    assert (row[2], row[3], row[4], row[5], row[6]) == (3, None, None, 0.0, 1), "numbers stay numbers in the workbook"


def test_every_table_exports_in_both_formats_with_the_same_rows(web, analyst, story):
    client = web(analyst)
    for table in TABLES:
        rows = get_csv(client, table, district="KZ-19-TAL")
        sheet = get_xlsx(client, table, district="KZ-19-TAL")
        assert len(rows) == len(sheet) > 1
        assert [str(value) if value is not None else "" for value in sheet[1]] == rows[1]
        response = client.get(f"/dashboard/export/{table}.xlsx", {"district": "KZ-19-TAL"})
        assert f"dashboard-{table}-KZ-19-TAL-{THIS_YEAR}.xlsx" in response["Content-Disposition"]


def test_the_month_table_is_in_the_viewers_language(web, chief, story):
    rows = get_csv(web(chief), "months", language="ru")
    assert rows[1][0] == "Январь"
    month = timezone.localtime(timezone.now() - datetime.timedelta(hours=1), LOCAL_TZ).month
    assert int(rows[month][1]) == 3
    assert sum(int(row[1]) for row in rows[1:]) == 3


def test_kinds_categories_and_activity_add_up(web, chief, story):
    client = web(chief)
    kinds = {row[0]: row[1:] for row in get_csv(client, "group-kinds")[1:]}
    assert kinds["Public assistants to the police"] == ["3", "1"]
    assert kinds["Sarbaz"] == ["0", "0"]
    categories = get_csv(client, "categories")
    assert [row[1:] for row in categories[1:]] == [["3", "0", "3"], ["0", "1", "1"]]
    activity = dict(get_csv(client, "activity")[1:])
    assert activity["Reports waiting for verification"] == "1"


def test_a_name_that_looks_like_a_formula_stays_text(web, inspector, district, english):
    GroupFactory(name='=HYPERLINK("http://x")', district=district, inspector=inspector)
    rows = get_csv(web(inspector), "areas")
    assert ['\'=HYPERLINK("http://x")', "Public assistants to the police", "0", "0"] in rows
    response = web(inspector).get("/dashboard/export/areas.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cell = next(row[0] for row in sheet.iter_rows() if str(row[0].value).startswith("=HYPERLINK"))
    assert cell.data_type == "s"


# The map


def test_the_chief_maps_the_regions_verified_reports(api, chief, story, district):
    data = api(chief).get("/api/v1/dashboard/map/").json()
    assert data["kind"] == "points"
    assert data["total"] == 4 and len(data["points"]) == 4 and data["capped"] is False
    assert {point["outcome"] for point in data["points"]} == {"prevented", "solved"}
    assert data["outcomes"]["prevented"]
    point = data["points"][0]
    assert (point["lat"], point["lng"]) == (round(district.centre.y, 6), round(district.centre.x, 6))
    south, west, north, east = data["bounds"]
    assert south < district.centre.y < north and west < district.centre.x < east


def test_the_country_is_a_grid_of_counts(api, analyst, story):
    data = api(analyst).get("/api/v1/dashboard/map/", {"year": THIS_YEAR}).json()
    assert data["kind"] == "grid"
    assert data["points"] == []
    assert sorted(cell["count"] for cell in data["cells"]) == [4, 5]
    assert data["total"] == 9
    south, west, north, east = data["bounds"]
    assert 40 < south < 41.5 and 55 < north < 56 and 46 < west < 47.5 and 87 < east < 88, "Kazakhstan's extent"


def test_a_map_with_too_many_points_says_so(chief, story, district):
    area = figures.dashboard_area(chief, district=district.code)
    answer = report_map.report_map(area, THIS_YEAR, limit=2)
    assert answer.capped is True and answer.total == 4 and len(answer.points) == 2
    newest = sorted(answer.points, key=lambda point: point["id"], reverse=True)
    assert answer.points == newest


def test_the_map_costs_a_few_queries(api, chief, story, django_assert_max_num_queries):
    client = api(chief)
    with django_assert_max_num_queries(8):
        assert client.get("/api/v1/dashboard/map/").status_code == 200


# The monthly PDF


@pytest.fixture
def may(settings, volunteer, leader, inspector, district, group, zone):
    """May of last year in Talgar: two patrols held (one with a no-show), reports verified, a district target."""
    settings.REPORT_MAX_AGE_DAYS = 3650
    year = THIS_YEAR - 1
    Benchmark.objects.create(
        year=year, level=BenchmarkLevel.DISTRICT, district=district, prevented_target=12, solved_target=3
    )
    for day in (9, 23):
        start = datetime.datetime(year, 5, day, 20, 0, tzinfo=LOCAL_TZ)
        shift = ShiftFactory(zone=zone, inspector=inspector, groups=[group], starts_at=start)
        Assignment.objects.create(
            shift=shift,
            volunteer=volunteer.volunteer,
            status=AssignmentStatus.COMPLETED,
            check_in_at=start,
            check_out_at=start + datetime.timedelta(hours=3),
        )
        Assignment.objects.create(
            shift=shift,
            volunteer=leader.volunteer,
            status=AssignmentStatus.NO_SHOW if day == 9 else AssignmentStatus.COMPLETED,
            check_in_at=None if day == 9 else start,
            check_out_at=None if day == 9 else start + datetime.timedelta(hours=2),
        )
    ShiftFactory(zone=zone, inspector=inspector, starts_at=datetime.datetime(year, 5, 30, 20, tzinfo=LOCAL_TZ))
    when = datetime.datetime(year, 5, 9, 21, 30, tzinfo=LOCAL_TZ)
    verified(volunteer, inspector, when=when)
    verified(volunteer, inspector, when=when + datetime.timedelta(minutes=20), category="theft")
    verified(volunteer, inspector, when=when, outcome="solved", category="theft")
    verified(volunteer, inspector, when=when, outcome="assistance")
    verified(volunteer, inspector, when=datetime.datetime(year, 3, 2, 22, tzinfo=LOCAL_TZ))
    verified(volunteer, inspector, when=datetime.datetime(year, 6, 2, 22, tzinfo=LOCAL_TZ))
    # The patrols were written as rows, not through check-in and check-out: the recount keeps their minutes.
    tallies_rebuild()
    return year


def test_the_monthly_figures_of_a_district(may, district, group):
    month = monthly_report.monthly_figures(district, may, 5)

    assert (month.shifts_held, month.shifts_planned) == (2, 3)
    assert month.volunteers_active == 2
    assert month.patrol_hours == 8.0
    assert month.no_show_rate == 25.0
    outcomes = {row["code"]: row["count"] for row in month.by_outcome}
    assert outcomes == {"prevented": 2, "solved": 1, "handed_over": 0, "assistance": 1, "info": 0}
    assert month.verified == 4
    categories = {row["name"]: (row["prevented"], row["solved"], row["count"]) for row in month.by_category}
    assert categories[Category.objects.get(code="theft").name] == (1, 1, 2)
    # The year to the end of May: March's report too, not June's; May 31 is 151/365 of the way to 12.
    prevented = month.year_to_date["prevented"]
    assert (prevented.count, prevented.benchmark, prevented.benchmark_scope) == (3, 12, "district")
    assert prevented.expected_to_date == round(12 * 151 / 365) == 5
    assert prevented.pace == "behind"
    assert month.as_of == datetime.date(may, 5, 31)
    row = next(row for row in month.by_group if row.name == group.name)
    assert (row.volunteers, row.shifts, row.verified, row.year_to_date["prevented"]) == (2, 2, 4, 3)


def test_the_monthly_report_has_the_meetings_and_the_villages(may, district, inspector, settings):
    """Two village assemblies in May, one in April; a village that refused alcohol in April and registered no crime."""
    from django.utils import translation

    from patrols.models import InitiativeKind
    from patrols.services import crime_counts, initiatives

    settings.MEETING_MAX_AGE_DAYS = 3650
    village = SettlementFactory(district=district)
    for day, month, residents in ((6, 4, 90), (12, 5, 40), (26, 5, 25)):
        meetings.meeting_record(
            by=inspector,
            client_uuid=uuid.uuid4(),
            settlement=village,
            held_at=datetime.datetime(may, month, day, 11, tzinfo=LOCAL_TZ),
            kind="village_assembly",
            status="held",
            residents=residents,
        )
    refusal = InitiativeKind.objects.get(code="alcohol_refusal")
    initiatives.initiative_record(by=inspector, settlement=village, kind=refusal, adopted_on=datetime.date(may, 4, 6))
    for month in range(1, 6):
        crime_counts.crime_count_record(
            by=inspector, settlement=village, month=datetime.date(may, month, 1), registered=0
        )
    data = monthly_report.monthly_figures(district, may, 5)
    assert (data.meetings, data.residents) == (2, 65)
    year = {code: figure.count for code, figure in data.prevention_year.items()}
    assert year == {"meetings": 3, "initiative_settlements": 1, "crime_free_settlements": 1}
    with translation.override("ru"):
        text = " ".join(pdf_text(monthly_report.monthly_report_pdf(data, compress=False)).split())
    assert "Профилактическая работа с жителями" in text


def test_the_monthly_pdf_reads_in_the_viewers_language(may, district, group, settings):
    from django.utils import translation

    with translation.override("kk"):
        data = monthly_report.monthly_figures(district, may, 5)
        document = monthly_report.monthly_report_pdf(data, compress=False)
    assert document.startswith(b"%PDF-")
    text = pdf_text(document)
    assert "Талғар ауданы" in text, "Kazakh letters (ғ) come through the font"
    assert group.name in " ".join(text.split()), "a long name wraps in its cell"
    assert "Мамыр" in text, "May, in Kazakh, from Django's catalogue"
    assert district.region.name_kk in text


# Every table header of the monthly PDF; the long words of some («көрсеткіштің», «Выполнение») are wider than
# the column first planned for them.
MONTHLY_HEADERS = (
    "Measure",
    "This month",
    "Outcome",
    "Reports",
    "Category",
    "Offenses prevented",
    "Crimes solved",
    "All",
    "Figure",
    "Verified",
    "Target",
    "Percent of target",
    "Expected by now",
    "Pace",
    "Year so far",
    "Group",
    "Kind",
    "Volunteers",
    "Shifts",
    "Prevented",
    "Solved",
    "All verified",
    "Year so far: prevented / solved",
)


@pytest.mark.parametrize(("language", "long_word"), [("kk", "көрсеткіштің"), ("ru", "Выполнение")])
def broken_words(text: str, phrases: list[str]) -> list[str]:
    """The words of `phrases` that a PDF's text shows cut in two: a cell's lines come out one per line, so a word
    broken in its cell reads "Выполнен" then "ие"."""
    return [
        word
        for phrase in phrases
        for word in phrase.split()
        for cut in range(1, len(word))
        if re.search(rf"(^|\s){re.escape(word[:cut])}\n+{re.escape(word[cut:])}(\s|$)", text)
    ]


@pytest.mark.parametrize(("language", "long_word"), [("kk", "көрсеткіштің"), ("ru", "Выполнение")])
def test_the_monthly_pdf_breaks_no_word_of_its_headers(may, district, group, language, long_word):
    from django.utils import translation

    with translation.override(language):
        data = monthly_report.monthly_figures(district, may, 5)
        text = pdf_text(monthly_report.monthly_report_pdf(data, compress=False))
        headers = [gettext(header) for header in MONTHLY_HEADERS]
    assert any(long_word in header.split() for header in headers)
    assert not broken_words(text, headers), "a header breaks only between words"
    # The room for them comes from the widest columns: the group's name in the first one keeps its words whole too.
    assert group.name in " ".join(text.split())
    assert not broken_words(text, [group.name])


def test_the_inspector_and_the_chief_download_the_monthly_pdf(web, may, inspector, chief, analyst, district):
    query = {"district": district.code, "year": may, "month": 5}
    for user in (inspector, chief, analyst):
        response = web(user).get("/dashboard/monthly.pdf", query)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-") and len(response.content) > 5000
        assert f'filename="monthly-report-{district.code}-{may}-05.pdf"' in response["Content-Disposition"]


def test_the_monthly_pdf_has_signature_places(may, district):
    from django.utils import translation

    with translation.override("en"):
        data = monthly_report.monthly_figures(district, may, 5)
        text = pdf_text(monthly_report.monthly_report_pdf(data, compress=False))
    for words in ("Squad commander", "District inspector", "Full name", "Signature", "Date", "May", str(may)):
        assert words in text
    assert "Talgar District" in text


def test_the_monthly_pdf_needs_a_district_and_a_real_month(web, chief, district, english):
    response = web(chief).get("/dashboard/monthly.pdf")
    assert response.status_code == 400
    assert "Choose the district of the monthly report." in response.content.decode()
    response = web(chief).get("/dashboard/monthly.pdf", {"district": district.code, "month": "13"})
    assert response.status_code == 400
    assert "Give a month from 1 to 12." in response.content.decode()
