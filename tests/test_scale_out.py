"""Past one machine: two web processes and two Celery workers (plus beat) behave as one.

Two production web servers (`scripts/serve-production.sh`: gunicorn, DEBUG off, two processes of four threads
each), two Celery workers and, for the reminders, beat, all on the pytest-django test database and one own Redis
server, with an SMTP server that counts what arrives. Talgar's volunteers race for the seats of one shift through
both servers, the inspector's verify button is pressed on both at once, a session started on one server is used
on the other, and beat's minute sweep hands the reminders to both workers: nothing is lost, nothing happens twice.
"""

from __future__ import annotations

import datetime
import re
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.db.models import Sum
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from patrols.choices import AssignmentStatus, NotificationKind, ReportEventKind, ReportStatus
from patrols.models import (
    ApiToken,
    Assignment,
    Category,
    Delivery,
    Notification,
    Outcome,
    Report,
    ReportEvent,
    ReportTally,
)
from patrols.services import reminders, reporting
from tests.factories import MembershipFactory, ShiftFactory, UserFactory, VolunteerFactory
from tests.support.broker import celery_app_on
from tests.support.celery_worker import CeleryWorker, app_env, database_url
from tests.support.http import Browser, call
from tests.support.ports import wait_until
from tests.support.redis_server import RedisServer
from tests.support.seed import Area, signed_up
from tests.support.smtp_sink import SmtpSink
from tests.support.web_server import CeleryBeat, WebServer, production_env

# Committed rows, so the servers' and workers' own connections see them; the serialized rollback brings back the
# regions and categories that the migrations load, which the flush at the end of a transactional test removes.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

MESSAGE_ID = re.compile(r"<delivery-(\d+)@")
# A worker's log line per task done: `deliver` says 'sent', a batch of `deliver_many` says {'sent': 20}.
DELIVERED = re.compile(r"Task patrols\.tasks\.deliver(?:_many)?\[[^\]]+\] succeeded in [0-9.]+s: (.*)")
SENT_IN_BATCH = re.compile(r"'sent': (\d+)")


class Cluster:
    """What runs on the machines: two web servers, two workers, one Redis, one SMTP server (and their logs)."""

    def __init__(self, *, env, webs, workers, redis_server, smtp, tmp) -> None:
        self.env = env
        self.webs = webs
        self.workers = workers
        self.redis_server = redis_server
        self.smtp = smtp
        self.tmp = tmp


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scale-out")
    redis_server = RedisServer(log_path=tmp / "redis.log")
    smtp = SmtpSink()
    started = []
    try:
        redis_server.start()
        smtp.start()
        with django_db_blocker.unblock():
            url = database_url(connection.settings_dict)
        env = production_env(
            app_env(database_url=url, redis_url=redis_server.url, email_url=smtp.url, MEDIA_ROOT=str(tmp / "media"))
        )
        webs = [WebServer(env=env, log_path=tmp / f"web{n}.log", workers=1, threads=8) for n in (1, 2)]
        workers = [CeleryWorker(env=env, log_path=tmp / f"worker{n}.log", concurrency=1, name=f"w{n}") for n in (1, 2)]
        # Start them side by side: each takes a few seconds to import Django.
        for process in [*webs, *workers]:
            started.append(process)
        threads = [threading.Thread(target=process.start) for process in started]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for web in webs:
            assert web.healthy(), web.log()[-3000:]
        for worker in workers:
            assert worker.pids(), worker.log()[-3000:]
        with celery_app_on(redis_server.url):
            yield Cluster(env=env, webs=webs, workers=workers, redis_server=redis_server, smtp=smtp, tmp=tmp)
    finally:
        for process in started:
            if isinstance(process, CeleryWorker):
                process.kill()
            else:
                process.stop()
        smtp.stop()
        redis_server.stop()


@pytest.fixture
def area(district, inspector, group, zone):
    return Area(district=district, inspector=inspector, group=group, zone=zone)


def token_for(user) -> str:
    return ApiToken.objects.create(user=user, device="scale-out test")[1]


