"""Rule 3 against real processes: a Celery worker process, an own Redis server, and an SMTP server that counts.

Every test starts its own `redis-server` on a free loopback port (so it can be stopped without touching the
machine's Redis), an aiosmtpd server in a thread, and `celery worker` (prefork, two processes) on the test database.
Mail is counted where it arrives: by Message-ID (`<delivery-ID@host>`, one per Delivery row) and by recipient.
The shifts start in about 90 minutes, so the 2 h reminder is the one due.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
import time
from collections import Counter

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from patrols.choices import DeliveryStatus, NotificationKind
from patrols.models import Delivery, Notification
from patrols.services import reminders, scheduling
from patrols.services.notifications import notify, queue_deliveries
from patrols.tasks import sweep_notifications
from tests.factories import MembershipFactory, ShiftFactory, UserFactory, VolunteerFactory
from tests.support.broker import celery_app_on
from tests.support.celery_worker import BASE_DIR, CeleryWorker, app_env, database_url
from tests.support.ports import wait_until
from tests.support.redis_server import RedisServer
from tests.support.seed import Area, signed_up
from tests.support.smtp_sink import SmtpSink

# Committed rows, so the worker's own connections see them; the serialized rollback brings back the regions that
# the migrations load, which the flush at the end of a transactional test removes.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

REQUEUE_SECONDS = 2
MESSAGE_ID = re.compile(r"<delivery-(\d+)@")


@pytest.fixture(autouse=True)
def delivery_settings(settings):
    settings.DELIVERY_REQUEUE_SECONDS = REQUEUE_SECONDS
    settings.REMINDER_LEADS_HOURS = [24, 2]


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(log_path=tmp_path / "redis.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def broker(redis_server):
    """This process publishes to the own Redis too (the sweep and `notify` queue tasks here)."""
    with celery_app_on(redis_server.url):
        yield redis_server


@pytest.fixture
def env(redis_server, smtp):
    """The environment of app processes: the pytest-django test database, the own Redis, the SMTP sink."""
    return app_env(
        database_url=database_url(connection.settings_dict),
        redis_url=redis_server.url,
        email_url=smtp.url,
        DELIVERY_REQUEUE_SECONDS=str(REQUEUE_SECONDS),
    )


@pytest.fixture
def worker(env, broker, tmp_path):
    process = CeleryWorker(env=env, log_path=tmp_path / "worker.log", concurrency=2)
    try:
        process.start()
        yield process
    finally:
        process.kill()


@pytest.fixture
def area(district, inspector, group, zone):
    return Area(district=district, inspector=inspector, group=group, zone=zone)


def in_minutes(minutes: float) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(minutes=minutes)


def delivery_id(message_id: str) -> int:
    match = MESSAGE_ID.search(message_id)
    assert match, f"unexpected Message-ID {message_id!r}"
    return int(match.group(1))


def email_ids(**filters) -> set[int]:
    return set(Delivery.objects.filter(channel="email", **filters).values_list("pk", flat=True))


def all_sent(ids: set[int]) -> bool:
    return not Delivery.objects.filter(pk__in=ids).exclude(status=DeliveryStatus.SENT).exists()


def broker_idle(url: str, *, abandoned: frozenset[bytes] = frozenset()) -> bool:
    """No task waiting in the queue and none taken but unacknowledged (except those of a killed worker)."""
    client = redis.Redis.from_url(url)
    try:
        return client.llen("celery") == 0 and set(client.hkeys("unacked")) <= abandoned
    finally:
        client.close()


def broker_drained(url: str) -> bool:
    """Every task has been taken from the queue (some may still be running)."""
    client = redis.Redis.from_url(url)
    try:
        return client.llen("celery") == 0
    finally:
        client.close()


def wait_idle(url: str, *, timeout: float = 30, abandoned: frozenset[bytes] = frozenset()) -> None:
    wait_until(lambda: broker_idle(url, abandoned=abandoned), timeout=timeout, what="the worker to finish every task")


def per_address(smtp: SmtpSink) -> Counter:
    return Counter(received.to for received in smtp.messages())


def test_due_reminders_arrive_exactly_once_per_person_and_kind(area, worker, smtp, broker):
    assignments = signed_up(30, area=area, starts_at=in_minutes(90), tag="once")
    for _ in range(3):
        reminders.sweep()
    sweep_notifications.delay()
    sweep_notifications.delay()
    ids = email_ids(notification__kind=NotificationKind.SHIFT_REMINDER)
    assert len(ids) == len(assignments)
    queue_deliveries(sorted(ids))
    queue_deliveries(sorted(ids))

    wait_until(lambda: all_sent(ids), timeout=30, what="every reminder to be sent")
    wait_idle(broker.url)
    reminders.sweep()
    wait_idle(broker.url)

    arrived = smtp.message_ids()
    assert {delivery_id(message_id) for message_id in arrived} == ids
    assert max(arrived.values()) == 1, f"sent twice: {[m for m, n in arrived.items() if n > 1]}"
    assert set(per_address(smtp).values()) == {1}
    assert len(per_address(smtp)) == len(assignments)
    keys = Notification.objects.filter(kind=NotificationKind.SHIFT_REMINDER).values_list("key", flat=True)
    assert sorted(keys) == sorted(f"reminder:{a.pk}:2h" for a in assignments)


def test_a_worker_killed_in_the_middle_of_a_batch_of_1000_loses_nothing_and_doubles_nothing(area, worker, smtp, broker):
    signed_up(1000, area=area, starts_at=in_minutes(90), tag="batch")
    # Once 300 have arrived, the SMTP server holds every new session at MAIL FROM, before anything is accepted. With
    # both pool processes waiting there, each has committed its previous delivery, and each holds the lock of the
    # one it is sending: the kill then hits two sends in flight, never a message accepted but not yet marked sent.
    smtp.handler.close_gate_after = 300
    reminders.sweep()
    ids = email_ids()
    assert len(ids) == 1000

    wait_until(
        lambda: smtp.count() >= 300 and smtp.handler.waiting_at_gate() == worker.concurrency,
        timeout=60,
        what="300 messages to arrive and both pool processes to wait at the gate",
    )
    worker.kill()
    client = redis.Redis.from_url(broker.url)
    abandoned = frozenset(client.hkeys("unacked"))  # taken by the killed worker, never acknowledged
    client.close()
    smtp.handler.open_gate()
    arrived_before_kill = smtp.count()
    assert 300 <= arrived_before_kill < 1000
    pending = Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING).count()
    assert pending == 1000 - arrived_before_kill, "a delivery was marked sent without arriving, or the reverse"

    worker.start()
    # The sweep runs as the minute beat would: after the queue has drained (a minute is longer than this backlog
    # takes). What is still pending then was taken by the killed worker, and only the sweep's requeue sends it.
    wait_idle(broker.url, abandoned=abandoned, timeout=90)
    lost = Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING)
    batch = settings.DELIVERY_BATCH_SIZE
    assert 1 <= lost.count() <= batch * len(abandoned), "only the killed worker's deliveries wait for the sweep"
    deadline = time.monotonic() + 30
    while not all_sent(ids):
        assert time.monotonic() < deadline, f"still pending after the sweeps: {list(lost.values_list('pk', flat=True))}"
        reminders.sweep()
        wait_until(lambda: broker_drained(broker.url), timeout=30, what="the requeued tasks to be taken")
        time.sleep(0.2)
    wait_idle(broker.url, abandoned=abandoned, timeout=30)

    arrived = smtp.message_ids()
    doubled = {message_id: n for message_id, n in arrived.items() if n > 1}
    assert not doubled, f"{len(doubled)} deliveries arrived more than once: {sorted(doubled)[:10]}"
    assert len(arrived) == 1000 and smtp.count() == 1000
    assert {delivery_id(message_id) for message_id in arrived} == ids


def test_redis_down_delays_reminders_but_neither_doubles_nor_sends_stale_ones(area, worker, smtp, broker, redis_server):
    soon = ShiftFactory(
        zone=area.zone, inspector=area.inspector, groups=[area.group], starts_at=in_minutes(90), max_volunteers=6
    )
    people = []
    for i in range(5):
        user = UserFactory(username=f"down{i}", email=f"down{i}@example.kz", language=("kk", "ru", "en")[i % 3])
        MembershipFactory(volunteer=VolunteerFactory(district=area.district, user=user), group=area.group)
        people.append(user)
    late = UserFactory(username="late", email="late@example.kz", language="ru")
    MembershipFactory(volunteer=VolunteerFactory(district=area.district, user=late), group=area.group)
    stale = ShiftFactory(
        zone=area.zone,
        inspector=area.inspector,
        groups=[area.group],
        starts_at=timezone.now() + datetime.timedelta(seconds=8),
        ends_at=in_minutes(240),
    )

    redis_server.stop()
    down_at = time.monotonic()
    # Writes never depend on the broker: sign-ups (by the inspector, which tells the volunteer), a sign-up by the
    # volunteer, a direct notification, and the sweep itself all succeed with Redis down, without waiting for it.
    scheduling.shift_signup(shift=stale, volunteer=late.volunteer, by=area.inspector)
    for user in people[:4]:
        scheduling.shift_signup(shift=soon, volunteer=user.volunteer, by=area.inspector)
    scheduling.shift_signup(shift=soon, volunteer=people[4].volunteer, by=people[4])
    notify(users=people[:1], kind=NotificationKind.REPORT_VERIFIED)
    writes = time.monotonic() - down_at
    assert writes < 3, f"seven writes took {writes:.1f} s with the broker down"
    assert reminders.sweep()["reminders"] == 6
    assert not Delivery.objects.exclude(queued_at=None).exists(), "nothing can have been queued"
    stale_ids = email_ids(user=late)
    assert len(stale_ids) == 2  # "you were put on a shift" and the reminder, both stale once the shift starts

    wait_until(lambda: timezone.now() > stale.starts_at, timeout=10, what="the stale shift to start")
    redis_server.start()
    assert time.monotonic() - down_at >= 4
    worker.wait_for_log(r"Connected to redis://", count=2, timeout=40, what="the worker to reconnect")
    wanted = email_ids(user__in=people)
    deadline = time.monotonic() + 30
    while not all_sent(wanted):
        assert time.monotonic() < deadline, "the reminders were not sent after Redis came back"
        reminders.sweep()
        time.sleep(0.3)
    wait_idle(broker.url)
    reminders.sweep()
    wait_idle(broker.url)

    arrived = smtp.message_ids()
    assert max(arrived.values()) == 1
    assert {delivery_id(message_id) for message_id in arrived} == wanted
    assert set(Delivery.objects.filter(user=late).values_list("status", flat=True)) == {DeliveryStatus.SKIPPED}
    assert "late@example.kz" not in per_address(smtp)
    kinds = Counter(
        Delivery.objects.filter(pk__in=wanted).values_list("user__username", "notification__kind").iterator()
    )
    assert set(kinds.values()) == {1}
    assert {kind for _user, kind in kinds} == {"assigned", "shift_reminder", "report_verified"}
    assert sum(1 for _user, kind in kinds if kind == "shift_reminder") == 5


SWEEPER = """
import json, os, pathlib, time
from patrols.services.reminders import sweep
barrier = pathlib.Path(os.environ["SWEEP_BARRIER"])
(barrier / os.environ["SWEEP_NAME"]).touch()
deadline = time.monotonic() + 30
while len(list(barrier.iterdir())) < 2 and time.monotonic() < deadline:
    time.sleep(0.002)
