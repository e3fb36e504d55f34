"""Web CPU per request of the `make load` mix, in one process, without a server or locust: what each endpoint costs.

Sets Django up under production settings (DEBUG off, the Redis cache and sessions, throttles on at rates nothing
reaches) on a database `make load` has prepared (the demo seeded, `bench/load_accounts.py` run: its JSON gives the
tokens), then replays the requests of `bench/locustfile.py` with Django's test client: volunteers with their API
token (open shifts, their shifts, sign up and cancel, file a report, their reports, the inbox), inspectors (the
queue, verify or reject, the /verify/ page) and the chief (totals, the /dashboard/ page) with a session. Each
endpoint is asked `--rounds` times (different accounts in turn); it prints the CPU milliseconds (process time) per
request, per endpoint, their mean weighted as the load mix asks them, and a cProfile of one endpoint
(`--profile NAME`, or the costliest by default). CPU time is steady on a busy machine where wall-clock is not.

    LOAD_DATABASE_URL=postgis://root@127.0.0.1:5432/load LOAD_REDIS_URL=redis://127.0.0.1:6379/9 \
        .venv/bin/python bench/profile_requests.py --accounts var/load/accounts.json --rounds 40

The writes (sign-ups, reports, decisions) land in that database as the load's own do.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import io
import json
import os
import pstats
import random
import statistics
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from bench.reminders import production_settings  # noqa: E402 (after the path is set)

ALMATY = ZoneInfo("Asia/Almaty")


def mix_weights(*, inspectors: int, chiefs: int = 3, users: int = 200, wait: tuple[float, float] = (0.5, 2)) -> dict:
    """Requests a second of each endpoint in the load mix (bench/locustfile.py: its users, task weights and pauses,
    at the issue's 0.5-2 s pause of volunteers): the weights of the mean."""
    volunteers = (users - inspectors - chiefs) / (sum(wait) / 2)
    inspecting = inspectors / 3.5
    chiefing = chiefs / 4
    return {
        # A volunteer's 11 taps: 4 open lists, a sign-up or a cancel (which reads their shifts again), 2 reports,
        # 2 of their reports, 1 inbox.
        "GET /api/v1/shifts/?open=1": volunteers * 4 / 11,
        "POST /api/v1/shifts/{id}/signup/": volunteers * 1 / 11,
        "POST /api/v1/shifts/{id}/cancel-signup/": volunteers * 1 / 11,
        "GET /api/v1/shifts/?mine=1&from=": volunteers * 1 / 11,
        "POST /api/v1/reports/": volunteers * 2 / 11,
        "GET /api/v1/reports/?mine=1": volunteers * 2 / 11,
        "GET /api/v1/notifications/?unread=1": volunteers * 1 / 11,
        # An inspector's 8: 3 queue reads, 3 decisions (4 in 5 verified), 2 pages.
        "GET /api/v1/reports/?status=submitted": inspecting * 3 / 8,
        "POST /api/v1/reports/{id}/verify/": inspecting * 3 / 8 * 0.8,
        "POST /api/v1/reports/{id}/reject/": inspecting * 3 / 8 * 0.2,
        "GET /verify/": inspecting * 2 / 8,
        # A chief's 5: 3 totals, 2 dashboard pages.
        "GET /api/v1/dashboard/totals/?year=": chiefing * 3 / 5,
        "GET /dashboard/": chiefing * 2 / 5,
    }


def production_django(*, database_url: str, redis_url: str) -> None:
    """Django under the settings `make load` gives gunicorn (bench/load.py), with the test client's host allowed."""
    os.environ.update(production_settings())
    os.environ.update(
        DJANGO_SETTINGS_MODULE="coordination.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        ALLOWED_HOSTS="testserver",
        STAFF_2FA="0",
        LOG_LEVEL="WARNING",
        THROTTLE_TOKEN="100000/min",
        THROTTLE_REPORTS="100000/min",
        THROTTLE_SIGNUP="100000/min",
    )
    os.environ.pop("CELERY_TASK_ALWAYS_EAGER", None)
    import django

    django.setup()


class Replay:
    def __init__(self, accounts: dict, *, profile: str | None) -> None:
        from django.test import Client

        self.accounts = accounts
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.queries: dict[str, list[int]] = defaultdict(list)
        self.last_sql: dict[str, list[str]] = {}
        self.sizes: dict[str, int] = {}
        self.profile_name = profile
        # CPU time, as the figures: waiting for the database is not what a web process spends.
        self.profiler = cProfile.Profile(time.process_time)
        self.client = Client()
        self.rng = random.Random(7)
        self.year = datetime.datetime.now(ALMATY).year
        self.pages: dict[str, Client] = {}

    def timed(self, name: str, call):
        """Run one request, keep its process time; under the profiler when it is the endpoint asked for."""
        from django.db import connection

        profiled = name == self.profile_name
        executed = []

        def count(execute, sql, params, many, context):
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            started = time.process_time()
            if profiled:
                self.profiler.enable()
            response = call()
            if profiled:
                self.profiler.disable()
            self.cpu[name].append((time.process_time() - started) * 1000)
        self.queries[name].append(len(executed))
        self.last_sql[name] = executed
        self.sizes[name] = len(response.content)
        if response.status_code >= 400:
            raise RuntimeError(f"{name}: {response.status_code} {response.content[:300]!r}")
        return response

    def api(self, method: str, path: str, token: str, *, name: str, body: dict | None = None):
        headers = {"HTTP_AUTHORIZATION": f"Token {token}", "HTTP_ACCEPT": "application/json"}
        if method == "GET":
            return self.timed(name, lambda: self.client.get(path, **headers))
        return self.timed(
            name, lambda: self.client.post(path, json.dumps(body or {}), content_type="application/json", **headers)
        )

    def volunteer(self, account: dict) -> None:
        token = account["token"]
        today = datetime.datetime.now(ALMATY).date().isoformat()
        categories = [row["code"] for row in self.api("GET", "/api/v1/categories/", token, name="categories").json()]
        mine = self.api("GET", f"/api/v1/shifts/?mine=1&from={today}", token, name="GET /api/v1/shifts/?mine=1&from=")
        busy = [(row["starts_at"], row["ends_at"]) for row in mine.json()["results"]]
        listed = self.api("GET", "/api/v1/shifts/?open=1", token, name="GET /api/v1/shifts/?open=1").json()
        soon = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=10)).isoformat()
        free = [
            row
            for row in listed["results"]
            if row["my_assignment"] is None
            and row["starts_at"] > soon
            and not any(row["starts_at"] < end and start < row["ends_at"] for start, end in busy)
        ]
        if free:
            shift = self.rng.choice(free)["id"]
            self.api("POST", f"/api/v1/shifts/{shift}/signup/", token, name="POST /api/v1/shifts/{id}/signup/")
            self.api(
                "POST", f"/api/v1/shifts/{shift}/cancel-signup/", token, name="POST /api/v1/shifts/{id}/cancel-signup/"
            )
        lat, lng = self.rng.choice(self.accounts["points"][account["district"]])
        occurred = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=self.rng.randint(5, 600))
        self.timed_report(token, categories, lat, lng, occurred)
        self.api("GET", "/api/v1/reports/?mine=1", token, name="GET /api/v1/reports/?mine=1")
        self.api("GET", "/api/v1/notifications/?unread=1", token, name="GET /api/v1/notifications/?unread=1")

    def timed_report(self, token: str, categories: list[str], lat: float, lng: float, occurred) -> None:
        outcome = self.rng.choice(("prevented", "prevented", "handed_over", "assistance", "info", "solved"))
        body = {
            "client_uuid": str(uuid.uuid4()),
            "occurred_at": occurred.isoformat().replace("+00:00", "Z"),
            "lat": lat,
            "lng": lng,
            "category": self.rng.choice(categories),
            "outcome": outcome,
            "description": "Жасөспірімдер тобы аялдамада төбелесті бастады; сөйлесіп, таратып жібердік.",
            "case_number": f"{self.rng.randrange(10**14, 10**15)}" if outcome == "solved" else "",
        }
        self.api("POST", "/api/v1/reports/", token, name="POST /api/v1/reports/", body=body)

    def session(self, username: str):
        """A browser signed in to the pages (the session is made as the login form makes it)."""
        from django.test import Client

        from patrols.models import User

        if username not in self.pages:
            browser = Client()
            browser.force_login(User.objects.get(username=username))
            self.pages[username] = browser
        return self.pages[username]

    def inspector(self, account: dict) -> None:
        token = account["token"]
        queue = self.api(
            "GET", "/api/v1/reports/?status=submitted", token, name="GET /api/v1/reports/?status=submitted"
        ).json()["results"]
        for row in queue[:3]:
            if self.rng.random() < 0.8:
                self.api(
                    "POST", f"/api/v1/reports/{row['id']}/verify/", token, name="POST /api/v1/reports/{id}/verify/"
                )
            else:
                self.api(
                    "POST",
                    f"/api/v1/reports/{row['id']}/reject/",
                    token,
                    name="POST /api/v1/reports/{id}/reject/",
                    body={"reason": "Орны мен уақыты патрульге сәйкес келмейді."},
                )
        browser = self.session(account["username"])
        self.timed("GET /verify/", lambda: browser.get("/verify/"))

    def chief(self, account: dict) -> None:
        self.api(
            "GET",
            f"/api/v1/dashboard/totals/?year={self.year}",
            account["token"],
            name="GET /api/v1/dashboard/totals/?year=",
        )
        browser = self.session(account["username"])
        self.timed("GET /dashboard/", lambda: browser.get("/dashboard/"))

    def run(self, rounds: int) -> None:
        volunteers, inspectors = self.accounts["volunteers"], self.accounts["inspectors"]
        # Each run starts at another volunteer: one who has cancelled a shift does not take it again (as in the
        # load), so the same few would soon find nothing to sign up for.
        start = random.randrange(len(volunteers))
        for number in range(rounds):
            self.volunteer(volunteers[(start + number) % len(volunteers)])
            self.inspector(inspectors[number % len(inspectors)])
            self.chief(self.accounts["chiefs"][0])


