"""A volunteer in trouble presses SOS: tier 1 hears at once, the duty units if nobody answers, and every step stays
in the alarm's history. "I'm OK" check-ins raise an amber alarm to tier 1 when one is missed.

The SMS gateway is a local HTTP server (tests/support/sms_gateway.py); the duty unit's system is the signature-
checking server of the escalation tests. Celery runs eagerly here; tests/test_sos_worker.py has the real worker.
"""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from patrols.choices import (
    AssignmentStatus,
    DeliveryStatus,
    DutyUnitLevel,
    NotificationKind,
    SosEventKind,
    SosKind,
    SosStatus,
)
from patrols.models import Assignment, Delivery, DutyUnit, Notification, SosAlarm, SosDispatch
from patrols.services import scheduling, sos
from tests.factories import UserFactory, VolunteerFactory, local
from tests.support.duty import shift_under_way
from tests.support.duty_system import DutySystem
from tests.support.sms_gateway import TOKEN, SmsGateway

pytestmark = pytest.mark.django_db

INSPECTOR_PHONE = "+77015550101"
UNIT_PHONE = "+77272000102"
CENTRE_PHONE = "+77272000112"


@pytest.fixture
def gateway(settings):
    server = SmsGateway().start()
    settings.SMS_BACKEND = "http"
    settings.SMS_GATEWAY_URL = server.url
    settings.SMS_GATEWAY_TOKEN = TOKEN
    yield server
    server.stop()


@pytest.fixture
def committed(django_capture_on_commit_callbacks, eager_celery):
    """`with committed():` runs what waits for the commit (queued deliveries, sent at once by eager Celery)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def on_duty(inspector, group, zone, volunteer, leader):
    """A shift under way (started an hour ago), `volunteer` checked in at the zone's centre."""
    inspector.phone = INSPECTOR_PHONE
    inspector.save()
    return shift_under_way(zone, inspector, [group], volunteer, checked_in_minutes_ago=50)


@pytest.fixture
def units(district):
    unit = DutyUnit.objects.create(
        level=DutyUnitLevel.DISTRICT,
        district=district,
        region=district.region,
        name="Талғар АПБ кезекші бөлімі",
        phones=[UNIT_PHONE],
        email="duty@talgar.police.kz",
    )
    centre = DutyUnit.objects.create(
        level=DutyUnitLevel.REGION, region=district.region, name="Алматы облысы ЖБО", phones=[CENTRE_PHONE]
    )
    return unit, centre


def checked_in_near(shift, *, metres_east: float, name: str):
    """Another volunteer checked in on `shift`, `metres_east` of the zone's centre (about 80 km per degree here)."""
    centre = shift.zone.geometry.centroid
    person = VolunteerFactory(district=shift.district, user=UserFactory(username=name))
    Assignment.objects.create(
        shift=shift,
        volunteer=person,
        status=AssignmentStatus.CHECKED_IN,
        check_in_at=timezone.now() - datetime.timedelta(minutes=30),
        check_in_point=Point(centre.x + metres_east / 80_000, centre.y, srid=4326),
    )
    return person.user


def press(api, user, shift, **extra):
    centre = shift.zone.geometry.centroid
    return api(user).post("/api/v1/sos/", {"lat": centre.y, "lng": centre.x, "accuracy": 12, **extra}, format="json")


def kinds(alarm: SosAlarm) -> list[str]:
    return list(alarm.events.order_by("at", "pk").values_list("kind", flat=True))


def test_an_sos_reaches_the_inspector_and_the_leader_at_once_and_volunteers_nearby_in_the_app(
    api, committed, gateway, on_duty, volunteer, leader, inspector, chief, group
):
    near = checked_in_near(on_duty, metres_east=900, name="near")
    far = checked_in_near(on_duty, metres_east=5000, name="far")
    with committed():
        answer = press(api, volunteer, on_duty, client_uuid=str(uuid.uuid4()))
    assert answer.status_code == 201, answer.content
    assert answer.data["status"] == SosStatus.OPEN
    alarm = SosAlarm.objects.get(pk=answer.data["id"])
    assert (alarm.shift, alarm.group, alarm.tier) == (on_duty, group, 1)

    assert len(gateway.messages(INSPECTOR_PHONE)) == 1
    assert "SOS" in gateway.messages(INSPECTOR_PHONE)[0].text
    assert len(gateway.messages(leader.volunteer.phone)) == 1
    # Volunteers nearby hear in the app only; one 5 km away is not called.
    assert Notification.objects.filter(user=near, kind=NotificationKind.SOS_ALARM, details__alarm=alarm.pk).exists()
    assert not gateway.messages(near.volunteer.phone)
    assert not Notification.objects.filter(user=far).exists()

    for user in (inspector, chief, leader, volunteer, near):
        listed = api(user).get("/api/v1/sos/?status=open")
        assert [row["id"] for row in listed.data["results"]] == [alarm.pk], user.username
    assert kinds(alarm) == [SosEventKind.RAISED, SosEventKind.TIER_NOTIFIED]
    detail = api(inspector).get(f"/api/v1/sos/{alarm.pk}/").data
    assert detail["tiers"][0]["people"] and detail["tiers"][0]["nearby"] == 1


