"""The report pages: the phone form in the volunteer's language, the service worker at the root, "my reports" with
the inspector's decisions and questions, answering through the page, and nobody else's report in sight."""

import datetime
import io
import json
import re
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from patrols.choices import AssignmentStatus, ReportStatus
from patrols.models import Assignment, Category, Outcome, Report
from patrols.services import reporting
from tests.factories import ShiftFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def file_report(user, description="Екі жасөспірім дүкен алдында төбелескен, ажыратып жібердік.", **extra):
    centre = user.volunteer.district.centre
    report, _created = reporting.report_submit(
        by=user,
        client_uuid=uuid.uuid4(),
        occurred_at=timezone.now() - datetime.timedelta(minutes=10),
        point=Point(centre.x, centre.y, srid=4326),
        category=Category.objects.get(code="petty_hooliganism"),
        outcome=Outcome.objects.get(code=extra.pop("outcome", "prevented")),
        description=description,
        **extra,
    )
    return report


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 90, 160)).save(out, format="JPEG")
    return out.getvalue()


@pytest.mark.parametrize(
    "language, present, absent",
    [
        ("kk", ["Ұсақ бұзақылық", "Мал ұрлығы", "Құқық бұзушылықтың алдын алынды", "Сақтау және жіберу"], ["Кража"]),
        (
            "ru",
            ["Мелкое хулиганство", "Кража скота", "Предотвращено правонарушение", "Сохранить и отправить"],
            ["Ұрлық"],
        ),
    ],
)
def test_the_form_lists_outcomes_and_categories_in_the_volunteers_language(web, volunteer, language, present, absent):
    client = web(volunteer)
    client.cookies["django_language"] = language
    page = client.get(reverse("report-new"))
    assert page.status_code == 200
    html = page.content.decode()
    for name in present:
        assert name in html
    for name in absent:
        assert name not in html
    # The five outcomes as radio buttons, by code: the page works offline with what the server rendered.
    assert len(re.findall(r'<input type="radio" name="outcome"', html)) == Outcome.objects.count() == 5


def test_an_inactive_category_is_not_offered(web, volunteer):
    Category.objects.filter(code="livestock_theft").update(is_active=False)
    html = web(volunteer).get(reverse("report-new")).content.decode()
    assert 'value="livestock_theft"' not in html
    assert 'value="theft"' in html


def test_the_form_runs_under_a_content_security_policy(web, volunteer):
    html = web(volunteer).get(reverse("report-new")).content.decode()
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts
    assert all("src=" in attributes for attributes in scripts), "no inline scripts"
    assert not re.search(r"\son[a-z]+=", html), "no inline event handlers"
    assert "/jsi18n/" in html
    assert "/static/leaflet/leaflet.js" in html
    assets = re.findall(r'<script[^>]*src="([^"]+)"', html) + re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert all(address.startswith("/") for address in assets), "no CDN"


def test_the_form_explains_the_case_number_and_who_sees_other_peoples_details(web, volunteer):
    client = web(volunteer)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("report-new")).content.decode()
    assert "ЕРДР number (15 digits)" in html
    assert "protocol number" in html
    assert "Only police inspectors see this field." in html
    assert 'data-case-outcomes="[&quot;solved&quot;]"' in html
    assert 'accept="image/*"' in html and 'capture="environment"' in html and "multiple" in html


def test_the_form_says_the_report_goes_with_the_shift_on_now(web, volunteer, zone, group, inspector):
    now = timezone.now()
    shift = ShiftFactory(
        zone=zone,
        inspector=inspector,
        groups=[group],
        starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(hours=3),
    )
    Assignment.objects.create(
        shift=shift, volunteer=volunteer.volunteer, status=AssignmentStatus.CHECKED_IN, check_in_at=shift.starts_at
    )
    client = web(volunteer)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("report-new")).content.decode()
    assert "You are on a shift now" in html
    assert zone.name in html


def test_without_a_shift_the_form_says_so(web, volunteer):
    client = web(volunteer)
    client.cookies["django_language"] = "en"
    assert "You have no shift on now" in client.get(reverse("report-new")).content.decode()


def test_police_opening_the_form_go_to_the_reports_list(web, inspector):
    response = web(inspector).get(reverse("report-new"))
    assert response.status_code == 302
    assert response["Location"] == reverse("report-list")


