"""Pages the inspector and volunteers use: sign in, home per role, groups and volunteers kept through forms."""

import datetime

import pytest
from django.urls import reverse

from patrols.models import Group, Volunteer
from patrols.validators import build_iin
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "language, words",
    [("kk", ["Кіру", "Құпиясөз"]), ("ru", ["Войти", "Пароль"]), ("en", ["Sign in", "Password"])],
)
def test_the_login_page_speaks_each_language(client, language, words):
    client.cookies["django_language"] = language
    page = client.get(reverse("login"))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'<html lang="{language}">' in html
    for word in words:
        assert word in html


def test_kazakh_is_the_default_language(client):
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="kk">' in html


def test_switching_the_language_keeps_the_page(client):
    response = client.post(reverse("set_language"), {"language": "ru", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert '<html lang="ru">' in client.get(reverse("login")).content.decode()


def test_signing_in_leads_home(client, inspector):
    response = client.post(reverse("login"), {"username": "inspector", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_a_wrong_password_is_told_clearly(client, inspector):
    client.cookies["django_language"] = "en"
    page = client.post(reverse("login"), {"username": "inspector", "password": "wrong"})
    assert page.status_code == 200
    assert "The username or password is wrong" in page.content.decode()


def test_the_volunteer_home_shows_registration_and_groups(web, volunteer, group):
    html = web(volunteer).get(reverse("home")).content.decode()
    assert volunteer.volunteer.registration_number in html
    assert group.name in html


def test_the_leader_home_shows_the_roster(web, leader, volunteer, group):
    html = web(leader).get(reverse("home")).content.decode()
    assert volunteer.volunteer.last_name in html


def test_the_inspector_home_counts_the_district(web, inspector, volunteer, district, other_volunteer):
    page = web(inspector).get(reverse("home"))
    assert [row.code for row in page.context["areas"]] == [district.code]
    assert page.context["totals"].volunteers == 1
    assert page.context["totals"].groups == 1


def test_the_analyst_home_counts_the_country_by_region(web, analyst, volunteer, other_volunteer):
    page = web(analyst).get(reverse("home"))
    rows = {row.code: row for row in page.context["areas"]}
    assert len(rows) == 20
    assert rows["KZ-19"].volunteers == 1
    assert rows["KZ-35"].volunteers == 1


def test_the_inspector_records_an_application_through_the_form(web, inspector, district, group):
    client = web(inspector)
    assert client.get(reverse("volunteer-create")).status_code == 200
    iin = build_iin(datetime.date(1992, 3, 8), female=True, serial=500)
    response = client.post(
        reverse("volunteer-create"),
        {
            "district": district.code,
            "last_name": "Ахметова",
            "first_name": "Гүлназ",
            "iin": iin,
            "phone": "87071234567",
            "groups": [group.pk],
            "consent": "on",
        },
    )
    created = Volunteer.objects.get(iin=iin)
    assert response.status_code == 302
    assert response["Location"] == reverse("volunteer-detail", args=[created.pk])
    assert created.phone == "+77071234567"
    assert created.memberships.filter(group=group).exists()


def test_a_bad_application_form_shows_the_error_and_saves_nothing(web, inspector, district):
    client = web(inspector)
    client.cookies["django_language"] = "en"
    before = Volunteer.objects.count()
    page = client.post(
        reverse("volunteer-create"),
        {
            "district": district.code,
            "last_name": "Ахметова",
            "first_name": "Гүлназ",
            "iin": "061211600013",
            "phone": "87071234567",
            "consent": "on",
        },
    )
    assert page.status_code == 200
    assert "check digit is wrong" in page.content.decode()
    assert Volunteer.objects.count() == before


def test_the_inspector_moves_a_volunteer_through_the_lifecycle_on_the_page(web, inspector, volunteer):
    person = volunteer.volunteer
    client = web(inspector)
    client.post(reverse("volunteer-status", args=[person.pk]), {"action": "suspend", "reason": "Тексеріс"})
    person.refresh_from_db()
    assert person.status == "suspended"
    client.post(reverse("volunteer-status", args=[person.pk]), {"action": "reinstate"})
    person.refresh_from_db()
    assert person.status == "registered"
    page = client.get(reverse("volunteer-detail", args=[person.pk])).content.decode()
    assert "Тексеріс" in page


def test_a_move_the_lifecycle_forbids_is_refused_with_a_message(web, inspector, volunteer):
    person = volunteer.volunteer
    client = web(inspector)
    client.cookies["django_language"] = "en"
    response = client.post(
        reverse("volunteer-status", args=[person.pk]), {"action": "refuse", "reason": "x"}, follow=True
    )
    person.refresh_from_db()
    assert person.status == "registered"
    assert "cannot become" in response.content.decode()


def test_the_inspector_creates_and_edits_a_group(web, inspector, district):
    client = web(inspector)
    response = client.post(
        reverse("group-create"),
        {"name": "Жас сақшы", "kind": "student_squad", "district": district.code, "institution": "Талғар колледжі"},
    )
    group = Group.objects.get(name="Жас сақшы")
    assert response.status_code == 302
    response = client.post(
        reverse("group-edit", args=[group.pk]),
        {"name": "Жас сақшы — Талғар", "kind": "student_squad", "institution": "Талғар колледжі", "is_active": "on"},
    )
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.name == "Жас сақшы — Талғар"


def test_a_village_group_without_a_settlement_is_refused_on_the_form(web, inspector, district):
    client = web(inspector)
    client.cookies["django_language"] = "en"
    page = client.post(reverse("group-create"), {"name": "Сарбаз", "kind": "sarbaz", "district": district.code})
    assert page.status_code == 200
    assert "belongs to a settlement" in page.content.decode()
    assert not Group.objects.filter(name="Сарбаз").exists()


def test_readers_do_not_get_the_create_pages(web, chief, analyst, volunteer):
    for user in (chief, analyst, volunteer):
        client = web(user)
        assert client.get(reverse("group-create")).status_code == 403
        assert client.get(reverse("volunteer-create")).status_code == 403
        assert client.get(reverse("roster-upload")).status_code == 403


def test_members_are_added_and_removed_on_the_group_page(web, inspector, group):
    from tests.factories import VolunteerFactory

    person = VolunteerFactory(district=group.district)
    client = web(inspector)
    client.post(reverse("group-member-add", args=[group.pk]), {"volunteer": person.pk})
    assert person.memberships.filter(group=group, left_on=None).exists()
    client.post(reverse("group-member-remove", args=[group.pk]), {"volunteer": person.pk})
    assert not person.memberships.filter(group=group, left_on=None).exists()


def test_the_volunteer_list_filters_by_status_and_name(web, inspector, volunteer, group):
    from tests.factories import VolunteerFactory

    VolunteerFactory(district=group.district, last_name="Петров", status="applicant", registration_number="")
    client = web(inspector)
    page = client.get(reverse("volunteer-list"), {"status": "applicant"})
    assert [v.last_name for v, _ in page.context["rows"]] == ["Петров"]
    page = client.get(reverse("volunteer-list"), {"q": "петр"})
    assert [v.last_name for v, _ in page.context["rows"]] == ["Петров"]


def test_healthz_reports_database_and_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] == "ok"


def test_the_api_is_described(client, inspector):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/me/", "/api/v1/groups/", "/api/v1/volunteers/{id}/register/", "/api/v1/auth/token/"):
        assert path in paths
    assert client.get("/api/docs/").status_code == 200


def test_the_inspector_imports_a_roster_on_the_page_and_follows_its_progress(
    web, inspector, district, group, settings, tmp_path, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from coordination import celery_app

    settings.MEDIA_ROOT = tmp_path
    iin = build_iin(datetime.date(1999, 9, 9), female=False, serial=77)
    csv = f"last_name,first_name,iin,phone,group\nСәрсенов,Айбек,{iin},+77011112233,{group.name}\n".encode()
    client = web(inspector)
    template = client.get(reverse("roster-template"))
    assert template.status_code == 200
    assert template.content[:2] == b"PK"
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("roster-upload"),
                {"district": district.code, "file": SimpleUploadedFile("roster.csv", csv)},
            )
    finally:
        celery_app.conf.task_always_eager = previous
    assert response.status_code == 302
    progress = client.get(response["Location"] + "progress/").json()
    assert progress == progress | {"status": "done", "finished": True, "processed_rows": 1, "total_rows": 1}
    assert Volunteer.objects.get(iin=iin).memberships.filter(group=group).exists()
    page = client.get(response["Location"])
    assert page.status_code == 200


def test_a_bad_roster_shows_its_row_errors_on_the_page(web, inspector, district, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from patrols.services.roster_import import roster_import_run

    settings.MEDIA_ROOT = tmp_path
    client = web(inspector)
    client.cookies["django_language"] = "en"
    csv = b"last_name,first_name,iin,phone\n\xd0\x90,B,061211600013,+77011112233\n"
    response = client.post(
        reverse("roster-upload"), {"district": district.code, "file": SimpleUploadedFile("r.csv", csv)}
    )
    job_id = int(response["Location"].rstrip("/").split("/")[-1])
    roster_import_run(import_id=job_id)
    page = client.get(response["Location"]).content.decode()
    assert "check digit is wrong" in page
    assert Volunteer.objects.count() == 0


def test_another_districts_import_is_404(web, inspector, other_inspector, other_district, settings, tmp_path):
    from patrols.models import RosterImport

    job = RosterImport.objects.create(district=other_district, uploaded_by=other_inspector, original_name="x.csv")
    client = web(inspector)
    assert client.get(reverse("roster-import", args=[job.pk])).status_code == 404
    assert client.get(reverse("roster-import-progress", args=[job.pk])).status_code == 404