def test_nobody_acknowledges_so_the_district_unit_is_told_then_acknowledge_stops_it(
    api, committed, gateway, on_duty, volunteer, inspector, units
):
    unit, centre = units
    with DutySystem(unit.secret) as duty_system:
        unit.webhook_url = duty_system.url
        unit.save()
        with committed():
            alarm = SosAlarm.objects.get(pk=press(api, volunteer, on_duty).data["id"])
        window = datetime.timedelta(seconds=121)

        with committed():
            assert sos.alarms_escalate_due(now=alarm.next_escalation_at - datetime.timedelta(seconds=1)) == 0
            # Two sweeps at the same moment: the alarm moves up once.
            assert sos.alarms_escalate_due(now=alarm.created_at + window) == 1
            assert sos.alarms_escalate_due(now=alarm.created_at + window) == 0
        alarm.refresh_from_db()
        assert alarm.tier == 2
        assert len(gateway.messages(UNIT_PHONE)) == 1
        assert not gateway.messages(CENTRE_PHONE)
        assert [m["signature_ok"] for m in duty_system.received] == [True]
        assert duty_system.received[0]["body"]["alarm"] == alarm.pk
        assert set(SosDispatch.objects.filter(alarm=alarm).values_list("channel", flat=True)) == {
            "sms",
            "email",
            "webhook",
        }

    acknowledged = api(inspector).post(f"/api/v1/sos/{alarm.pk}/acknowledge/")
    assert acknowledged.status_code == 200, acknowledged.content
    assert acknowledged.data["status"] == SosStatus.ACKNOWLEDGED
    with committed():
        assert sos.alarms_escalate_due(now=timezone.now() + datetime.timedelta(hours=1)) == 0
    assert not gateway.messages(CENTRE_PHONE)
    api(inspector).post(f"/api/v1/sos/{alarm.pk}/on-my-way/")
    resolved = api(inspector).post(f"/api/v1/sos/{alarm.pk}/resolve/", {"note": "Жетіп бардық, бәрі аман."})
    assert resolved.data["status"] == SosStatus.RESOLVED
    alarm.refresh_from_db()
    assert kinds(alarm) == [
        SosEventKind.RAISED,
        SosEventKind.TIER_NOTIFIED,
        SosEventKind.TIER_NOTIFIED,
        SosEventKind.ACKNOWLEDGED,
        SosEventKind.ON_MY_WAY,
        SosEventKind.RESOLVED,
    ]
    history = resolved.data["history"]
    assert history[2]["unit"] == unit.name and history[3]["by"]
    assert history[-1]["note"] == "Жетіп бардық, бәрі аман."
    # The volunteer heard who has it.
    assert Notification.objects.filter(user=volunteer, kind=NotificationKind.SOS_UPDATE).exists()


def test_past_the_district_unit_it_goes_to_the_regions_centre(committed, gateway, on_duty, volunteer, units, api):
    with committed():
        alarm = SosAlarm.objects.get(pk=press(api, volunteer, on_duty).data["id"])
    with committed():
        sos.alarms_escalate_due(now=alarm.created_at + datetime.timedelta(seconds=121))
        sos.alarms_escalate_due(now=alarm.created_at + datetime.timedelta(seconds=250))
    alarm.refresh_from_db()
    assert (alarm.tier, alarm.next_escalation_at) == (3, None)
    assert len(gateway.messages(CENTRE_PHONE)) == 1


def test_another_districts_inspector_gets_404(api, committed, gateway, on_duty, volunteer, other_inspector):
    with committed():
        alarm_id = press(api, volunteer, on_duty).data["id"]
    assert api(other_inspector).get(f"/api/v1/sos/{alarm_id}/").status_code == 404
    assert api(other_inspector).post(f"/api/v1/sos/{alarm_id}/acknowledge/").status_code == 404
    assert api(other_inspector).get("/api/v1/sos/").data["count"] == 0