def all_at_once(calls: list) -> list:
    """Run the calls in threads released together, so they reach the servers at the same moment."""
    start = threading.Barrier(len(calls))

    def run(job):
        start.wait()
        return job()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def volunteers(area: Area, count: int, *, tag: str) -> list:
    """`count` registered volunteers of the area's group, each with an account and an API token."""
    people = []
    for number in range(count):
        user = UserFactory(username=f"{tag}{number}", email=f"{tag}{number}@example.kz")
        MembershipFactory(volunteer=VolunteerFactory(district=area.district, user=user), group=area.group)
        people.append(user)
    return people


def delivered_by(worker: CeleryWorker) -> int:
    """How many messages the worker's log says it sent, alone or in batches."""
    sent = 0
    for outcome in DELIVERED.findall(worker.log_since_start()):
        batch = SENT_IN_BATCH.search(outcome)
        sent += int(batch.group(1)) if batch else int(outcome.strip() == "'sent'")
    return sent


def test_a_rush_for_five_seats_through_two_servers_seats_five_and_queues_the_rest(cluster, area):
    shift = ShiftFactory(zone=area.zone, inspector=area.inspector, groups=[area.group], max_volunteers=5)
    people = volunteers(area, 40, tag="rush")
    tokens = {user.pk: token_for(user) for user in people}
    servers = [cluster.webs[n % 2].url for n in range(len(people))]

    answers = all_at_once(
        [
            lambda user=user, server=server: call(
                f"{server}/api/v1/shifts/{shift.pk}/signup/", token=tokens[user.pk], body={}
            )
            for user, server in zip(people, servers, strict=True)
        ]
    )

    assert [status for status, _answer in answers] == [201] * 40, answers
    told = Counter(answer["status"] for _status, answer in answers)
    assert told == {AssignmentStatus.SIGNED_UP: 5, AssignmentStatus.WAITLISTED: 35}
    rows = Assignment.objects.filter(shift=shift)
    assert rows.count() == 40
    assert Counter(rows.values_list("status", flat=True)) == told
    assert sorted(rows.values_list("volunteer__user_id", flat=True)) == sorted(user.pk for user in people)

    # Three of the five give their seat back, on both servers at once: the first three who waited move up.
    seated = list(rows.filter(status=AssignmentStatus.SIGNED_UP).select_related("volunteer"))[:3]
    first_waiting = list(
        rows.filter(status=AssignmentStatus.WAITLISTED).order_by("created_at", "pk").values_list("pk", flat=True)[:3]
    )
    cancelled = all_at_once(
        [
            lambda a=a, n=n: call(
                f"{cluster.webs[n % 2].url}/api/v1/shifts/{shift.pk}/cancel-signup/",
                token=tokens[a.volunteer.user_id],
                body={},
            )
            for n, a in enumerate(seated)
        ]
    )
    assert [status for status, _answer in cancelled] == [200] * 3, cancelled
    assert rows.filter(status=AssignmentStatus.SIGNED_UP).count() == 5
    assert set(first_waiting) <= set(rows.filter(status=AssignmentStatus.SIGNED_UP).values_list("pk", flat=True))
    assert rows.filter(status=AssignmentStatus.WAITLISTED).count() == 32
    status, listed = call(f"{cluster.webs[1].url}/api/v1/shifts/{shift.pk}/", token=tokens[people[0].pk])
    assert status == 200 and (listed["signed_up"], listed["waitlisted"]) == (5, 32)


