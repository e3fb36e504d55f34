"""The inspector's verification queue and the report page: Talgar's pending reports, oldest first, with their flags;
decisions through the page, each one in the history; chiefs read but do not decide; out of scope is 404."""

import datetime
import io
import re
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import resolve, reverse
from django.utils import timezone
from PIL import Image

from patrols.models import Category, Outcome, Report
from patrols.services import attendance, reporting, scheduling
from patrols.web import reports as report_pages
from patrols.web import verify
from tests.factories import ShiftFactory, square

pytestmark = pytest.mark.django_db

QUEUE = "/verify/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"
    return client


def file_report(user, *, minutes_ago: int = 5, point=None, **extra) -> Report:
    centre = user.volunteer.district.centre
    data = {
        "by": user,
        "client_uuid": uuid.uuid4(),
        "occurred_at": timezone.now() - datetime.timedelta(minutes=minutes_ago),
        "point": point or Point(centre.x, centre.y, srid=4326),
        "category": Category.objects.get(code="petty_hooliganism"),
        "outcome": Outcome.objects.get(code="prevented"),
        "description": "Екі жасөспірім дүкен алдында төбелескен, ажыратып жібердік.",
    }
    data.update(extra)
    report, _created = reporting.report_submit(**data)
    return report


def jpeg() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 60, 30)).save(out, format="JPEG")
    return SimpleUploadedFile("street.jpg", out.getvalue(), content_type="image/jpeg")


def html_of(response) -> str:
    return response.content.decode()


def act(client, report: Report, **data):
    return client.post(reverse("report-action", args=[report.pk]), data)


def test_the_urls_are_where_the_contract_says():
    assert reverse("verify-queue") == QUEUE
    assert reverse("report-detail", args=[7]) == "/reports/7/"
    assert reverse("report-action", args=[7]) == "/reports/7/action/"
    assert resolve("/reports/7/").func is verify.report_detail
    assert resolve("/reports/new/").func is report_pages.report_new


def test_the_queue_is_oldest_first_and_only_the_inspectors_districts(web, inspector, volunteer, other_volunteer):
    older = file_report(volunteer, minutes_ago=50)
    newer = file_report(volunteer, minutes_ago=10)
    theirs = file_report(other_volunteer)
    page = web(inspector).get(QUEUE)
    assert page.status_code == 200
    assert [r.pk for r in page.context["reports"]] == [older.pk, newer.pk]
    html = html_of(page)
    assert html.index(f'value="{older.pk}"') < html.index(f'value="{newer.pk}"')
    assert f"/reports/{theirs.pk}/" not in html


def test_the_queue_shows_only_waiting_reports_and_filters_them(web, inspector, volunteer):
    flagged = file_report(volunteer)
    decided = file_report(volunteer)
    reporting.report_verify(report=decided, by=inspector)
    other_kind = file_report(volunteer, category=Category.objects.get(code="littering"))
    client = web(inspector)
    assert [r.pk for r in client.get(QUEUE).context["reports"]] == [flagged.pk, other_kind.pk]
    narrowed = client.get(QUEUE, {"category": "littering"}).context["reports"]
    assert [r.pk for r in narrowed] == [other_kind.pk]


def test_the_flagged_filter_leaves_out_clean_reports(web, english, inspector, volunteer, zone, group):
    shift = ShiftFactory(
        zone=zone,
        inspector=inspector,
        groups=[group],
        starts_at=timezone.now() + datetime.timedelta(minutes=10),
        ends_at=timezone.now() + datetime.timedelta(hours=4),
    )
    assignment = scheduling.shift_signup(shift=shift, volunteer=volunteer.volunteer, by=volunteer)
    centre = zone.geometry.centroid
    attendance.shift_check_in(assignment=assignment, by=volunteer, point=centre)
    clean = file_report(volunteer, minutes_ago=0, point=centre)
    far = Point(centre.x + 0.05, centre.y, srid=4326)
    flagged = file_report(volunteer, minutes_ago=0, point=far)
    assert clean.flags == [] and flagged.flags[0]["code"] == "outside_zone"
    client = web(inspector)
    assert {r.pk for r in client.get(QUEUE).context["reports"]} == {clean.pk, flagged.pk}
    page = client.get(QUEUE, {"flagged": "on"})
    assert [r.pk for r in page.context["reports"]] == [flagged.pk]
    # Above a kilometre the distance reads in km, with one decimal below ten.
    km = f"{flagged.flags[0]['distance_m'] / 1000:.1f}"
    assert f"Outside the shift&#x27;s zone</strong>: {km} km from the shift&#x27;s zone" in html_of(page)
    assert f"shift in {zone.name}" in html_of(page)


