"""`make bench`: how long 10,000 due reminders take from the sweep to the last one accepted by WhatsApp or Telegram.

Like bench/reminders.py (a throwaway PostGIS database, an own Redis server, two Celery worker processes with one
pool process each), but every volunteer is reached on a phone channel: half opted in to WhatsApp, half linked a
Telegram chat, with email off. The WhatsApp Cloud API and the Telegram Bot API are the local servers of the tests
(tests/support/whatsapp_cloud.py, telegram_bot_api.py), started here on free loopback ports. The sweep runs once, as
the beat would run it; the clock stops at the last message a server accepts. Also printed: messages per second and
the peak memory (VmHWM) of each worker's processes. The database is dropped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from bench.reminders import (  # noqa: E402 (after the path is set)
    PG_HOST,
    PG_USER,
    cpu_seconds,
    create_database,
    django_on_bench_database,
    drop_database,
    print_timings,
    print_worker_memory,
    production_settings,
    start_workers,
    stop_on_terminate,
    sweep_until_arrived,
)
from tests.support import telegram_bot_api, whatsapp_cloud  # noqa: E402
from tests.support.celery_worker import CeleryWorker, app_env  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402
from tests.support.telegram_bot_api import TelegramBotApi  # noqa: E402
from tests.support.whatsapp_cloud import WhatsAppCloud  # noqa: E402

CHAT_BASE = 600_000_000


def messenger_env(cloud: WhatsAppCloud, bot: TelegramBotApi) -> dict[str, str]:
    """The settings that turn both channels on and point them at the local servers."""
    return {
        "WHATSAPP_API_URL": cloud.url,
        "WHATSAPP_TOKEN": whatsapp_cloud.TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": whatsapp_cloud.PHONE_NUMBER_ID,
        "TELEGRAM_API_URL": bot.url,
        "TELEGRAM_BOT_TOKEN": telegram_bot_api.TOKEN,
    }


def reach_on_messengers(assignments: list) -> tuple[int, int]:
    """Every other volunteer on WhatsApp (their phone), the rest on Telegram; no email, no quiet hours. (whatsapp,
    telegram) counts."""
    from patrols.choices import DeliveryChannel
    from patrols.models import MessengerAccount, NotificationPreference

    accounts, whatsapp, telegram = [], [], []
    for i, assignment in enumerate(assignments):
        volunteer = assignment.volunteer
        if i % 2 == 0:
            whatsapp.append(volunteer.user_id)
            accounts.append(
                MessengerAccount(user_id=volunteer.user_id, channel=DeliveryChannel.WHATSAPP, address=volunteer.phone)
            )
        else:
            telegram.append(volunteer.user_id)
            accounts.append(
                MessengerAccount(
                    user_id=volunteer.user_id, channel=DeliveryChannel.TELEGRAM, address=str(CHAT_BASE + i)
                )
            )
    MessengerAccount.objects.bulk_create(accounts, batch_size=2000)
    preferences = NotificationPreference.objects.filter(user_id__in=whatsapp + telegram)
    preferences.update(email_enabled=False, quiet_start=datetime.time(0), quiet_end=datetime.time(0))
    NotificationPreference.objects.filter(user_id__in=whatsapp).update(channel_order=["whatsapp"])
    NotificationPreference.objects.filter(user_id__in=telegram).update(channel_order=["telegram"])
    return len(whatsapp), len(telegram)


def run(*, count: int, workers: int, database: str, timeout: float) -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-messengers-"))
    redis_server = RedisServer(log_path=work / "redis.log")
    cloud, bot = WhatsAppCloud(), TelegramBotApi()
    started: list[CeleryWorker] = []
    create_database(database)
    database_url = f"postgis://{PG_USER}@{PG_HOST}:5432/{database}"
    try:
        redis_server.start()
        cloud.start()
        bot.start()
        env = app_env(
            database_url=database_url,
            redis_url=redis_server.url,
            email_url="smtp://127.0.0.1:9",
            **messenger_env(cloud, bot),
            **production_settings(),
        )
        names = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "EMAIL_URL", *messenger_env(cloud, bot))
        django_on_bench_database(env, names, database)
        from django.db import connections
        from django.utils import timezone

        from patrols.models import Delivery
        from tests.support.seed import patrol_area, signed_up

        print(f"Seeding {count:,} volunteers on WhatsApp or Telegram, signed up for shifts in an hour …", flush=True)
        seeding = time.monotonic()
        assignments = signed_up(
            count, area=patrol_area(), starts_at=timezone.now() + datetime.timedelta(hours=1), tag="bench"
        )
        on_whatsapp, on_telegram = reach_on_messengers(assignments)
        print(f"  seeded in {time.monotonic() - seeding:.1f} s ({on_whatsapp:,} WhatsApp, {on_telegram:,} Telegram)")

        start_workers(env, work, workers, started)
        cpu_before = cpu_seconds(started)
        result, sweep_seconds, start = sweep_until_arrived(
            lambda: cloud.count() + bot.count(), count=count, timeout=timeout, where="the servers"
        )
        worker_cpu = cpu_seconds(started) - cpu_before
        whatsapp, telegram = cloud.messages(), bot.messages()
        moments = [m.at for m in whatsapp] + [m.at for m in telegram]
        first, last = min(moments) - start, max(moments) - start
        people = len({m.to for m in whatsapp}) + len({m.chat_id for m in telegram})
        refused = len([a for a in cloud.attempts() + bot.attempts() if a.status != 200])
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
        print(
            f"Messages accepted: {len(whatsapp):,} WhatsApp + {len(telegram):,} Telegram, to {people:,} distinct "
            f"people; refused requests: {refused}; deliveries sent: {sent:,}"
        )
        print_worker_memory(memory)
        if len(whatsapp) + len(telegram) == people == sent == count and not refused:
            shutil.rmtree(work, ignore_errors=True)
            return 0
        print(f"Some messages are missing, doubled or refused; the logs are in {work}")
        return 1
    finally:
        for worker in started:
            worker.kill()
        cloud.stop()
        bot.stop()
        redis_server.stop()
        drop_database(database)


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_terminate)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database", default="bench_messengers")
    parser.add_argument("--timeout", type=float, default=1800)
    options = parser.parse_args()
    return run(count=options.count, workers=options.workers, database=options.database, timeout=options.timeout)


if __name__ == "__main__":
    sys.exit(main())
