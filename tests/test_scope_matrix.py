"""The scope matrix: every role against every endpoint and page, in scope and out of scope (rule 1 of DESIGN.md).

Our story: Talgar District (KZ-19) is kept by `inspector`; its group has `leader`, `volunteer` and `teammate_record`
(a volunteer's record without an account: personas are accounts, `*_record` fixtures are Volunteer rows).
Karaganda's Abay District is kept by `other_inspector`, with `other_group` and `other_volunteer`.
`chief` heads KZ-19 Almaty Region; `analyst` and `admin` see the whole country.
"""

import pytest
from django.urls import reverse

from tests.factories import MembershipFactory, UserFactory, VolunteerFactory

pytestmark = pytest.mark.django_db

ROLES = ["volunteer", "leader", "inspector", "other_inspector", "chief", "analyst", "admin_user"]

# Who sees what: (our group, other district's group)
GROUP_VISIBILITY = {
    "volunteer": (True, False),
    "leader": (True, False),
    "inspector": (True, False),
    "other_inspector": (False, True),
    "chief": (True, False),
    "analyst": (True, True),
    "admin_user": (True, True),
}

# (volunteer's own profile, a teammate_record in the same group, the other district's volunteer)
VOLUNTEER_VISIBILITY = {
    "volunteer": (True, False, False),
    "leader": (True, True, False),
    "inspector": (True, True, False),
    "other_inspector": (False, False, True),
    "chief": (True, True, False),
    "analyst": (True, True, True),
    "admin_user": (True, True, True),
}


@pytest.fixture
def teammate_record(group):
    person = VolunteerFactory(district=group.district, first_name="Асель", last_name="Жұмабаева")
    MembershipFactory(volunteer=person, group=group)
    return person


@pytest.fixture
def cast(
    request, volunteer, leader, inspector, other_inspector, chief, analyst, admin_user, other_volunteer, teammate_record
):
    """Everyone in the story, by fixture name."""
    return {name: request.getfixturevalue(name) for name in ROLES}


def _status(visible: bool) -> int:
    return 200 if visible else 404


@pytest.mark.parametrize("role", ROLES)
def test_group_detail_and_list_follow_scope(role, cast, api, group, other_group):
    client = api(cast[role])
    ours, theirs = GROUP_VISIBILITY[role]
    assert client.get(f"/api/v1/groups/{group.pk}/").status_code == _status(ours)
    assert client.get(f"/api/v1/groups/{other_group.pk}/").status_code == _status(theirs)
    listed = {row["id"] for row in client.get("/api/v1/groups/").json()["results"]}
    assert (group.pk in listed) is ours
    assert (other_group.pk in listed) is theirs


@pytest.mark.parametrize("role", ROLES)
def test_group_roster_follows_scope(role, cast, api, group, other_group):
    client = api(cast[role])
    ours, theirs = GROUP_VISIBILITY[role]
    assert client.get(f"/api/v1/groups/{group.pk}/members/").status_code == _status(ours)
    assert client.get(f"/api/v1/groups/{other_group.pk}/members/").status_code == _status(theirs)


@pytest.mark.parametrize("role", ROLES)
def test_volunteer_detail_and_list_follow_scope(role, cast, api, volunteer, teammate_record, other_volunteer):
    client = api(cast[role])
    own, mate, theirs = VOLUNTEER_VISIBILITY[role]
    assert client.get(f"/api/v1/volunteers/{volunteer.volunteer.pk}/").status_code == _status(own)
    assert client.get(f"/api/v1/volunteers/{teammate_record.pk}/").status_code == _status(mate)
    assert client.get(f"/api/v1/volunteers/{other_volunteer.volunteer.pk}/").status_code == _status(theirs)
    listed = {row["id"] for row in client.get("/api/v1/volunteers/").json()["results"]}
    assert (volunteer.volunteer.pk in listed) is own
    assert (teammate_record.pk in listed) is mate
    assert (other_volunteer.volunteer.pk in listed) is theirs


@pytest.mark.parametrize("role", ROLES)
def test_pages_follow_scope(role, cast, web, group, other_group, volunteer, teammate_record, other_volunteer):
    client = web(cast[role])
    ours, theirs = GROUP_VISIBILITY[role]
    assert client.get(reverse("group-detail", args=[group.pk])).status_code == _status(ours)
    assert client.get(reverse("group-detail", args=[other_group.pk])).status_code == _status(theirs)
    own, mate, other = VOLUNTEER_VISIBILITY[role]
    assert client.get(reverse("volunteer-detail", args=[volunteer.volunteer.pk])).status_code == _status(own)
    assert client.get(reverse("volunteer-detail", args=[teammate_record.pk])).status_code == _status(mate)
    assert client.get(reverse("volunteer-detail", args=[other_volunteer.volunteer.pk])).status_code == _status(other)
    groups_page = client.get(reverse("group-list")).content.decode()
    assert (group.name in groups_page) is ours
    assert (other_group.name in groups_page) is theirs
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_only_the_districts_inspector_and_admins_may_change_the_roster(role, cast, api, web, group, other_group):
    """Writes: the keeper of the district (and admins) may; readers get 403; everyone out of scope gets 404."""
    ours, theirs = GROUP_VISIBILITY[role]
    may_change_ours = role in {"inspector", "admin_user"}
    response = api(cast[role]).patch(f"/api/v1/groups/{group.pk}/", {"institution": ""}, format="json")
    expected = 200 if may_change_ours else (403 if ours else 404)
    assert response.status_code == expected
    edit_page = web(cast[role]).get(reverse("group-edit", args=[group.pk]))
    assert edit_page.status_code == (200 if may_change_ours else 404)
    other_edit = web(cast[role]).get(reverse("group-edit", args=[other_group.pk]))
    assert other_edit.status_code == (200 if role in {"other_inspector", "admin_user"} else 404)


