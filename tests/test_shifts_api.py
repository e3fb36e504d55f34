"""Talgar's patrols through the API: zones on the map, shifts, sign-up and the waiting list, check-in on the spot,
the roster, weekly series and the inbox.

Our story: `inspector` keeps Talgar District; `group` (led by `leader`, with `volunteer` and a crew) is invited to
`shift`, tomorrow 20:00–02:00 in `zone`. Karaganda's Abay District is `other_inspector`'s, with its own zone,
shift and series, which nobody from Talgar may even know exist.
"""

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from patrols.models import Assignment, Notification, Shift, ShiftEvent, ShiftSeries, Zone
from patrols.services import scheduling
from tests.factories import (
    GroupFactory,
    MembershipFactory,
    ShiftFactory,
    UserFactory,
    VolunteerFactory,
    ZoneFactory,
    local,
    square_polygon,
)

pytestmark = pytest.mark.django_db

ROLES = ["volunteer", "leader", "inspector", "other_inspector", "chief", "analyst", "admin_user"]

# Who sees (our district's shift, the other district's shift)
SHIFT_VISIBILITY = {
    "volunteer": (True, False),
    "leader": (True, False),
    "inspector": (True, False),
    "other_inspector": (False, True),
    "chief": (True, False),
    "analyst": (True, True),
    "admin_user": (True, True),
}
# Series are the police's planning tool: (ours, theirs)
SERIES_VISIBILITY = {
    "volunteer": (False, False),
    "leader": (False, False),
    "inspector": (True, False),
    "other_inspector": (False, True),
    "chief": (True, False),
    "analyst": (True, True),
    "admin_user": (True, True),
}
PLANNERS = {"inspector", "admin_user"}
OTHER_PLANNERS = {"other_inspector", "admin_user"}

SHIFT_FIELDS = {
    "id",
    "zone",
    "zone_name",
    "district",
    "starts_at",
    "ends_at",
    "min_volunteers",
    "max_volunteers",
    "groups",
    "status",
    "signed_up",
    "waitlisted",
    "inspector",
    "briefing",
    "understaffed",
    "my_assignment",
}


@pytest.fixture
def crew(group):
    """Four more registered volunteers of `group`, each with an account."""
    people = []
    for n in range(4):
        person = VolunteerFactory(district=group.district, first_name=f"Ерік{n}", user=UserFactory())
        MembershipFactory(volunteer=person, group=group)
        people.append(person)
    return people


@pytest.fixture
def other_zone(other_district, other_inspector):
    return ZoneFactory(district=other_district, name="Абай орталығы")


@pytest.fixture
def other_shift(other_zone, other_group, other_inspector):
    return ShiftFactory(zone=other_zone, inspector=other_inspector, groups=[other_group])


@pytest.fixture
def series(zone, inspector, group):
    return scheduling.series_create(
        by=inspector,
        zone=zone,
        weekdays=[5, 6],
        start_time=datetime.time(20),
        end_time=datetime.time(2),
        starts_on=timezone.localdate(),
    )


@pytest.fixture
def other_series(other_zone, other_inspector, other_group):
    return scheduling.series_create(
        by=other_inspector,
        zone=other_zone,
        weekdays=[6],
        start_time=datetime.time(19),
        end_time=datetime.time(23),
        starts_on=timezone.localdate(),
    )


@pytest.fixture
def cast(request, volunteer, leader, inspector, other_inspector, chief, analyst, admin_user):
    return {name: request.getfixturevalue(name) for name in ROLES}


@pytest.fixture
def starting_soon(zone, inspector, group):
    """A shift starting in ten minutes: check-in is open, sign-up still is."""
    start = timezone.now() + datetime.timedelta(minutes=10)
    return ShiftFactory(
        zone=zone, inspector=inspector, groups=[group], starts_at=start, ends_at=start + datetime.timedelta(hours=4)
    )


def snapshot():
    return (
        list(Shift.objects.order_by("pk").values_list("status", "starts_at", "ends_at", "min_volunteers", "zone")),
        list(Assignment.objects.order_by("pk").values_list("volunteer", "status", "check_in_at")),
        list(Zone.objects.order_by("pk").values_list("name", "kind", "is_archived")),
        ShiftSeries.objects.count(),
        ShiftEvent.objects.count(),
        Notification.objects.count(),
    )


def status_of(visible: bool) -> int:
    return 200 if visible else 404


def write_status(role: str, visible: bool, planners: set[str]) -> int:
    if role in planners:
        return 200
    return 403 if visible else 404


def plan(zone, **overrides) -> dict:
    start = timezone.now() + datetime.timedelta(days=2)
    data = {
        "zone": zone.pk,
        "starts_at": start.isoformat(),
        "ends_at": (start + datetime.timedelta(hours=4)).isoformat(),
        "min_volunteers": 2,
        "max_volunteers": 4,
    }
    data.update(overrides)
    return data


