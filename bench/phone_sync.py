"""`make bench BENCH=phone_sync`: a phone back online with 50 reports of two photos each queued while it had no
signal, on Chrome DevTools' "Slow 3G": how long until the server has the last one, and whether every report
arrived once, in the order written, after the connection dropped in the middle of a photo upload.

A throwaway PostGIS database, an own Redis server on a free port and the production web server (gunicorn,
`scripts/serve-production.sh`, DEBUG off, plain http on loopback, the production throttles for filing reports and
photos). Debian's Chromium at a phone's size signs a volunteer in and, with no network (DevTools' offline
emulation), files `--reports` reports through the report form, each with two camera photos (3000 × 2000 JPEGs of
about 2 MB that the form shrinks to 1600 px before it queues them). Then the network comes back throttled through
the DevTools protocol (`Network.emulateNetworkConditions`) with the figures of DevTools' Slow 3G preset: 2000 ms
latency (400 ms × 5), 400 kbit/s down and 400 kbit/s up (500 kbit/s × 0.8). While the photo numbered `--drop-at`
is going up, the connection drops for `--drop-seconds`, then comes back as before. The clock runs from the moment
the network returns to the last report and the last photo the server stored (their `created_at`).

The service worker is kept out of this run: the protocol's throttling reaches the page's requests, not a worker's,
and the page sends the outbox itself (outbox-panel.js: when the phone comes online and every 30 s). Printed: the
photos' sizes on the phone, the times, the requests by answer, and the checks (every report once, in order, two
photos each, nothing left on the phone). The database is dropped at the end, whatever happens.
"""

from __future__ import annotations

import argparse
import collections
import io
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from bench.reminders import PG_HOST, PG_USER, create_database, drop_database  # noqa: E402 (after the path is set)
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, PHONE  # noqa: E402
from tests.support.celery_worker import app_env  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402
from tests.support.web_server import WebServer, production_env  # noqa: E402

PASSWORD = "phone-sync-42"
# Chrome DevTools' "Slow 3G" preset: latency 400 ms × 5, throughput 500 kbit/s × 0.8 each way (in bytes per second).
SLOW_3G = {"offline": False, "latency": 400 * 5, "downloadThroughput": 500 * 1000 / 8 * 0.8}
SLOW_3G["uploadThroughput"] = SLOW_3G["downloadThroughput"]
OFFLINE = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
DISTINCT_PHOTOS = 20


def camera_photos(folder: Path, count: int) -> list[Path]:
    """`count` different photos as a phone camera takes them: 3000 × 2000, JPEG quality 90, with grain and light
    gradients so that they do not shrink to nothing (about 230 KB each once the form has made them 1600 px wide)."""
    from PIL import Image, ImageDraw

    width, height = 3000, 2000
    grain = Image.effect_noise((width + 400, height + 400), 30)
    ramp = Image.linear_gradient("L").resize((width, height))
    paths = []
    for number in range(count):
        rng = random.Random(number)
        shift = rng.randint(30, 90)
        base = Image.merge(
            "RGB",
            (
                ramp.point(lambda v, s=shift: int(s + v * 0.6)),
                ramp.rotate(90).point(lambda v, s=shift: int(150 - s + v * 0.4)),
                ramp.transpose(Image.Transpose.FLIP_TOP_BOTTOM).point(lambda v: int(80 + v * 0.5)),
            ),
        )
        x, y = rng.randint(0, 400), rng.randint(0, 400)
        noise = grain.crop((x, y, x + width, y + height))
        image = Image.blend(base, Image.merge("RGB", (noise, noise.rotate(180), noise)), 0.35)
        draw = ImageDraw.Draw(image)
        for _ in range(12):
            left, top = rng.randint(0, width - 300), rng.randint(0, height - 300)
            colour = tuple(rng.randint(0, 255) for _ in range(3))
            draw.rectangle((left, top, left + rng.randint(60, 300), top + rng.randint(60, 300)), fill=colour)
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=90)
        path = folder / f"camera-{number + 1:02d}.jpg"
        path.write_bytes(out.getvalue())
        paths.append(path)
    return paths


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], env=env, cwd=BASE_DIR, check=True)


