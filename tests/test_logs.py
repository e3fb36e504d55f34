"""Log lines (issue 20): one line per request and per task with its request id, and no personal data in any line.

A whole story goes through the project's own logging configuration with every logger at DEBUG, in JSON and in text:
a volunteer with an IIN and a phone signs in, files a report with another person's IIN and phone, the inspector
verifies it, the reporter's email goes out, and a view fails with an IIN in its error. None of those IINs and numbers,
nor anything shaped like one, is in what was written. The production server writes the JSON line itself (with the
id a proxy sent, never the query string); a real worker's line for a task carries the id of the request that queued
it. Errors go to a local server speaking Sentry's envelope protocol, without the IIN, the phone or the body.
"""

from __future__ import annotations

import datetime
import io
import json
import logging
import logging.config
import re
import urllib.error
import urllib.request
import uuid

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from coordination.logs import UUID_PATTERN, logging_config, redact
from patrols.models import Report
from patrols.validators import build_iin
from tests.factories import PASSWORD, MembershipFactory, UserFactory, VolunteerFactory
from tests.support import error_urls
from tests.support.broker import celery_app_on
from tests.support.celery_worker import CeleryWorker, app_env, database_url
from tests.support.ports import wait_until
from tests.support.redis_server import RedisServer
from tests.support.sentry_server import SentryServer
from tests.support.web_server import WebServer, production_env

VOLUNTEER_IIN = build_iin(datetime.date(1992, 6, 21), female=True, serial=41)
VOLUNTEER_PHONE = "+77015550199"
OTHER_IIN = build_iin(datetime.date(1985, 7, 2), female=False, serial=77)
OTHER_PHONE = "+77071234567"
# As the secrets may appear: the stored form, without the plus, the national 8 form, grouped as people write them.
SECRETS = [
    VOLUNTEER_IIN,
    OTHER_IIN,
    error_urls.IIN,
    *(
        form
        for phone in (VOLUNTEER_PHONE, OTHER_PHONE, error_urls.PHONE)
        for form in (phone, phone[1:], "8" + phone[2:], f"{phone[2:5]} {phone[5:8]} {phone[8:10]} {phone[10:]}")
    ),
]
ANY_IIN = re.compile(r"(?<!\d)\d{12}(?!\d)")
ANY_PHONE = re.compile(r"(?:\+7|\b8)[\s(-]*7\d{2}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}")
REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{22}")


def test_redact_replaces_iins_and_phones_however_they_are_written():
    text = f"ИИН{OTHER_IIN}, тел. 8 (707) 123-45-67, +7 701 555 01 99, 77015550199; case 241975031000123, 2026-12-04"
    cleaned = redact(text)
    assert OTHER_IIN not in cleaned and "123-45-67" not in cleaned and "555 01 99" not in cleaned
    assert "77015550199" not in cleaned
    assert cleaned.count("[phone]") == 3 and cleaned.count("[iin]") == 1
    assert "241975031000123" in cleaned and "2026-12-04" in cleaned, "other numbers stay"


def test_redact_keeps_a_task_id_that_ends_in_twelve_digits_and_still_finds_the_iin_beside_it():
    task_id = "9eb8d293-2a00-4389-9ec9-880101300123"
    cleaned = redact(f"Task patrols.tasks.deliver_many[{task_id}] succeeded for {OTHER_IIN}")
    assert f"[{task_id}]" in cleaned and OTHER_IIN not in cleaned and cleaned.count("[iin]") == 1