def geojson(geometry) -> dict:
    import json

    return json.loads(geometry.geojson)


# What the list says


def test_a_volunteer_sees_the_shift_with_every_contract_field(api, volunteer, shift, group, zone, inspector):
    client = api(volunteer)
    row = client.get("/api/v1/shifts/").json()["results"][0]
    assert SHIFT_FIELDS <= set(row)
    assert row["id"] == shift.pk
    assert row["zone"] == zone.pk
    assert row["zone_name"] == zone.name
    assert row["district"] == "KZ-19-TAL"
    assert row["groups"] == [group.pk]
    assert row["inspector"] == inspector.username
    assert (row["status"], row["signed_up"], row["waitlisted"]) == ("scheduled", 0, 0)
    assert (row["min_volunteers"], row["max_volunteers"]) == (2, 4)
    assert row["understaffed"] is True
    assert row["my_assignment"] is None

    signed = client.post(f"/api/v1/shifts/{shift.pk}/signup/")
    assert signed.status_code == 201, signed.json()
    assert signed.json()["status"] == "signed_up"
    detail = client.get(f"/api/v1/shifts/{shift.pk}/").json()
    assert (detail["signed_up"], detail["my_assignment"]) == (1, "signed_up")


def test_a_volunteer_sees_only_the_shifts_their_groups_are_invited_to(api, volunteer, inspector, shift, zone, district):
    elsewhere = ShiftFactory(zone=zone, inspector=inspector, groups=[GroupFactory(district=district)])
    listed = {row["id"] for row in api(volunteer).get("/api/v1/shifts/").json()["results"]}
    assert listed == {shift.pk}
    assert api(volunteer).get(f"/api/v1/shifts/{elsewhere.pk}/").status_code == 404
    assert api(inspector).get(f"/api/v1/shifts/{elsewhere.pk}/").status_code == 200


def test_the_list_filters_by_place_window_status_mine_and_open(api, volunteer, inspector, shift, zone, group):
    day = timezone.localdate()
    next_week = ShiftFactory(
        zone=zone,
        inspector=inspector,
        groups=[group],
        starts_at=local(day + datetime.timedelta(days=7), 9),
        ends_at=local(day + datetime.timedelta(days=7), 13),
    )
    cancelled = ShiftFactory(
        zone=zone,
        inspector=inspector,
        groups=[group],
        starts_at=local(day + datetime.timedelta(days=3), 9),
        ends_at=local(day + datetime.timedelta(days=3), 13),
    )
    scheduling.shift_cancel(shift=cancelled, by=inspector, reason="Жаңбыр")
    scheduling.shift_signup(shift=next_week, volunteer=volunteer.volunteer, by=volunteer)
    client = api(volunteer)

    def ids(query: str) -> set[int]:
        response = client.get(f"/api/v1/shifts/?{query}")
        assert response.status_code == 200, response.json()
        return {row["id"] for row in response.json()["results"]}

    tomorrow = (day + datetime.timedelta(days=1)).isoformat()
    assert ids(f"from={tomorrow}&to={tomorrow}") == {shift.pk}
    assert ids(f"from={(day + datetime.timedelta(days=6)).isoformat()}") == {next_week.pk}
    assert ids("to=" + local(day + datetime.timedelta(days=3), 10).isoformat().replace("+", "%2B")) == {
        shift.pk,
        cancelled.pk,
    }
    assert ids("status=cancelled") == {cancelled.pk}
    assert ids("mine=true") == {next_week.pk}
    assert ids("open=true") == {shift.pk, next_week.pk}
    # Phones send 1 and 0 as often as true and false.
    assert ids("mine=1") == {next_week.pk}
    assert ids("open=1") == {shift.pk, next_week.pk}
    assert next_week.pk not in ids("mine=0")
    assert ids(f"district=KZ-19-TAL&zone={zone.pk}") == {shift.pk, next_week.pk, cancelled.pk}
    assert ids("district=KZ-35-ABA") == set()
    assert client.get("/api/v1/shifts/?from=tomorrow").status_code == 400


def test_the_list_of_twenty_shifts_takes_a_fixed_number_of_queries(
    api, volunteer, leader, inspector, zone, group, crew, django_assert_max_num_queries
):
    for n in range(20):
        start = timezone.now() + datetime.timedelta(days=n + 1)
        shift = ShiftFactory(
            zone=zone, inspector=inspector, groups=[group], starts_at=start, ends_at=start + datetime.timedelta(hours=3)
        )
        for person in crew[: n % 4]:
            Assignment.objects.create(shift=shift, volunteer=person)
    for user in (volunteer, inspector):
        client = api(user)
        with django_assert_max_num_queries(3):
            body = client.get("/api/v1/shifts/").json()
        assert body["count"] == 20
        assert sum(row["signed_up"] for row in body["results"]) == sum(n % 4 for n in range(20))


