"""`GET /metrics` for Prometheus, and the alert rules in deploy/prometheus/ (issue 20).

The address answers the bearer token or an allowed address only, and does not exist until one is configured. A
small story (an SOS nobody answers, two reports waiting in the district, a failed SMS, a roster import that has been
running for ten minutes) reads back as the app's gauges. The production server (gunicorn, two worker processes that
are renewed every four requests) adds up the counts of all its processes. promtool, Prometheus's own checker,
accepts the rules, shows each alert firing on its input series in alerts_test.yml, and finds no error in what the
real server answers; every metric an alert reads is in that answer.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from django.db import connection
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from coordination import celery_app
from patrols.choices import DeliveryChannel, DeliveryStatus, NotificationKind, RosterImportStatus, SosStatus
from patrols.models import Delivery, Notification, RosterImport, SosAlarm
from patrols.services import sos
from patrols.tasks import sweep_notifications
from tests.support.broker import celery_app_on
from tests.support.celery_worker import BASE_DIR, app_env, database_url
from tests.support.redis_server import RedisServer
from tests.support.reports import file_report, verified
from tests.support.web_server import WebServer, production_env

TOKEN = "scrape-token-for-the-tests"
ALERTS = BASE_DIR / "deploy" / "prometheus" / "alerts.yml"
ALERTS_TEST = BASE_DIR / "deploy" / "prometheus" / "alerts_test.yml"
PROMTOOL = "/usr/bin/promtool"
needs_promtool = pytest.mark.skipif(not Path(PROMTOOL).exists(), reason="promtool is not installed (make test does)")
# Metrics an alert may read that Prometheus makes itself for every scrape, not the app.
PROMETHEUS_OWN = {"up"}


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a scrape: (name, labels) -> value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def scrape(client) -> dict:
    answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert answer.status_code == 200, answer.content[:500]
    return parse(answer.content.decode())


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []


@pytest.mark.django_db
def test_there_is_no_metrics_address_until_a_token_or_an_address_is_configured(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = "", []
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


@pytest.mark.django_db
def test_only_the_bearer_token_gets_the_metrics(client, metrics_on):
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong-token").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Token {TOKEN}").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x").status_code == 403
    answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain")
    assert "no-cache" in answer["Cache-Control"]
    assert value(parse(answer.content.decode()), "patrol_database_up") == 1


@pytest.mark.django_db
def test_allowed_addresses_get_the_metrics_as_the_lockout_sees_the_client(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/24", "192.0.2.9"]
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.7").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="192.0.2.9").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.0.1.7").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    # Behind nginx (TRUSTED_PROXIES=1) the address is the one nginx saw, not nginx's own nor one a client wrote.
    settings.TRUSTED_PROXIES = 1
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.0.0.7").status_code == 200
    forged = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.0.0.7, 203.0.113.5")
    assert forged.status_code == 403


def _delivery(user, *, channel: str, status: str, queued_minutes_ago: int | None, key: str) -> Delivery:
    notification = Notification.objects.create(user=user, kind=NotificationKind.REPORT_VERIFIED)
    queued = timezone.now() - datetime.timedelta(minutes=queued_minutes_ago) if queued_minutes_ago else None
    return Delivery.objects.create(
        key=key,
        notification=notification,
        user=user,
        channel=channel,
        address="+77015550123" if channel == DeliveryChannel.SMS else "volunteer@example.kz",
        language="kk",
        status=status,
        queued_at=queued,
    )


@pytest.mark.django_db
def test_a_small_story_reads_back_as_the_apps_gauges(
    client, metrics_on, volunteer, inspector, district, other_district, settings
):
    settings.SOS_ACK_SECONDS = 120
    now = timezone.now()
    # An SOS raised five minutes ago that nobody acknowledged, and no worker escalated (none runs here).
    centre = volunteer.volunteer.district.centre
    alarm, _new = sos.sos_raise(by=volunteer, lat=centre.y, lng=centre.x, accuracy_m=10)
    SosAlarm.objects.filter(pk=alarm.pk).update(
        created_at=now - datetime.timedelta(minutes=5), next_escalation_at=now - datetime.timedelta(minutes=3)
    )
    # Two reports waiting in the district, one verified (not waiting), none in the other region's district.
    file_report(volunteer)
    file_report(volunteer)
    verified(volunteer, inspector)
    # One SMS failed for good ten minutes ago, one three hours ago (outside the hour), one email waiting.
    _delivery(volunteer, channel=DeliveryChannel.SMS, status=DeliveryStatus.FAILED, queued_minutes_ago=10, key="f1")
    _delivery(volunteer, channel=DeliveryChannel.SMS, status=DeliveryStatus.FAILED, queued_minutes_ago=180, key="f2")
    _delivery(volunteer, channel=DeliveryChannel.EMAIL, status=DeliveryStatus.PENDING, queued_minutes_ago=None, key="p")
    pending_before = Delivery.objects.filter(status=DeliveryStatus.PENDING, channel=DeliveryChannel.EMAIL).count()
    # A roster import running for ten minutes, and one finished long ago.
    running = RosterImport.objects.create(
        district=district, uploaded_by=inspector, file="roster-imports/a.xlsx", status=RosterImportStatus.RUNNING
    )
    RosterImport.objects.filter(pk=running.pk).update(created_at=now - datetime.timedelta(minutes=10))
    RosterImport.objects.create(
        district=district, uploaded_by=inspector, file="roster-imports/b.xlsx", status=RosterImportStatus.DONE
    )

    samples = scrape(client)

    assert value(samples, "patrol_database_up") == 1
    assert value(samples, "patrol_redis_up") == 1
    assert value(samples, "patrol_sos_alarms", kind="sos", status=SosStatus.OPEN) == 1
    assert value(samples, "patrol_sos_alarms", kind="sos", status=SosStatus.ACKNOWLEDGED) == 0
    assert value(samples, "patrol_sos_alarms", kind="missed_ok", status=SosStatus.OPEN) == 0
    assert 295 <= value(samples, "patrol_sos_oldest_unacknowledged_age_seconds", kind="sos") <= 330
    assert value(samples, "patrol_sos_oldest_unacknowledged_age_seconds", kind="missed_ok") == 0
    assert 175 <= value(samples, "patrol_sos_escalation_overdue_seconds") <= 210
    assert value(samples, "patrol_sos_ack_window_seconds") == 120
    assert value(samples, "patrol_reports_awaiting_verification", district=district.code) == 2
    assert value(samples, "patrol_reports_awaiting_verification", district=other_district.code) == 0
    assert value(samples, "patrol_deliveries_failed_last_hour", channel="sms") == 1
    assert value(samples, "patrol_deliveries_failed_last_hour", channel="email") == 0
    assert value(samples, "patrol_deliveries_pending", channel="email") == pending_before
    assert pending_before >= 1
    assert 595 <= value(samples, "patrol_roster_import_oldest_running_age_seconds") <= 630

    # The inspector acknowledges: nothing waits for an answer any more, the clock is not overdue.
    sos.sos_acknowledge(alarm=SosAlarm.objects.get(pk=alarm.pk), by=inspector)
    samples = scrape(client)
    assert value(samples, "patrol_sos_alarms", kind="sos", status=SosStatus.OPEN) == 0
    assert value(samples, "patrol_sos_alarms", kind="sos", status=SosStatus.ACKNOWLEDGED) == 1
    assert value(samples, "patrol_sos_oldest_unacknowledged_age_seconds", kind="sos") == 0
    assert value(samples, "patrol_sos_escalation_overdue_seconds") == 0


@pytest.mark.django_db
def test_requests_are_counted_and_timed_per_view_and_status_never_per_address(client, metrics_on):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz?iin=900101300123").status_code == 200
    assert client.get("/no-such-page/").status_code == 404
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

    healthz = {"view": "healthz", "method": "GET", "status": "200"}
    assert grew("patrol_http_requests_total", **healthz) == 3
    assert grew("patrol_http_request_duration_seconds_count", **healthz) == 3
    assert grew("patrol_http_request_duration_seconds_bucket", **healthz, le="+Inf") == 3
    assert grew("patrol_http_request_duration_seconds_sum", **healthz) > 0
    assert grew("patrol_http_requests_total", view="unresolved", method="GET", status="404") == 1
    assert not any("900101300123" in str(labels) for _name, labels in after)


@pytest.mark.django_db
def test_the_sweeps_last_success_is_a_timestamp(client, metrics_on):
    assert value(scrape(client), "patrol_sweep_last_success_timestamp_seconds", sweep="notifications") is None
    sweep_notifications()
    stamped = value(scrape(client), "patrol_sweep_last_success_timestamp_seconds", sweep="notifications")
    assert stamped is not None and abs(stamped - time.time()) < 30


@pytest.fixture
def own_redis(tmp_path, settings):
    server = RedisServer(log_path=tmp_path / "redis.log")
    server.start()
    settings.REDIS_URL = settings.CELERY_BROKER_URL = server.url
    try:
        with celery_app_on(server.url):
            yield server
    finally:
        server.stop()


@pytest.mark.django_db
def test_tasks_waiting_in_the_broker_are_the_queue_length_and_redis_down_is_zero(client, metrics_on, own_redis):
    assert value(scrape(client), "patrol_celery_queue_length", queue="celery") == 0
    for _ in range(3):
        celery_app.send_task("patrols.tasks.sweep_notifications")
    # kombu keeps tasks of another priority in a list of their own: they wait in the same queue.
    celery_app.send_task("patrols.tasks.sweep_notifications", priority=5)
    assert value(scrape(client), "patrol_celery_queue_length", queue="celery") == 4

    own_redis.stop()
    samples = scrape(client)
    assert value(samples, "patrol_redis_up") == 0
    assert value(samples, "patrol_celery_queue_length", queue="celery") is None
    assert value(samples, "patrol_database_up") == 1


def test_with_the_database_down_the_scrape_still_answers_and_says_so(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "coordination.settings",
        "DEBUG": "1",
        "DATABASE_URL": "postgis://root@127.0.0.1:9/nothing",
    }
    script = (
        "import django; django.setup(); from patrols.services import metrics; print(metrics.exposition()[0].decode())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-3000:]
    samples = parse(done.stdout)
    assert value(samples, "patrol_database_up") == 0
    assert not any(name == "patrol_reports_awaiting_verification" for name, _labels in samples)


def production_settings(*command: str, **env: str) -> subprocess.CompletedProcess:
    """`manage.py <command>` with DEBUG off, as an installation runs it (the suite's own settings dropped)."""
    own = ("DEBUG", "HTTPS", "LOG_FORMAT", "METRICS_", "SENTRY_")
    clean = {name: value for name, value in os.environ.items() if not name.startswith(own)}
    production = {"DEBUG": "0", "SECRET_KEY": "k" * 10 + "-a-long-enough-secret-for-the-check-0123456789"}
    return subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=BASE_DIR,
        env={**clean, **production, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_in_production_logs_are_json_metrics_are_off_and_a_scrape_is_never_redirected():
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({'format': s.LOG_FORMAT, "
        "'token': s.METRICS_TOKEN, 'ips': s.METRICS_ALLOWED_IPS, 'exempt': s.SECURE_REDIRECT_EXEMPT, "
        "'formatter': s.LOGGING['formatters']['app']['()'].__name__}))"
    )
    done = production_settings("shell", "-c", code)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {
        "format": "json",
        "token": "",
        "ips": [],
        "exempt": [r"^healthz$", r"^metrics$"],
        "formatter": "JsonFormatter",
    }
    done = production_settings("shell", "-c", code, METRICS_ALLOWED_IPS="10.0.0.0/24, 192.0.2.9")
    configured = json.loads(done.stdout.strip().splitlines()[-1])
    assert configured["ips"] == ["10.0.0.0/24", "192.0.2.9"]


def test_a_wrong_log_format_or_address_stops_the_start_naming_the_variable():
    for name, wrong in (("LOG_FORMAT", "xml"), ("LOG_LEVEL", "loud"), ("METRICS_ALLOWED_IPS", "10.0.0.0/24,x")):
        done = production_settings("check", **{name: wrong})
        assert done.returncode != 0
        assert name in done.stderr and "ImproperlyConfigured" in done.stderr, done.stderr[-1000:]


@needs_promtool
def test_promtool_accepts_the_alert_rules():
    checked = subprocess.run([PROMTOOL, "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


@needs_promtool
def test_each_alert_fires_on_its_input_series_in_promtools_rule_tests():
    tested = subprocess.run([PROMTOOL, "test", "rules", str(ALERTS_TEST)], capture_output=True, text=True, timeout=120)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    alerts = {rule["alert"] for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]}
    cases = yaml.safe_load(ALERTS_TEST.read_text())["tests"]
    firing = {case["alertname"] for test in cases for case in test["alert_rule_test"] if case["exp_alerts"]}
    assert firing == alerts, "every alert has a test in which it fires"


# The production server


@pytest.fixture(scope="module")
def production(django_db_setup, django_db_blocker, tmp_path_factory):
    """gunicorn with two sync worker processes, each renewed after four requests, on its own Redis."""
    tmp = tmp_path_factory.mktemp("metrics")
    redis_server = RedisServer(log_path=tmp / "redis.log")
    redis_server.start()
    with django_db_blocker.unblock():
        url = database_url(connection.settings_dict)
    env = production_env(
        app_env(
            database_url=url,
            redis_url=redis_server.url,
            email_url="smtp://127.0.0.1:9",
            VAR_DIR=str(tmp),
            METRICS_TOKEN=TOKEN,
            PROMETHEUS_MULTIPROC_DIR=str(tmp / "prometheus"),
            WEB_MAX_REQUESTS="4",
        )
    )
    web = WebServer(env=env, log_path=tmp / "web.log", workers=2, threads=1)
    try:
        web.start()
        yield web, redis_server, tmp / "prometheus"
    finally:
        web.stop()
        redis_server.stop()


def fetch(url: str, *, token: str | None = TOKEN) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_gunicorns_processes_add_up_even_as_they_are_renewed(production):
    web, _redis, folder = production
    assert fetch(f"{web.url}/metrics", token=None)[0] == 403
    # An address no other test asks for (the start-up's health checks may still be finishing in a process).
    me = {"view": "api:me", "method": "GET", "status": "401"}
    status, text = fetch(f"{web.url}/metrics")
    assert status == 200
    before = value(parse(text), "patrol_http_requests_total", **me) or 0
    # 12 requests over two processes that are each replaced after 4: at least four processes answered.
    for _ in range(12):
        assert fetch(f"{web.url}/api/v1/me/", token=None)[0] == 401
    status, text = fetch(f"{web.url}/metrics")
    assert status == 200
    samples = parse(text)
    assert value(samples, "patrol_http_requests_total", **me) == before + 12
    assert value(samples, "patrol_http_request_duration_seconds_count", **me) == before + 12
    # A file per kind of metric and per worker slot, not per process: renewals do not pile files up.
    files = sorted(path.name for path in folder.iterdir())
    assert files and all(re.fullmatch(r"(counter|histogram)_slot\d\.db", name) for name in files), files
    assert len(files) <= 2 * 3, files


@pytest.fixture
def sweep_recorded_for(settings):
    """Run the notifications sweep here with the cache of a server's Redis, as its worker would."""

    def record(redis_url: str) -> None:
        settings.CACHES = {
            "default": {"BACKEND": "patrols.cache.ResilientRedisCache", "LOCATION": redis_url, "OPTIONS": {}}
        }
        sweep_notifications()

    return record


@needs_promtool
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_promtool_finds_no_error_in_the_real_answer_and_every_alerts_metric_is_there(
    production, sweep_recorded_for, district
):
    web, redis_server, _folder = production
    sweep_recorded_for(redis_server.url)
    fetch(f"{web.url}/healthz", token=None)
    status, text = fetch(f"{web.url}/metrics")
    assert status == 200

    checked = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "error" not in (checked.stdout + checked.stderr).lower(), checked.stdout + checked.stderr

    exposed = {name for name, _labels in parse(text)}
    assert "patrol_sweep_last_success_timestamp_seconds" in exposed
    for group in yaml.safe_load(ALERTS.read_text())["groups"]:
        for rule in group["rules"]:
            names = set(re.findall(r"\b(patrol_[a-z0-9_]+|up)\b", rule["expr"]))
            assert names, rule["alert"]
            missing = names - exposed - PROMETHEUS_OWN
            assert not missing, (rule["alert"], missing)