def test_an_inspector_of_several_districts_filters_by_district(web, inspector, volunteer, neighbour_district):
    centre = Point(neighbour_district.centre.x + 1, neighbour_district.centre.y, srid=4326)
    neighbour_district.centre, neighbour_district.boundary = centre, square(centre.x, centre.y)
    neighbour_district.save()
    inspector.inspector_districts.add(neighbour_district)
    ours = file_report(volunteer, minutes_ago=120)
    neighbours = file_report(volunteer, point=centre)
    assert neighbours.district == neighbour_district
    client = web(inspector)
    page = client.get(QUEUE)
    assert page.context["show_district_filter"] is True
    assert [r.pk for r in client.get(QUEUE, {"district": ours.district.code}).context["reports"]] == [ours.pk]
    only_neighbours = client.get(QUEUE, {"district": neighbours.district.code}).context["reports"]
    assert [r.pk for r in only_neighbours] == [neighbours.pk]


def test_flags_are_shown_with_their_labels_and_details(web, english, inspector, volunteer, leader, district):
    first = file_report(volunteer, minutes_ago=40)
    near = Point(first.location.x + 0.001, first.location.y, srid=4326)
    twin = file_report(leader, minutes_ago=39, point=near)
    # 64 km east 20 minutes after the first report: an implausible journey.
    far = Point(district.centre.x + 0.8, district.centre.y, srid=4326)
    quick = file_report(volunteer, minutes_ago=20, point=far)
    html = html_of(web(inspector).get(QUEUE))
    assert "Filed outside any shift of the reporter" in html
    assert "Likely duplicate of another volunteer&#x27;s report" in html
    assert f'href="/reports/{first.pk}/"' in html
    assert "Implausible travel speed from the reporter&#x27;s previous position" in html
    speed = next(flag for flag in quick.flags if flag["code"] == "too_fast")
    assert f"{speed['km']} km in {speed['minutes']} min" in html
    detail = html_of(web(inspector).get(reverse("report-detail", args=[twin.pk])))
    assert f"Mark as duplicate of No. {first.pk}" in detail


def test_the_queue_has_a_map_of_the_same_reports(web, inspector, volunteer):
    report = file_report(volunteer)
    page = web(inspector).get(QUEUE)
    features = page.context["geojson"]["features"]
    assert [f["properties"]["url"].split("?")[0] for f in features] == [f"/reports/{report.pk}/"]
    html = html_of(page)
    assert 'id="verify-geojson"' in html
    assert "leaflet/leaflet" in html
    # CSP-ready: scripts are files or JSON data, never inline code.
    for tag in re.findall(r"<script[^>]*>", html):
        assert " src=" in tag or 'type="application/json"' in tag, tag


def test_a_volunteer_and_a_leader_have_no_queue(web, volunteer, leader):
    assert web(volunteer).get(QUEUE).status_code == 403
    assert web(leader).get(QUEUE).status_code == 403


@pytest.mark.parametrize("persona", ["inspector", "volunteer", "leader"])
def test_another_districts_report_is_not_found(request, web, persona, other_volunteer):
    theirs = file_report(other_volunteer)
    client = web(request.getfixturevalue(persona))
    assert client.get(reverse("report-detail", args=[theirs.pk])).status_code == 404
    assert act(client, theirs, action="verify").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "submitted"


def test_the_inspector_verifies_from_the_queue_and_returns_to_it(web, english, inspector, volunteer):
    report = file_report(volunteer)
    client = web(inspector)
    detail = client.get(reverse("report-detail", args=[report.pk]), {"next": "/verify/?page=1"})
    assert 'name="next" value="/verify/?page=1"' in html_of(detail)
    response = act(client, report, action="verify", next="/verify/?page=1")
    assert response.status_code == 302
    assert response["Location"] == "/verify/?page=1"
    report.refresh_from_db()
    assert (report.status, report.verified_by) == ("verified", inspector)
    html = html_of(client.get(reverse("report-detail", args=[report.pk])))
    assert "Waiting for verification → Verified" in html
    assert inspector.get_full_name() in html