print("SWEEPS=" + json.dumps([sweep() for _ in range(5)]))
"""


def test_two_sweeps_at_once_double_nothing(area, worker, smtp, broker, env, tmp_path):
    assignments = signed_up(200, area=area, starts_at=in_minutes(90), tag="twice")
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    sweepers = [
        subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", SWEEPER],
            cwd=BASE_DIR,
            env={**env, "SWEEP_BARRIER": str(barrier), "SWEEP_NAME": name},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    results = []
    for sweeper in sweepers:
        out, err = sweeper.communicate(timeout=60)
        assert sweeper.returncode == 0, err[-3000:]
        results.append(json.loads(next(line for line in out.splitlines() if line.startswith("SWEEPS="))[7:]))

    created = sum(run["reminders"] for runs in results for run in runs)
    assert created == len(assignments), f"reminders created by the two processes: {results}"
    ids = email_ids()
    assert len(ids) == len(assignments)
    wait_until(lambda: all_sent(ids), timeout=60, what="every reminder to be sent")
    wait_idle(broker.url)

    arrived = smtp.message_ids()
    assert max(arrived.values()) == 1
    assert {delivery_id(message_id) for message_id in arrived} == ids
    assert set(per_address(smtp).values()) == {1}
    assert len(per_address(smtp)) == len(assignments)