def test_the_map_and_the_inbox_take_a_fixed_number_of_queries(
    api, volunteer, inspector, district, zone, django_assert_max_num_queries
):
    for n in range(10):
        ZoneFactory(district=district, name=f"Аймақ {n}")
        start = timezone.now() + datetime.timedelta(days=n + 1)
        shift = ShiftFactory(
            zone=zone, inspector=inspector, starts_at=start, ends_at=start + datetime.timedelta(hours=2)
        )
        Notification.objects.create(user=volunteer, kind="assigned", shift=shift)
    client = api(volunteer)
    with django_assert_max_num_queries(2):
        assert client.get("/api/v1/zones/").json()["count"] == 11
    with django_assert_max_num_queries(2):
        assert client.get("/api/v1/notifications/").json()["count"] == 10


# Scope: another district's things do not exist for those who should not see them


@pytest.mark.parametrize("role", ROLES)
def test_shifts_follow_scope(role, cast, api, shift, other_shift):
    client = api(cast[role])
    ours, theirs = SHIFT_VISIBILITY[role]
    assert client.get(f"/api/v1/shifts/{shift.pk}/").status_code == status_of(ours)
    assert client.get(f"/api/v1/shifts/{other_shift.pk}/").status_code == status_of(theirs)
    listed = {row["id"] for row in client.get("/api/v1/shifts/").json()["results"]}
    assert (shift.pk in listed) is ours
    assert (other_shift.pk in listed) is theirs
    for path in ("attendance", "history"):
        assert client.get(f"/api/v1/shifts/{other_shift.pk}/{path}/").status_code in ({200, 403} if theirs else {404})


@pytest.mark.parametrize("role", ROLES)
def test_zones_follow_scope(role, cast, api, zone, other_zone):
    client = api(cast[role])
    ours, theirs = SHIFT_VISIBILITY[role]
    assert client.get(f"/api/v1/zones/{zone.pk}/").status_code == status_of(ours)
    assert client.get(f"/api/v1/zones/{other_zone.pk}/").status_code == status_of(theirs)
    listed = {feature["properties"]["id"] for feature in client.get("/api/v1/zones/").json()["features"]}
    assert (zone.pk in listed) is ours
    assert (other_zone.pk in listed) is theirs


@pytest.mark.parametrize("role", ROLES)
def test_series_follow_scope(role, cast, api, series, other_series):
    client = api(cast[role])
    ours, theirs = SERIES_VISIBILITY[role]
    assert client.get(f"/api/v1/series/{series.pk}/").status_code == status_of(ours)
    assert client.get(f"/api/v1/series/{other_series.pk}/").status_code == status_of(theirs)
    listed = {row["id"] for row in client.get("/api/v1/series/").json()["results"]}
    assert (series.pk in listed) is ours
    assert (other_series.pk in listed) is theirs


@pytest.mark.parametrize("role", ROLES)
def test_only_the_districts_planners_change_shifts_readers_get_403_strangers_404(role, cast, api, shift, other_shift):
    client = api(cast[role])
    ours, theirs = SHIFT_VISIBILITY[role]
    response = client.patch(f"/api/v1/shifts/{shift.pk}/", {"briefing": "Жилет киіңіз"}, format="json")
    assert response.status_code == write_status(role, ours, PLANNERS)
    response = client.patch(f"/api/v1/shifts/{other_shift.pk}/", {"briefing": "Жилет"}, format="json")
    assert response.status_code == write_status(role, theirs, OTHER_PLANNERS)
    cancel = client.post(f"/api/v1/shifts/{other_shift.pk}/cancel/", {"reason": "Дауыл"}, format="json")
    assert cancel.status_code == write_status(role, theirs, OTHER_PLANNERS)
    other_shift.refresh_from_db()
    assert (other_shift.status == "cancelled") is (role in OTHER_PLANNERS)


@pytest.mark.parametrize("role", ROLES)
def test_only_the_districts_planners_change_zones_and_series(role, cast, api, zone, other_zone, series, other_series):
    client = api(cast[role])
    ours, theirs = SHIFT_VISIBILITY[role]
    assert client.patch(f"/api/v1/zones/{zone.pk}/", {"description": "Саябақ"}, format="json").status_code == (
        write_status(role, ours, PLANNERS)
    )
    archive = client.post(f"/api/v1/zones/{other_zone.pk}/archive/")
    assert archive.status_code == (400 if role in OTHER_PLANNERS else (403 if theirs else 404))
    _ours_series, theirs_series = SERIES_VISIBILITY[role]
    stop = client.post(f"/api/v1/series/{other_series.pk}/stop/")
    assert stop.status_code == write_status(role, theirs_series, OTHER_PLANNERS)
    other_series.refresh_from_db()
    assert other_series.is_active is (role not in OTHER_PLANNERS)


