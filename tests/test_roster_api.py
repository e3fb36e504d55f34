"""The inspector keeps the district's roster through the API: groups, applications, the registration lifecycle.

Bad input always gets a 400 with a translated message and leaves the data as it was.
"""

import datetime

import pytest
from django.utils import timezone

from patrols.models import Group, Membership, Volunteer, VolunteerStatusChange
from patrols.validators import build_iin
from tests.factories import SettlementFactory, VolunteerFactory

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        Group.objects.count(),
        Volunteer.objects.count(),
        Membership.objects.count(),
        VolunteerStatusChange.objects.count(),
        list(Volunteer.objects.order_by("pk").values_list("status", "phone", "last_name")),
        list(Group.objects.order_by("pk").values_list("name", "kind", "institution", "is_active")),
    )


def application(place, **overrides):
    birth = datetime.date(1990, 6, 1)
    data = {
        "district": place.code,
        "last_name": "Омарова",
        "first_name": "Дана",
        "patronymic": "Бекқызы",
        "iin": build_iin(birth, female=True, serial=41),
        "phone": "8 (777) 123-45-67",
        "consent": True,
    }
    data.update(overrides)
    return data


def test_inspector_records_an_application_and_walks_it_to_registration(api, inspector, district, group):
    client = api(inspector)
    response = client.post("/api/v1/volunteers/", application(district, groups=[group.pk]), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "applicant"
    assert body["phone"] == "+7 777 123 45 67"
    assert body["birth_date"] == "1990-06-01"
    assert [g["id"] for g in body["groups"]] == [group.pk]
    pk = body["id"]

    assert (
        client.post(f"/api/v1/volunteers/{pk}/vet/", {"medical_check_passed": True}, format="json").status_code == 200
    )
    today = timezone.localdate().isoformat()
    registered = client.post(f"/api/v1/volunteers/{pk}/register/", {"number": "ТА-0042", "on_date": today})
    assert registered.status_code == 200
    assert registered.json()["registration_number"] == "ТА-0042"
    documents = client.post(
        f"/api/v1/volunteers/{pk}/issue-documents/", {"id_card_number": "К-118", "badge_number": "Б-118"}
    )
    assert documents.json()["badge_number"] == "Б-118"

    history = client.get(f"/api/v1/volunteers/{pk}/history/").json()
    assert [step["to_status"] for step in history] == ["registered", "vetted", "applicant"]
    assert {step["by"] for step in history} == {inspector.username}


def test_a_refusal_needs_a_reason(api, inspector, district):
    client = api(inspector)
    pk = client.post("/api/v1/volunteers/", application(district), format="json").json()["id"]
    before = snapshot()
    response = client.post(f"/api/v1/volunteers/{pk}/refuse/", {"reason": "  "}, format="json")
    assert response.status_code == 400
    assert snapshot() == before
    refused = client.post(f"/api/v1/volunteers/{pk}/refuse/", {"reason": "Сотталғандығы бар"}, format="json")
    assert refused.json()["status"] == "refused"
    assert refused.json()["refusal_reason"] == "Сотталғандығы бар"


@pytest.mark.parametrize(
    "overrides, field, words",
    [
        ({"iin": "061211600013"}, "iin", "check digit"),
        ({"iin": "12345"}, "iin", "12 digits"),
        ({"phone": "+7 495 123 45 67"}, "phone", "Kazakh mobile"),
        (
            {"iin": build_iin(timezone.localdate() - datetime.timedelta(days=365 * 16), female=False, serial=3)},
            "birth_date",
            "18",
        ),
        ({"birth_date": "1991-01-01"}, "birth_date", "does not match"),
        ({"consent": False}, "consent", "consent"),
        ({"district": "KZ-35-ABA"}, "district", ""),
        ({"last_name": ""}, "last_name", ""),
    ],
)
def test_bad_applications_are_refused_and_change_nothing(
    api, inspector, district, other_district, overrides, field, words
):
    before = snapshot()
    response = api(inspector).post(
        "/api/v1/volunteers/", application(district, **overrides), format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert words in " ".join(response.json()[field])
    assert snapshot() == before


def test_a_second_application_with_the_same_iin_is_refused(api, inspector, district):
    client = api(inspector)
    assert client.post("/api/v1/volunteers/", application(district), format="json").status_code == 201
    before = snapshot()
    response = client.post("/api/v1/volunteers/", application(district, last_name="Басқа"), format="json")
    assert response.status_code == 400
    assert "iin" in response.json()
    assert snapshot() == before


@pytest.mark.parametrize(
    "path, payload",
    [
        ("vet", {"medical_check_passed": False}),
        ("register", {"number": "", "on_date": "2025-01-01"}),
        ("register", {"number": "X-1", "on_date": "2999-01-01"}),
        ("suspend", {"reason": ""}),
        ("reinstate", {}),
        ("issue-documents", {"id_card_number": "", "badge_number": "B"}),
    ],
)
def test_lifecycle_moves_that_do_not_fit_are_refused(api, inspector, teammate_applicant, path, payload):
    before = snapshot()
    response = api(inspector).post(f"/api/v1/volunteers/{teammate_applicant.pk}/{path}/", payload, format="json")
    assert response.status_code == 400
    assert snapshot() == before


@pytest.fixture
def teammate_applicant(group):
    person = VolunteerFactory(
        district=group.district, status="applicant", registration_number="", registered_on=None, vetted_on=None
    )
    Membership.objects.create(volunteer=person, group=group, joined_on=datetime.date(2025, 1, 1))
    return person


def test_a_badge_number_is_given_once(api, inspector, group):
    first = VolunteerFactory(district=group.district, badge_number="Б-7", id_card_number="К-7")
    second = VolunteerFactory(district=group.district)
    before = snapshot()
    response = api(inspector).post(
        f"/api/v1/volunteers/{second.pk}/issue-documents/", {"id_card_number": "К-8", "badge_number": "Б-7"}
    )
    assert response.status_code == 400
    assert snapshot() == before
    assert first.badge_number == "Б-7"


def test_inspector_creates_groups_of_each_kind(api, inspector, district):
    client = api(inspector)
    village = SettlementFactory(district=district)
    for kind, extra in [
        ("public_assistants", {}),
        ("student_squad", {"institution": "Талғар колледжі"}),
        ("sakshy", {"settlement": village.code}),
        ("sarbaz", {"settlement": village.code}),
    ]:
        response = client.post(
            "/api/v1/groups/",
            {"name": f"Топ {kind}", "kind": kind, "district": district.code, "inspector": inspector.username, **extra},
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert response.json()["kind"] == kind


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"kind": "sakshy"}, "settlement"),
        ({"kind": "student_squad"}, "institution"),
        ({"kind": "militia"}, "kind"),
        ({"district": "KZ-35-ABA"}, "district"),
        ({"name": ""}, "name"),
        ({"inspector": "other_inspector"}, "inspector"),
    ],
)
def test_bad_groups_are_refused_and_change_nothing(api, inspector, other_inspector, district, payload, field):
    before = snapshot()
    data = {"name": "Жаңа топ", "kind": "public_assistants", "district": district.code, **payload}
    response = api(inspector).post("/api/v1/groups/", data, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert snapshot() == before


def test_a_settlement_of_another_district_is_refused(api, inspector, district, other_district):
    elsewhere = SettlementFactory(district=other_district)
    before = snapshot()
    response = api(inspector).post(
        "/api/v1/groups/",
        {"name": "Сақшы", "kind": "sakshy", "district": district.code, "settlement": elsewhere.code},
        format="json",
    )
    assert response.status_code == 400
    assert snapshot() == before


def test_a_duplicate_group_name_in_the_district_is_refused(api, inspector, group):
    before = snapshot()
    response = api(inspector).post(
        "/api/v1/groups/", {"name": group.name, "kind": "public_assistants", "district": group.district.code}
    )
    assert response.status_code == 400
    assert snapshot() == before


def test_readers_cannot_create(api, chief, analyst, volunteer, district):
    for user in (chief, analyst, volunteer):
        before = snapshot()
        data = {"name": "X", "kind": "public_assistants", "district": district.code}
        assert api(user).post("/api/v1/groups/", data).status_code == 403
        assert api(user).post("/api/v1/volunteers/", application(district), format="json").status_code == 403
        assert snapshot() == before


def test_members_join_and_leave_and_a_leaving_leader_stops_leading(api, inspector, group, leader):
    client = api(inspector)
    person = VolunteerFactory(district=group.district)
    assert client.post(f"/api/v1/groups/{group.pk}/add-member/", {"volunteer": person.pk}).status_code == 201
    before = snapshot()
    again = client.post(f"/api/v1/groups/{group.pk}/add-member/", {"volunteer": person.pk})
    assert again.status_code == 400
    assert snapshot() == before
    assert (
        client.post(f"/api/v1/groups/{group.pk}/remove-member/", {"volunteer": leader.volunteer.pk}).status_code == 200
    )
    group.refresh_from_db()
    assert group.leader is None


def test_errors_speak_the_readers_language(api, inspector, district):
    response = api(inspector).post(
        "/api/v1/volunteers/", application(district, iin="061211600013"), format="json", HTTP_ACCEPT_LANGUAGE="ru"
    )
    assert response.status_code == 400
    assert "ИИН" in " ".join(response.json()["iin"])
    kazakh = api(inspector).post(
        "/api/v1/volunteers/", application(district, iin="061211600013"), format="json", HTTP_ACCEPT_LANGUAGE="kk"
    )
    assert "ЖСН" in " ".join(kazakh.json()["iin"])


def test_token_auth_and_me(client, inspector):
    from tests.factories import PASSWORD

    response = client.post("/api/v1/auth/token/", {"username": "inspector", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    me = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}").json()
    assert me["roles"] == ["inspector"]
    assert me["districts"] == ["KZ-19-TAL"]
    assert me["regions"] == ["KZ-19"]
    wrong = client.post("/api/v1/auth/token/", {"username": "inspector", "password": "nope"})
    assert wrong.status_code in (400, 401)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"kind": "sakshy"}, "settlement"),
        ({"name": ""}, "name"),
        ({"leader": 999999}, "leader"),
        ({"kind": "x"}, "kind"),
    ],
)
def test_bad_group_changes_are_refused_and_change_nothing(api, inspector, group, payload, field):
    before = snapshot()
    response = api(inspector).patch(f"/api/v1/groups/{group.pk}/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert snapshot() == before


def test_a_group_cannot_move_to_another_district(api, inspector, group, neighbour_district):
    before = snapshot()
    response = api(inspector).patch(f"/api/v1/groups/{group.pk}/", {"district": neighbour_district.code}, format="json")
    assert response.status_code in (400, 403)
    assert snapshot() == before


@pytest.mark.parametrize(
    "payload, field",
    [({"phone": "12"}, "phone"), ({"birth_date": "2015-01-01"}, "birth_date"), ({"last_name": ""}, "last_name")],
)
def test_bad_profile_changes_are_refused_and_change_nothing(api, inspector, volunteer, payload, field):
    before = snapshot()
    response = api(inspector).patch(f"/api/v1/volunteers/{volunteer.volunteer.pk}/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert snapshot() == before


def test_another_districts_volunteer_cannot_join_our_group(api, inspector, group, other_volunteer):
    before = snapshot()
    response = api(inspector).post(
        f"/api/v1/groups/{group.pk}/add-member/", {"volunteer": other_volunteer.volunteer.pk}
    )
    assert response.status_code == 400
    assert "volunteer" in response.json()
    assert snapshot() == before


def test_removing_someone_who_is_not_a_member_is_refused(api, inspector, group):
    stranger = VolunteerFactory(district=group.district)
    before = snapshot()
    response = api(inspector).post(f"/api/v1/groups/{group.pk}/remove-member/", {"volunteer": stranger.pk})
    assert response.status_code == 400
    assert snapshot() == before