def test_the_volunteer_calls_off_a_false_alarm_and_only_they_can(
    api, committed, gateway, on_duty, volunteer, leader, inspector
):
    with committed():
        alarm_id = press(api, volunteer, on_duty).data["id"]
    assert api(leader).post(f"/api/v1/sos/{alarm_id}/cancel/").status_code == 403
    assert api(volunteer).post(f"/api/v1/sos/{alarm_id}/acknowledge/").status_code == 403
    cancelled = api(volunteer).post(f"/api/v1/sos/{alarm_id}/cancel/", {"note": "Қалтада басылып кетті."})
    assert cancelled.status_code == 200
    assert cancelled.data["status"] == SosStatus.CANCELLED
    assert cancelled.data["history"][-1]["kind"] == SosEventKind.CANCELLED
    assert Notification.objects.filter(user=inspector, kind=NotificationKind.SOS_UPDATE).exists()
    with committed():
        assert sos.alarms_escalate_due(now=timezone.now() + datetime.timedelta(hours=1)) == 0
    assert api(volunteer).post(f"/api/v1/sos/{alarm_id}/cancel/").status_code == 400


def test_pressing_again_gives_the_same_alarm_and_is_never_throttled(
    api, committed, gateway, on_duty, volunteer, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "user": "1/min"},
    }
    device_id = str(uuid.uuid4())
    with committed():
        answers = [press(api, volunteer, on_duty, client_uuid=device_id) for _ in range(3)]
        answers.append(press(api, volunteer, on_duty))
    assert [a.status_code for a in answers] == [201, 200, 200, 200]
    assert {a.data["id"] for a in answers} == {answers[0].data["id"]}
    assert SosAlarm.objects.count() == 1
    assert len(gateway.messages(INSPECTOR_PHONE)) == 1


def test_off_duty_a_volunteer_still_reaches_the_group_leader_and_its_inspector(
    api, committed, gateway, volunteer, leader, inspector, district
):
    inspector.phone = INSPECTOR_PHONE
    inspector.save()
    with committed():
        answer = api(volunteer).post("/api/v1/sos/", {"lat": district.centre.y, "lng": district.centre.x})
    assert answer.status_code == 201
    alarm = SosAlarm.objects.get(pk=answer.data["id"])
    assert (alarm.shift, alarm.district) == (None, district)
    assert gateway.messages(INSPECTOR_PHONE) and gateway.messages(leader.volunteer.phone)


def test_only_volunteers_raise_and_junk_is_refused(api, inspector, volunteer):
    assert api(inspector).post("/api/v1/sos/", {"lat": 43.3, "lng": 77.2}, format="json").status_code == 403
    assert api(volunteer).post("/api/v1/sos/", {"lat": 123, "lng": 77.2}, format="json").status_code == 400
    assert SosAlarm.objects.count() == 0


def test_a_missed_im_ok_raises_an_amber_alarm_to_tier_one_only(
    api, committed, gateway, on_duty, volunteer, leader, inspector, units
):
    on_duty.ok_interval_minutes = 60
    on_duty.save()
    assignment = Assignment.objects.get(shift=on_duty, volunteer=volunteer.volunteer)
    checked_in = assignment.check_in_at
    assert sos.ok_sweep(now=checked_in + datetime.timedelta(minutes=59)) == {"prompts": 0, "amber": 0}
    assert sos.ok_sweep(now=checked_in + datetime.timedelta(minutes=65)) == {"prompts": 1, "amber": 0}
    assert Notification.objects.filter(user=volunteer, kind=NotificationKind.OK_PROMPT).count() == 1
    # The prompt goes to the volunteer's phone only (an SMS here, which they answer "OK"), never by email.
    assert list(Delivery.objects.filter(user=volunteer).values_list("channel", flat=True)) == ["sms"]

    with committed():
        late = checked_in + datetime.timedelta(minutes=71)
        assert sos.ok_sweep(now=late) == {"prompts": 1, "amber": 1}
        assert sos.ok_sweep(now=late)["amber"] == 0
    amber = SosAlarm.objects.get(kind=SosKind.MISSED_OK)
    assert amber.next_escalation_at is None
    assert Notification.objects.filter(user=inspector, kind=NotificationKind.OK_MISSED).exists()
    assert len(gateway.messages(INSPECTOR_PHONE)) == 1
    assert len(gateway.messages(leader.volunteer.phone)) == 1
    with committed():
        assert sos.alarms_escalate_due(now=late + datetime.timedelta(hours=2)) == 0
    assert not SosDispatch.objects.exists()
    assert not gateway.messages(UNIT_PHONE)

    ok = api(volunteer).post(f"/api/v1/assignments/{assignment.pk}/ok/")
    assert ok.status_code == 200, ok.content
    amber.refresh_from_db()
    assert amber.status == SosStatus.RESOLVED
    assert ok.data["next_due_at"] is not None


