"""`make bench BENCH=duty`: 500 volunteers on duty, each phone sending its position every 30 s: the server time of a
position write (`POST /api/v1/assignments/{id}/positions/`) and of the live board (`GET /api/v1/duty/now/`), and the
web process's CPU per position.

The database `bench_duty` (PostGIS) is dropped and made again and migrated; one district with its inspector, group
and zone gets 500 registered volunteers, checked in an hour ago on two shifts under way, who all agreed to share their
position, with an hour of track each already kept (120 positions, 60,000 in all: the indexes are the size of a real
evening). Then `--rounds` rounds of 30 s are played as fast as the server answers: in each, every phone sends one
position (its own API token, as the mobile clients sign in), and the inspector's board is read `--board` times. All
in-process through Django's test Client under production settings (DEBUG off). The CPU per position is this process's
CPU time (Django and the client, not PostgreSQL) divided by the positions sent. The database is dropped at the end
unless `--keep`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import signal
import statistics
import sys
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from bench.dashboard import percentile  # noqa: E402 (after the path is set)
from bench.reminders import create_database, drop_database, production_django  # noqa: E402

HISTORY = 120  # positions already kept per volunteer: an hour at one every 30 s
ROUND_SECONDS = 30


def seed(count: int):
    """The district, `count` volunteers checked in an hour ago and sharing their position, with an hour of track."""
    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from patrols.models import ApiToken, Assignment, DutyConsent, PositionPing, Shift
    from patrols.services.duty import CONSENT_TEXT_VERSION
    from tests.support.seed import patrol_area, signed_up

    now = timezone.now()
    area = patrol_area()
    assignments = signed_up(count, area=area, starts_at=now + datetime.timedelta(minutes=10), tag="duty")
    centre = area.zone.geometry.centroid
    checked_in_at = now - datetime.timedelta(hours=1)
    Shift.objects.filter(pk__in={a.shift_id for a in assignments}).update(starts_at=checked_in_at)
    Assignment.objects.filter(pk__in=[a.pk for a in assignments]).update(
        status="checked_in", check_in_at=checked_in_at, check_in_point=centre, check_in_accuracy_m=10
    )
    DutyConsent.objects.bulk_create(
        [DutyConsent(volunteer_id=a.volunteer_id, text_version=CONSENT_TEXT_VERSION) for a in assignments]
    )
    track = []
    for number, assignment in enumerate(assignments):
        for step in range(HISTORY):
            at = checked_in_at + datetime.timedelta(seconds=ROUND_SECONDS * step)
            east = ((number % 40) * 25 + step * 3) / 78_000
            track.append(
                PositionPing(
                    assignment_id=assignment.pk,
                    point=Point(centre.x + east, centre.y + (number // 40) * 0.0002, srid=4326),
                    accuracy_m=15,
                    recorded_at=at,
                    received_at=at,
                    client_uuid=uuid.uuid4(),
                )
            )
    PositionPing.objects.bulk_create(track, batch_size=5000)
    phones = []
    for assignment in Assignment.objects.filter(pk__in=[a.pk for a in assignments]).select_related("volunteer__user"):
        _token, secret = ApiToken.objects.create(user=assignment.volunteer.user, device="benchmark phone")
        phones.append((assignment.pk, secret))
    _token, inspector_secret = ApiToken.objects.create(
        user=area.inspector, device="benchmark board", with_second_factor=True
    )
    return phones, inspector_secret, centre


def run(*, database: str, redis_url: str, count: int, rounds: int, board: int, keep: bool) -> int:
    create_database(database)
    try:
        production_django(database=database, redis_url=redis_url)
        from django.core.management import call_command
        from django.db import connection, connections
        from django.test import Client
        from django.utils import timezone

        print(f"Migrating {database} …", flush=True)
        call_command("migrate", verbosity=0)
        started = time.monotonic()
        phones, inspector_secret, centre = seed(count)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"{count} volunteers on duty, {count * HISTORY:,} positions kept ({time.monotonic() - started:.1f} s)")

        client = Client(HTTP_HOST="localhost")
        board_headers = {"authorization": f"Token {inspector_secret}"}
        for _ in range(5):
            answer = client.get("/api/v1/duty/now/", headers=board_headers)
            if answer.status_code != 200 or len(answer.json()["on_duty"]) != count:
                raise SystemExit(f"The board: {answer.status_code} {answer.content[:300]!r}")

        writes: list[float] = []
        reads: list[float] = []
        cpu = 0.0
        for number in range(rounds):
            for index, (assignment_id, secret) in enumerate(phones):
                body = json.dumps(
                    [
                        {
                            "lat": round(centre.y + (index // 40) * 0.0002, 6),
                            "lng": round(centre.x + ((index % 40) * 25 + number * 3) / 78_000, 6),
                            "accuracy": 12,
                            "recorded_at": timezone.now().isoformat(),
                            "client_uuid": str(uuid.uuid4()),
                        }
                    ]
                )
                cpu_start, start = time.process_time(), time.perf_counter()
                answer = client.post(
                    f"/api/v1/assignments/{assignment_id}/positions/",
                    body,
                    content_type="application/json",
                    headers={"authorization": f"Token {secret}"},
                )
                writes.append((time.perf_counter() - start) * 1000)
                cpu += time.process_time() - cpu_start
                if answer.status_code != 200:
                    raise SystemExit(f"A position: {answer.status_code} {answer.content[:300]!r}")
            for _ in range(board):
                start = time.perf_counter()
                answer = client.get("/api/v1/duty/now/", headers=board_headers)
                reads.append((time.perf_counter() - start) * 1000)
                if answer.status_code != 200:
                    raise SystemExit(f"The board: {answer.status_code}")
            print(f"  round {number + 1}/{rounds}: {count} positions, {board} board reads", flush=True)
        connections.close_all()

        per_position_ms = cpu / len(writes) * 1000
        rate = count / ROUND_SECONDS
        print()
        print(f"Volunteers on duty: {count}, one position each every {ROUND_SECONDS} s ({rate:.1f} positions/s)")
        print(f"Position write: median {statistics.median(writes):.1f} ms, p95 {percentile(writes, 0.95):.1f} ms")
        print(
            f"Board (GET /api/v1/duty/now/, {count} on duty): median {statistics.median(reads):.1f} ms, "
            f"p95 {percentile(reads, 0.95):.1f} ms"
        )
        print(
            f"Web CPU per position: {per_position_ms:.2f} ms, so {count} phones keep "
            f"{rate * per_position_ms / 10:.1f} % of one core busy"
        )
        return 0
    finally:
        if not keep:
            drop_database(database)


def stop_on_terminate(signum, frame):
    raise SystemExit(128 + signum)  # so that the database is dropped on the way out


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_terminate)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="bench_duty")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"))
    parser.add_argument("--volunteers", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=4, help="rounds of 30 s: each phone sends one position a round")
    parser.add_argument("--board", type=int, default=50, help="board reads per round")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end (to EXPLAIN queries)")
    options = parser.parse_args()
    return run(
        database=options.database,
        redis_url=options.redis_url,
        count=options.volunteers,
        rounds=options.rounds,
        board=options.board,
        keep=options.keep,
    )


if __name__ == "__main__":
    sys.exit(main())