def the_volunteer(env: dict[str, str]):
    """A registered volunteer of a district with a password, made with the test factories in this process."""
    os.environ.update({name: env[name] for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "VAR_DIR")})
    os.environ.update(DJANGO_SETTINGS_MODULE="coordination.settings", DEBUG="0", HTTPS="0", ALLOWED_HOSTS="127.0.0.1")
    # The ORM is called here beside Playwright's event loop, in the same thread.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    import django

    django.setup()
    from tests.factories import GroupFactory, MembershipFactory, UserFactory, VolunteerFactory

    group = GroupFactory()
    person = VolunteerFactory(district=group.district, user=UserFactory(username="phone", password=PASSWORD))
    MembershipFactory(volunteer=person, group=group)
    return person, group.district


def fill_and_queue(page, number: int, total: int, photos: tuple[Path, Path]) -> None:
    """One report through the form while offline: it waits on the phone with its two photos."""
    page.check("input[name=outcome][value=prevented]")
    page.select_option("#id_category", "public_drinking")
    page.fill("#id_description", f"Отчёт {number} из {total}: предупредили двоих у остановки, разошлись.")
    page.set_input_files("#id_photo", [str(path) for path in photos])
    page.wait_for_function("() => document.getElementById('report-form').dataset.photos === '2'")
    page.click("button.send")
    page.wait_for_selector(f'#outbox-banner[data-count="{number}"]', state="attached")


def run(options) -> int:
    work = Path(tempfile.mkdtemp(prefix="bench-phone-sync-"))
    redis_server = RedisServer(log_path=work / "redis.log")
    web = None
    create_database(options.database)
    try:
        redis_server.start()
        env = production_env(
            app_env(
                database_url=f"postgis://{PG_USER}@{PG_HOST}:5432/{options.database}",
                redis_url=redis_server.url,
                email_url="smtp://127.0.0.1:9",
                MEDIA_ROOT=str(work / "media"),
                VAR_DIR=str(work / "var"),
            )
        )
        # The throttles a phone meets in production (the test harness lifts the one on filing).
        env.pop("THROTTLE_REPORTS")
        print(f"Migrating {options.database} and collecting the static files …", flush=True)
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        person, district = the_volunteer(env)
        photos = camera_photos(work, min(DISTINCT_PHOTOS, 2 * options.reports))
        web = WebServer(env=env, log_path=work / "web.log", workers=2, threads=4).start()
        print(f"gunicorn on {web.url} (logs in {work})", flush=True)
        return sync(options, web.url, person, district, photos)
    finally:
        if web is not None:
            web.stop()
        redis_server.stop()
        drop_database(options.database)
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)