def test_the_form_needs_a_signed_in_user(client, db):
    response = client.get(reverse("report-new"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_form_without_javascript_files_the_report_once(web, volunteer, district):
    client = web(volunteer)
    key = uuid.uuid4()
    data = {
        "client_uuid": str(key),
        "outcome": "prevented",
        "category": "public_drinking",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "lat": f"{district.centre.y:.6f}",
        "lng": f"{district.centre.x:.6f}",
        "description": "Саябақта ішімдік ішіп отырғандарға ескерту жасадық.",
        "case_number": "",
        "third_party_details": "",
    }
    photo = io.BytesIO(jpeg())
    photo.name = "photo.jpg"
    response = client.post(reverse("report-new"), {**data, "photo": photo})
    report = Report.objects.get(client_uuid=key)
    assert response.status_code == 302
    assert response["Location"] == reverse("report-detail", args=[report.pk])
    assert report.photos.count() == 1
    assert report.reporter == volunteer.volunteer
    client.post(reverse("report-new"), data)
    assert Report.objects.filter(client_uuid=key).count() == 1


def test_the_form_without_javascript_shows_the_services_errors(web, volunteer):
    client = web(volunteer)
    client.cookies["django_language"] = "en"
    page = client.post(
        reverse("report-new"),
        {
            "client_uuid": str(uuid.uuid4()),
            "outcome": "solved",
            "category": "theft",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "lat": "43.25",
            "lng": "76.9",
            "description": "Ұрыны ұстауға көмектестік.",
            "case_number": "",
        },
    )
    assert page.status_code == 200
    assert "needs the police case (ЕРДР) number" in page.content.decode()
    assert not Report.objects.exists()


def test_the_service_worker_is_served_from_the_root_as_javascript(client, db):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    assert body.startswith("self.APP_SHELL = {")
    for address in (
        "/reports/new/",
        "/jsi18n/",
        "/static/css/app.css",
        "/static/leaflet/leaflet.js",
        "/api/v1/reports/",
        "/api/v1/me/",
    ):
        assert address in body
    assert '"photos": "/api/v1/reports/{id}/photos/"' in body
    assert 'addEventListener("fetch"' in body


def test_the_service_worker_version_follows_its_files(client, db):
    first = client.get("/sw.js").content.decode().split("\n", 1)[0]
    assert first == client.get("/sw.js").content.decode().split("\n", 1)[0]
    assert re.search(r'"version": "[0-9a-f]{16}"', first)


@pytest.mark.parametrize("language, word", [("kk", "жіберуді күтіп тұр"), ("ru", "ожидает отправки")])
def test_the_scripts_speak_the_users_language(client, db, language, word):
    client.cookies["django_language"] = language
    response = client.get(reverse("javascript-catalog"))
    assert response.status_code == 200
    # The catalog is JSON: non-ASCII letters come escaped.
    assert json.dumps(word)[1:-1] in response.content.decode()


def test_my_reports_show_each_status_with_the_reason_or_question(web, volunteer, inspector):
    waiting = file_report(volunteer, description="Күтіп тұрған есеп")
    verified = reporting.report_verify(report=file_report(volunteer, description="Расталған есеп"), by=inspector)
    rejected = reporting.report_reject(
        report=file_report(volunteer, description="Қабылданбаған есеп"),
        by=inspector,
        reason="Фото жоқ, орны анық емес.",
    )
    asked = reporting.report_request_info(
        report=file_report(volunteer, description="Сұрақ қойылған есеп"), by=inspector, question="Қай көшеде болды?"
    )
    client = web(volunteer)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("report-list")).content.decode()
    for report, label in (
        (waiting, "Waiting for verification"),
        (verified, "Verified"),
        (rejected, "Rejected"),
        (asked, "More information needed"),
    ):
        assert f'id="report-{report.pk}"' in html
        assert label in html
    assert "Фото жоқ, орны анық емес." in html
    assert "Қай көшеде болды?" in html
    assert html.count('name="answer"') == 1
    assert reverse("report-answer", args=[asked.pk]) in html
    assert 'id="outbox"' in html, "the waiting-to-send count from the phone"


def test_answering_the_inspectors_question_sends_the_report_back(web, volunteer, inspector):
    report = reporting.report_request_info(report=file_report(volunteer), by=inspector, question="Қай көшеде?")
    client = web(volunteer)
    response = client.post(reverse("report-answer", args=[report.pk]), {"answer": "Абай көшесі, 12-үйдің алды."})
    assert response.status_code == 302
    assert response["Location"] == reverse("report-detail", args=[report.pk])
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED
    assert "Абай көшесі, 12-үйдің алды." in report.description
    assert report.events.first().kind == "resubmitted"
    client.cookies["django_language"] = "en"
    html = client.get(reverse("report-list")).content.decode()
    assert 'name="answer"' not in html


def test_an_answer_can_bring_the_case_number(web, volunteer, inspector):
    report = file_report(volunteer, outcome="solved", case_number="123456789012345")
    reporting.report_request_info(report=report, by=inspector, question="ЕРДР нөмірін тексеріңіз.")
    web(volunteer).post(
        reverse("report-answer", args=[report.pk]),
        {"answer": "Түзеттім.", "case_number": "234567890123456"},
    )
    report.refresh_from_db()
    assert report.case_number == "234567890123456"
    assert report.status == ReportStatus.SUBMITTED


def test_an_answer_refused_for_a_wrong_case_number_comes_back_as_it_was_typed(web, volunteer, inspector):
    report = file_report(volunteer, outcome="solved", case_number="123456789012345")
    reporting.report_request_info(report=report, by=inspector, question="ЕРДР нөмірін тексеріңіз.")
    client = web(volunteer)
    answer = "Тексердім: ЕРДР нөмірі хаттамада басқаша жазылған, дұрысы төменде."
    response = client.post(reverse("report-answer", args=[report.pk]), {"answer": answer, "case_number": "12ab"})
    page = client.get(response["Location"]).content.decode()
    assert f">{answer}</textarea>" in page and 'value="12ab"' in page
    report.refresh_from_db()
    assert report.status == ReportStatus.NEEDS_INFO and report.case_number == "123456789012345"
    again = client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert answer not in again.split('name="answer"')[1].split("</textarea>")[0], "kept for one page only"


def test_an_empty_answer_changes_nothing(web, volunteer, inspector):
    report = reporting.report_request_info(report=file_report(volunteer), by=inspector, question="Қай көшеде?")
    web(volunteer).post(reverse("report-answer", args=[report.pk]), {"answer": "  "})
    report.refresh_from_db()
    assert report.status == ReportStatus.NEEDS_INFO


def test_the_report_page_shows_the_status_and_the_answer_form(web, volunteer, inspector):
    report = reporting.report_request_info(report=file_report(volunteer), by=inspector, question="Қай көшеде?")
    client = web(volunteer)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert "More information needed" in html
    assert "Қай көшеде?" in html
    assert reverse("report-answer", args=[report.pk]) in html


def test_other_peoples_details_are_shown_to_the_inspector_only(web, volunteer, inspector):
    report = file_report(volunteer, third_party_details="Иванов И., ЖСН 900101300123")
    assert "Иванов" not in web(volunteer).get(reverse("report-detail", args=[report.pk])).content.decode()
    assert "Иванов" in web(inspector).get(reverse("report-detail", args=[report.pk])).content.decode()


def test_someone_elses_report_is_not_found(web, volunteer, other_volunteer, other_inspector):
    theirs = file_report(other_volunteer)
    reporting.report_request_info(report=theirs, by=other_inspector, question="Қашан?")
    client = web(volunteer)
    assert client.get(reverse("report-detail", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("report-answer", args=[theirs.pk]), {"answer": "Кеше."}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ReportStatus.NEEDS_INFO
    assert f'id="report-{theirs.pk}"' not in client.get(reverse("report-list")).content.decode()


def test_a_leader_sees_a_members_report_but_cannot_answer_for_them(web, volunteer, leader, inspector):
    report = reporting.report_request_info(report=file_report(volunteer), by=inspector, question="Қашан?")
    client = web(leader)
    assert client.get(reverse("report-detail", args=[report.pk])).status_code == 200
    assert client.post(reverse("report-answer", args=[report.pk]), {"answer": "Кеше."}).status_code == 404
    report.refresh_from_db()
    assert report.status == ReportStatus.NEEDS_INFO


def test_the_inspector_sees_the_districts_reports_only(web, volunteer, inspector, other_inspector):
    report = file_report(volunteer)
    assert f'id="report-{report.pk}"' in web(inspector).get(reverse("report-list")).content.decode()
    assert f'id="report-{report.pk}"' not in web(other_inspector).get(reverse("report-list")).content.decode()
    assert web(other_inspector).get(reverse("report-detail", args=[report.pk])).status_code == 404


def test_my_reports_take_a_fixed_number_of_queries(web, volunteer, django_assert_max_num_queries):
    for _ in range(5):
        file_report(volunteer)
    client = web(volunteer)
    client.get(reverse("report-list"))
    with django_assert_max_num_queries(8):
        assert client.get(reverse("report-list")).status_code == 200
