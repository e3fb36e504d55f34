"""`make bench BENCH=nominations`: the district's quarterly proposal for rewards for 2,000 volunteers with a year of
shifts and reports: the time and the number of queries of `nomination_open`.

The database `bench_nominations` (PostGIS) is dropped and made again and migrated; one district with its inspector,
one group and three zones gets 2,000 registered volunteers (`tests.support.seed`), then a year of patrols written in
bulk: three six-hour shifts a night, each volunteer on about one a week (completed with their check-in and
check-out, about one in twenty a no-show), and reports by COPY as `bench/dashboard.py` draws them (nine in ten
verified). The ledger is then counted from those facts in two INSERT … SELECT statements, as a recount would keep it.

Timed in-process under production settings (DEBUG off): `nomination_open` for this quarter from nothing (it reads
every volunteer's ledger of the quarter and writes the proposal), `--rounds` times, the draft deleted between rounds;
then opening it again (the draft's facts brought up to date) and submitting it. The database is dropped at the end
unless `--keep`.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import signal
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from bench.dashboard import ReportWriter, country_for_reports, percentile  # noqa: E402 (after the path is set)
from bench.reminders import create_database, drop_database, production_django  # noqa: E402

SHIFTS_A_NIGHT = 3
SHIFT_HOURS = 6
NO_SHOW = 0.05
REPORTS_PER_VOLUNTEER = 12
BATCH = 5_000


def seed(count: int, *, now: datetime.datetime) -> tuple:
    """The district, its `count` volunteers, a year of their shifts; returns (area, volunteer ids, assignments)."""
    from django.contrib.gis.geos import Point

    from patrols.choices import AssignmentStatus, ShiftStatus
    from patrols.clock import LOCAL_TZ
    from patrols.models import Assignment, Shift
    from tests.factories import ZoneFactory
    from tests.support.seed import patrol_area, signed_up

    rng = random.Random("bench:nominations")
    area = patrol_area()
    zones = [area.zone, ZoneFactory(district=area.district), ZoneFactory(district=area.district)]
    volunteer_ids = [a.volunteer_id for a in signed_up(count, area=area, starts_at=now + datetime.timedelta(days=1))]
    today = now.astimezone(LOCAL_TZ).date()
    shifts = []
    for back in range(365, 0, -1):
        day = today - datetime.timedelta(days=back)
        for number in range(SHIFTS_A_NIGHT):
            start = datetime.datetime(day.year, day.month, day.day, 18 + number * 2, tzinfo=LOCAL_TZ)
            shifts.append(
                Shift(
                    district=area.district,
                    zone=zones[number],
                    starts_at=start,
                    ends_at=start + datetime.timedelta(hours=SHIFT_HOURS),
                    min_volunteers=1,
                    max_volunteers=400,
                    inspector=area.inspector,
                    status=ShiftStatus.CLOSED,
                    closed_at=start + datetime.timedelta(hours=SHIFT_HOURS + 1),
                )
            )
    shifts = Shift.objects.bulk_create(shifts, batch_size=BATCH)
    Shift.groups.through.objects.bulk_create(
        [Shift.groups.through(shift_id=shift.pk, group_id=area.group.pk) for shift in shifts], batch_size=BATCH
    )
    centre = area.zone.geometry.centroid
    point = Point(centre.x, centre.y, srid=4326)
    minutes = SHIFT_HOURS * 60
    # About one shift a week each: every volunteer on one of the three shifts of one night in seven.
    rows = []
    made = 0
    for week_start in range(0, len(shifts), 7 * SHIFTS_A_NIGHT):
        week = shifts[week_start : week_start + 7 * SHIFTS_A_NIGHT]
        for volunteer_id in volunteer_ids:
            shift = rng.choice(week)
            absent = rng.random() < NO_SHOW
            rows.append(
                Assignment(
                    shift=shift,
                    volunteer_id=volunteer_id,
                    status=AssignmentStatus.NO_SHOW if absent else AssignmentStatus.COMPLETED,
                    check_in_at=None if absent else shift.starts_at,
                    check_in_point=None if absent else point,
                    check_out_at=None if absent else shift.ends_at,
                    check_out_point=None if absent else point,
                    credited_minutes=0 if absent else minutes,
                )
            )
            if len(rows) == BATCH:
                Assignment.objects.bulk_create(rows)
                made += len(rows)
                rows = []
    Assignment.objects.bulk_create(rows)
    return area, volunteer_ids, made + len(rows)


def count_ledger() -> int:
    """The ledger from the facts just written: shifts, minutes and no-shows from the assignments, verified reports
    by outcome, each per volunteer and local month. Returns the rows written."""
    from django.db import connection

    from patrols.models import Assignment, LedgerMonth, Outcome, Report, Shift

    quote = connection.ops.quote_name
    table = quote(LedgerMonth._meta.db_table)
    assignment, shift = quote(Assignment._meta.db_table), quote(Shift._meta.db_table)
    report, outcome = quote(Report._meta.db_table), quote(Outcome._meta.db_table)
    month = "date_trunc('month', {column} AT TIME ZONE 'Asia/Almaty')"
    shift_month = month.format(column="s.starts_at")
    report_month = month.format(column="r.occurred_at")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (volunteer_id, year, month, measure, amount)
            SELECT a.volunteer_id, extract(year FROM {shift_month}), extract(month FROM {shift_month}), m.measure,
                   sum(CASE m.measure WHEN 'shifts' THEN (a.status = 'completed')::int
                                      WHEN 'minutes' THEN a.credited_minutes
                                      ELSE (a.status = 'no_show')::int END)
            FROM {assignment} a JOIN {shift} s ON s.id = a.shift_id
            CROSS JOIN (VALUES ('shifts'), ('minutes'), ('no_shows')) AS m(measure)
            WHERE a.status IN ('completed', 'no_show')
            GROUP BY 1, 2, 3, 4
            """
        )
        written = cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO {table} (volunteer_id, year, month, measure, amount)
            SELECT r.reporter_id, extract(year FROM {report_month}), extract(month FROM {report_month}),
                   'report:' || o.code, count(*)
            FROM {report} r JOIN {outcome} o ON o.id = r.outcome_id
            WHERE r.status = 'verified' AND r.duplicate_of_id IS NULL
            GROUP BY 1, 2, 3, 4
            """
        )
        written += cursor.rowcount
        cursor.execute("VACUUM ANALYZE")
    return written


def run(*, database: str, redis_url: str, count: int, rounds: int, keep: bool) -> int:
    create_database(database)
    try:
        production_django(database=database, redis_url=redis_url)
        from django.core.management import call_command
        from django.db import connection, connections
        from django.test.utils import CaptureQueriesContext
        from django.utils import timezone

        from patrols.demo import loader
        from patrols.models import LedgerMonth, Nomination, Report
        from patrols.services import nominations

        print(f"Migrating {database} …", flush=True)
        call_command("migrate", verbosity=0)
        now = timezone.now()
        started = time.monotonic()
        area, volunteer_ids, assignments = seed(count, now=now)
        writer = ReportWriter(country_for_reports(random.Random("bench:rates")), now=now, seed="bench:reports")
        loader.copy_report_lines(writer.COLUMNS, writer.lines(loader.next_report_id(), count * REPORTS_PER_VOLUNTEER))
        ledger_rows = count_ledger()
        print(
            f"{count:,} volunteers, {assignments:,} assignments on a year of shifts, {Report.objects.count():,} "
            f"reports, {ledger_rows:,} ledger rows ({time.monotonic() - started:.1f} s)",
            flush=True,
        )
        year, quarter = nominations.current_quarter()
        district, inspector = area.district, area.inspector

        timings, queries, proposed = [], 0, 0
        for _round in range(rounds):
            Nomination.objects.filter(district=district).delete()
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                nomination = nominations.nomination_open(district=district, year=year, quarter=quarter, by=inspector)
                timings.append((time.perf_counter() - start) * 1000)
            queries = len(captured)
            proposed = nomination.items.count()
        with CaptureQueriesContext(connection) as again_queries:
            start = time.perf_counter()
            nominations.nomination_open(district=district, year=year, quarter=quarter, by=inspector)
            again_ms = (time.perf_counter() - start) * 1000
        with CaptureQueriesContext(connection) as submit_queries:
            start = time.perf_counter()
            nominations.nomination_submit(nomination=nomination, by=inspector)
            submit_ms = (time.perf_counter() - start) * 1000
        in_quarter = LedgerMonth.objects.filter(volunteer_id__in=volunteer_ids, year=year).count()
        connections.close_all()

        print()
        print(
            f"nomination_open for {year}-Q{quarter}, {count:,} volunteers ({in_quarter:,} ledger rows this year), "
            f"{proposed:,} proposed by the default rules:"
        )
        print(
            f"  from nothing ({rounds} rounds): median {statistics.median(timings):.1f} ms, "
            f"p95 {percentile(timings, 0.95):.1f} ms, {queries} queries"
        )
        print(f"  again (the draft's facts brought up to date): {again_ms:.1f} ms, {len(again_queries)} queries")
        print(f"  nomination_submit: {submit_ms:.1f} ms, {len(submit_queries)} queries")
        return 0
    finally:
        if not keep:
            drop_database(database)


def stop_on_terminate(signum, frame):
    raise SystemExit(128 + signum)  # so that the database is dropped on the way out


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_terminate)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="bench_nominations")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"))
    parser.add_argument("--volunteers", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the database at the end (to EXPLAIN queries)")
    options = parser.parse_args()
    return run(
        database=options.database,
        redis_url=options.redis_url,
        count=options.volunteers,
        rounds=options.rounds,
        keep=options.keep,
    )


if __name__ == "__main__":
    sys.exit(main())