def test_verify_pressed_on_both_servers_at_once_counts_each_report_once(cluster, area, volunteer):
    volunteer.email = "volunteer@example.kz"
    volunteer.save()
    category, outcome = Category.objects.get(code="petty_hooliganism"), Outcome.objects.get(code="prevented")
    reports = [
        reporting.report_submit(
            by=volunteer,
            client_uuid=uuid.uuid4(),
            occurred_at=timezone.now() - datetime.timedelta(minutes=30 + n),
            point=area.district.centre,
            category=category,
            outcome=outcome,
            description=f"Аялдамадағы төбелес №{n}, ажыратып жібердік.",
        )[0]
        for n in range(10)
    ]
    token = token_for(area.inspector)

    answers = all_at_once(
        [
            lambda report=report, web=web: call(f"{web.url}/api/v1/reports/{report.pk}/verify/", token=token, body={})
            for report in reports
            for web in cluster.webs
        ]
    )

    for report, pair in zip(reports, zip(answers[::2], answers[1::2], strict=True), strict=True):
        assert sorted(status for status, _answer in pair) == [200, 400], (report.pk, pair)
    assert set(Report.objects.filter(pk__in=[r.pk for r in reports]).values_list("status", flat=True)) == {
        ReportStatus.VERIFIED
    }
    events = Counter(ReportEvent.objects.filter(kind=ReportEventKind.VERIFIED).values_list("report_id", flat=True))
    assert events == {report.pk: 1 for report in reports}
    assert ReportTally.objects.aggregate(total=Sum("count"))["total"] == 10
    told = Notification.objects.filter(user=volunteer, kind=NotificationKind.REPORT_VERIFIED)
    assert told.count() == 10

    # The volunteer's emails go out through both workers' queue: each exactly once.
    wanted = set(Delivery.objects.filter(notification__in=told, channel="email").values_list("pk", flat=True))
    assert len(wanted) == 10

    def arrived() -> Counter:
        mine = (m for m in cluster.smtp.messages() if m.to == volunteer.email)
        return Counter(int(MESSAGE_ID.search(m.message_id).group(1)) for m in mine)

    wait_until(lambda: set(arrived()) >= wanted, timeout=30, what="the ten emails to arrive")
    assert arrived() == {pk: 1 for pk in wanted}


def test_a_session_started_on_one_server_is_good_on_the_other(cluster, inspector, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    inspector.password = make_password("desk-password-7")
    inspector.save()
    first, second = cluster.webs
    browser = Browser(first.url)
    status, page, _headers = browser.submit(
        "/accounts/login/", {"username": "inspector", "password": "desk-password-7"}
    )
    assert status == 302, page[:2000]
    assert "sessionid" in {cookie.name for cookie in browser.jar}

    status, me = call(f"{second.url}/api/v1/me/", opener=browser.opener)
    assert status == 200 and me["username"] == "inspector"
    status, me = call(f"{second.url}/api/v1/me/")
    assert status in (401, 403), "without the session cookie the second server knows nobody"


def test_beat_sweeps_once_and_both_workers_deliver_every_reminder_once(cluster, area):
    before = {worker.name: delivered_by(worker) for worker in cluster.workers}
    sent = Delivery.objects.filter(notification__kind=NotificationKind.SHIFT_REMINDER, status="sent")

    def arrived_ids() -> set[int]:
        return {int(MESSAGE_ID.search(m.message_id).group(1)) for m in cluster.smtp.messages()}

    assignments = signed_up(60, area=area, starts_at=timezone.now() + datetime.timedelta(minutes=90), tag="beat")
    # Beat has been running for a while: its minute sweep last ran two minutes ago, so the next one is due now.
    every_minute, _created = IntervalSchedule.objects.get_or_create(every=60, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="sweep-notifications",
        task="patrols.tasks.sweep_notifications",
        interval=every_minute,
        last_run_at=timezone.now() - datetime.timedelta(minutes=2),
        expires=None,
    )
    beat = CeleryBeat(env=cluster.env, log_path=cluster.tmp / "beat.log").start()
    try:
        wait_until(
            lambda: sent.count() == 60 and all(pk in arrived_ids() for pk in sent.values_list("pk", flat=True)),
            timeout=45,
            interval=0.2,
            what="sixty reminders to be sent and arrive",
        )
        # Another sweep, as a second beat by mistake or the next minute would run it: nothing new is due.
        assert reminders.sweep()["reminders"] == 0
    finally:
        beat.stop()

    reminded = Delivery.objects.filter(notification__kind=NotificationKind.SHIFT_REMINDER, channel="email")
    ids = set(reminded.values_list("pk", flat=True))
    assert len(ids) == len(assignments) == 60
    arrived = Counter(int(MESSAGE_ID.search(m.message_id).group(1)) for m in cluster.smtp.messages())
    assert {pk: arrived[pk] for pk in ids} == {pk: 1 for pk in ids}
    assert set(reminded.values_list("status", flat=True)) == {"sent"}

    def shares() -> dict[str, int]:
        return {worker.name: delivered_by(worker) - before[worker.name] for worker in cluster.workers}

    # A task's line is written just after its last message is marked sent: on a busy machine, a moment later.
    wait_until(lambda: sum(shares().values()) >= 60, timeout=10, what=f"the workers' logs to count 60: {shares()}")
    assert all(shares().values()), f"one worker did all the work: {shares()}"
