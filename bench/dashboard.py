"""`make bench BENCH=dashboard`: the server time of `GET /api/v1/dashboard/totals/` at 10,000, 100,000 and 1,000,000
reports, for the country (an analyst) and for one region (its chief).

The database `bench` (PostGIS) is dropped and made again, migrated (the 20 regions, the categories and outcomes), and
given a country: the demo's 103 districts and about a hundred more to make some two hundred, groups of the four kinds
with their volunteers, drawn as `seed_demo` draws them, an inspector per district, the chief of Almaty Region and an
analyst. Reports are then written by COPY (not through the API) in steps up to each total, spread over last year and
this one, every district, kind of group, category and outcome, about nine in ten verified, a few duplicates.

After each step `tallies_rebuild()` brings the kept tallies up to date (timed: it is what an operator runs after a
bulk import), VACUUM ANALYZE tidies the tables (autovacuum would, in time; this server runs without it), and the
endpoint is timed in-process through Django's test Client under production settings (DEBUG off), signed in by API
token: warm-up requests, then timed ones; each answer's prevented count is checked against a direct count of the
reports. A last phase adds the prevention work at national scale (6,000 settlements, 100,000 meetings, twelve months of
crime counts for all; `bench/prevention.py`) and times the same totals again, against the last reports-only step.
The database is dropped at the end unless `--keep`.
"""

from __future__ import annotations

import argparse
import bisect
import datetime
import math
import os
import random
import signal
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from bench.reminders import create_database, drop_database, production_django  # noqa: E402 (after the path is set)

STEPS = (10_000, 100_000, 1_000_000)
# The region timed for its chief (the demo's story region, Almaty Region), and the districts a region has at least.
# Shares of the reports: filed outside any group, marked duplicates of an earlier one; statuses (a report still
# waiting is a recent one: an older draw of `submitted` counts as verified).
WITHOUT_GROUP = 0.02
DUPLICATE = 0.01
STATUSES = {"verified": 88, "rejected": 6, "needs_info": 2, "submitted": 4}
WAITING_DAYS = 14
# When reports happen, by hour of the day in Almaty: mostly in the evening patrols.
HOURS = (2, 1.5, 1, 0.6, 0.4, 0.3, 0.4, 0.6, 1, 1.4, 1.8, 2, 2.4, 2.6, 2.8, 3, 3.4, 4.4, 6, 7, 7.4, 6.6, 5, 3.4)
# Descriptions are drawn from a pool per category, outcome and language (the demo's texts, written once).
TEXTS_PER_POOL = 6


@dataclass
class Reporter:
    volunteer_id: int
    district_id: int
    group_id: int | None
    kind: str


@dataclass
class Country:
    """What the report generator draws from: who files, where the districts are, who verifies."""

    reporters: list[Reporter]
    cumulative: list[float]
    centres: dict[int, tuple[float, float]]
    inspectors: dict[int, int]
    district_codes: dict[int, str]
    categories: dict[str, int]
    outcomes: dict[str, int]
    last_report: dict[int, tuple] = field(default_factory=dict)


@dataclass
class Timing:
    median_ms: float
    p95_ms: float
    prevented: int
    meetings: int = 0


@dataclass
class Step:
    reports: int
    load_s: float
    rebuild_s: float
    differences: int
    tally_rows: dict[str, int]
    national: Timing
    region: Timing
    load_average: float


def country_for_reports(rng: random.Random) -> Country:
    """Who files the reports: active members of the groups, weighted so each district files at its own rate."""
    from patrols.choices import VolunteerStatus
    from patrols.models import Category, District, Membership, Outcome, User

    members = (
        Membership.objects.filter(left_on__isnull=True, group__is_active=True)
        .exclude(volunteer__status=VolunteerStatus.REFUSED)
        .values_list("volunteer_id", "group__district_id", "group_id", "group__kind")
        .order_by("pk")
    )
    reporters = [Reporter(*row) for row in members]
    in_district: dict[int, int] = {}
    for reporter in reporters:
        in_district[reporter.district_id] = in_district.get(reporter.district_id, 0) + 1
    districts = District.objects.order_by("code")
    # A district's yearly rate: spread around one (some busy, some quiet), the story district the busiest.
    rate = {district.pk: rng.lognormvariate(0, 0.45) for district in districts}
    for district in districts:
        if district.code == "KZ-19-TAL":
            rate[district.pk] = 3.0
    total, cumulative = 0.0, []
    for reporter in reporters:
        total += rate[reporter.district_id] / in_district[reporter.district_id]
        cumulative.append(total)
    links = User.inspector_districts.through.objects.order_by("-user_id")
    inspectors = dict(links.values_list("district_id", "user_id"))
    return Country(
        reporters=reporters,
        cumulative=cumulative,
        centres={district.pk: (district.centre.x, district.centre.y) for district in districts},
        inspectors=inspectors,
        district_codes={district.pk: district.code for district in districts},
        categories=dict(Category.objects.values_list("code", "pk")),
        outcomes=dict(Outcome.objects.values_list("code", "pk")),
    )


