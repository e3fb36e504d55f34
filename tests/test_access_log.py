"""The access log of personal data: Talgar's inspector reads volunteers' IINs and the details of other people in
reports, through the API and the pages, and every such reading is written down (one row per person or report per
request, a list in one insert). Masked reads and a volunteer reading their own profile are not logged. Only
administrators read the log: for everyone else it does not exist."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patrols.choices import AccessChannel, AccessKind, Role
from patrols.models import AccessLogEntry, Report
from patrols.services import audit
from tests.factories import MembershipFactory, UserFactory, VolunteerFactory
from tests.support import reports

pytestmark = pytest.mark.django_db

SECRET = "Бұзақы: Серік Ахметов, ЖСН 900101300123, тел. +7 701 555 12 34"
LOG = "/api/v1/access-log/"


def file_report(user, *, details: str = SECRET) -> Report:
    return reports.file_report(user, third_party_details=details)


def logged() -> list[tuple]:
    return list(AccessLogEntry.objects.order_by("id").values_list("username", "kind", "object_id", "how", "path"))


def log_inserts(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith('INSERT INTO "patrols_accesslogentry"')]


@pytest.fixture
def crew(group):
    """Three more members of `group`."""
    people = [VolunteerFactory(district=group.district, first_name=name) for name in ("Асқар", "Бақыт", "Гүлнар")]
    for person in people:
        MembershipFactory(volunteer=person, group=group)
    return people


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)


# Volunteers' IINs


def test_the_inspector_reading_a_volunteers_iin_through_the_api_is_logged(api, inspector, volunteer):
    person = volunteer.volunteer
    response = api(inspector).get(f"/api/v1/volunteers/{person.pk}/", REMOTE_ADDR="10.20.30.40")
    assert response.json()["iin"] == person.iin
    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.username, entry.kind, entry.object_id) == (
        inspector,
        "inspector",
        AccessKind.VOLUNTEER_IIN,
        person.pk,
    )
    assert (entry.how, entry.path, entry.ip) == (AccessChannel.API, f"/api/v1/volunteers/{person.pk}/", "10.20.30.40")
    assert timezone.now() - entry.at < datetime.timedelta(minutes=1)


def test_behind_a_trusted_proxy_the_clients_address_is_logged(api, settings, inspector, volunteer):
    settings.TRUSTED_PROXIES = 1
    api(inspector).get(
        f"/api/v1/volunteers/{volunteer.volunteer.pk}/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.7"
    )
    assert AccessLogEntry.objects.get().ip == "203.0.113.7"


def test_a_list_logs_each_shown_volunteer_in_one_insert(api, inspector, volunteer, leader, crew):
    with CaptureQueriesContext(connection) as queries:
        response = api(inspector).get("/api/v1/volunteers/")
    shown = {row["id"] for row in response.json()["results"]}
    assert len(shown) == 5
    assert len(log_inserts(queries)) == 1
    assert {(kind, pk) for _user, kind, pk, _how, _path in logged()} == {(AccessKind.VOLUNTEER_IIN, pk) for pk in shown}


def test_each_request_is_logged_and_a_search_by_iin_leaves_the_iin_out_of_the_log(api, inspector, volunteer):
    person = volunteer.volunteer
    client = api(inspector)
    client.get(f"/api/v1/volunteers/{person.pk}/")
    found = client.get("/api/v1/volunteers/", {"q": person.iin[:8]}).json()["results"]
    assert [row["id"] for row in found] == [person.pk]
    assert [(pk, path) for _user, _kind, pk, _how, path in logged()] == [
        (person.pk, f"/api/v1/volunteers/{person.pk}/"),
        (person.pk, "/api/v1/volunteers/"),
    ]


def test_a_group_roster_through_the_api_is_logged(api, inspector, group, volunteer, crew):
    api(inspector).get(f"/api/v1/groups/{group.pk}/members/")
    assert {pk for *_rest, pk, _how, _path in logged()} == {volunteer.volunteer.pk} | {p.pk for p in crew}


def test_the_chief_reading_iins_of_the_region_is_logged(api, chief, volunteer):
    person = volunteer.volunteer
    api(chief).get(f"/api/v1/volunteers/{person.pk}/")
    assert logged() == [("chief", AccessKind.VOLUNTEER_IIN, person.pk, "api", f"/api/v1/volunteers/{person.pk}/")]


def test_the_volunteer_pages_log_what_the_inspector_reads(web, inspector, volunteer, crew):
    client = web(inspector)
    person = volunteer.volunteer
    page = client.get(f"/volunteers/{person.pk}/")
    assert person.iin in page.content.decode()
    listing = client.get("/volunteers/")
    assert listing.status_code == 200
    rows = logged()
    assert rows[0] == ("inspector", AccessKind.VOLUNTEER_IIN, person.pk, "web", f"/volunteers/{person.pk}/")
    assert {(pk, how, path) for _user, _kind, pk, how, path in rows[1:]} == {
        (p.pk, "web", "/volunteers/") for p in [person, *crew]
    }


def test_masked_reads_are_not_logged(api, web, leader, analyst, volunteer, crew):
    person = volunteer.volunteer
    as_leader = api(leader).get(f"/api/v1/volunteers/{person.pk}/").json()
    assert as_leader["iin"] != person.iin
    as_analyst = api(analyst).get("/api/v1/volunteers/").json()["results"]
    assert person.iin not in {row["iin"] for row in as_analyst}
    page = web(analyst).get(f"/volunteers/{person.pk}/")
    assert page.status_code == 200 and person.iin not in page.content.decode()
    assert logged() == []


def test_a_volunteer_reading_their_own_profile_is_not_logged(api, web, volunteer):
    person = volunteer.volunteer
    assert api(volunteer).get(f"/api/v1/volunteers/{person.pk}/").json()["iin"] == person.iin
    assert person.iin in web(volunteer).get(f"/volunteers/{person.pk}/").content.decode()
    assert logged() == []


def test_the_django_admin_change_page_of_a_volunteer_is_logged(client, superuser, volunteer):
    client.force_login(superuser)
    person = volunteer.volunteer
    page = client.get(f"/admin/patrols/volunteer/{person.pk}/change/")
    assert page.status_code == 200 and person.iin in page.content.decode()
    assert logged() == [
        ("root", AccessKind.VOLUNTEER_IIN, person.pk, "web", f"/admin/patrols/volunteer/{person.pk}/change/")
    ]


# Details of other people in reports


def test_reading_a_reports_third_party_details_through_the_api_is_logged(api, inspector, volunteer):
    report = file_report(volunteer)
    detail = api(inspector).get(f"/api/v1/reports/{report.pk}/").json()
    assert detail["third_party_details"] == SECRET
    assert logged() == [("inspector", AccessKind.REPORT_THIRD_PARTY, report.pk, "api", f"/api/v1/reports/{report.pk}/")]


def test_a_report_list_logs_only_the_reports_with_details_in_one_insert(api, inspector, volunteer):
    with_details = [file_report(volunteer) for _ in range(3)]
    file_report(volunteer, details="")
    with CaptureQueriesContext(connection) as queries:
        rows = api(inspector).get("/api/v1/reports/").json()["results"]
    assert len(rows) == 4
    assert len(log_inserts(queries)) == 1
    assert sorted(pk for *_rest, pk, _how, _path in logged()) == sorted(r.pk for r in with_details)


def test_a_decision_answered_with_the_report_is_logged_too(api, inspector, volunteer):
    report = file_report(volunteer)
    response = api(inspector).post(f"/api/v1/reports/{report.pk}/verify/")
    assert response.json()["third_party_details"] == SECRET
    assert logged() == [
        ("inspector", AccessKind.REPORT_THIRD_PARTY, report.pk, "api", f"/api/v1/reports/{report.pk}/verify/")
    ]


def test_the_report_page_logs_the_details_shown(web, inspector, volunteer):
    report = file_report(volunteer)
    page = web(inspector).get(f"/reports/{report.pk}/")
    assert SECRET in page.content.decode()
    assert logged() == [("inspector", AccessKind.REPORT_THIRD_PARTY, report.pk, "web", f"/reports/{report.pk}/")]


def test_reports_read_without_the_details_are_not_logged(api, web, volunteer, leader):
    report = file_report(volunteer)
    assert api(volunteer).get(f"/api/v1/reports/{report.pk}/").json()["third_party_details"] is None
    assert api(leader).get("/api/v1/reports/").json()["results"][0]["third_party_details"] is None
    assert SECRET not in web(leader).get(f"/reports/{report.pk}/").content.decode()
    assert logged() == []


def test_the_analyst_reading_a_reports_details_is_logged(api, analyst, volunteer):
    report = file_report(volunteer)
    assert api(analyst).get(f"/api/v1/reports/{report.pk}/").json()["third_party_details"] == SECRET
    assert [(user, kind) for user, kind, *_rest in logged()] == [("analyst", AccessKind.REPORT_THIRD_PARTY)]


# The service


def test_one_row_per_object_per_request_however_often_it_is_noted(rf, inspector, volunteer):
    request = rf.get("/export/volunteers.xlsx")
    request.user = inspector
    person = volunteer.volunteer
    for _ in range(3):
        audit.volunteer_iin_shown(request, person, how=AccessChannel.EXPORT)
    assert audit.access_log_flush(request) == 1
    assert audit.access_log_flush(request) == 0
    assert logged() == [("inspector", AccessKind.VOLUNTEER_IIN, person.pk, "export", "/export/volunteers.xlsx")]


# Reading the log


def test_only_admins_read_the_log_and_filter_it(api, admin_user, inspector, volunteer, leader):
    report = file_report(volunteer)
    api(inspector).get(f"/api/v1/volunteers/{volunteer.volunteer.pk}/")
    api(inspector).get(f"/api/v1/reports/{report.pk}/")
    AccessLogEntry.objects.filter(kind=AccessKind.REPORT_THIRD_PARTY).update(
        at=timezone.now() - datetime.timedelta(days=10)
    )
    client = api(admin_user)
    everything = client.get(LOG).json()
    assert everything["count"] == 2
    assert [row["kind"] for row in everything["results"]] == ["volunteer_iin", "report_third_party"]
    assert everything["results"][0]["user"] == "inspector"
    assert client.get(LOG, {"kind": "report_third_party"}).json()["results"][0]["object_id"] == report.pk
    assert client.get(LOG, {"user": "inspector"}).json()["count"] == 2
    assert client.get(LOG, {"user": "chief"}).json()["count"] == 0
    week_ago = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    assert [row["kind"] for row in client.get(LOG, {"from": week_ago}).json()["results"]] == ["volunteer_iin"]
    assert [row["kind"] for row in client.get(LOG, {"to": week_ago}).json()["results"]] == ["report_third_party"]
    assert client.get(LOG, {"from": "yesterday"}).status_code == 400


def test_the_log_is_paginated(api, admin_user, inspector, volunteer):
    audit.access_log_write(
        user=inspector, shown=[(AccessKind.VOLUNTEER_IIN, pk, AccessChannel.API) for pk in range(1, 61)]
    )
    page = api(admin_user).get(LOG).json()
    assert page["count"] == 60 and len(page["results"]) == 50 and "page=2" in page["next"]


@pytest.mark.parametrize("persona", ["inspector", "chief", "analyst", "leader", "volunteer"])
def test_everyone_else_finds_no_log(request, api, persona, volunteer):
    audit.access_log_write(user=volunteer, shown=[(AccessKind.VOLUNTEER_IIN, 1, AccessChannel.API)])
    assert api(request.getfixturevalue(persona)).get(LOG).status_code == 404


def test_the_django_admin_log_is_read_only(client, superuser, inspector, volunteer):
    api_entry = audit.access_log_write(user=inspector, shown=[(AccessKind.VOLUNTEER_IIN, 7, AccessChannel.API)])
    assert api_entry == 1
    entry = AccessLogEntry.objects.get()
    client.force_login(superuser)
    listing = client.get("/admin/patrols/accesslogentry/", {"kind__exact": "volunteer_iin"})
    assert listing.status_code == 200 and "inspector" in listing.content.decode()
    assert client.get("/admin/patrols/accesslogentry/add/").status_code == 403
    assert client.post(f"/admin/patrols/accesslogentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AccessLogEntry.objects.count() == 1
