"""Reports through the API, as the phone and the inspector's desk use them.

The volunteer in Talgar files a report (once, however often the phone retries), adds photos, answers questions;
the inspector verifies, rejects, asks, marks duplicates. Everyone else sees what their scope allows: out of scope
is 404, visible but not theirs to change is 403, bad input is 400 and changes nothing.
"""

import datetime
import io
import threading
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from patrols.choices import Role
from patrols.models import Category, Outcome, Region, Report, ReportEvent, ReportPhoto
from patrols.selectors import reference
from patrols.services import reporting
from tests.factories import MembershipFactory, UserFactory, VolunteerFactory

pytestmark = pytest.mark.django_db

CONTRACT_FIELDS = {
    "id",
    "client_uuid",
    "occurred_at",
    "lat",
    "lng",
    "category",
    "outcome",
    "description",
    "shift",
    "case_number",
    "status",
    "district",
    "reporter",
}
SECRET = "Бұзақы: Серік Ахметов, ЖСН 900101300123, тел. +7 701 555 12 34"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def body(place, **overrides) -> dict:
    """What the phone sends for a report filed at the centre of `place` a few minutes ago."""
    data = {
        "client_uuid": str(uuid.uuid4()),
        "occurred_at": (timezone.now() - datetime.timedelta(minutes=5)).isoformat(),
        "lat": place.centre.y,
        "lng": place.centre.x,
        "category": "petty_hooliganism",
        "outcome": "prevented",
        "description": "Екі жасөспірім дүкен алдында төбелескен, ажыратып жібердік.",
        "third_party_details": SECRET,
    }
    data.update(overrides)
    return data