class _Draw:
    """A weighted draw by one random number and a bisection (`random.choices` costs more, a million times over)."""

    def __init__(self, weights: dict) -> None:
        self.values = list(weights)
        self.cumulative = list(_cumulate(weights.values()))
        self.total = self.cumulative[-1]

    def __call__(self, rng: random.Random):
        return self.values[bisect.bisect_right(self.cumulative, rng.random() * self.total)]


class ReportWriter:
    """Lines of reports for COPY, drawn from one seeded generator.

    Times are kept as seconds from local midnight of the first day and written as local time with that day's UTC
    offset (PostgreSQL converts), from tables of day and time strings: formatting a million datetimes costs more than
    the rest. Kazakhstan keeps no summer time, so local seconds add up like UTC ones.
    """

    COLUMNS = (
        "id",
        "client_uuid",
        "reporter",
        "filed_by",
        "shift",
        "district",
        "group",
        "group_kind",
        "occurred_at",
        "location",
        "category",
        "outcome",
        "description",
        "case_number",
        "third_party_details",
        "status",
        "duplicate_of",
        "flags",
        "status_note",
        "verified_by",
        "verified_at",
        "created_at",
        "updated_at",
    )

    def __init__(self, country: Country, *, now: datetime.datetime, seed: str) -> None:
        from patrols.clock import LOCAL_TZ
        from patrols.demo import large
        from patrols.demo import reports as demo_reports

        self.country = country
        self.rng = rng = random.Random(seed)
        self.pools = large.report_texts(rng, per_pool=TEXTS_PER_POOL)
        local = LOCAL_TZ
        today = now.astimezone(local).date()
        first = datetime.date(today.year - 1, 1, 1)
        days = [first + datetime.timedelta(days=n) for n in range((today - first).days + 1)]
        self.day_text = [day.isoformat() for day in days]
        self.offset_text = [_offset(datetime.datetime.combine(day, datetime.time(12), tzinfo=local)) for day in days]
        self.time_text = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]
        self.now = int(
            (
                now.astimezone(local).replace(tzinfo=None) - datetime.datetime.combine(first, datetime.time())
            ).total_seconds()
        )
        self.day = _Draw({index: demo_reports.SEASON[day.month - 1] for index, day in enumerate(days)})
        self.hour = _Draw(dict(enumerate(HOURS)))
        self.night = {hour for hour in range(24) if hour >= demo_reports.CURFEW.hour or hour < 6}
        self.category = {}
        for kind, weights in demo_reports.CATEGORY_WEIGHTS.items():
            for night in (False, True):
                allowed = {code: w for code, w in weights.items() if night or code not in demo_reports.NIGHT_ONLY}
                self.category[(kind, night)] = _Draw(allowed)
        self.outcome = {category: _Draw(weights) for category, weights in demo_reports.OUTCOME_WEIGHTS.items()}
        self.status = _Draw(STATUSES)
        # Where reports happen: a few hundred spots around each district's centre.
        self.spots = {
            district_id: [
                f"SRID=4326;POINT({lng + rng.uniform(-0.06, 0.06):.6f} {lat + rng.uniform(-0.04, 0.04):.6f})"
                for _ in range(200)
            ]
            for district_id, (lng, lat) in country.centres.items()
        }

    def moment(self, seconds: int) -> str:
        day = seconds // 86_400
        return f"{self.day_text[day]} {self.time_text[seconds % 86_400]}{self.offset_text[day]}"

    def lines(self, first_id: int, count: int):
        """`count` reports as COPY text lines, with ids from `first_id` on."""
        rng, random_, country, now = self.rng, self.rng.random, self.country, self.now
        reporters = rng.choices(country.reporters, cum_weights=country.cumulative, k=count)
        latest = now - 2 * 3600
        waiting = WAITING_DAYS * 86_400
        for offset, reporter in enumerate(reporters):
            report_id = first_id + offset
            hour = self.hour(rng)
            moment = min(self.day(rng) * 86_400 + hour * 3600 + int(random_() * 3600), latest)
            group_id, kind = reporter.group_id, reporter.kind
            if random_() < WITHOUT_GROUP:
                group_id, kind = None, ""
            district_id = reporter.district_id
            duplicate_of, original = None, country.last_report.get(district_id)
            if original is not None and random_() < DUPLICATE:
                # The same event filed again by someone else on the patrol: same category and outcome, minutes later.
                duplicate_of, category, outcome, original_moment = original
                moment = min(original_moment + 60 + int(random_() * 1800), latest)
                status = "rejected"
            else:
                category = self.category[(kind or "public_assistants", hour in self.night)](rng)
                outcome = self.outcome[category](rng)
                status = self.status(rng)
                if status == "submitted" and now - moment > waiting:
                    status = "verified"
            description, third_party = rng.choice(self.pools[(category, outcome, int(random_() < 0.3))])
            received = moment + 60 + int(random_() * 5340)
            decided = min(received + 7200 + int(random_() * 165_600), now)
            verified = status == "verified"
            if verified:
                country.last_report[district_id] = (report_id, category, outcome, moment)
            case_number = ""
            if outcome == "solved":
                year = self.day_text[moment // 86_400][2:4]
                case_number = f"{year}{country.district_codes[district_id][3:5]}{int(random_() * 10**11):011d}"
            yield (
                "\t".join(
                    (
                        str(report_id),
                        f"{rng.getrandbits(128):032x}",
                        str(reporter.volunteer_id),
                        "\\N",
                        "\\N",
                        str(district_id),
                        str(group_id) if group_id else "\\N",
                        kind,
                        self.moment(moment),
                        rng.choice(self.spots[district_id]),
                        str(country.categories[category]),
                        str(country.outcomes[outcome]),
                        description,
                        case_number,
                        third_party,
                        status,
                        str(duplicate_of) if duplicate_of else "\\N",
                        "[]",
                        "",  # a duplicate's reason is told from duplicate_of, in the reader's language
                        str(country.inspectors.get(district_id, "\\N")) if verified else "\\N",
                        self.moment(decided) if verified else "\\N",
                        self.moment(received),
                        self.moment(decided if status != "submitted" else received),
                    )
                )
                + "\n"
            )


def _offset(moment: datetime.datetime) -> str:
    minutes = int(moment.utcoffset().total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _cumulate(weights):
    total = 0.0
    for weight in weights:
        total += weight
        yield total


def settle() -> None:
    """Vacuum and fresh planner statistics for the reports and the tallies, as autovacuum would give them in time
    (this server runs without it: the rebuild leaves the tallies' old row versions behind), then a checkpoint, so
    the timed requests do not share the disk and the cores with the flushing of a million rows just written."""
    from django.db import DatabaseError, connection

    from patrols.models import (
        CategoryYearTally,
        DistrictMonthTally,
        MeetingTally,
        RegionMonthTally,
        Report,
        ReportTally,
        SettlementYearTally,
    )

    tables = (Report, ReportTally, DistrictMonthTally, RegionMonthTally, CategoryYearTally)
    with connection.cursor() as cursor:
        for model in (*tables, MeetingTally, SettlementYearTally):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        try:
            cursor.execute("CHECKPOINT")
        except DatabaseError as refused:
            print(f"  (no checkpoint before timing: {refused})", flush=True)


def tally_rows() -> dict[str, int]:
    from patrols.models import CategoryYearTally, DistrictMonthTally, RegionMonthTally, ReportTally

    models = (ReportTally, DistrictMonthTally, RegionMonthTally, CategoryYearTally)
    return {model.__name__: model.objects.count() for model in models}


def direct_count(year: int, *, region: str | None = None) -> int:
    """Verified original reports of outcome `prevented` in the Almaty year, counted straight from the reports."""
    from patrols.choices import ReportStatus
    from patrols.clock import LOCAL_TZ
    from patrols.models import Report

    start = datetime.datetime(year, 1, 1, tzinfo=LOCAL_TZ)
    reports = Report.objects.filter(
        status=ReportStatus.VERIFIED,
        duplicate_of__isnull=True,
        outcome__code="prevented",
        occurred_at__gte=start,
        occurred_at__lt=start.replace(year=year + 1),
    )
    if region:
        reports = reports.filter(district__region__code=region)
    return reports.count()


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def time_totals(username: str, query: str, *, warmup: int, requests: int) -> Timing:
    """Warm-up, then timed requests of the totals as `username`: the median and p95 server time in ms."""
    from django.test import Client

    from patrols.models import ApiToken, User

    # The API's own way in (a token, as the mobile clients and integrations sign in); the web pages' sessions would
    # ask police and ministry accounts for a second factor first.
    # As a phone signed in with the authenticator's code: the benchmark runs with STAFF_2FA on, as production does.
    _token, secret = ApiToken.objects.create(
        user=User.objects.get(username=username), device="benchmark", with_second_factor=True
    )
    client = Client(HTTP_HOST="localhost", headers={"authorization": f"Token {secret}"})
    url = f"/api/v1/dashboard/totals/?{query}"
    response = None
    for _ in range(warmup):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} as {username}: {response.status_code} {response.content[:300]!r}")
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} as {username}: {response.status_code}")
    body = response.json()
    return Timing(
        statistics.median(times), percentile(times, 0.95), body["prevented"]["count"], body["meetings"]["count"]
    )


