"""`make bench`: how long 10,000 due reminders take from the sweep to the last one handed to the SMTP server.

A throwaway PostGIS database, an own Redis server on a free port, an SMTP server on loopback that counts, and two
Celery worker processes (one pool process each). The sweep runs once here, as the beat would have it run; the clock
stops at the last message the SMTP server accepts (the target of issue #19: 10,000 within 60 s). Also printed: the CPU
time the workers spent per message (steadier than the clock on a shared machine) and the peak memory (VmHWM) of each
worker's processes. The database is dropped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import datetime
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from tests.support.celery_worker import CeleryWorker, app_env  # noqa: E402 (after the path is set)
from tests.support.ports import wait_until  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402
from tests.support.smtp_sink import SmtpSink  # noqa: E402

# Issue #19: 10,000 reminders at the SMTP server within a minute of the sweep, with two workers.
TARGET_SECONDS = 60
PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_USER = os.environ.get("BENCH_PG_USER", "root")


def psql(database: str, sql: str) -> None:
    subprocess.run(["psql", "-h", PG_HOST, "-U", PG_USER, "-d", database, "-qtAc", sql], check=True)


def create_database(name: str) -> None:
    subprocess.run(["dropdb", "-h", PG_HOST, "-U", PG_USER, "--if-exists", "--force", name], check=True)
    subprocess.run(["createdb", "-h", PG_HOST, "-U", PG_USER, name], check=True)
    psql(name, "CREATE EXTENSION IF NOT EXISTS postgis")


def production_settings() -> dict[str, str]:
    """What the workers and this process run with: production settings (DEBUG off, so no query is logged), plain
    http on loopback, a throwaway key."""
    return {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "localhost", "HTTPS": "0"}


def production_django(*, database: str, redis_url: str) -> None:
    """Set Django up in this process on `database` under production settings, so nothing of DEBUG (query logging)
    is timed; a throwaway key for this process only."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="coordination.settings",
        DATABASE_URL=f"postgis://{PG_USER}@{PG_HOST}:5432/{database}",
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        **production_settings(),
    )
    import django

    django.setup()


def drop_database(name: str) -> None:
    subprocess.run(["dropdb", "-h", PG_HOST, "-U", PG_USER, "--if-exists", "--force", name], check=False)


def mib(kib: int) -> str:
    return f"{kib / 1024:.1f} MiB"


def cpu_seconds(workers: list[CeleryWorker]) -> float:
    """User and system CPU time the workers' processes (main and pool) have used so far."""
    total = 0
    for worker in workers:
        for pid in worker.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime and stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def print_worker_memory(memory: list[dict[int, int]]) -> None:
    """The peak RSS of each worker's processes (as `CeleryWorker.peak_rss_kib` gives them), the largest process and
    the largest worker."""
    for number, peaks in enumerate(memory):
        parts = ", ".join(f"{'main' if i == 0 else 'pool'} {mib(kib)}" for i, kib in enumerate(peaks.values()))
        print(f"Worker {number} peak RSS (VmHWM): {parts}")
    print(f"Peak memory of a worker process: {mib(max(max(peaks.values()) for peaks in memory))}")
    print(f"Peak memory of a worker (main and pool together): {mib(max(sum(p.values()) for p in memory))}")