def test_a_foreign_next_address_is_ignored(web, inspector, volunteer):
    report = file_report(volunteer)
    response = act(web(inspector), report, action="verify", next="https://evil.example/")
    assert response["Location"] == reverse("report-detail", args=[report.pk])


def test_reject_ask_and_mark_duplicate_through_the_page_are_all_in_the_history(
    web, english, inspector, volunteer, leader
):
    asked = file_report(volunteer, minutes_ago=30)
    rejected = file_report(volunteer, minutes_ago=20)
    original = file_report(volunteer, minutes_ago=10)
    twin = file_report(leader, minutes_ago=10)
    client = web(inspector)
    assert act(client, asked, action="request_info", question="Қай дүкен?").status_code == 302
    assert act(client, rejected, action="reject", reason="Оқиға расталмады").status_code == 302
    assert act(client, twin, action="duplicate", original=str(original.pk)).status_code == 302
    statuses = dict(Report.objects.values_list("pk", "status"))
    assert (statuses[asked.pk], statuses[rejected.pk], statuses[twin.pk]) == ("needs_info", "rejected", "rejected")
    assert Report.objects.get(pk=twin.pk).duplicate_of_id == original.pk

    asked_page = html_of(client.get(reverse("report-detail", args=[asked.pk])))
    assert "More information asked" in asked_page and "Қай дүкен?" in asked_page
    rejected_page = html_of(client.get(reverse("report-detail", args=[rejected.pk])))
    assert "Waiting for verification → Rejected" in rejected_page and "Оқиға расталмады" in rejected_page
    twin_page = html_of(client.get(reverse("report-detail", args=[twin.pk])))
    assert "Marked as a duplicate" in twin_page
    assert f'href="/reports/{original.pk}/"' in twin_page


def test_the_reporter_reads_the_question_but_not_the_history(web, english, inspector, volunteer):
    report = file_report(volunteer)
    reporting.report_request_info(report=report, by=inspector, question="Қай дүкен?")
    page = web(volunteer).get(reverse("report-detail", args=[report.pk]))
    html = html_of(page)
    assert "More information needed" in html
    assert "Қай дүкен?" in html
    assert page.context["history"] is None
    assert reverse("report-answer", args=[report.pk]) in html
    assert 'action="/reports/' + str(report.pk) + '/action/"' not in html


def test_a_rejection_without_a_reason_shows_an_error_and_changes_nothing(web, english, inspector, volunteer):
    report = file_report(volunteer)
    page = act(web(inspector), report, action="reject", reason="   ", next="/verify/")
    assert page.status_code == 200
    assert "Say why the report is rejected" in html_of(page)
    report.refresh_from_db()
    assert report.status == "submitted"
    assert report.events.count() == 1


def test_a_duplicate_of_an_unknown_or_foreign_report_is_refused(web, english, inspector, volunteer, other_volunteer):
    report = file_report(volunteer)
    theirs = file_report(other_volunteer)
    client = web(inspector)
    for number in ("", str(theirs.pk), str(report.pk), "abc"):
        page = act(client, report, action="duplicate", original=number)
        assert page.status_code == 200
        assert 'class="error"' in html_of(page)
    report.refresh_from_db()
    assert (report.status, report.duplicate_of_id, report.events.count()) == ("submitted", None, 1)