def table(steps: list[Step]) -> list[str]:
    """The figures as a fixed-width table, with the ratios of the last step to the first."""
    names = list(steps[0].tally_rows)
    head = ["reports", "COPY s", "rebuild s", *names, "national median", "national p95", "region median", "region p95"]
    head.append("load avg")
    rows = [
        [
            f"{step.reports:,}",
            f"{step.load_s:.1f}",
            f"{step.rebuild_s:.1f}",
            *(f"{step.tally_rows[name]:,}" for name in names),
            f"{step.national.median_ms:.1f} ms",
            f"{step.national.p95_ms:.1f} ms",
            f"{step.region.median_ms:.1f} ms",
            f"{step.region.p95_ms:.1f} ms",
            f"{step.load_average:.1f}",
        ]
        for step in steps
    ]
    first, last = steps[0], steps[-1]
    ratio = [
        f"{last.reports // 1000:,}k/{first.reports // 1000:,}k",
        "",
        "",
        *("" for _ in names),
        f"{last.national.median_ms / first.national.median_ms:.2f}x",
        f"{last.national.p95_ms / first.national.p95_ms:.2f}x",
        f"{last.region.median_ms / first.region.median_ms:.2f}x",
        f"{last.region.p95_ms / first.region.p95_ms:.2f}x",
        "",
    ]
    widths = [max(len(row[i]) for row in [head, *rows, ratio]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return " | ".join(cell.rjust(width) for cell, width in zip(cells, widths, strict=True))

    rule = "-+-".join("-" * width for width in widths)
    return [line(head), rule, *(line(row) for row in rows), rule, line(ratio)]


def prevention_phase(before: Step, *, year: int, now, warmup: int, requests: int) -> int:
    """Add the prevention work at national scale and time the same totals again, against the reports-only step."""
    from django.db import connections

    from bench.prevention import direct_meetings, load_prevention
    from patrols.demo import large
    from patrols.services.tallies import tallies_rebuild

    started = time.monotonic()
    made = load_prevention(now=now)
    print(
        "\nPrevention work: "
        + ", ".join(f"{count:,} {name.replace('_', ' ')}" for name, count in made.items())
        + f" written in {time.monotonic() - started:.1f} s",
        flush=True,
    )
    started = time.monotonic()
    differed = len(tallies_rebuild())
    print(f"  tallies_rebuild(): {time.monotonic() - started:.1f} s ({differed:,} tally rows made or changed)")
    settle()
    national = time_totals("analyst", f"year={year}", warmup=warmup, requests=requests)
    region = time_totals("chief", f"year={year}&region={large.CHIEF_REGION}", warmup=warmup, requests=requests)
    failed = 0
    for name, timing, code, reports_only in (
        ("national", national, None, before.national),
        ("region", region, large.CHIEF_REGION, before.region),
    ):
        counted = direct_meetings(year, region=code)
        check = "equals" if counted == timing.meetings else f"DIFFERS FROM {counted:,} in"
        print(
            f"  {name:8}: median {timing.median_ms:.1f} ms, p95 {timing.p95_ms:.1f} ms "
            f"({timing.p95_ms / reports_only.p95_ms:.2f}x the p95 with reports only, {reports_only.p95_ms:.1f} ms); "
            f"meetings {timing.meetings:,} {check} a direct count",
            flush=True,
        )
        failed += counted != timing.meetings
    connections.close_all()
    return 1 if failed else 0


def run(
    *,
    database: str,
    redis_url: str,
    steps: list[int],
    warmup: int,
    requests: int,
    keep: bool,
    with_prevention: bool = True,
) -> int:
    create_database(database)
    try:
        production_django(database=database, redis_url=redis_url)
        from django.core.management import call_command
        from django.db import connections
        from django.utils import timezone

        from patrols.clock import LOCAL_TZ
        from patrols.demo import large, loader
        from patrols.demo.benchmarks import save_demo_benchmarks
        from patrols.models import District
        from patrols.services.tallies import tallies_rebuild

        print(f"Migrating {database} …", flush=True)
        call_command("migrate", verbosity=0)
        started = time.monotonic()
        made = large.save_large_country()
        print(
            "Country: "
            + ", ".join(f"{count:,} {name.replace('_', ' ')}" for name, count in made.items())
            + f" ({time.monotonic() - started:.1f} s)",
            flush=True,
        )
        now = timezone.now()
        year = timezone.localtime(now, LOCAL_TZ).year
        writer = ReportWriter(country_for_reports(random.Random("bench:rates")), now=now, seed="bench:reports")
        results: list[Step] = []
        loaded = 0
        for total in steps:
            started = time.monotonic()
            loader.copy_report_lines(writer.COLUMNS, writer.lines(loader.next_report_id(), total - loaded))
            load_s = time.monotonic() - started
            print(f"\n{total:,} reports: {total - loaded:,} more written by COPY in {load_s:.1f} s", flush=True)
            loaded = total
            started = time.monotonic()
            differed = len(tallies_rebuild())
            rebuild_s = time.monotonic() - started
            print(f"  tallies_rebuild(): {rebuild_s:.1f} s ({differed:,} tally rows made or changed)", flush=True)
            if not results:
                save_demo_benchmarks(districts=District.objects.in_bulk(field_name="code"), now=now)
            settle()
            rows = tally_rows()
            print("  tally rows: " + ", ".join(f"{name} {count:,}" for name, count in rows.items()), flush=True)
            national = time_totals("analyst", f"year={year}", warmup=warmup, requests=requests)
            region = time_totals("chief", f"year={year}&region={large.CHIEF_REGION}", warmup=warmup, requests=requests)
            # Others' work on the same cores shows in the timings: the 1-minute load average says how much.
            load_average = os.getloadavg()[0]
            for name, timing, code in (("national", national, None), ("region", region, large.CHIEF_REGION)):
                counted = direct_count(year, region=code)
                check = "equals" if counted == timing.prevented else f"DIFFERS FROM {counted:,} in"
                print(
                    f"  {name:8} ({warmup} warm-up, {requests} timed): median {timing.median_ms:.1f} ms, "
                    f"p95 {timing.p95_ms:.1f} ms; prevented {timing.prevented:,} {check} a direct count",
                    flush=True,
                )
                if counted != timing.prevented:
                    return 1
            print(f"  load average while timing: {load_average:.1f} on {os.cpu_count()} cores", flush=True)
            results.append(Step(total, load_s, rebuild_s, differed, rows, national, region, load_average))
        print(f"\nGET /api/v1/dashboard/totals/?year={year} (analyst: national; chief: region={large.CHIEF_REGION})")
        for text in table(results):
            print(text)
        if with_prevention:
            return prevention_phase(results[-1], year=year, now=now, warmup=warmup, requests=requests)
        connections.close_all()
        return 0
    finally:
        if not keep:
            drop_database(database)


def stop_on_terminate(signum, frame):
    raise SystemExit(128 + signum)  # so that the database is dropped on the way out


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_terminate)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="bench")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"))
    parser.add_argument(
        "--steps", default=",".join(str(step) for step in STEPS), help="report totals, comma-separated, rising"
    )
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="keep the database at the end (to EXPLAIN queries)")
    parser.add_argument(
        "--no-prevention", action="store_true", help="skip the last phase: the prevention work at national scale"
    )
    options = parser.parse_args()
    steps = [int(step.replace("_", "")) for step in options.steps.split(",")]
    if steps != sorted(set(steps)) or steps[0] <= 0:
        parser.error("--steps: rising totals, e.g. 10000,100000,1000000")
    return run(
        database=options.database,
        redis_url=options.redis_url,
        steps=steps,
        warmup=options.warmup,
        requests=options.requests,
        keep=options.keep,
        with_prevention=not options.no_prevention,
    )


if __name__ == "__main__":
    sys.exit(main())