@pytest.mark.parametrize("role", ["volunteer", "leader", "chief", "analyst"])
def test_readers_cannot_plan(role, cast, api, zone, district):
    client = api(cast[role])
    before = snapshot()
    assert client.post("/api/v1/shifts/", plan(zone), format="json").status_code == 403
    drawn = {"district": district.code, "name": "Жаңа", "geometry": geojson(zone.geometry)}
    assert client.post("/api/v1/zones/", drawn, format="json").status_code == 403
    weekly = {"zone": zone.pk, "weekdays": [5], "start_time": "20:00", "end_time": "23:00", "starts_on": "2030-01-01"}
    assert client.post("/api/v1/series/", weekly, format="json").status_code == 403
    assert snapshot() == before


# Zones on the map


def test_zones_are_geojson_and_archived_ones_leave_the_list(api, inspector, volunteer, zone):
    body = api(volunteer).get("/api/v1/zones/").json()
    assert body["type"] == "FeatureCollection"
    assert body["count"] == 1
    feature = body["features"][0]
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "Polygon"
    assert feature["properties"] == {
        "id": zone.pk,
        "name": zone.name,
        "kind": "area",
        "district": "KZ-19-TAL",
        "description": "",
        "is_archived": False,
    }
    archived = api(inspector).post(f"/api/v1/zones/{zone.pk}/archive/")
    assert archived.status_code == 200, archived.json()
    assert archived.json()["properties"]["is_archived"] is True
    assert api(volunteer).get("/api/v1/zones/").json()["count"] == 0
    assert api(volunteer).get("/api/v1/zones/?archived=true").json()["count"] == 1
    assert api(volunteer).get(f"/api/v1/zones/{zone.pk}/").status_code == 200


