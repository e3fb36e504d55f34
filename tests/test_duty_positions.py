"""Position while on duty: only from the volunteer's own checked-in assignment, only with their consent, buffered
points kept once each in the order they were taken, shown to the inspector, and deleted after the retention period."""

import datetime
import json
import re

import pytest
from django.utils import timezone

from patrols.models import Assignment, DutyConsent, PositionPing
from patrols.services import attendance, retention
from tests.conftest import api_reader
from tests.factories import MembershipFactory, UserFactory, VolunteerFactory
from tests.support.duty import check_in, fix, shift_starting_soon, sign_up


@pytest.fixture
def on_duty(zone, inspector, group):
    return shift_starting_soon(zone, inspector, [group])


@pytest.fixture
def teammate(group):
    person = VolunteerFactory(district=group.district, first_name="Айгерім", user=UserFactory(username="teammate"))
    MembershipFactory(volunteer=person, group=group)
    return person.user


def positions_url(assignment) -> str:
    return f"/api/v1/assignments/{assignment.pk}/positions/"


def agree(user) -> None:
    assert api_reader(user, "en").post("/api/v1/duty/consent/").json()["sharing"] is True


def track(assignment) -> list[tuple]:
    return list(
        PositionPing.objects.filter(assignment=assignment).values_list("recorded_at", "accuracy_m", "client_uuid")
    )


def test_buffered_points_arrive_in_order_and_a_batch_sent_again_stores_nothing_twice(
    api, volunteer, inspector, on_duty
):
    agree(volunteer)
    mine = check_in(on_duty, volunteer)
    # The phone was offline for two minutes: four positions wait, taken 30 s apart, and go as one batch.
    waited = [fix(on_duty, seconds_ago=seconds, east_m=seconds) for seconds in (90, 60, 30, 0)]
    sent = api(volunteer).post(positions_url(mine), waited, format="json")
    assert sent.status_code == 200, sent.json()
    assert sent.json() == {"stored": 4, "duplicates": 0}

    # The answer was lost on the way back: the phone sends the same batch again, and nothing is kept twice.
    again = api(volunteer).post(positions_url(mine), waited, format="json")
    assert again.json() == {"stored": 0, "duplicates": 4}
    assert PositionPing.objects.filter(assignment=mine).count() == 4

    # A batch from before the others arrives last: the track is still in the order the positions were taken.
    late = [fix(on_duty, seconds_ago=100)]
    assert api(volunteer).post(positions_url(mine), late, format="json").json() == {"stored": 1, "duplicates": 0}
    taken = [at for at, _accuracy, _uuid in track(mine)]
    assert taken == sorted(taken) and len(taken) == 5
    assert str(track(mine)[0][2]) == late[0]["client_uuid"]

    shown = api(inspector).get(positions_url(mine))
    assert shown.status_code == 200
    assert [point["recorded_at"] for point in shown.json()] == sorted(point["recorded_at"] for point in shown.json())
    assert shown.json()[-1]["accuracy"] == 12


def test_no_position_is_taken_before_the_check_in_or_after_the_check_out(api, volunteer, on_duty):
    agree(volunteer)
    signed_up = sign_up(on_duty, volunteer)
    refused = api_reader(volunteer, "en").post(positions_url(signed_up), [fix(on_duty)], format="json")
    assert refused.status_code == 400
    assert "only between check-in and check-out" in refused.json()["assignment"][0]

    mine = check_in(on_duty, volunteer)
    assert api(volunteer).post(positions_url(mine), [fix(on_duty)], format="json").status_code == 200
    Assignment.objects.filter(pk=mine.pk).update(check_in_at=timezone.now() - datetime.timedelta(hours=1))
    on_duty.starts_at = timezone.now() - datetime.timedelta(hours=1)
    on_duty.save(update_fields=["starts_at"])
    attendance.shift_check_out(
        assignment=mine, by=volunteer, point=on_duty.zone.geometry.centroid, reason="Анам ауырып қалды"
    )
    after = api_reader(volunteer, "en").post(positions_url(mine), [fix(on_duty)], format="json")
    assert after.status_code == 400
    assert "only between check-in and check-out" in after.json()["assignment"][0]
    assert PositionPing.objects.count() == 1


def test_a_position_recorded_outside_the_time_on_patrol_is_refused_with_its_batch(api, volunteer, on_duty):
    agree(volunteer)
    mine = check_in(on_duty, volunteer)
    before_check_in = fix(on_duty, seconds_ago=10 * 60)
    refused = api_reader(volunteer, "en").post(positions_url(mine), [fix(on_duty), before_check_in], format="json")
    assert refused.status_code == 400
    assert "Position 2 was recorded outside your time on patrol" in refused.json()["recorded_at"][0]
    in_the_future = fix(on_duty, seconds_ago=-10 * 60)
    assert api(volunteer).post(positions_url(mine), [in_the_future], format="json").status_code == 400
    assert PositionPing.objects.count() == 0


def test_another_volunteers_assignment_is_not_found(api, volunteer, teammate, inspector, other_inspector, on_duty):
    agree(volunteer)
    agree(teammate)
    mine = check_in(on_duty, volunteer)
    check_in(on_duty, teammate)
    for someone in (teammate, inspector, other_inspector):
        assert api(someone).post(positions_url(mine), [fix(on_duty)], format="json").status_code == 404
    nowhere = api(volunteer).post("/api/v1/assignments/999999/positions/", [fix(on_duty)], format="json")
    assert nowhere.status_code == 404
    # The track is read in scope: the shift's inspector sees it, another district's does not even find it.
    assert api(inspector).get(positions_url(mine)).status_code == 200
    assert api(other_inspector).get(positions_url(mine)).status_code == 404
    assert PositionPing.objects.count() == 0


