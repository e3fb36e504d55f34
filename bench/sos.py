"""`make bench BENCH=sos`: how long an SOS takes from the volunteer's press to the inspector's phone, over 50 alarms.

A throwaway PostGIS database, an own Redis server on a free port, an SMS gateway on loopback that notes when each
message arrives (`tests/support/sms_gateway.py`), and one Celery worker process, as in production. Each of `--count`
checked-in volunteers presses SOS through the API (`POST /api/v1/sos/`, in this process through Django's test Client,
signed in by API token), one after the other; the clock runs from the press to the SMS with that alarm at the gateway
for the shift's inspector (tier 1). Printed: p50, p95 and the slowest. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from bench.reminders import PG_HOST, PG_USER, create_database, drop_database  # noqa: E402 (after the path is set)
from tests.support.celery_worker import CeleryWorker, app_env  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402
from tests.support.sms_gateway import TOKEN, SmsGateway  # noqa: E402

INSPECTOR_PHONE = "+77010000001"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(*, count: int, database: str, timeout: float) -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-sos-"))
    redis_server = RedisServer(log_path=work / "redis.log")
    gateway = SmsGateway()
    worker = None
    create_database(database)
    database_url = f"postgis://{PG_USER}@{PG_HOST}:5432/{database}"
    try:
        redis_server.start()
        gateway.start()
        env = app_env(
            database_url=database_url,
            redis_url=redis_server.url,
            email_url="smtp://127.0.0.1:9",
            SMS_BACKEND="http",
            SMS_GATEWAY_URL=gateway.url,
            SMS_GATEWAY_TOKEN=TOKEN,
        )
        os.environ.update({name: env[name] for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_URL")})
        os.environ.update(
            DJANGO_SETTINGS_MODULE="coordination.settings",
            DEBUG="1",
            SITE_URL=env["SITE_URL"],
            ALLOWED_HOSTS="testserver",  # Django's test Client
            SMS_BACKEND="http",
            SMS_GATEWAY_URL=gateway.url,
            SMS_GATEWAY_TOKEN=TOKEN,
        )
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections
        from django.utils import timezone
        from rest_framework.test import APIClient

        from patrols.choices import AssignmentStatus
        from patrols.models import Assignment
        from tests.factories import ShiftFactory
        from tests.support.seed import patrol_area, signed_up

        print(f"Migrating {database} …", flush=True)
        call_command("migrate", verbosity=0)
        area = patrol_area()
        area.inspector.phone = INSPECTOR_PHONE
        area.inspector.save()
        now = timezone.now()
        shift = ShiftFactory(
            zone=area.zone,
            inspector=area.inspector,
            groups=[area.group],
            starts_at=now - datetime.timedelta(hours=1),
            ends_at=now + datetime.timedelta(hours=3),
            max_volunteers=count,
        )
        volunteers = [a.volunteer for a in signed_up(count, area=area, starts_at=now + datetime.timedelta(days=2))]
        centre = area.zone.geometry.centroid
        Assignment.objects.bulk_create(
            Assignment(
                shift=shift,
                volunteer=volunteer,
                status=AssignmentStatus.CHECKED_IN,
                check_in_at=now - datetime.timedelta(minutes=50),
                check_in_point=centre,
            )
            for volunteer in volunteers
        )
        worker = CeleryWorker(env=env, log_path=work / "worker.log", concurrency=2, name="bench-sos").start()
        print(f"{count} volunteers on duty, one worker ready (logs in {work})", flush=True)

        latencies = []
        for volunteer in volunteers:
            client = APIClient()
            client.force_authenticate(volunteer.user)
            before = len(gateway.messages(INSPECTOR_PHONE))
            pressed = time.monotonic()
            answer = client.post("/api/v1/sos/", {"lat": centre.y, "lng": centre.x, "accuracy": 8}, format="json")
            if answer.status_code != 201:
                print(f"SOS refused: {answer.status_code} {answer.content[:200]!r}")
                return 1
            arrived = gateway.wait_for(INSPECTOR_PHONE, timeout=timeout, count=before + 1)
            latencies.append(arrived[before].at - pressed)
        connections.close_all()

        milliseconds = [seconds * 1000 for seconds in latencies]
        print()
        print(f"SOS to the inspector's phone at the gateway, {count} alarms, one worker:")
        print(f"  p50 {statistics.median(milliseconds):.0f} ms, p95 {percentile(milliseconds, 0.95):.0f} ms, ", end="")
        print(f"slowest {max(milliseconds):.0f} ms")
        shutil.rmtree(work, ignore_errors=True)
        return 0
    finally:
        if worker is not None:
            worker.kill()
        gateway.stop()
        redis_server.stop()
        drop_database(database)


def stop_on_terminate(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_terminate)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--database", default="bench_sos")
    parser.add_argument("--timeout", type=float, default=30)
    options, _others = parser.parse_known_args()  # make bench passes BENCH_ARGS to every benchmark
    return run(count=options.count, database=options.database, timeout=options.timeout)


if __name__ == "__main__":
    sys.exit(main())