def test_the_inspector_draws_a_zone_and_a_route_and_redraws_them(api, inspector, district):
    client = api(inspector)
    centre = district.centre
    area = {
        "district": district.code,
        "name": "Базар маңы",
        "kind": "area",
        "geometry": geojson(square_polygon(centre.x, centre.y, 0.005)),
        "description": "Сенбі күндері",
    }
    response = client.post("/api/v1/zones/", area, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["properties"]["district"] == district.code
    assert created["geometry"]["type"] == "Polygon"

    route = {
        "district": district.code,
        "name": "Бас көше",
        "kind": "route",
        "geometry": {"type": "LineString", "coordinates": [[centre.x, centre.y], [centre.x + 0.01, centre.y]]},
    }
    assert client.post("/api/v1/zones/", route, format="json").status_code == 201

    pk = created["properties"]["id"]
    moved = {"geometry": geojson(square_polygon(centre.x + 0.01, centre.y, 0.005)), "name": "Базар"}
    redrawn = client.patch(f"/api/v1/zones/{pk}/", moved, format="json")
    assert redrawn.status_code == 200, redrawn.json()
    assert redrawn.json()["properties"]["name"] == "Базар"
    assert Zone.objects.get(pk=pk).geometry.centroid.x == pytest.approx(centre.x + 0.01)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"geometry": "far"}, "geometry"),
        ({"geometry": "line"}, "geometry"),
        ({"kind": "route"}, "geometry"),
        ({"geometry": {"type": "Polygon"}}, "geometry"),
        ({"geometry": "not a shape"}, "geometry"),
        ({"district": "KZ-35-ABA"}, "district"),
        ({"name": ""}, "name"),
        ({"name": "Талғар орталығы"}, "non_field_errors"),
    ],
)
def test_bad_zones_are_refused_and_change_nothing(api, inspector, district, other_district, zone, change, field):
    centre = district.centre
    shapes = {
        # A square 100 km east: outside Talgar's boundary.
        "far": geojson(square_polygon(centre.x + 1.0, centre.y, 0.01)),
        "line": {"type": "LineString", "coordinates": [[centre.x, centre.y], [centre.x + 0.01, centre.y]]},
    }
    data = {
        "district": district.code,
        "name": "Жаңа аймақ",
        "kind": "area",
        "geometry": geojson(square_polygon(centre.x, centre.y, 0.005)),
    }
    data.update({key: shapes.get(value, value) if isinstance(value, str) else value for key, value in change.items()})
    before = snapshot()
    response = api(inspector).post("/api/v1/zones/", data, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert snapshot() == before


# Planning shifts


def test_the_inspector_plans_changes_and_cancels_a_shift(api, inspector, zone, group, volunteer):
    client = api(inspector)
    response = client.post("/api/v1/shifts/", plan(zone, briefing="Жинақ: әкімдік алды"), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["groups"] == [group.pk]
    assert body["inspector"] == inspector.username
    assert body["briefing"] == "Жинақ: әкімдік алды"
    pk = body["id"]

    scheduling.shift_signup(shift=Shift.objects.get(pk=pk), volunteer=volunteer.volunteer, by=volunteer)
    changed = client.patch(f"/api/v1/shifts/{pk}/", {"max_volunteers": 6, "min_volunteers": 1}, format="json")
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["min_volunteers"], changed.json()["max_volunteers"]) == (1, 6)
    assert changed.json()["understaffed"] is False

    assert client.post(f"/api/v1/shifts/{pk}/cancel/", {"reason": ""}, format="json").status_code == 400
    cancelled = client.post(f"/api/v1/shifts/{pk}/cancel/", {"reason": "Дауыл ескертуі"}, format="json")
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["cancel_reason"]) == ("cancelled", "Дауыл ескертуі")
    inbox = api(volunteer).get("/api/v1/notifications/").json()["results"]
    assert [(item["kind"], item["shift"]) for item in inbox] == [("shift_cancelled", pk)]

    history = client.get(f"/api/v1/shifts/{pk}/history/").json()
    assert [event["kind"] for event in history] == ["cancelled", "updated", "signed_up", "created"]
    assert history[0]["by"] == inspector.username
    assert history[0]["details"] == {"reason": "Дауыл ескертуі"}


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"ends_at": "start-1h"}, "ends_at"),
        ({"min_volunteers": 5, "max_volunteers": 2}, "max_volunteers"),
        ({"starts_at": "past", "ends_at": "past+2h"}, "starts_at"),
        ({"zone": "other"}, "zone"),
        ({"groups": "other"}, "groups"),
        ({"inspector": "other_inspector"}, "inspector"),
        ({"ends_at": "start+30h"}, "ends_at"),
        ({"starts_at": "soon"}, "starts_at"),
    ],
)
def test_bad_shifts_are_refused_and_change_nothing(
    api, inspector, zone, other_zone, other_group, other_inspector, overrides, field
):
    data = plan(zone)
    start = datetime.datetime.fromisoformat(data["starts_at"])
    past = timezone.now() - datetime.timedelta(days=1)
    values = {
        "start-1h": (start - datetime.timedelta(hours=1)).isoformat(),
        "start+30h": (start + datetime.timedelta(hours=30)).isoformat(),
        "past": past.isoformat(),
        "past+2h": (past + datetime.timedelta(hours=2)).isoformat(),
        "soon": "yesterday evening",
    }
    for key, value in overrides.items():
        if value == "other":
            value = [other_group.pk] if key == "groups" else other_zone.pk
        data[key] = values.get(value, value) if isinstance(value, str) else value
    before = snapshot()
    response = api(inspector).post("/api/v1/shifts/", data, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert snapshot() == before


def test_a_started_shift_cannot_be_moved(api, inspector, starting_soon):
    shift = Shift.objects.get(pk=starting_soon.pk)
    Shift.objects.filter(pk=shift.pk).update(starts_at=timezone.now() - datetime.timedelta(minutes=5))
    before = snapshot()
    later = (timezone.now() + datetime.timedelta(hours=2)).isoformat()
    assert api(inspector).patch(f"/api/v1/shifts/{shift.pk}/", {"starts_at": later}, format="json").status_code == 400
    assert snapshot() == before


# Sign-up, the waiting list and promotion


def test_a_full_shift_waitlists_and_a_cancellation_promotes_the_first_in_line(api, shift, crew):
    Shift.objects.filter(pk=shift.pk).update(min_volunteers=1, max_volunteers=2)
    first, second, third, fourth = (api(person.user) for person in crew)
    assert first.post(f"/api/v1/shifts/{shift.pk}/signup/").json()["status"] == "signed_up"
    assert second.post(f"/api/v1/shifts/{shift.pk}/signup/").json()["status"] == "signed_up"
    assert third.post(f"/api/v1/shifts/{shift.pk}/signup/").json()["status"] == "waitlisted"
    assert fourth.post(f"/api/v1/shifts/{shift.pk}/signup/").json()["status"] == "waitlisted"
    row = third.get(f"/api/v1/shifts/{shift.pk}/").json()
    assert (row["signed_up"], row["waitlisted"], row["my_assignment"]) == (2, 2, "waitlisted")

    withdrawn = first.post(f"/api/v1/shifts/{shift.pk}/cancel-signup/")
    assert withdrawn.status_code == 200, withdrawn.json()
    assert withdrawn.json()["status"] == "cancelled"
    assert withdrawn.json()["cancelled_late"] is False
    row = third.get(f"/api/v1/shifts/{shift.pk}/").json()
    assert (row["signed_up"], row["waitlisted"], row["my_assignment"]) == (2, 1, "signed_up")
    assert fourth.get(f"/api/v1/shifts/{shift.pk}/").json()["my_assignment"] == "waitlisted"
    assert first.get(f"/api/v1/shifts/{shift.pk}/").json()["my_assignment"] == "cancelled"

    inbox = third.get("/api/v1/notifications/?unread=true", HTTP_ACCEPT_LANGUAGE="en").json()["results"]
    assert [(item["kind"], item["shift"], item["read"], item["report"]) for item in inbox] == [
        ("promoted", shift.pk, False, None)
    ]
    assert shift.zone.name in inbox[0]["text"]
    read = third.post(f"/api/v1/notifications/{inbox[0]['id']}/read/")
    assert read.status_code == 200
    assert read.json()["read"] is True
    assert third.get("/api/v1/notifications/?unread=true").json()["count"] == 0
    assert first.post(f"/api/v1/notifications/{inbox[0]['id']}/read/").status_code == 404
    assert first.get(f"/api/v1/notifications/{inbox[0]['id']}/").status_code == 404


def test_read_all_empties_the_unread_list(api, volunteer, shift, inspector):
    scheduling.shift_signup(shift=shift, volunteer=volunteer.volunteer, by=inspector)
    scheduling.shift_update(shift=shift, by=inspector, briefing="Жаңа нұсқау")
    client = api(volunteer)
    assert client.get("/api/v1/notifications/?unread=true").json()["count"] == 2
    assert client.post("/api/v1/notifications/read-all/").json() == {"marked": 2}
    assert client.get("/api/v1/notifications/?unread=true").json()["count"] == 0
    assert client.get("/api/v1/notifications/").json()["count"] == 2


def test_a_leader_signs_up_a_member_but_a_volunteer_cannot_sign_up_a_teammate(
    api, leader, volunteer, inspector, chief, shift, crew
):
    response = api(leader).post(f"/api/v1/shifts/{shift.pk}/signup/", {"volunteer": crew[0].pk}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["volunteer"] == crew[0].pk
    before = snapshot()
    teammate = api(volunteer).post(f"/api/v1/shifts/{shift.pk}/signup/", {"volunteer": crew[1].pk}, format="json")
    assert teammate.status_code == 400
    assert "volunteer" in teammate.json()
    assert api(chief).post(f"/api/v1/shifts/{shift.pk}/signup/").status_code == 403
    assert api(chief).post(f"/api/v1/shifts/{shift.pk}/signup/", {"volunteer": crew[1].pk}).status_code == 403
    assert api(inspector).post(f"/api/v1/shifts/{shift.pk}/signup/").status_code == 400
    assert snapshot() == before
    by_inspector = api(inspector).post(f"/api/v1/shifts/{shift.pk}/signup/", {"volunteer": crew[1].pk})
    assert by_inspector.status_code == 201
    cancelled = api(leader).post(f"/api/v1/shifts/{shift.pk}/cancel-signup/", {"volunteer": crew[0].pk})
    assert cancelled.json()["status"] == "cancelled"


def test_signing_up_twice_to_a_started_shift_or_an_overlapping_one_is_refused(
    api, volunteer, inspector, shift, zone, group, starting_soon
):
    client = api(volunteer)
    assert client.post(f"/api/v1/shifts/{shift.pk}/signup/").status_code == 201
    overlapping = ShiftFactory(
        zone=zone,
        inspector=inspector,
        groups=[group],
        starts_at=shift.starts_at + datetime.timedelta(hours=2),
        ends_at=shift.ends_at + datetime.timedelta(hours=2),
    )
    Shift.objects.filter(pk=starting_soon.pk).update(starts_at=timezone.now() - datetime.timedelta(minutes=1))
    before = snapshot()
    for target in (shift, overlapping, starting_soon):
        response = client.post(f"/api/v1/shifts/{target.pk}/signup/", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, target
        assert response.json()["non_field_errors"]
    assert snapshot() == before


# On the day


def test_check_in_inside_is_clean_near_it_waits_and_far_from_it_is_refused(
    api, volunteer, inspector, leader, chief, crew, starting_soon
):
    shift, centre = starting_soon, starting_soon.zone.geometry.centroid
    for user in (volunteer, crew[0].user, crew[1].user):
        assert api(user).post(f"/api/v1/shifts/{shift.pk}/signup/").status_code == 201

    inside = api(volunteer).post(f"/api/v1/shifts/{shift.pk}/check-in/", {"lat": centre.y, "lng": centre.x})
    assert inside.status_code == 200, inside.json()
    assert inside.json()["status"] == "checked_in"
    assert (inside.json()["check_in_distance_m"], inside.json()["check_in_outside"]) == (0, False)

    # About 4 km east of the centre, 3 km beyond the zone's edge: refused, nothing kept.
    far = {"lat": centre.y, "lng": centre.x + 0.05}
    before = snapshot()
    refused = api(crew[0].user).post(f"/api/v1/shifts/{shift.pk}/check-in/", far, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400
    assert "from the patrol zone" in refused.json()["lat"][0]
    assert snapshot() == before
    # About 1.4 km east of the centre, 600 m beyond the edge: accepted, waiting for the inspector.
    near = {"lat": centre.y, "lng": centre.x + 0.0175}
    outside = api(crew[0].user).post(f"/api/v1/shifts/{shift.pk}/check-in/", near)
    assert outside.status_code == 200
    assert outside.json()["check_in_outside"] is True
    assert outside.json()["confirmation"] == "needed"
    assert 400 < outside.json()["check_in_distance_m"] < 800

    Shift.objects.filter(pk=shift.pk).update(
        starts_at=timezone.now() - datetime.timedelta(hours=4), ends_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    out = api(volunteer).post(f"/api/v1/shifts/{shift.pk}/check-out/", {"lat": centre.y, "lng": centre.x})
    assert out.status_code == 200
    assert out.json()["status"] == "completed"
    assert out.json()["check_out_outside"] is False

    roster = api(inspector).get(f"/api/v1/shifts/{shift.pk}/attendance/").json()
    by_volunteer = {row["volunteer"]: row for row in roster}
    assert set(by_volunteer) == {volunteer.volunteer.pk, crew[0].pk, crew[1].pk}
    assert by_volunteer[crew[0].pk]["check_in_outside"] is True
    assert by_volunteer[crew[1].pk]["status"] == "signed_up"
    assert by_volunteer[volunteer.volunteer.pk]["volunteer_name"] == volunteer.volunteer.full_name
    assert {"patrol_hours", "cancelled_late", "check_in_at", "check_out_at", "check_out_distance_m"} <= set(roster[0])
    assert len(api(chief).get(f"/api/v1/shifts/{shift.pk}/attendance/").json()) == 3
    assert len(api(leader).get(f"/api/v1/shifts/{shift.pk}/attendance/").json()) == 3
    own = api(volunteer).get(f"/api/v1/shifts/{shift.pk}/attendance/").json()
    assert [row["volunteer"] for row in own] == [volunteer.volunteer.pk]
    assert api(volunteer).get(f"/api/v1/shifts/{shift.pk}/history/").status_code == 403
    assert api(leader).get(f"/api/v1/shifts/{shift.pk}/history/").status_code == 403
    assert [e["kind"] for e in api(chief).get(f"/api/v1/shifts/{shift.pk}/history/").json()][:2] == [
        "checked_out",
        "checked_in",
    ]


@pytest.mark.parametrize(
    "position",
    [{"lat": 200, "lng": 77.0}, {"lat": 43.0, "lng": -500}, {"lat": "north", "lng": 77.0}, {"lat": 43.0}],
)
def test_check_in_with_a_position_off_the_earth_is_refused(api, volunteer, starting_soon, position):
    client = api(volunteer)
    assert client.post(f"/api/v1/shifts/{starting_soon.pk}/check-in/", {}).status_code == 400
    client.post(f"/api/v1/shifts/{starting_soon.pk}/signup/")
    before = snapshot()
    response = client.post(f"/api/v1/shifts/{starting_soon.pk}/check-in/", position, format="json")
    assert response.status_code == 400
    assert set(response.json()) & {"lat", "lng"}
    assert snapshot() == before


def test_only_the_volunteer_checks_in_from_their_own_phone(api, volunteer, leader, inspector, starting_soon):
    centre = starting_soon.zone.geometry.centroid
    here = {"lat": centre.y, "lng": centre.x}
    path = f"/api/v1/shifts/{starting_soon.pk}/check-in/"
    assert api(volunteer).post(path, here).status_code == 400
    assert api(volunteer).post(f"/api/v1/shifts/{starting_soon.pk}/signup/").status_code == 201
    before = snapshot()
    assert api(leader).post(path, here).status_code == 400
    assert api(inspector).post(path, here).status_code == 403
    assert snapshot() == before
    assert api(volunteer).post(path, here).json()["status"] == "checked_in"


def test_the_inspector_marks_absentees_and_readers_cannot(api, inspector, chief, leader, volunteer, starting_soon):
    shift = starting_soon
    assert api(volunteer).post(f"/api/v1/shifts/{shift.pk}/signup/").status_code == 201
    mark = {"volunteer": volunteer.volunteer.pk, "status": "no_show", "note": "Телефон өшірулі"}
    too_early = api(inspector).post(f"/api/v1/shifts/{shift.pk}/attendance/", mark, format="json")
    assert too_early.status_code == 400
    Shift.objects.filter(pk=shift.pk).update(starts_at=timezone.now() - datetime.timedelta(hours=1))
    before = snapshot()
    assert api(chief).post(f"/api/v1/shifts/{shift.pk}/attendance/", mark, format="json").status_code == 403
    assert api(leader).post(f"/api/v1/shifts/{shift.pk}/attendance/", mark, format="json").status_code == 403
    wrong = api(inspector).post(
        f"/api/v1/shifts/{shift.pk}/attendance/", {**mark, "status": "completed"}, format="json"
    )
    assert wrong.status_code == 400
    assert snapshot() == before
    marked = api(inspector).post(f"/api/v1/shifts/{shift.pk}/attendance/", mark, format="json")
    assert marked.status_code == 200, marked.json()
    assert (marked.json()["status"], marked.json()["note"]) == ("no_show", "Телефон өшірулі")
    excused = api(inspector).post(
        f"/api/v1/shifts/{shift.pk}/attendance/", {**mark, "status": "excused", "note": "Ауырып қалды"}
    )
    assert excused.json()["status"] == "excused"


# Weekly series


def test_the_inspector_sets_a_weekly_series_and_stops_it(api, inspector, chief, zone, group):
    client = api(inspector)
    weekly = {
        "zone": zone.pk,
        "weekdays": [5, 6],
        "start_time": "20:00",
        "end_time": "02:00",
        "starts_on": timezone.localdate().isoformat(),
        "ends_on": (timezone.localdate() + datetime.timedelta(days=13)).isoformat(),
        "min_volunteers": 2,
        "max_volunteers": 5,
        "briefing": "Жұма мен сенбі түні",
    }
    response = client.post("/api/v1/series/", weekly, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["weekdays"], body["groups"], body["is_active"]) == ([5, 6], [group.pk], True)
    assert body["district"] == "KZ-19-TAL"
    generated = Shift.objects.filter(series_id=body["id"])
    assert 3 <= generated.count() <= 4
    assert {shift.max_volunteers for shift in generated} == {5}
    assert api(chief).get(f"/api/v1/series/{body['id']}/").status_code == 200
    assert api(chief).post(f"/api/v1/series/{body['id']}/stop/").status_code == 403
    stopped = client.post(f"/api/v1/series/{body['id']}/stop/")
    assert stopped.status_code == 200
    assert stopped.json()["is_active"] is False


@pytest.mark.parametrize(
    "change, field",
    [
        ({"weekdays": [0, 8]}, "weekdays"),
        ({"weekdays": []}, "weekdays"),
        ({"min_volunteers": 4, "max_volunteers": 3}, "max_volunteers"),
        ({"ends_on": "2020-01-01"}, "ends_on"),
        ({"start_time": "25:00"}, "start_time"),
    ],
)
def test_bad_series_are_refused_and_change_nothing(api, inspector, zone, change, field):
    weekly = {
        "zone": zone.pk,
        "weekdays": [5],
        "start_time": "20:00",
        "end_time": "23:00",
        "starts_on": timezone.localdate().isoformat(),
        **change,
    }
    before = snapshot()
    response = api(inspector).post("/api/v1/series/", weekly, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert snapshot() == before


# Races: many phones at the same moment


def _at_once(calls):
    """Run the calls from threads released together; each thread closes its own database connection."""
    barrier, results, errors = threading.Barrier(len(calls)), [None] * len(calls), []

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # reported by the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def _signup_call(user, shift_pk):
    def call():
        client = APIClient()
        client.force_authenticate(user)
        response = client.post(f"/api/v1/shifts/{shift_pk}/signup/")
        return response.status_code, response.json()

    return call


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_eight_phones_racing_for_the_last_seat_get_one_seat_and_seven_waits(shift, group):
    first = VolunteerFactory(district=group.district, user=UserFactory())
    MembershipFactory(volunteer=first, group=group)
    Shift.objects.filter(pk=shift.pk).update(min_volunteers=1, max_volunteers=2)
    scheduling.shift_signup(shift=shift, volunteer=first, by=first.user)
    racers = []
    for n in range(8):
        person = VolunteerFactory(district=group.district, first_name=f"Жүгіруші{n}", user=UserFactory())
        MembershipFactory(volunteer=person, group=group)
        racers.append(person.user)

    results = _at_once([_signup_call(user, shift.pk) for user in racers])

    assert [code for code, _body in results] == [201] * 8, results
    statuses = sorted(body["status"] for _code, body in results)
    assert statuses == ["signed_up"] + ["waitlisted"] * 7
    seats = Assignment.objects.filter(shift=shift, status__in=["signed_up", "checked_in", "completed"]).count()
    assert seats == 2
    assert Assignment.objects.filter(shift=shift, status="waitlisted").count() == 7


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_volunteer_racing_into_overlapping_shifts_gets_at_most_one(volunteer, zone, inspector, group):
    start = timezone.now() + datetime.timedelta(days=1)
    shifts = [
        ShiftFactory(
            zone=zone,
            inspector=inspector,
            groups=[group],
            starts_at=start + datetime.timedelta(minutes=30 * n),
            ends_at=start + datetime.timedelta(hours=4),
        )
        for n in range(4)
    ]

    results = _at_once([_signup_call(volunteer, shift.pk) for shift in shifts])

    codes = sorted(code for code, _body in results)
    assert codes == [201, 400, 400, 400], results
    busy = Assignment.objects.filter(volunteer=volunteer.volunteer).exclude(status="cancelled")
    assert busy.count() == 1