@pytest.fixture
def captured_logs(request, settings):
    """Everything logged, at DEBUG in every logger, through the project's configuration in `request.param` format.

    The handler is the configuration's own; only its stream is a buffer. Levels and configuration are put back."""
    levels = {
        name: logger.level
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    root_level = logging.root.level
    logging.config.dictConfig(logging_config(log_format=request.param, level="DEBUG"))
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    buffer = io.StringIO()
    (console,) = [handler for handler in logging.root.handlers if handler.name == "console"]
    console.setStream(buffer)
    yield request.param, buffer
    logging.config.dictConfig(settings.LOGGING)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    logging.root.setLevel(root_level)


def no_personal_data(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret
    # A UUID (a task's id, a report's client_uuid) ends in twelve decimal digits one time in three hundred: that is
    # no IIN, and the redaction keeps it whole, so the check looks past UUIDs too.
    beside_uuids = UUID_PATTERN.sub("[uuid]", text)
    assert not ANY_IIN.search(beside_uuids), ANY_IIN.search(beside_uuids)
    assert not ANY_PHONE.search(text), ANY_PHONE.search(text)


def report_body(district, **extra) -> dict:
    return {
        "client_uuid": str(uuid.uuid4()),
        "occurred_at": (timezone.now() - datetime.timedelta(minutes=20)).isoformat(),
        "lat": district.centre.y,
        "lng": district.centre.x,
        "category": "petty_hooliganism",
        "outcome": "prevented",
        "description": "Аялдамада төбелесті тоқтаттық.",
        **extra,
    }


@pytest.fixture
def reporter(group):
    """A volunteer whose own IIN and phone are known to the test, with an account and an email address."""
    user = UserFactory(username="aigerim", email="aigerim@example.kz")
    person = VolunteerFactory(district=group.district, user=user, iin=VOLUNTEER_IIN, phone=VOLUNTEER_PHONE)
    MembershipFactory(volunteer=person, group=group)
    return user


def token_for(username: str) -> str:
    answer = APIClient().post("/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json")
    assert answer.status_code == 200, answer.content
    return answer.json()["token"]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("captured_logs", ["json", "text"], indirect=True)
def test_a_whole_story_logs_nothing_personal(captured_logs, reporter, inspector, district, settings, eager_celery):
    log_format, buffer = captured_logs
    settings.ROOT_URLCONF = "tests.support.error_urls"

    # The volunteer signs in on the page and on the phone, and files a report about someone else.
    browser = Client()
    signed_in = browser.post("/accounts/login/", {"username": "aigerim", "password": PASSWORD})
    assert signed_in.status_code == 302
    phone = APIClient(HTTP_AUTHORIZATION=f"Token {token_for('aigerim')}")
    details = f"Бұзушы: Асқаров Бекжан, ЖСН {OTHER_IIN}, тел. {OTHER_PHONE}"
    filed = phone.post("/api/v1/reports/", report_body(district, third_party_details=details), format="json")
    assert filed.status_code == 201, filed.content
    report_id = filed.json()["id"]
    # A bad IIN in a query string and in a body: refused, and not logged.
    assert phone.get(f"/api/v1/reports/?iin={VOLUNTEER_IIN}&phone=%2B{VOLUNTEER_PHONE[1:]}").status_code == 200
    refused = phone.post("/api/v1/reports/", {**report_body(district), "lat": OTHER_IIN}, format="json")
    assert refused.status_code == 400

    # The inspector reads it (unmasked, to the access log, not to this log) and verifies it: the email goes out.
    desk = APIClient(HTTP_AUTHORIZATION=f"Token {token_for('inspector')}", HTTP_X_REQUEST_ID="verify-4711")
    assert OTHER_IIN in desk.get(f"/api/v1/reports/{report_id}/").json()["third_party_details"]
    verified = desk.post(f"/api/v1/reports/{report_id}/verify/", {}, format="json")
    assert verified.status_code == 200, verified.content
    assert verified["X-Request-ID"] == "verify-4711"
    assert Report.objects.get(pk=report_id).status == "verified"

    # And something breaks, with the IIN in the error.
    failing = Client(raise_request_exception=False)
    broken = failing.post(f"/api/v1/test-failure/?iin={error_urls.IIN}", {"iin": error_urls.IIN})
    assert broken.status_code == 500

    text = buffer.getvalue()
    no_personal_data(text)
    assert "[iin]" in text and "[phone]" in text, "the failing view's IIN and phone were logged, and replaced"
    assert "RuntimeError: Roster row rejected" in text, "the traceback is there"
    assert [message.to for message in mail.outbox] == [["aigerim@example.kz"]], "the reporter was told"
    lines = text.splitlines()
    if log_format == "text":
        assert any("patrols.request [verify-4711] POST api:report-verify 200" in line for line in lines)
        assert any("patrols.task [verify-4711] patrols.tasks.deliver SUCCESS" in line for line in lines)
        return
    assert all(line.startswith("{") for line in lines), "one JSON object a line, tracebacks included"
    records = [json.loads(line) for line in lines]
    requests = [record for record in records if record["logger"] == "patrols.request"]
    views = [(record["method"], record["view"], record["status"]) for record in requests]
    assert ("POST", "login", 302) in views
    assert ("POST", "api:report-list", 201) in views
    assert ("POST", "api:report-list", 400) in views
    assert ("POST", "api:report-verify", 200) in views
    assert ("POST", "test-failure", 500) in views
    verify = next(record for record in requests if record["view"] == "api:report-verify")
    assert verify["request_id"] == "verify-4711" and verify["user_id"] == inspector.pk
    assert verify["level"] == "INFO" and verify["duration_ms"] > 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", verify["time"])
    filed_line = next(record for record in requests if record["status"] == 201)
    assert filed_line["user_id"] == reporter.pk and REQUEST_ID.fullmatch(filed_line["request_id"])
    tasks = [record for record in records if record["logger"] == "patrols.task"]
    delivered = [record for record in tasks if record["task"] == "patrols.tasks.deliver"]
    assert delivered and all(record["request_id"] == "verify-4711" for record in delivered)
    assert all(record["user_id"] == inspector.pk and record["status"] == "SUCCESS" for record in delivered)
    error = next(record for record in records if record["logger"] == "django.request" and record["level"] == "ERROR")
    assert "RuntimeError" in error["exc_info"] and error["status_code"] == 500
    assert error["request_id"] == next(r for r in requests if r["view"] == "test-failure")["request_id"]


@pytest.mark.django_db
def test_a_proxys_request_id_is_kept_when_safe_and_replaced_otherwise(client):
    for safe in ("a1b2-c3.d4_e5:f6", "0123456789ab012345678901cdef0123"):  # the second as nginx's $request_id
        assert client.get("/healthz", HTTP_X_REQUEST_ID=safe)["X-Request-ID"] == safe
    unsafe_ids = ("two words", "x" * 65, "<script>", "id\r\nSet-Cookie: a=b", "")
    for unsafe in (*unsafe_ids, error_urls.IIN, f"row-{error_urls.IIN}", error_urls.PHONE, error_urls.PHONE[1:]):
        answered = client.get("/healthz", HTTP_X_REQUEST_ID=unsafe)["X-Request-ID"]
        assert REQUEST_ID.fullmatch(answered), (unsafe, answered)
    first, second = (client.get("/healthz")["X-Request-ID"] for _ in range(2))
    assert first != second and REQUEST_ID.fullmatch(first)


# Real processes


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(log_path=tmp_path / "redis.log")
    server.start()
    try:
        with celery_app_on(server.url):
            yield server
    finally:
        server.stop()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_workers_task_line_carries_the_id_and_user_of_the_request_that_queued_it(
    own_redis, reporter, inspector, district, tmp_path
):
    from tests.support.reports import file_report

    env = app_env(
        database_url=database_url(connection.settings_dict),
        redis_url=own_redis.url,
        email_url="smtp://127.0.0.1:9",
        LOG_FORMAT="json",
        SMS_BACKEND="console",
    )
    worker = CeleryWorker(env=env, log_path=tmp_path / "worker.log", concurrency=1).start()
    try:
        report = file_report(reporter)
        desk = APIClient(HTTP_AUTHORIZATION=f"Token {token_for('inspector')}", HTTP_X_REQUEST_ID="desk-0042")
        assert desk.post(f"/api/v1/reports/{report.pk}/verify/", {}, format="json").status_code == 200

        def task_lines() -> list[dict]:
            found = []
            for line in worker.log_since_start().splitlines():
                if line.startswith("{"):
                    record = json.loads(line)
                    if record["logger"] == "patrols.task" and record.get("request_id") == "desk-0042":
                        found.append(record)
            return found

        lines = wait_until(task_lines, timeout=30, what="the worker's line for the delivery")
        assert {record["task"] for record in lines} == {"patrols.tasks.deliver"}
        assert all(record["user_id"] == inspector.pk for record in lines)
        assert all(record["duration_ms"] >= 0 and record["status"] == "SUCCESS" for record in lines)
        no_personal_data(worker.log_since_start())
    finally:
        worker.kill()


def get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode(errors="replace")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_production_server_writes_one_json_line_a_request_without_the_query_string(own_redis, tmp_path):
    env = production_env(
        app_env(
            database_url=database_url(connection.settings_dict),
            redis_url=own_redis.url,
            email_url="smtp://127.0.0.1:9",
            VAR_DIR=str(tmp_path),
        )
    )
    web = WebServer(env=env, log_path=tmp_path / "web.log", workers=1, threads=2).start()
    try:
        query = f"?iin={OTHER_IIN}&phone=%2B{OTHER_PHONE[1:]}"
        status, headers, _body = get(f"{web.url}/healthz{query}", {"X-Request-ID": "edge-0001"})
        assert status == 200 and headers["X-Request-ID"] == "edge-0001"

        def line() -> dict | None:
            for text in web.log().splitlines():
                if text.startswith("{") and '"edge-0001"' in text:
                    return json.loads(text)
            return None

        record = wait_until(line, timeout=10, what="the request's line")
        assert record["logger"] == "patrols.request" and record["level"] == "INFO"
        assert (record["method"], record["view"], record["status"]) == ("GET", "healthz", 200)
        assert record["duration_ms"] > 0 and "user_id" not in record
        assert "?" not in record["message"] and "iin" not in json.dumps(record)
        no_personal_data(web.log())
    finally:
        web.stop()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_errors_reach_sentry_without_iins_phones_or_the_body(own_redis, tmp_path):
    sentry = SentryServer().start()
    env = production_env(
        app_env(
            database_url=database_url(connection.settings_dict),
            redis_url=own_redis.url,
            email_url="smtp://127.0.0.1:9",
            VAR_DIR=str(tmp_path),
            DJANGO_SETTINGS_MODULE="tests.support.error_settings",
            SENTRY_DSN=sentry.dsn,
            SENTRY_ENVIRONMENT="test",
        )
    )
    web = WebServer(env=env, log_path=tmp_path / "web.log", workers=1, threads=2).start()
    try:
        body = f"iin={error_urls.IIN}&phone={error_urls.PHONE}".encode()
        request = urllib.request.Request(
            f"{web.url}/api/v1/test-failure/?iin={error_urls.IIN}",
            data=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"note={error_urls.IIN}",
                "X-Request-ID": "sentry-0007",
            },
            method="POST",
        )
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(request, timeout=30)
        assert failed.value.code == 500

        (event,) = [event for event in sentry.wait_for_events(1) if event.get("exception")]
        (exception,) = event["exception"]["values"]
        assert exception["type"] == "RuntimeError"
        assert exception["value"].startswith("Roster row rejected: IIN [iin], phone [phone]")
        assert event["environment"] == "test"
        assert event["tags"]["request_id"] == "sentry-0007"
        assert event["request"]["url"].endswith("/api/v1/test-failure/")
        assert not {"data", "query_string", "cookies"} & event["request"].keys()
        assert "user" not in event
        assert any(
            "Checking roster row of [iin] ([phone])" in str(crumb.get("message"))
            for crumb in event.get("breadcrumbs", {}).get("values", [])
        )
        path, headers, _raw = sentry.requests[0]
        assert path == "/api/1/envelope/" and "sentry_key=publickey" in headers.get("X-Sentry-Auth", "")
        no_personal_data(sentry.raw())
        assert error_urls.IIN not in web.log()
    finally:
        web.stop()
        sentry.stop()