def test_im_ok_is_the_volunteers_own_and_needs_a_check_in(api, on_duty, volunteer, leader, other_inspector):
    assignment = Assignment.objects.get(shift=on_duty, volunteer=volunteer.volunteer)
    assert api(other_inspector).post(f"/api/v1/assignments/{assignment.pk}/ok/").status_code == 404
    assert api(leader).post(f"/api/v1/assignments/{assignment.pk}/ok/").status_code == 403
    assignment.status = AssignmentStatus.COMPLETED
    assignment.save()
    assert api(volunteer).post(f"/api/v1/assignments/{assignment.pk}/ok/").status_code == 400


def test_a_shift_that_ends_after_midnight_asks_im_ok_every_hour_by_default(inspector, zone, group):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    night = scheduling.shift_create(
        by=inspector,
        zone=zone,
        starts_at=local(tomorrow, 20),
        ends_at=local(tomorrow, 23) + datetime.timedelta(hours=3),
    )
    evening = scheduling.shift_create(
        by=inspector, zone=zone, starts_at=local(tomorrow, 17), ends_at=local(tomorrow, 21)
    )
    quiet = scheduling.shift_create(
        by=inspector,
        zone=zone,
        starts_at=local(tomorrow, 22),
        ends_at=local(tomorrow, 22) + datetime.timedelta(hours=5),
        ok_interval_minutes=0,
    )
    assert (night.ok_interval_minutes, evening.ok_interval_minutes, quiet.ok_interval_minutes) == (60, None, None)


def test_delivery_already_sent_is_not_sent_again(committed, gateway, on_duty, volunteer, api):
    from patrols.services.reminders import delivery_send

    with committed():
        press(api, volunteer, on_duty)
    sms = Delivery.objects.get(address=INSPECTOR_PHONE)
    assert sms.status == DeliveryStatus.SENT
    assert delivery_send(delivery_id=sms.pk) == DeliveryStatus.SENT
    assert len(gateway.messages(INSPECTOR_PHONE)) == 1


def test_open_alarms_for_the_board(api, committed, gateway, on_duty, volunteer, inspector, other_inspector, leader):
    with committed():
        press(api, volunteer, on_duty)
    assert [a.volunteer for a in sos.open_alarms_for(inspector)] == [volunteer.volunteer]
    assert list(sos.open_alarms_for(other_inspector)) == []


def test_the_alarm_page_shows_where_and_takes_the_answers(
    web, committed, gateway, api, on_duty, volunteer, inspector, other_inspector, client
):
    with committed():
        alarm_id = press(api, volunteer, on_duty).data["id"]
    browser = web(inspector)
    page = browser.get(f"/sos/{alarm_id}/")
    assert page.status_code == 200
    assert b"sos-map-data" in page.content
    with committed():
        assert browser.post(f"/sos/{alarm_id}/acknowledge/").status_code == 302
        assert browser.post(f"/sos/{alarm_id}/resolve/", {"note": ""}).status_code == 400
        assert browser.post(f"/sos/{alarm_id}/resolve/", {"note": "Аман-есен."}).status_code == 302
    assert SosAlarm.objects.get(pk=alarm_id).status == SosStatus.RESOLVED
    client.logout()
    assert web(other_inspector).get(f"/sos/{alarm_id}/").status_code == 404


def test_the_sos_button_is_on_every_page_of_a_checked_in_volunteer_only(web, on_duty, volunteer, inspector, units):
    page = web(volunteer).get("/")
    assert b"data-sos-hold" in page.content
    assert f'data-duty-phone="{UNIT_PHONE}"'.encode() in page.content
    assert b"tel:102" in page.content
    Assignment.objects.filter(shift=on_duty).update(status=AssignmentStatus.COMPLETED)
    assert b"data-sos-hold" not in web(volunteer).get("/").content
    assert b"data-sos-hold" not in web(inspector).get("/").content
