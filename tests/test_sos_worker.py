"""SOS against real processes: a Celery worker process, an own Redis server, and an SMS gateway on loopback.

A checked-in volunteer presses SOS: the inspector's phone is at the gateway within 5 s (sent by the worker), the
alarm is open in the API; nobody acknowledges (`SOS_ACK_SECONDS` is 3 here), so the worker's timer sends it to the
district's duty unit; the inspector acknowledges and the region's centre is never reached. Then the same SOS with
Redis stopped: the web process sends tier 1's SMS itself, and nothing goes out twice once Redis and the worker are
back.
"""

from __future__ import annotations

import time

import pytest
from django.db import connection

from patrols.choices import DeliveryStatus, DutyUnitLevel, SosEventKind, SosStatus
from patrols.models import Delivery, DutyUnit, SosAlarm
from patrols.services.notifications import queue_deliveries
from patrols.tasks import sweep_notifications, sweep_sos
from tests.support.broker import celery_app_on
from tests.support.celery_worker import CeleryWorker, app_env, database_url
from tests.support.duty import shift_under_way
from tests.support.redis_server import RedisServer
from tests.support.sms_gateway import TOKEN, SmsGateway

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ACK_SECONDS = 3
INSPECTOR_PHONE = "+77015550101"
UNIT_PHONE = "+77272000102"
CENTRE_PHONE = "+77272000112"


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(log_path=tmp_path / "redis.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def gateway(settings):
    """The gateway for the worker and for this process (which sends tier 1 itself when the broker is down)."""
    server = SmsGateway().start()
    settings.SMS_BACKEND, settings.SMS_GATEWAY_URL, settings.SMS_GATEWAY_TOKEN = "http", server.url, TOKEN
    yield server
    server.stop()


@pytest.fixture
def broker(redis_server):
    with celery_app_on(redis_server.url):
        yield redis_server


@pytest.fixture
def start_worker(redis_server, gateway, broker, tmp_path):
    """`start_worker()` starts the worker process (on the test database, the own Redis, the gateway)."""
    env = app_env(
        database_url=database_url(connection.settings_dict),
        redis_url=redis_server.url,
        email_url="smtp://127.0.0.1:9",
        SMS_BACKEND="http",
        SMS_GATEWAY_URL=gateway.url,
        SMS_GATEWAY_TOKEN=TOKEN,
        SOS_ACK_SECONDS=str(ACK_SECONDS),
        DELIVERY_REQUEUE_SECONDS="1",
    )
    started = []

    def start() -> CeleryWorker:
        process = CeleryWorker(env=env, log_path=tmp_path / "worker.log", concurrency=2).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.kill()


@pytest.fixture
def on_duty(inspector, group, zone, volunteer, leader, district, settings):
    settings.SOS_ACK_SECONDS = ACK_SECONDS
    inspector.phone = INSPECTOR_PHONE
    inspector.save()
    DutyUnit.objects.create(
        level=DutyUnitLevel.DISTRICT, district=district, region=district.region, name="Талғар АПБ", phones=[UNIT_PHONE]
    )
    DutyUnit.objects.create(
        level=DutyUnitLevel.REGION, region=district.region, name="Алматы облысы ЖБО", phones=[CENTRE_PHONE]
    )
    return shift_under_way(zone, inspector, [group], volunteer, checked_in_minutes_ago=40)


def press(api, volunteer, shift):
    centre = shift.zone.geometry.centroid
    return api(volunteer).post("/api/v1/sos/", {"lat": centre.y, "lng": centre.x, "accuracy": 8}, format="json")


def history(alarm_id: int) -> list[str]:
    return list(SosAlarm.objects.get(pk=alarm_id).events.order_by("at", "pk").values_list("kind", flat=True))


def test_sos_reaches_the_inspector_in_seconds_then_the_duty_unit_and_acknowledge_stops_it(
    api, start_worker, gateway, on_duty, volunteer, leader, inspector
):
    start_worker()
    pressed = time.monotonic()
    answer = press(api, volunteer, on_duty)
    assert answer.status_code == 201, answer.content
    alarm_id = answer.data["id"]

    sms = gateway.wait_for(INSPECTOR_PHONE, timeout=5)
    assert sms[0].at - pressed < 5
    gateway.wait_for(leader.volunteer.phone, timeout=5)
    listed = api(inspector).get("/api/v1/sos/?status=open").data["results"]
    assert [row["id"] for row in listed] == [alarm_id]

    # Nobody acknowledges: the worker's timer sends it on to the district's duty unit.
    gateway.wait_for(UNIT_PHONE, timeout=ACK_SECONDS + 10)
    assert api(inspector).post(f"/api/v1/sos/{alarm_id}/acknowledge/").data["status"] == SosStatus.ACKNOWLEDGED
    # Past the next window (and a sweep for good measure) the region's centre is never told.
    time.sleep(ACK_SECONDS * 2 + 1)
    sweep_sos.delay()
    time.sleep(1)
    assert not gateway.messages(CENTRE_PHONE)
    assert len(gateway.messages(INSPECTOR_PHONE)) == 1
    assert len(gateway.messages(UNIT_PHONE)) == 1
    assert history(alarm_id) == [
        SosEventKind.RAISED,
        SosEventKind.TIER_NOTIFIED,
        SosEventKind.TIER_NOTIFIED,
        SosEventKind.ACKNOWLEDGED,
    ]


def test_with_redis_stopped_tier_one_still_hears_and_nothing_goes_twice_when_it_returns(
    api, start_worker, gateway, redis_server, on_duty, volunteer, leader, settings
):
    settings.SOS_ACK_SECONDS = 600  # this story is about tier 1 only
    redis_server.stop()
    began = time.monotonic()
    answer = press(api, volunteer, on_duty)
    assert answer.status_code == 201, answer.content
    assert time.monotonic() - began < 5
    # Sent by this (the web) process itself, within the request.
    assert len(gateway.messages(INSPECTOR_PHONE)) == 1
    assert len(gateway.messages(leader.volunteer.phone)) == 1
    sms = list(Delivery.objects.filter(channel="sms").values_list("pk", flat=True))
    assert len(sms) == 2
    assert not Delivery.objects.filter(pk__in=sms).exclude(status=DeliveryStatus.SENT).exists()

    redis_server.start()
    worker = start_worker()
    # The sweeps run, and the sent deliveries' own tasks arrive late as a lost task would: none is sent again.
    sweep_notifications.delay()
    sweep_sos.delay()
    assert queue_deliveries(sms) == 2
    worker.wait_for_log(r"patrols\.tasks\.deliver\[[^\]]+\] succeeded", count=2, timeout=15, what="the late tasks")
    worker.wait_for_log(r"patrols\.tasks\.sweep_sos\[[^\]]+\] succeeded", timeout=15, what="the SOS sweep")
    assert len(gateway.messages(INSPECTOR_PHONE)) == 1
    assert len(gateway.messages(leader.volunteer.phone)) == 1
    assert not gateway.messages(UNIT_PHONE)
    assert SosAlarm.objects.get(pk=answer.data["id"]).status == SosStatus.OPEN