def filed(api, user, **overrides) -> dict:
    """A report filed through the API by `user` (a volunteer) in their own district."""
    response = api(user).post("/api/v1/reports/", body(user.volunteer.district, **overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def snapshot() -> tuple:
    return (
        Report.objects.count(),
        ReportEvent.objects.count(),
        ReportPhoto.objects.count(),
        list(Report.objects.order_by("pk").values_list("status", "status_note", "description", "duplicate_of")),
    )


def jpeg(size=(800, 600), colour=(120, 60, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG")
    return out.getvalue()


def png_bomb() -> bytes:
    """20000×20000 one-bit pixels: a few dozen kilobytes that would decode to 400 megapixels."""
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, format="PNG")
    return out.getvalue()


def upload(client, report_id, name, content):
    return client.post(
        f"/api/v1/reports/{report_id}/photos/",
        {"photo": SimpleUploadedFile(name, content)},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )


@pytest.fixture
def teammate(group):
    """Another volunteer of `group`, with an account, who is not its leader."""
    person = VolunteerFactory(district=group.district, first_name="Асель", user=UserFactory(username="teammate"))
    MembershipFactory(volunteer=person, group=group)
    return person.user


@pytest.fixture
def other_chief(other_district):
    return UserFactory(username="other_chief", role=Role.CHIEF, chief_region=Region.objects.get(code="KZ-35"))


# Filing


def test_a_filed_report_speaks_the_contract(api, volunteer, district):
    client = api(volunteer)
    sent = body(district, case_number="")
    response = client.post("/api/v1/reports/", sent, format="json")
    assert response.status_code == 201, response.json()
    report = response.json()
    assert CONTRACT_FIELDS <= report.keys()
    assert report["client_uuid"] == sent["client_uuid"]
    assert (report["lat"], report["lng"]) == (round(sent["lat"], 6), round(sent["lng"], 6))
    assert (report["category"], report["outcome"], report["district"]) == (
        "petty_hooliganism",
        "prevented",
        district.code,
    )
    assert report["status"] == "submitted"
    assert report["status_label"]
    assert report["reporter"] == volunteer.volunteer.pk
    assert report["shift"] is None
    assert report["photos"] == []
    assert report["duplicate_of"] is None
    # No shift at that time: the inspector is told, the report is kept.
    assert [flag["code"] for flag in report["flags"]] == ["outside_shift"]
    assert report["flags"][0]["label"]
    assert [(event["kind"], event["by"]) for event in report["history"]] == [("submitted", "volunteer")]

    listed = client.get("/api/v1/reports/").json()
    assert listed["count"] == 1
    assert CONTRACT_FIELDS <= listed["results"][0].keys()
    assert client.get(f"/api/v1/reports/{report['id']}/").json()["id"] == report["id"]


def test_the_time_defaults_to_now(api, volunteer, district):
    sent = body(district)
    del sent["occurred_at"]
    before = timezone.now()
    response = api(volunteer).post("/api/v1/reports/", sent, format="json")
    assert response.status_code == 201, response.json()
    assert Report.objects.get().occurred_at >= before


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_phones_posting_one_client_uuid_make_one_report(volunteer, district):
    sent = body(district)
    barrier = threading.Barrier(20)
    answers, errors = [], []

    def post():
        try:
            client = APIClient()
            client.force_authenticate(volunteer)
            barrier.wait()
            response = client.post("/api/v1/reports/", sent, format="json")
            answers.append((response.status_code, response.json()["id"]))
        except Exception as error:  # the test reports any failure below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Report.objects.filter(client_uuid=sent["client_uuid"]).count() == 1
    report = Report.objects.get()
    assert {pk for _status, pk in answers} == {report.pk}
    assert sorted(code for code, _pk in answers) == [200] * 19 + [201]
    assert report.events.count() == 1


def test_a_retry_with_another_body_returns_the_first_report_unchanged(api, volunteer, district):
    client = api(volunteer)
    first = client.post("/api/v1/reports/", body(district), format="json").json()
    again = client.post(
        "/api/v1/reports/",
        body(district, client_uuid=first["client_uuid"], description="Басқа мәтін", outcome="assistance"),
        format="json",
    )
    assert again.status_code == 200
    assert again.json() == first
    report = Report.objects.get()
    assert (report.description, report.outcome.code) == (first["description"], "prevented")


def test_someone_elses_client_uuid_is_refused(api, volunteer, teammate, district):
    first = filed(api, volunteer)
    response = api(teammate).post("/api/v1/reports/", body(district, client_uuid=first["client_uuid"]), format="json")
    assert response.status_code == 400
    assert "client_uuid" in response.json()
    assert Report.objects.count() == 1


@pytest.mark.parametrize(
    "lat, lng",
    [(55.75, 37.62), (42.87, 74.59), (41.30, 69.24)],  # Moscow, Bishkek, Tashkent
)
def test_a_place_outside_kazakhstan_is_refused(api, volunteer, district, lat, lng):
    response = api(volunteer).post("/api/v1/reports/", body(district, lat=lat, lng=lng), format="json")
    assert response.status_code == 400
    assert {"lat", "location"} & response.json().keys()
    assert Report.objects.count() == 0


@pytest.mark.parametrize("lat, lng, field", [(95, 76.9, "lat"), ("north", 76.9, "lat"), (43.2, None, "lng")])
def test_nonsense_positions_are_refused(api, volunteer, district, lat, lng, field):
    response = api(volunteer).post("/api/v1/reports/", body(district, lat=lat, lng=lng), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Report.objects.count() == 0


def test_solved_needs_a_case_number(api, volunteer, district):
    client = api(volunteer)
    response = client.post("/api/v1/reports/", body(district, outcome="solved"), format="json")
    assert response.status_code == 400
    assert "case_number" in response.json()
    assert Report.objects.count() == 0
    ok = client.post("/api/v1/reports/", body(district, outcome="solved", case_number="2475 1203 1000 123"))
    assert ok.status_code == 201
    assert ok.json()["case_number"] == "247512031000123"


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"category": "no_such_thing"}, "category"),
        ({"outcome": "nothing"}, "outcome"),
        ({"description": "   "}, "description"),
        ({"client_uuid": "not-a-uuid"}, "client_uuid"),
        ({"occurred_at": "2099-01-01T10:00:00+05:00"}, "occurred_at"),
    ],
)
def test_bad_fields_get_a_field_error_and_nothing_is_filed(api, volunteer, district, overrides, field):
    response = api(volunteer).post("/api/v1/reports/", body(district, **overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Report.objects.count() == 0


def test_only_volunteers_file_reports(api, inspector, district):
    response = api(inspector).post("/api/v1/reports/", body(district), format="json")
    assert response.status_code == 403
    assert Report.objects.count() == 0


# Photos


def test_a_photo_is_added_once_however_often_it_is_sent(api, volunteer):
    report = filed(api, volunteer)
    client = api(volunteer)
    first = upload(client, report["id"], "street.jpg", jpeg())
    assert first.status_code == 201, first.json()
    photo = first.json()
    assert photo.keys() == {"id", "url", "width", "height"}
    assert (photo["width"], photo["height"]) == (800, 600)
    assert photo["url"].startswith("http")
    again = upload(client, report["id"], "street-retry.jpg", jpeg())
    assert (again.status_code, again.json()) == (200, photo)
    assert ReportPhoto.objects.count() == 1
    shown = client.get(f"/api/v1/reports/{report['id']}/").json()
    assert shown["photos"] == [photo]
    assert [event["kind"] for event in shown["history"]] == ["photo_added", "submitted"]


def test_a_photo_is_read_through_the_app_by_those_who_see_the_report(
    api, client, volunteer, inspector, other_inspector
):
    """Photos show faces, cars and homes: not public files, but the reporter's and the police's in scope."""
    report = filed(api, volunteer)
    photo = upload(api(volunteer), report["id"], "street.jpg", jpeg()).json()
    path = urlparse(photo["url"]).path
    assert path == f"/api/v1/reports/{report['id']}/photos/{photo['id']}/"
    stored = Path(ReportPhoto.objects.get().image.path).read_bytes()
    for reader in (volunteer, inspector):
        response = api(reader).get(path)
        assert (response.status_code, response["Content-Type"]) == (200, "image/jpeg")
        assert b"".join(response.streaming_content) == stored
        assert response["Cache-Control"] == "private, max-age=86400"
    assert api(other_inspector).get(path).status_code == 404
    assert client.get(path).status_code == 401
    # The stored file's own address is not served (DEBUG is off in tests, as in production).
    assert client.get(f"/media/{ReportPhoto.objects.get().image.name}").status_code == 404

    # A photo of another report is not reached through this one.
    second = filed(api, volunteer)
    theirs = upload(api(volunteer), second["id"], "other.jpg", jpeg(colour=(10, 200, 10))).json()
    assert api(volunteer).get(f"/api/v1/reports/{report['id']}/photos/{theirs['id']}/").status_code == 404


def test_with_uploads_in_a_bucket_the_photo_is_a_redirect_to_the_storages_link(api, settings, volunteer, inspector):
    """Storage other than the media folder (a bucket): after the scope check, a redirect to the storage's link."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}}
    report = filed(api, volunteer)
    photo = upload(api(volunteer), report["id"], "street.jpg", jpeg()).json()
    response = api(inspector).get(urlparse(photo["url"]).path)
    assert response.status_code == 302
    assert response["Location"] == ReportPhoto.objects.get().image.url


def test_behind_nginx_the_photo_is_sent_by_nginx_after_the_scope_check(
    api, settings, volunteer, inspector, other_inspector
):
    """PHOTOS_X_ACCEL_REDIRECT: the app checks the reader, then points nginx at the file in its internal location."""
    settings.PHOTOS_X_ACCEL_REDIRECT = True
    report = filed(api, volunteer)
    path = urlparse(upload(api(volunteer), report["id"], "street.jpg", jpeg()).json()["url"]).path
    stored = ReportPhoto.objects.get().image.name
    response = api(inspector).get(path)
    assert (response.status_code, response["Content-Type"]) == (200, "image/jpeg")
    assert response["X-Accel-Redirect"] == f"/protected-media/{stored}"
    assert response.content == b""
    assert response["Cache-Control"] == "private, max-age=86400"
    refused = api(other_inspector).get(path)
    assert refused.status_code == 404
    assert not refused.has_header("X-Accel-Redirect")


@pytest.mark.parametrize(
    "name, make, words",
    [
        ("notes.jpg", lambda: "Бұл сурет емес, мәтін.".encode() * 50, "not a photo"),
        ("big.jpg", lambda: b"\xff\xd8\xff\xe0" + b"\0" * (30 * 1024 * 1024), "larger than 10 MB"),
        ("bomb.png", png_bomb, "too many pixels"),
    ],
)
def test_bad_photos_are_refused_with_a_clear_message(api, volunteer, name, make, words):
    report = filed(api, volunteer)
    response = upload(api(volunteer), report["id"], name, make())
    assert response.status_code == 400
    messages = response.json()["photo"]
    assert any(words in message for message in messages), messages
    assert ReportPhoto.objects.count() == 0


def test_a_photo_request_without_a_photo_is_refused(api, volunteer):
    report = filed(api, volunteer)
    response = api(volunteer).post(f"/api/v1/reports/{report['id']}/photos/", {}, format="multipart")
    assert response.status_code == 400
    assert "photo" in response.json()


def test_only_the_reporter_adds_photos(api, volunteer, leader, other_inspector):
    report = filed(api, volunteer)
    assert upload(api(leader), report["id"], "a.jpg", jpeg()).status_code == 403
    assert upload(api(other_inspector), report["id"], "a.jpg", jpeg()).status_code == 404
    assert ReportPhoto.objects.count() == 0


def test_no_photos_once_the_report_is_verified(api, volunteer, inspector):
    report = filed(api, volunteer)
    api(inspector).post(f"/api/v1/reports/{report['id']}/verify/")
    response = upload(api(volunteer), report["id"], "late.jpg", jpeg())
    assert response.status_code == 400
    assert ReportPhoto.objects.count() == 0


# Verification


def test_the_inspector_asks_the_volunteer_answers_and_the_history_shows_it(api, volunteer, inspector):
    report = filed(api, volunteer)
    url = f"/api/v1/reports/{report['id']}"
    desk, phone = api(inspector), api(volunteer)

    asked = desk.post(f"{url}/request-info/", {"question": "Қай дүкен?"}, format="json")
    assert asked.status_code == 200, asked.json()
    assert (asked.json()["status"], asked.json()["status_note"]) == ("needs_info", "Қай дүкен?")

    answered = phone.post(f"{url}/resubmit/", {"answer": "«Магнум», Абай көшесі 12"}, format="json")
    assert answered.status_code == 200, answered.json()
    assert answered.json()["status"] == "submitted"
    assert "Абай көшесі 12" in answered.json()["description"]

    verified = desk.post(f"{url}/verify/")
    assert verified.status_code == 200
    assert verified.json()["status"] == "verified"
    assert verified.json()["verified_at"]

    history = phone.get(f"{url}/").json()["history"]
    assert [(e["kind"], e["from_status"], e["to_status"], e["by"]) for e in history] == [
        ("verified", "submitted", "verified", "inspector"),
        ("resubmitted", "needs_info", "submitted", "volunteer"),
        ("needs_info", "submitted", "needs_info", "inspector"),
        ("submitted", "", "submitted", "volunteer"),
    ]
    assert history[2]["note"] == "Қай дүкен?"
    assert all(event["at"] and event["kind_label"] for event in history)


def test_a_rejection_needs_a_reason(api, volunteer, inspector):
    report = filed(api, volunteer)
    url = f"/api/v1/reports/{report['id']}/reject/"
    before = snapshot()
    for sent in ({}, {"reason": "   "}):
        response = api(inspector).post(url, sent, format="json")
        assert response.status_code == 400
        assert "reason" in response.json()
    assert snapshot() == before
    rejected = api(inspector).post(url, {"reason": "Оқиға расталмады"}, format="json").json()
    assert (rejected["status"], rejected["status_note"]) == ("rejected", "Оқиға расталмады")
    assert rejected["history"][0]["note"] == "Оқиға расталмады"


def test_a_question_needs_words_and_only_the_reporter_answers(api, volunteer, leader, inspector):
    report = filed(api, volunteer)
    url = f"/api/v1/reports/{report['id']}"
    assert api(inspector).post(f"{url}/request-info/", {"question": ""}, format="json").status_code == 400
    api(inspector).post(f"{url}/request-info/", {"question": "Қашан?"}, format="json")
    before = snapshot()
    assert api(leader).post(f"{url}/resubmit/", {"answer": "Кешке"}, format="json").status_code == 403
    assert api(volunteer).post(f"{url}/resubmit/", {"answer": " "}, format="json").status_code == 400
    assert api(inspector).post(f"{url}/resubmit/", {"answer": "Кешке"}, format="json").status_code == 403
    assert snapshot() == before


def test_a_verified_report_cannot_be_verified_again(api, volunteer, inspector):
    report = filed(api, volunteer)
    url = f"/api/v1/reports/{report['id']}/verify/"
    assert api(inspector).post(url).status_code == 200
    before = snapshot()
    again = api(inspector).post(url)
    assert again.status_code == 400
    assert snapshot() == before


def test_marking_a_duplicate_points_at_the_original(api, volunteer, teammate, inspector, other_volunteer):
    first = filed(api, volunteer)
    second = filed(api, teammate)
    theirs = filed(api, other_volunteer)
    url = f"/api/v1/reports/{second['id']}/mark-duplicate/"
    before = snapshot()
    for original in (theirs["id"], second["id"], 999_999):
        response = api(inspector).post(url, {"original": original}, format="json")
        assert response.status_code == 400
        assert "original" in response.json()
    assert snapshot() == before
    marked = api(inspector).post(url, {"original": first["id"]}, format="json").json()
    assert (marked["status"], marked["duplicate_of"]) == ("rejected", first["id"])
    assert marked["history"][0]["kind"] == "duplicate"


def test_bulk_verify_tells_what_it_skipped(api, volunteer, teammate, inspector, other_volunteer):
    first, second, third = filed(api, volunteer), filed(api, teammate), filed(api, volunteer)
    theirs = filed(api, other_volunteer)
    api(inspector).post(f"/api/v1/reports/{third['id']}/mark-duplicate/", {"original": first["id"]}, format="json")
    ids = [first["id"], second["id"], third["id"], theirs["id"], 999_999, first["id"]]
    # Filed outside any shift, each is flagged: chosen on purpose, they are verified.
    chosen = {"ids": ids, "include_flagged": ids}
    response = api(inspector).post("/api/v1/reports/bulk-verify/", chosen, format="json")
    assert response.status_code == 200, response.json()
    result = response.json()
    assert result["verified"] == 2
    assert result["flagged_left_out"] == []
    assert [row["id"] for row in result["skipped"]] == [third["id"], theirs["id"], 999_999]
    reasons = {row["id"]: row["reason"] for row in result["skipped"]}
    # Someone else's report and a report that never existed read the same.
    assert reasons[theirs["id"]] == reasons[999_999]
    assert reasons[third["id"]] != reasons[999_999]
    assert set(Report.objects.filter(status="verified").values_list("pk", flat=True)) == {first["id"], second["id"]}
    assert Report.objects.get(pk=theirs["id"]).status == "submitted"


@pytest.mark.parametrize("role", ["volunteer", "leader", "chief", "analyst"])
def test_bulk_verify_is_for_inspectors(role, api, request, volunteer, leader, chief, analyst):
    report = filed(api, volunteer)
    response = api(request.getfixturevalue(role)).post(
        "/api/v1/reports/bulk-verify/", {"ids": [report["id"]]}, format="json"
    )
    assert response.status_code == 403
    assert Report.objects.get().status == "submitted"


def test_bulk_verify_needs_ids(api, inspector):
    for sent in ({}, {"ids": []}, {"ids": ["abc"]}):
        assert api(inspector).post("/api/v1/reports/bulk-verify/", sent, format="json").status_code == 400


# Scope

# (sees the Talgar volunteer's report, may verify it)
REPORT_SCOPE = {
    "volunteer": (True, False),
    "leader": (True, False),
    "teammate": (False, False),
    "other_volunteer": (False, False),
    "inspector": (True, True),
    "other_inspector": (False, False),
    "chief": (True, False),
    "other_chief": (False, False),
    "analyst": (True, False),
    "admin_user": (True, True),
}


@pytest.mark.parametrize("role", REPORT_SCOPE)
def test_a_report_is_seen_and_verified_by_scope(role, request, api, volunteer, leader):
    report = filed(api, volunteer)
    sees, verifies = REPORT_SCOPE[role]
    client = api(request.getfixturevalue(role))
    assert client.get(f"/api/v1/reports/{report['id']}/").status_code == (200 if sees else 404)
    listed = {row["id"] for row in client.get("/api/v1/reports/").json()["results"]}
    assert (report["id"] in listed) is sees

    expected = 200 if verifies else (403 if sees else 404)
    actions = [
        ("verify", {}),
        ("reject", {"reason": "Расталмады"}),
        ("request-info", {"question": "Қай жерде?"}),
        ("mark-duplicate", {"original": report["id"]}),
    ]
    for name, sent in actions:
        if verifies and name != "verify":
            continue
        before = snapshot()
        response = client.post(f"/api/v1/reports/{report['id']}/{name}/", sent, format="json")
        assert response.status_code == expected, (name, response.json())
        if not verifies:
            assert snapshot() == before
    assert Report.objects.get().status == ("verified" if verifies else "submitted")


def test_the_other_districts_report_is_not_ours(api, inspector, chief, volunteer, other_volunteer, other_inspector):
    theirs = filed(api, other_volunteer)
    for user in (inspector, chief, volunteer):
        assert api(user).get(f"/api/v1/reports/{theirs['id']}/").status_code == 404
        assert api(user).post(f"/api/v1/reports/{theirs['id']}/verify/").status_code == 404
    assert api(other_inspector).post(f"/api/v1/reports/{theirs['id']}/verify/").status_code == 200


@pytest.mark.parametrize(
    "role, shown",
    [("volunteer", False), ("leader", False), ("inspector", True), ("chief", True), ("analyst", True)],
)
def test_other_peoples_details_are_for_the_police_only(role, shown, request, api, volunteer, leader):
    report = filed(api, volunteer)
    client = api(request.getfixturevalue(role))
    detail = client.get(f"/api/v1/reports/{report['id']}/").json()
    listed = client.get("/api/v1/reports/").json()["results"][0]
    for shape in (detail, listed):
        assert shape["third_party_details"] == (SECRET if shown else None)
    assert (SECRET in str(detail)) is shown


def test_similar_reports_in_flags_are_named_to_the_police_only(api, volunteer, teammate, inspector):
    first = filed(api, volunteer)
    second = filed(api, teammate)
    police = api(inspector).get(f"/api/v1/reports/{second['id']}/").json()
    twin = [flag for flag in police["flags"] if flag["code"] == "likely_duplicate"]
    assert twin and twin[0]["details"]["reports"] == [first["id"]]
    own = api(teammate).get(f"/api/v1/reports/{second['id']}/").json()
    twin = [flag for flag in own["flags"] if flag["code"] == "likely_duplicate"]
    assert twin and "reports" not in twin[0]["details"]


# Lists


def test_the_list_takes_a_fixed_number_of_queries(api, volunteer, inspector, district, django_assert_num_queries):
    for number in range(20):
        report, _ = reporting.report_submit(
            by=volunteer,
            client_uuid=uuid.uuid4(),
            occurred_at=timezone.now() - datetime.timedelta(minutes=number + 1),
            point=district.centre,
            category=Category.objects.get(code="petty_hooliganism"),
            outcome=Outcome.objects.get(code="prevented"),
            description=f"Оқиға №{number}",
        )
        if number % 5 == 0:
            reporting.report_photo_add(
                report=report, by=volunteer, upload=SimpleUploadedFile("a.jpg", jpeg(colour=(number, 0, 0)))
            )
    # The codes of categories, outcomes and districts come from the cached reference lists, read once per change.
    reference.categories(), reference.outcomes(), reference.district_codes()
    for user in (inspector, volunteer):
        client = api(user)
        with django_assert_num_queries(2):  # page, photos: a list within one page is counted without a query
            response = client.get("/api/v1/reports/")
        assert response.json()["count"] == 20
        assert sum(len(row["photos"]) for row in response.json()["results"]) == 4


def test_the_list_filters(api, volunteer, teammate, inspector, district):
    client = api(volunteer)
    old = filed(
        api,
        volunteer,
        occurred_at=(timezone.now() - datetime.timedelta(days=3)).isoformat(),
        category="littering",
        outcome="assistance",
    )
    new = filed(api, volunteer)
    mate = filed(api, teammate)
    api(inspector).post(f"/api/v1/reports/{old['id']}/verify/")
    Report.objects.filter(pk=new["id"]).update(flags=[])
    desk = api(inspector)

    def ids(client, **params):
        response = client.get("/api/v1/reports/", params)
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    everything = {old["id"], new["id"], mate["id"]}
    assert ids(desk) == everything
    assert ids(desk, status="verified") == {old["id"]}
    assert ids(desk, status="submitted") == {new["id"], mate["id"]}
    assert ids(desk, district=district.code) == everything
    assert ids(desk, district="KZ-35-ABA") == set()
    assert ids(desk, outcome="assistance") == {old["id"]}
    assert ids(desk, category="littering") == {old["id"]}
    two_days_ago = (timezone.localdate() - datetime.timedelta(days=2)).isoformat()
    assert ids(desk, **{"from": two_days_ago}) == {new["id"], mate["id"]}
    assert ids(desk, to=two_days_ago) == {old["id"]}
    assert ids(desk, to=timezone.localdate().isoformat()) == everything
    assert ids(desk, flagged="true") == {old["id"], mate["id"]}
    assert ids(desk, flagged="false") == {new["id"]}
    assert ids(client, mine="true") == {old["id"], new["id"]}
    assert ids(api(teammate), mine="true") == {mate["id"]}
    assert ids(desk, mine="true") == set()
    assert client.get("/api/v1/reports/", {"from": "last tuesday"}).status_code == 400
    assert client.get("/api/v1/reports/", {"status": "lost"}).status_code == 400


def test_anonymous_gets_nothing(client):
    for url in ("/api/v1/reports/", "/api/v1/categories/", "/api/v1/outcomes/"):
        assert client.get(url).status_code == 401


# Managed lists


def test_categories_are_named_in_the_requests_language_and_active_only(api, volunteer):
    Category.objects.filter(code="vandalism").update(is_active=False)
    response = api(volunteer).get("/api/v1/categories/", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200
    categories = {row["code"]: row for row in response.json()}
    assert "vandalism" not in categories
    theft = categories["theft"]
    assert theft == {"code": "theft", "name": "Кража", "name_kk": "Ұрлық", "name_ru": "Кража", "name_en": "Theft"}
    kazakh = api(volunteer).get("/api/v1/categories/", HTTP_ACCEPT_LANGUAGE="kk").json()
    assert {row["code"]: row["name"] for row in kazakh}["theft"] == "Ұрлық"


def test_outcomes_tell_which_needs_a_case_number(api, chief):
    response = api(chief).get("/api/v1/outcomes/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    outcomes = {row["code"]: row for row in response.json()}
    assert set(outcomes) == {"prevented", "solved", "handed_over", "assistance", "info"}
    assert [code for code, row in outcomes.items() if row["requires_case_number"]] == ["solved"]
    assert outcomes["solved"]["name"] == "Helped solve a crime"


# Schema


def test_the_schema_describes_the_reports_without_warnings(tmp_path, api, volunteer):
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yaml"))
    schema = api(volunteer).get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    for path in (
        "/api/v1/reports/",
        "/api/v1/reports/{id}/",
        "/api/v1/reports/{id}/verify/",
        "/api/v1/reports/{id}/reject/",
        "/api/v1/reports/{id}/request-info/",
        "/api/v1/reports/{id}/resubmit/",
        "/api/v1/reports/{id}/mark-duplicate/",
        "/api/v1/reports/bulk-verify/",
        "/api/v1/categories/",
        "/api/v1/outcomes/",
    ):
        assert path in paths, path
    photos = paths["/api/v1/reports/{id}/photos/"]["post"]
    assert list(photos["requestBody"]["content"]) == ["multipart/form-data"]
    assert {"200", "201"} <= photos["responses"].keys()
    assert {"200", "201"} <= paths["/api/v1/reports/"]["post"]["responses"].keys()
    filters = {parameter["name"] for parameter in paths["/api/v1/reports/"]["get"]["parameters"]}
    assert {"status", "district", "outcome", "category", "from", "to", "mine", "flagged"} <= filters