def report(replay: Replay) -> str:
    """Print the table; return the costliest endpoint of the mix (by its share of the CPU)."""
    print(f"{'endpoint':<44} {'n':>4} {'mean':>7} {'median':>7} {'queries':>7} {'KB':>6} {'req/s':>6} {'share':>6}")
    rows = {}
    for name, values in replay.cpu.items():
        rows[name] = (len(values), statistics.fmean(values), statistics.median(values), max(replay.queries[name]))
    mix = mix_weights(inspectors=len(replay.accounts["inspectors"]))
    weights = {name: mix.get(name, 0) for name in rows}
    total = sum(weights[name] * rows[name][1] for name in rows) or 1
    for name in sorted(rows, key=lambda item: -weights[item] * rows[item][1]):
        count, mean, median, queries = rows[name]
        share = weights[name] * mean / total
        size = replay.sizes[name] / 1024
        print(
            f"{name:<44} {count:>4} {mean:>7.1f} {median:>7.1f} {queries:>7} {size:>6.1f} "
            f"{weights[name]:>6.1f} {share:>6.0%}"
        )
    weighted = total / max(sum(weights[name] for name in rows if weights[name]), 1)
    print(f"CPU ms per request, weighted as the load mix asks (ms of process time): {weighted:.1f}")
    costliest = max(rows, key=lambda item: weights[item] * rows[item][1])
    return costliest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=Path, default=BASE_DIR / "var" / "load" / "accounts.json")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3, help="rounds run before any figure is kept")
    parser.add_argument("--profile", default=None, help="the endpoint to profile (default: the costliest)")
    parser.add_argument("--top", type=int, default=35, help="lines of the profile")
    parser.add_argument("--sql", type=int, default=0, help="print the profiled endpoint's queries, this long each")
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key (cumulative, tottime, ...)")
    parser.add_argument(
        "--database-url", default=os.environ.get("LOAD_DATABASE_URL", "postgis://root@127.0.0.1:5432/load")
    )
    parser.add_argument("--redis-url", default=os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/9"))
    options = parser.parse_args()
    production_django(database_url=options.database_url, redis_url=options.redis_url)
    accounts = json.loads(options.accounts.read_text(encoding="utf-8"))

    warm = Replay(accounts, profile=None)
    warm.run(options.warmup)
    replay = Replay(accounts, profile=options.profile)
    replay.pages = warm.pages
    if options.profile is None:
        # A first pass finds the costliest endpoint, the second profiles it.
        replay.run(options.rounds)
        replay.profile_name = report(replay)
        replay.cpu.clear()
        print()
    replay.run(options.rounds)
    report(replay)
    if not replay.cpu.get(replay.profile_name):
        print(f"\n{replay.profile_name} was not asked: nothing to profile")
        return 0
    out = io.StringIO()
    stats = pstats.Stats(replay.profiler, stream=out)
    stats.strip_dirs().sort_stats(options.sort).print_stats(options.top)
    print(f"\ncProfile of {replay.profile_name} ({len(replay.cpu[replay.profile_name])} requests):")
    print(out.getvalue())
    if options.sql:
        print(f"The queries of the last {replay.profile_name}:")
        for sql in replay.last_sql[replay.profile_name]:
            print(f"- {sql[: options.sql]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