def django_on_bench_database(env: dict[str, str], names: tuple[str, ...], database: str) -> None:
    """Django set up in this process with the workers' database, broker and settings, migrated."""
    os.environ.update({name: env[name] for name in (*names, "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "HTTPS")})
    os.environ.update(DJANGO_SETTINGS_MODULE="coordination.settings", SITE_URL=env["SITE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    print(f"Migrating {database} …", flush=True)
    call_command("migrate", verbosity=0)


def start_workers(env: dict[str, str], work: Path, workers: int, started: list[CeleryWorker]) -> None:
    """`workers` worker processes with one pool process each, logging into `work`; each is added to `started` as
    soon as it runs, so the caller kills it however the start ends."""
    for number in range(workers):
        worker = CeleryWorker(env=env, log_path=work / f"worker{number}.log", concurrency=1, name=f"bench{number}")
        started.append(worker.start())
    print(f"{workers} worker processes ready (logs in {work})", flush=True)


def sweep_until_arrived(arrived, *, count: int, timeout: float, where: str) -> tuple[dict, float, float]:
    """Run the sweep once, as the beat would, and wait until `arrived()` counts `count` messages at `where`;
    (the sweep's result, how long it took, the moment it started)."""
    from patrols.services import reminders

    start = time.monotonic()
    result = reminders.sweep()
    sweep_seconds = time.monotonic() - start
    wait_until(
        lambda: arrived() >= count,
        timeout=timeout,
        interval=0.1,
        what=f"{count:,} messages at {where} (got {arrived():,})",
    )
    return result, sweep_seconds, start


def print_timings(
    result: dict,
    *,
    count: int,
    sweep_seconds: float,
    first: float,
    last: float,
    workers: int,
    worker_cpu: float | None = None,
) -> None:
    print()
    print(f"Reminders due and created by the sweep: {result['reminders']:,}")
    print(f"Sweep (create {count:,} notifications and deliveries, queue the tasks): {sweep_seconds:.1f} s")
    print(f"First message arrived: {first:.2f} s after the sweep started")
    print(f"Last message arrived:  {last:.1f} s after the sweep started")
    print(f"Throughput: {count / last:.0f} messages/s with {workers} worker processes")
    if worker_cpu is not None:
        # Less noisy than the clock on a shared machine: what the workers themselves spent per message.
        print(f"Worker CPU: {worker_cpu:.1f} s in all, {1000 * worker_cpu / count:.1f} ms per message")


def run(*, count: int, workers: int, database: str, timeout: float) -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    redis_server = RedisServer(log_path=work / "redis.log")
    smtp = SmtpSink()
    started: list[CeleryWorker] = []
    create_database(database)
    database_url = f"postgis://{PG_USER}@{PG_HOST}:5432/{database}"
    try:
        redis_server.start()
        smtp.start()
        env = app_env(
            database_url=database_url, redis_url=redis_server.url, email_url=smtp.url, **production_settings()
        )
        django_on_bench_database(env, ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_URL"), database)
        from django.db import connections
        from django.utils import timezone

        from patrols.models import Delivery
        from tests.support.seed import patrol_area, signed_up

        print(f"Seeding {count:,} volunteers signed up for shifts starting in an hour …", flush=True)
        seeding = time.monotonic()
        signed_up(count, area=patrol_area(), starts_at=timezone.now() + datetime.timedelta(hours=1), tag="bench")
        print(f"  seeded in {time.monotonic() - seeding:.1f} s", flush=True)

        start_workers(env, work, workers, started)
        cpu_before = cpu_seconds(started)
        result, sweep_seconds, start = sweep_until_arrived(
            smtp.count, count=count, timeout=timeout, where="the SMTP server"
        )
        worker_cpu = cpu_seconds(started) - cpu_before
        received = smtp.messages()
        last = max(message.at for message in received) - start
        first = min(message.at for message in received) - start
        unique = len({message.message_id for message in received})
        sent = Delivery.objects.filter(status="sent").count()
        memory = [worker.peak_rss_kib() for worker in started]
        connections.close_all()

        print_timings(
            result,
            count=count,
            sweep_seconds=sweep_seconds,
            first=first,
            last=last,
            workers=workers,
            worker_cpu=worker_cpu,
        )
        print(f"Messages received: {len(received):,}, distinct Message-IDs: {unique:,}, deliveries sent: {sent:,}")
        print(
            f"{count:,} reminders: {last:.1f} s from sweep to last at SMTP, {count / last:.0f}/s, "
            f"target ≤ {TARGET_SECONDS * count / 10_000:.0f} s"
        )
        print_worker_memory(memory)
        if len(received) == unique == count:
            shutil.rmtree(work, ignore_errors=True)
            return 0
        print(f"Some messages are missing or doubled; the logs are in {work}")
        return 1
    finally:
        for worker in started:
            worker.kill()
        smtp.stop()
        redis_server.stop()
        drop_database(database)


def stop_on_terminate(signum, frame):
    raise SystemExit(128 + signum)  # so that the workers are killed and the database dropped on the way out


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_terminate)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", default="bench_reminders")
    parser.add_argument("--timeout", type=float, default=1800)
    options = parser.parse_args()
    return run(count=options.count, workers=options.workers, database=options.database, timeout=options.timeout)


if __name__ == "__main__":
    sys.exit(main())