def sync(options, base: str, person, district, photos: list[Path]) -> int:
    from django.db import connections
    from django.db.models import Count, Max
    from django.utils import timezone
    from playwright.sync_api import sync_playwright

    from patrols.models import Report, ReportPhoto

    total = options.reports
    here = {"latitude": district.centre.y + 0.01, "longitude": district.centre.x + 0.01, "accuracy": 12}
    answers = collections.Counter()
    photo_requests = []

    def answered(response) -> None:
        path = response.url.removeprefix(base)
        if path.startswith("/api/v1/reports/"):
            kind = "photo" if path.endswith("/photos/") else "report"
            answers[(kind, str(response.status))] += 1

    def failed(request) -> None:
        path = request.url.removeprefix(base)
        if path.startswith("/api/v1/reports/") and request.method == "POST":
            answers[("photo" if path.endswith("/photos/") else "report", "no answer")] += 1

    def started(request) -> None:
        if request.method == "POST" and request.url.endswith("/photos/"):
            photo_requests.append(time.monotonic())

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=base,
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
            geolocation=here,
            permissions=["geolocation"],
            locale="ru-RU",
            service_workers="block",
        )
        context.set_default_timeout(60000)
        context.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
        page = context.new_page()
        page.goto("/accounts/login/")
        page.fill("#id_username", person.user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        page.goto("/reports/new/")
        page.wait_for_function("() => document.getElementById('id_lat').value !== ''")
        network = context.new_cdp_session(page)
        network.send("Network.enable")

        network.send("Network.emulateNetworkConditions", OFFLINE)
        print(f"Offline: filing {total} reports with two photos each through the form …", flush=True)
        queued_at = time.monotonic()
        for number in range(1, total + 1):
            pair = (photos[(2 * number - 2) % len(photos)], photos[(2 * number - 1) % len(photos)])
            fill_and_queue(page, number, total, pair)
        queued = page.evaluate(
            "() => Outbox.all().then((records) => records.map((record) => "
            "[record.client_uuid, record.photos.map((photo) => photo.blob.size)]))"
        )
        sizes = [size for _uuid, record_sizes in queued for size in record_sizes]
        print(
            f"  {len(queued)} reports queued in {time.monotonic() - queued_at:.0f} s; photos on the phone "
            f"{min(sizes) / 1024:.0f}-{max(sizes) / 1024:.0f} KB, {sum(sizes) / 1024 / 1024:.1f} MB in all",
            flush=True,
        )
        if Report.objects.exists():
            print("FAILED: a report reached the server while the phone was offline")
            return 1

        page.on("response", answered)
        page.on("requestfailed", failed)
        page.on("request", started)
        print(
            f"Online on Slow 3G ({SLOW_3G['latency']} ms, {SLOW_3G['downloadThroughput'] * 8 / 1000:.0f} kbit/s down "
            f"and up); the connection drops for {options.drop_seconds:.0f} s during photo {options.drop_at} …",
            flush=True,
        )
        online_at = timezone.now()
        started_clock = time.monotonic()
        network.send("Network.emulateNetworkConditions", SLOW_3G)
        dropped = None

        def done() -> bool:
            complete = Report.objects.filter(reporter=person).annotate(n=Count("photos")).filter(n__gte=2)
            return complete.count() >= total

        while time.monotonic() - started_clock < options.timeout:
            page.wait_for_timeout(250)
            if dropped is None and len(photo_requests) >= options.drop_at:
                # Mid-upload: a photo of about 230 KB takes some 5 s to go up at 50 KB/s.
                if time.monotonic() - photo_requests[options.drop_at - 1] >= 2:
                    network.send("Network.emulateNetworkConditions", OFFLINE)
                    dropped = time.monotonic() - started_clock
                    page.wait_for_timeout(options.drop_seconds * 1000)
                    network.send("Network.emulateNetworkConditions", SLOW_3G)
            if done():
                break
        page.wait_for_selector('#outbox-banner[data-count="0"]', state="attached", timeout=60000)
        left_on_phone = page.evaluate("() => Outbox.count()")
        emptied = time.monotonic() - started_clock
        browser.close()

    reports = list(Report.objects.filter(reporter=person).order_by("created_at", "pk"))
    photo_counts = dict(
        ReportPhoto.objects.filter(report__reporter=person).values_list("report").annotate(n=Count("id"))
    )
    last = ReportPhoto.objects.filter(report__reporter=person).aggregate(last=Max("created_at"))["last"]
    last_report = max((report.created_at for report in reports), default=None)
    connections.close_all()

    queued_uuids = [uuid for uuid, _sizes in queued]
    received_uuids = [str(report.client_uuid) for report in reports]
    checks = {
        f"{total} reports on the server": len(reports) == total,
        "each report once (no repeated id, none missing)": sorted(received_uuids) == sorted(queued_uuids)
        and len(set(received_uuids)) == len(received_uuids),
        "in the order they were written": received_uuids == queued_uuids,
        "two photos each": all(photo_counts.get(report.pk) == 2 for report in reports),
        "nothing left on the phone": left_on_phone == 0,
    }
    print()
    if dropped is not None:
        print(f"  the connection dropped at {dropped:.0f} s, for {options.drop_seconds:.0f} s")
    else:
        print("  the connection never dropped (fewer photos than --drop-at)")
    if last_report is not None:
        print(f"  last report filed:     {(last_report - online_at).total_seconds():7.1f} s after the network returned")
    if last is not None:
        print(f"  last photo stored:     {(last - online_at).total_seconds():7.1f} s (the phone's sync time)")
    print(f"  the phone's queue empty at {emptied:.1f} s")
    print("  requests by answer: " + ", ".join(f"{kind} {code}: {n}" for (kind, code), n in sorted(answers.items())))
    for name, passed in checks.items():
        print(f"  {'ok    ' if passed else 'FAILED'} {name}")
    return 0 if all(checks.values()) else 1


def stop_on_terminate(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_terminate)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=50)
    parser.add_argument("--drop-at", type=int, default=21, help="the photo upload during which the connection drops")
    parser.add_argument("--drop-seconds", type=float, default=5)
    parser.add_argument("--database", default="bench_phone_sync")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--keep", action="store_true", help="keep the logs and photos (their folder is printed)")
    options, _others = parser.parse_known_args()  # make bench passes BENCH_ARGS to every benchmark
    return run(options)


if __name__ == "__main__":
    sys.exit(main())
