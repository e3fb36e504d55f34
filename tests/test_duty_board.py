"""The live board of who is on duty now: in the reader's scope, where and since when, stale after five minutes, the
shifts under way with nobody checked in, open alarms first; the page and `GET /api/v1/duty/now/` tell the same."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patrols.models import Shift
from patrols.selectors.duty import duty_board
from patrols.services import duty
from tests.factories import MembershipFactory, UserFactory, VolunteerFactory, ZoneFactory
from tests.support.duty import check_in, fix, shift_starting_soon, sign_up


@pytest.fixture
def on_duty(zone, inspector, group):
    return shift_starting_soon(zone, inspector, [group])


@pytest.fixture
def elsewhere(other_district, other_inspector, other_group):
    return shift_starting_soon(ZoneFactory(district=other_district), other_inspector, [other_group])


def names(board: dict) -> list[str]:
    return [person["volunteer"] for person in board["on_duty"]]


def send(user, shift, assignment, **position) -> None:
    duty.duty_consent_give(volunteer=user.volunteer, by=user)
    duty.positions_record(
        assignment=assignment,
        by=user,
        fixes=[
            duty.fix_from(
                **{key: value for key, value in fix(shift, **position).items() if key != "recorded_at"},
                recorded_at=timezone.now() - datetime.timedelta(seconds=position.get("seconds_ago", 0)),
            )
        ],
    )


def test_who_is_on_duty_where_and_since_when_in_each_readers_scope(
    api, volunteer, leader, inspector, chief, other_inspector, other_volunteer, on_duty, elsewhere, group
):
    mine = check_in(on_duty, volunteer)
    send(volunteer, on_duty, mine, east_m=200)
    check_in(elsewhere, other_volunteer)

    board = api(inspector).get("/api/v1/duty/now/")
    assert board.status_code == 200
    (person,) = board.json()["on_duty"]
    assert person["volunteer"] == volunteer.volunteer.full_name
    assert (person["shift"], person["zone"], person["groups"]) == (on_duty.pk, on_duty.zone.name, [group.name])
    assert person["since"] and person["last_seen"] and person["stale"] is False
    assert person["lng"] == pytest.approx(on_duty.zone.geometry.centroid.x + 200 / 78_000, abs=1e-5)

    # The other district's volunteer is on their inspector's board only; the chief sees their own region.
    assert names(api(other_inspector).get("/api/v1/duty/now/").json()) == [other_volunteer.volunteer.full_name]
    assert names(api(chief).get("/api/v1/duty/now/").json()) == [volunteer.volunteer.full_name]
    # The group's leader sees the group's people; a volunteer has no board at all.
    assert names(api(leader).get("/api/v1/duty/now/").json()) == [volunteer.volunteer.full_name]
    assert api(volunteer).get("/api/v1/duty/now/").status_code == 404


def test_a_volunteer_not_heard_from_for_five_minutes_is_stale(settings, api, volunteer, inspector, on_duty):
    assert settings.DUTY_STALE_SECONDS == 300
    mine = check_in(on_duty, volunteer)
    # Without a position sent, the check-in is the last place and time known.
    (person,) = duty_board(inspector)["on_duty"]
    assert person["last_seen"] == mine.check_in_at and person["lat"] is not None

    send(volunteer, on_duty, mine)
    now = timezone.now()
    assert duty_board(inspector, now=now + datetime.timedelta(seconds=290))["on_duty"][0]["stale"] is False
    assert duty_board(inspector, now=now + datetime.timedelta(seconds=310))["on_duty"][0]["stale"] is True
    settings.DUTY_STALE_SECONDS = 600
    assert duty_board(inspector, now=now + datetime.timedelta(seconds=310))["on_duty"][0]["stale"] is False


def test_shifts_under_way_with_nobody_checked_in_are_listed(
    api, volunteer, leader, inspector, other_inspector, on_duty, elsewhere
):
    sign_up(on_duty, volunteer)
    sign_up(on_duty, leader)
    Shift.objects.filter(pk__in=[on_duty.pk, elsewhere.pk]).update(
        starts_at=timezone.now() - datetime.timedelta(minutes=15)
    )
    (empty,) = api(inspector).get("/api/v1/duty/now/").json()["started_empty"]
    assert (empty["shift"], empty["signed_up"]) == (on_duty.pk, 2)
    assert [s["shift"] for s in api(other_inspector).get("/api/v1/duty/now/").json()["started_empty"]] == [elsewhere.pk]

    check_in(on_duty, volunteer)
    assert api(inspector).get("/api/v1/duty/now/").json()["started_empty"] == []


def test_open_alarms_come_first_in_scope(api, volunteer, inspector, other_inspector, on_duty):
    from patrols.models.sos import SosAlarm

    mine = check_in(on_duty, volunteer)
    alarm = SosAlarm.objects.create(
        volunteer=volunteer.volunteer,
        user=volunteer,
        district=on_duty.district,
        assignment=mine,
        shift=on_duty,
        point=on_duty.zone.geometry.centroid,
    )
    (shown,) = api(inspector).get("/api/v1/duty/now/").json()["alarms"]
    assert (shown["id"], shown["status"], shown["shift"]) == (alarm.pk, "open", on_duty.pk)
    assert api(other_inspector).get("/api/v1/duty/now/").json()["alarms"] == []
    SosAlarm.objects.filter(pk=alarm.pk).update(status="resolved")
    assert api(inspector).get("/api/v1/duty/now/").json()["alarms"] == []


def test_the_board_costs_the_same_few_queries_for_one_or_many_on_duty(api, inspector, group, on_duty, volunteer):
    client = api(inspector)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/duty/now/").status_code == 200
        return len(captured)

    mine = check_in(on_duty, volunteer)
    send(volunteer, on_duty, mine)
    one = queries()
    for n in range(3):
        person = VolunteerFactory(district=group.district, first_name=f"Ерік{n}", user=UserFactory())
        MembershipFactory(volunteer=person, group=group)
        assignment = check_in(on_duty, person.user)
        send(person.user, on_duty, assignment)
    assert queries() == one
    assert one <= 8


def test_the_page_lists_the_people_on_duty_without_the_map_and_its_json_twin_gives_them_too(
    web, volunteer, inspector, on_duty
):
    check_in(on_duty, volunteer)
    browser = web(inspector)
    page = browser.get("/duty/")
    assert page.status_code == 200
    html = page.content.decode()
    assert volunteer.volunteer.full_name in html and on_duty.zone.name in html
    assert 'href="/duty/"' in html  # in the menu
    assert "duty-board.js" in html

    twin = browser.get("/duty/now.json")
    assert twin["Cache-Control"] == "no-store"
    assert volunteer.volunteer.full_name in twin.json()["parts"]["list"]
    assert twin.json()["count"] == 1
    assert twin.json()["features"][0]["properties"]["name"] == volunteer.volunteer.full_name


def test_a_volunteer_has_no_board_and_no_menu_entry(web, volunteer):
    browser = web(volunteer)
    assert browser.get("/duty/").status_code == 404
    assert browser.get("/duty/now.json").status_code == 404
    assert 'href="/duty/"' not in browser.get("/").content.decode()