@pytest.mark.parametrize("role", ROLES)
def test_lifecycle_actions_out_of_scope_are_404(role, cast, api, other_volunteer):
    _, _, theirs = VOLUNTEER_VISIBILITY[role]
    may_change = role in {"other_inspector", "admin_user"}
    response = api(cast[role]).post(
        f"/api/v1/volunteers/{other_volunteer.volunteer.pk}/suspend/", {"reason": "Тәртіп бұзды"}, format="json"
    )
    assert response.status_code == (200 if may_change else (403 if theirs else 404))
    other_volunteer.volunteer.refresh_from_db()
    assert (other_volunteer.volunteer.status == "suspended") is may_change


def test_anonymous_gets_nothing(client, group):
    assert client.get(reverse("group-detail", args=[group.pk])).status_code == 302
    assert client.get("/api/v1/groups/").status_code == 401
    assert client.get("/api/v1/regions/").status_code == 401


@pytest.mark.parametrize("role", ROLES)
def test_me_tells_the_scope(role, cast, api, district, other_district):
    body = api(cast[role]).get("/api/v1/me/").json()
    expected_districts = {
        "volunteer": {district.code},
        "leader": {district.code},
        "inspector": {district.code},
        "other_inspector": {other_district.code},
        "chief": {district.code},
    }
    if role in expected_districts:
        assert set(body["districts"]) == expected_districts[role]
    else:
        assert {district.code, other_district.code} <= set(body["districts"])
    assert body["username"] == cast[role].username


def test_me_lists_every_role_of_a_leader(api, leader):
    assert set(api(leader).get("/api/v1/me/").json()["roles"]) == {"leader", "volunteer"}


@pytest.mark.parametrize(
    "role, sees_full",
    [("volunteer", False), ("leader", False), ("inspector", True), ("chief", True), ("analyst", False)],
)
def test_iin_and_phone_are_masked_outside_the_police_scope(role, sees_full, cast, api, teammate_record):
    body = api(cast[role]).get(f"/api/v1/volunteers/{teammate_record.pk}/")
    if role == "volunteer":
        assert body.status_code == 404
        return
    data = body.json()
    assert (data["iin"] == teammate_record.iin) is sees_full
    assert (data["phone"].replace(" ", "") == teammate_record.phone) is sees_full
    if not sees_full:
        assert "•" in data["iin"] and teammate_record.iin[2:10] not in data["iin"]
        assert data["birth_date"] is None


def test_a_volunteer_sees_their_own_iin(api, volunteer):
    data = api(volunteer).get(f"/api/v1/volunteers/{volunteer.volunteer.pk}/").json()
    assert data["iin"] == volunteer.volunteer.iin


def test_searching_by_iin_needs_the_right_to_see_it(api, analyst, inspector, teammate_record):
    prefix = teammate_record.iin[:8]
    assert api(analyst).get(f"/api/v1/volunteers/?q={prefix}").json()["count"] == 0
    assert api(inspector).get(f"/api/v1/volunteers/?q={prefix}").json()["count"] >= 1


def test_the_volunteer_list_page_masks_for_the_leader(web, leader, teammate_record):
    page = web(leader).get(reverse("volunteer-list")).content.decode()
    assert teammate_record.last_name in page
    assert teammate_record.iin not in page


def test_a_chief_without_a_region_sees_nothing(api, group):
    lost = UserFactory(username="lost_chief", role="chief")
    assert api(lost).get("/api/v1/groups/").json()["count"] == 0
    assert api(lost).get(f"/api/v1/groups/{group.pk}/").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_geography_is_reference_data_for_everyone_signed_in(role, cast, api, district, other_district):
    client = api(cast[role])
    assert len(client.get("/api/v1/regions/").json()) == 20
    assert client.get(f"/api/v1/districts/{other_district.code}/").status_code == 200
    codes = {row["code"] for row in client.get("/api/v1/districts/?region=KZ-19").json()["results"]}
    assert district.code in codes and other_district.code not in codes


def test_the_admin_shows_geometries_on_a_map(client, district):
    from patrols.models import User

    boss = User.objects.create_superuser("root_admin", "root@example.kz", "x-very-long-pass-1")
    client.force_login(boss)
    page = client.get(reverse("admin:patrols_district_change", args=[district.pk]))
    assert page.status_code == 200
    assert "leaflet" in page.content.decode().lower()
    assert client.get(reverse("admin:patrols_volunteer_changelist")).status_code == 200