def test_without_consent_nothing_is_kept_and_stopping_is_one_tap(api, volunteer, on_duty):
    mine = check_in(on_duty, volunteer)
    english = api_reader(volunteer, "en")
    refused = english.post(positions_url(mine), [fix(on_duty)], format="json")
    assert refused.status_code == 400
    assert "You have not agreed to share your position" in refused.json()["consent"][0]
    assert english.get("/api/v1/duty/consent/").json()["sharing"] is False

    agree(volunteer)
    assert english.post(positions_url(mine), [fix(on_duty)], format="json").status_code == 200
    stopped = english.delete("/api/v1/duty/consent/")
    assert stopped.json()["sharing"] is False and stopped.json()["withdrawn_at"]
    assert english.post(positions_url(mine), [fix(on_duty)], format="json").status_code == 400
    assert PositionPing.objects.count() == 1
    # Agreeing again is the volunteer's own choice, recorded as given anew.
    agree(volunteer)
    assert DutyConsent.objects.get().withdrawn_at is None


def test_junk_is_a_clear_400(api, volunteer, on_duty):
    agree(volunteer)
    mine = check_in(on_duty, volunteer)
    client = api(volunteer)
    for junk in ({"lat": 1}, [], [fix(on_duty, lat=200)], [fix(on_duty, client_uuid="nope")], "text", [1, 2]):
        assert client.post(positions_url(mine), junk, format="json").status_code == 400, junk
    too_many = [fix(on_duty) for _n in range(501)]
    assert client.post(positions_url(mine), too_many, format="json").status_code == 400
    assert PositionPing.objects.count() == 0


def test_retention_deletes_positions_older_than_the_period(settings, volunteer, api, on_duty):
    settings.POSITION_RETENTION_DAYS = 90
    agree(volunteer)
    mine = check_in(on_duty, volunteer)
    api(volunteer).post(positions_url(mine), [fix(on_duty, seconds_ago=s) for s in (60, 30, 0)], format="json")
    old = list(PositionPing.objects.order_by("recorded_at").values_list("pk", flat=True)[:2])
    PositionPing.objects.filter(pk__in=old).update(received_at=timezone.now() - datetime.timedelta(days=91))

    assert retention.retention_apply(dry_run=True).positions == 2
    assert PositionPing.objects.count() == 3
    assert retention.retention_apply().positions == 2
    (kept,) = PositionPing.objects.values_list("pk", flat=True)
    assert kept not in old
    assert retention.retention_apply().positions == 0


def test_retention_forgets_where_an_sos_was_raised_once_it_is_long_closed(settings, volunteer, on_duty):
    from patrols.models import SosAlarm

    settings.POSITION_RETENTION_DAYS = 90
    long_ago = timezone.now() - datetime.timedelta(days=91)
    common = {"volunteer": volunteer.volunteer, "user": volunteer, "district": on_duty.district}
    old = SosAlarm.objects.create(**common, point=on_duty.zone.geometry.centroid, status="resolved", closed_at=long_ago)
    recent = SosAlarm.objects.create(**common, point=on_duty.zone.geometry.centroid, status="resolved")
    recent.closed_at = timezone.now()
    recent.save()

    assert retention.retention_apply().positions == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.point is None and old.status == "resolved", "the alarm stays in the history, its place goes"
    assert recent.point is not None


def test_on_the_shift_page_consent_is_asked_once_sharing_shows_and_stop_is_one_tap(web, volunteer, on_duty):
    check_in(on_duty, volunteer)
    browser = web(volunteer)
    browser.cookies["django_language"] = "en"
    page = browser.get(f"/shifts/{on_duty.pk}/").content.decode()
    assert "your phone sends its position about every 30 to 60 seconds" in page
    assert "deleted after 90 days" in page
    assert "duty-position.js" not in page

    browser.post("/duty/consent/", {"next": f"/shifts/{on_duty.pk}/"})
    page = browser.get(f"/shifts/{on_duty.pk}/").content.decode()
    assert "Sharing your position" in page and "duty-position.js" in page
    assert "every 30 to 60 seconds" not in page

    browser.post("/duty/consent/withdraw/", {"next": f"/shifts/{on_duty.pk}/"})
    page = browser.get(f"/shifts/{on_duty.pk}/").content.decode()
    assert "duty-position.js" not in page and "Share my position again" in page
    assert DutyConsent.objects.get().withdrawn_at is not None


def test_the_inspector_sees_each_checked_in_volunteers_last_position_on_the_shift_map(
    web, api, volunteer, teammate, inspector, on_duty
):
    agree(volunteer)
    mine = check_in(on_duty, volunteer)
    check_in(on_duty, teammate)
    api(volunteer).post(positions_url(mine), [fix(on_duty, seconds_ago=60), fix(on_duty, east_m=300)], format="json")
    page = web(inspector).get(f"/shifts/{on_duty.pk}/").content.decode()
    data = json.loads(re.search(r'<script id="shift-map-data" type="application/json">(.*?)</script>', page, re.S)[1])
    positions = [f for f in data["features"] if f["properties"]["role"] == "position"]
    # Only the volunteer who shares is on the map with a position; the teammate has only their check-in point.
    assert [f["properties"]["name"] for f in positions] == [volunteer.volunteer.full_name]
    east = on_duty.zone.geometry.centroid.x + 300 / 78_000
    assert positions[0]["geometry"]["coordinates"][0] == pytest.approx(east, abs=1e-5)