def test_bulk_verify_says_how_many_and_which_were_skipped(web, english, inspector, volunteer, leader, other_volunteer):
    first = file_report(volunteer, minutes_ago=30)
    second = file_report(leader, minutes_ago=20)
    third = file_report(volunteer, minutes_ago=10)
    reporting.report_mark_duplicate(report=third, original=first, by=inspector)
    theirs = file_report(other_volunteer)
    client = web(inspector)
    response = client.post(
        reverse("verify-bulk"),
        # Filed outside any shift, each is flagged: ticked one by one (the `flagged` boxes), they are verified.
        {"flagged": [first.pk, second.pk, third.pk, theirs.pk], "next": "/verify/"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/verify/"
    html = html_of(response)
    assert "2 reports were verified." in html
    assert f"Report No. {third.pk} was not verified: This report is a duplicate" in html
    assert f"Report No. {theirs.pk} was not verified: There is no such report in your districts." in html
    statuses = dict(Report.objects.values_list("pk", "status"))
    assert [statuses[r.pk] for r in (first, second, third, theirs)] == ["verified", "verified", "rejected", "submitted"]


def test_bulk_verify_with_nothing_selected_says_so(web, english, inspector, volunteer):
    file_report(volunteer)
    html = html_of(web(inspector).post(reverse("verify-bulk"), {}, follow=True))
    assert "Select at least one report to verify." in html


@pytest.mark.parametrize(
    "persona, shown", [("volunteer", False), ("leader", False), ("inspector", True), ("chief", True)]
)
def test_third_party_details_only_for_the_police(request, web, volunteer, leader, persona, shown):
    report = file_report(volunteer, third_party_details="Серіков Марат, ЖСН 950412300011, +77015550011")
    page = web(request.getfixturevalue(persona)).get(reverse("report-detail", args=[report.pk]))
    assert page.status_code == 200
    assert ("Серіков Марат" in html_of(page)) is shown


def test_the_chief_reads_the_queue_and_the_report_but_cannot_act(web, chief, volunteer):
    report = file_report(volunteer)
    client = web(chief)
    queue = client.get(QUEUE)
    assert [r.pk for r in queue.context["reports"]] == [report.pk]
    assert queue.context["can_decide"] is False
    assert 'name="reports"' not in html_of(queue)
    detail = client.get(reverse("report-detail", args=[report.pk]))
    assert detail.context["history"] is not None
    assert "/action/" not in html_of(detail)
    assert act(client, report, action="verify").status_code == 403
    assert act(client, report, action="reject", reason="Жоқ").status_code == 403
    assert client.post(reverse("verify-bulk"), {"reports": [report.pk]}).status_code == 403
    report.refresh_from_db()
    assert (report.status, report.events.count()) == ("submitted", 1)


def test_a_volunteer_cannot_decide_on_their_own_report(web, volunteer):
    report = file_report(volunteer)
    assert act(web(volunteer), report, action="verify").status_code == 403
    report.refresh_from_db()
    assert report.status == "submitted"


def test_the_report_page_shows_photos_and_the_map(web, inspector, volunteer):
    report = file_report(volunteer)
    photo, _created = reporting.report_photo_add(report=report, by=volunteer, upload=jpeg())
    page = web(inspector).get(reverse("report-detail", args=[report.pk]))
    html = html_of(page)
    link = f"/api/v1/reports/{report.pk}/photos/{photo.pk}/"
    assert f'href="{link}"' in html and f'src="{link}"' in html
    # The inspector's browser reads it with the session.
    assert web(inspector).get(link)["Content-Type"] == "image/jpeg"
    assert 'id="report-geojson"' in html
    assert page.context["geojson"]["features"][-1]["geometry"]["type"] == "Point"


def test_the_queue_of_thirty_reports_takes_a_bounded_number_of_queries(
    web, inspector, volunteer, leader, django_assert_max_num_queries
):
    for minutes in range(30):
        file_report(volunteer if minutes % 2 else leader, minutes_ago=60 - minutes)
    reporting.report_photo_add(report=Report.objects.first(), by=volunteer, upload=jpeg())
    client = web(inspector)
    client.get(QUEUE)
    with django_assert_max_num_queries(10):
        page = client.get(QUEUE)
    assert len(page.context["reports"]) == verify.QUEUE_PAGE_SIZE
    assert page.context["page"].paginator.count == 30
    assert "page=2" in html_of(page)
    second = client.get(QUEUE, {"page": 2}).context["reports"]
    assert len(second) == 5


def test_the_inspector_home_links_to_the_queue_with_the_count(web, english, inspector, volunteer):
    file_report(volunteer)
    file_report(volunteer)
    html = html_of(web(inspector).get(reverse("home")))
    assert re.search(r'href="/verify/">Verify: 2 reports wait<', html)
