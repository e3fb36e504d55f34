"""Redis stops under the running app (issue 12, finding 2): reports are still filed, people still sign in and every
page still answers, and when Redis comes back everything goes on.

The production server (gunicorn, DEBUG off) runs on the test database with its own Redis as cache, session cache,
throttle store and broker, as an installation does; the test kills that Redis (SIGKILL, as a crash) halfway.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
import uuid

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone

from patrols.models import ApiToken, Report
from tests.support.celery_worker import BASE_DIR, app_env, database_url
from tests.support.http import Browser, call
from tests.support.redis_server import RedisServer
from tests.support.web_server import WebServer, production_env

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PAGES = ["/", "/verify/", "/dashboard/", "/shifts/", "/notifications/"]


@pytest.fixture(scope="module")
def app(django_db_setup, django_db_blocker, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("redis-outage")
    redis_server = RedisServer(log_path=tmp / "redis.log")
    redis_server.start()
    with django_db_blocker.unblock():
        url = database_url(connection.settings_dict)
    env = production_env(
        app_env(
            database_url=url,
            redis_url=redis_server.url,
            email_url="smtp://127.0.0.1:9",
            MEDIA_ROOT=str(tmp / "media"),
            VAR_DIR=str(tmp),
        )
    )
    # The real rates: the throttles count in Redis until it goes, then let requests through.
    env.update(THROTTLE_TOKEN="30/min", THROTTLE_REPORTS="60/min")
    # The pages need the hashed static files, as in production (README: a release).
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=BASE_DIR, env=env, check=True
    )
    web = WebServer(env=env, log_path=tmp / "web.log", workers=1, threads=4)
    try:
        web.start()
        yield web, redis_server
    finally:
        web.stop()
        redis_server.stop()


def report_body(user) -> dict:
    centre = user.volunteer.district.centre
    return {
        "client_uuid": str(uuid.uuid4()),
        "occurred_at": (timezone.now() - datetime.timedelta(minutes=20)).isoformat(),
        "lat": centre.y,
        "lng": centre.x,
        "category": "petty_hooliganism",
        "outcome": "prevented",
        "description": "Аялдамада төбелесті тоқтаттық.",
    }


def test_with_redis_gone_reports_sign_ins_and_pages_still_work(app, volunteer, inspector, settings):
    web, redis_server = app
    # The server checks passwords with the production hashers.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    for user in (volunteer, inspector):
        user.password = make_password("outage-pass-42")
        user.save()
    _row, token = ApiToken.objects.create(user=volunteer, device="phone")
    desk = Browser(web.url)
    status, page, _headers = desk.submit("/accounts/login/", {"username": "inspector", "password": "outage-pass-42"})
    assert status == 302, page[:2000]
    before = call(f"{web.url}/api/v1/reports/", token=token, body=report_body(volunteer))
    assert before[0] == 201, before

    redis_server.stop()

    filed = [call(f"{web.url}/api/v1/reports/", token=token, body=report_body(volunteer)) for _ in range(5)]
    assert [status for status, _answer in filed] == [201] * 5, filed
    again = report_body(volunteer)
    assert call(f"{web.url}/api/v1/reports/", token=token, body=again)[0] == 201
    assert call(f"{web.url}/api/v1/reports/", token=token, body=again)[0] == 200, "the same report once"
    for path in PAGES:
        status, page, _headers = desk.get(path)
        assert status == 200, (path, page[:2000])
    phone = Browser(web.url)
    status, page, headers = phone.submit(
        "/accounts/login/", {"username": volunteer.username, "password": "outage-pass-42"}
    )
    assert status == 302, page[:2000]
    assert phone.get("/shifts/")[0] == 200
    status, answer = call(
        f"{web.url}/api/v1/auth/token/", body={"username": volunteer.username, "password": "outage-pass-42"}
    )
    assert status == 200 and answer["token"], answer
    status, health, _headers = desk.get("/healthz")
    assert status == 200 and '"database": "ok"' in health.replace('":"', '": "')

    redis_server.start()
    assert call(f"{web.url}/api/v1/reports/", token=token, body=report_body(volunteer))[0] == 201
    assert desk.get("/verify/")[0] == 200
    assert Report.objects.filter(reporter=volunteer.volunteer).count() == 8
    assert "Cache unavailable" in web.log()
    assert token not in web.log() and "sessionid" not in web.log()
