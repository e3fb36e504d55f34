"""`make bench BENCH=exports`: how long an export of 10,000, 100,000 and 1,000,000 reports takes as CSV, XLSX and
GeoJSON, and how much memory the process writing it holds.

The database `bench_exports` (PostGIS) is made and migrated when missing and kept between runs, so only the first run
seeds it: three districts of Almaty Region holding 10,000, 100,000 and 1,000,000 reports of 2025 (by
`INSERT … SELECT generate_series`, in SQL: every category and outcome, mostly verified, a tenth with details of other
people, half filed on a shift in a zone, Kazakh and Russian descriptions), and an analyst. Each export is then one
job run the way a worker runs it (`patrols.tasks.run_report_export`, under production settings) in a child process of
its own, and the child says its wall and CPU time, the rows written, the file's size and its peak resident memory
during the export (`VmHWM`, reset just before it starts through `/proc/self/clear_refs`; where that cannot be reset,
`ru_maxrss` of the whole process) beside the memory it had before: flat memory means the same peak at a million rows
as at ten thousand. The files are deleted after each run. At the end a table of size by format, then one verdict
line per target of issue #19: CSV of a million reports within 30 s, XLSX within 120 s, memory flat (the peak above
the memory before grows by at most `FLAT_MIB` from the smallest size to the largest). The machine's load average is
printed too: on shared cores the wall time is longer than the CPU time. `--drop` drops the database at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from bench.reminders import PG_HOST, PG_USER, drop_database, mib, production_django, psql  # noqa: E402

YEAR = 2025
# District code and how many reports it holds; each export selects one district's year.
SIZES = {"KZ-19-BX1": 10_000, "KZ-19-BX2": 100_000, "KZ-19-BX3": 1_000_000}
FORMATS = ("csv", "xlsx", "geojson")
LIMITS_S = {"csv": 30, "xlsx": 120}
# Memory is flat when the export's peak above the memory before grows by at most this from the smallest size run to
# the largest.
FLAT_MIB = 16
DESCRIPTIONS = (
    "Аялдамада төбелесті тоқтаттық, екі жасөспірім ата-аналарына тапсырылды.",
    "Во дворе дома задержан мужчина, пытавшийся вскрыть автомобиль; передан наряду полиции.",
    "Түнгі рейд кезінде дүкен маңында мас адам анықталды, учаскелік инспекторға хабарланды.",
    "Помогли пожилой женщине добраться до дома, вызвали скорую помощь.",
    "Мал ұрлығы туралы белгі: белгісіз көлік фермаға жақын тұрды, нөмірі жазылды.",
    "=Сигнал о продаже алкоголя несовершеннолетним в киоске у школы",
)
OFFENDER = "Серіков Б., 870101300123, +77011234567"


def database_exists(name: str) -> bool:
    found = subprocess.run(
        [
            "psql",
            "-h",
            PG_HOST,
            "-U",
            PG_USER,
            "-d",
            "postgres",
            "-qtAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{name}'",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return found.stdout.strip() == "1"


def ensure_database(name: str) -> None:
    if not database_exists(name):
        subprocess.run(["createdb", "-h", PG_HOST, "-U", PG_USER, name], check=True)
    psql(name, "CREATE EXTENSION IF NOT EXISTS postgis")


def _square(lng: float, lat: float, half: float = 0.2):
    from django.contrib.gis.geos import MultiPolygon, Polygon

    ring = ((lng - half, lat - half), (lng + half, lat - half), (lng + half, lat + half), (lng - half, lat + half))
    return MultiPolygon(Polygon((*ring, ring[0])), srid=4326)


def seed() -> None:
    """The three districts with their groups, reporters, zones and shifts, and their reports, unless already there."""
    import datetime

    from django.contrib.gis.geos import Point
    from django.db import connection, transaction

    from patrols.choices import GroupKind, Role
    from patrols.clock import LOCAL_TZ
    from patrols.models import Category, District, Group, Outcome, Region, Report, Shift, User, Volunteer, Zone
    from patrols.services.retention import placeholder_iin

    analyst, _made = User.objects.get_or_create(username="bench_analyst", defaults={"role": Role.ANALYST})
    region = Region.objects.get(code="KZ-19")
    categories = list(Category.objects.order_by("pk").values_list("pk", flat=True))
    outcomes = dict(Outcome.objects.values_list("code", "pk"))
    for number, (code, size) in enumerate(SIZES.items()):
        lng, lat = 76.0 + number, 43.3
        district, _made = District.objects.get_or_create(
            code=code,
            defaults={
                "region": region,
                "name_kk": f"Бенч ауданы {number + 1}",
                "name_ru": f"Бенч-район {number + 1}",
                "name_en": f"Bench District {number + 1}",
                "centre": Point(lng, lat, srid=4326),
                "boundary": _square(lng, lat),
            },
        )
        have = Report.objects.filter(district=district).count()
        if have == size:
            continue
        started = time.monotonic()
        with transaction.atomic():
            Report.objects.filter(district=district).delete()
            kinds = list(GroupKind.values)
            groups, people, zones, shifts = [], [], [], []
            for index in range(20):
                group, _made = Group.objects.get_or_create(
                    district=district, name=f"Топ {index + 1}", defaults={"kind": kinds[index % len(kinds)]}
                )
                groups.append(group)
            for index in range(200):
                person, _made = Volunteer.objects.get_or_create(
                    district=district,
                    last_name=f"Нұрланов{index}",
                    defaults={
                        "first_name": "Ерлан",
                        "patronymic": "Серікұлы",
                        # A valid IIN that is nobody's (the retention's placeholders, from an id of their own).
                        "iin": placeholder_iin(500_000 + number * 1000 + index),
                        "phone": f"+7701{number}{index:06d}",
                        "birth_date": datetime.date(1990, 1, 1),
                        "applied_on": datetime.date(2024, 1, 1),
                        "consent_at": datetime.datetime(2024, 1, 1, tzinfo=LOCAL_TZ),
                        "consent_version": "2024-01",
                    },
                )
                people.append(person.pk)
            start = datetime.datetime(YEAR, 1, 1, 20, tzinfo=LOCAL_TZ)
            for index in range(10):
                zone, _made = Zone.objects.get_or_create(
                    district=district,
                    name=f"Аймақ {index + 1}",
                    defaults={"geometry": _square(lng, lat, 0.01 + index / 100)[0]},
                )
                zones.append(zone)
            for day in range(0, 360, 3):
                moment = start + datetime.timedelta(days=day)
                shifts.append(
                    Shift.objects.create(
                        zone=zones[day % len(zones)],
                        district=district,
                        starts_at=moment,
                        ends_at=moment + datetime.timedelta(hours=4),
                        inspector=analyst,
                    ).pk
                )
            quote = connection.ops.quote_name
            table = quote(Report._meta.db_table)
            column = {f.name: quote(f.column) for f in Report._meta.concrete_fields}
            outcome_ids = [outcomes[code] for code in ("prevented", "prevented", "assistance", "solved", "info")]
            sql = f"""
                INSERT INTO {table} ({column["client_uuid"]}, {column["reporter"]}, {column["filed_by"]},
                    {column["shift"]}, {column["district"]}, {column["group"]}, {column["group_kind"]},
                    {column["occurred_at"]}, {column["location"]}, {column["category"]}, {column["outcome"]},
                    {column["description"]}, {column["case_number"]}, {column["third_party_details"]},
                    {column["status"]}, {column["duplicate_of"]}, {column["flags"]}, {column["status_note"]},
                    {column["verified_by"]}, {column["verified_at"]}, {column["created_at"]}, {column["updated_at"]})
                SELECT gen_random_uuid(), (%(people)s::bigint[])[1 + n %% %(people_n)s], NULL,
                    CASE WHEN n %% 2 = 0 THEN (%(shifts)s::bigint[])[1 + n %% %(shifts_n)s] END,
                    %(district)s, (%(groups)s::bigint[])[1 + n %% %(groups_n)s],
                    (%(kinds)s::text[])[1 + n %% %(groups_n)s],
                    t, ST_SetSRID(ST_MakePoint(%(lng)s + random() * 0.3 - 0.15, %(lat)s + random() * 0.3 - 0.15), 4326),
                    (%(categories)s::bigint[])[1 + n %% %(categories_n)s],
                    (%(outcomes)s::bigint[])[1 + (n / 7) %% 5],
                    (%(texts)s::text[])[1 + (n / 3) %% %(texts_n)s],
                    CASE WHEN (n / 7) %% 5 = 3 THEN '2519' || lpad((n %% 100000000000)::text, 11, '0') ELSE '' END,
                    CASE WHEN n %% 10 = 0 THEN %(offender)s ELSE '' END,
                    CASE WHEN n %% 20 = 1 THEN 'rejected' WHEN n %% 25 = 2 THEN 'submitted' ELSE 'verified' END,
                    NULL, '[]'::jsonb, '',
                    CASE WHEN n %% 20 <> 1 AND n %% 25 <> 2 THEN %(analyst)s END,
                    CASE WHEN n %% 20 <> 1 AND n %% 25 <> 2 THEN t + interval '5 hours' END,
                    t + interval '10 minutes', t + interval '5 hours'
                FROM (
                    SELECT n, %(start)s::timestamptz + (n::float8 / %(size)s) * interval '364 days' AS t
                    FROM generate_series(1, %(size)s) AS n
                ) AS s
            """
            with connection.cursor() as cursor:
                cursor.execute(
                    sql,
                    {
                        "people": people,
                        "people_n": len(people),
                        "shifts": shifts,
                        "shifts_n": len(shifts),
                        "district": district.pk,
                        "groups": [group.pk for group in groups],
                        "kinds": [group.kind for group in groups],
                        "groups_n": len(groups),
                        "lng": lng,
                        "lat": lat,
                        "categories": categories,
                        "categories_n": len(categories),
                        "outcomes": outcome_ids,
                        "texts": list(DESCRIPTIONS),
                        "texts_n": len(DESCRIPTIONS),
                        "offender": OFFENDER,
                        "analyst": analyst.pk,
                        "start": datetime.datetime(YEAR, 1, 1, 8, tzinfo=LOCAL_TZ),
                        "size": size,
                    },
                )
        print(f"  {code}: {size:,} reports written in {time.monotonic() - started:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(Report._meta.db_table)}")


def child(fmt: str, district: str, personal: bool) -> int:
    """One export job run as a worker runs it; prints what it cost as one JSON line."""
    import datetime

    from django.utils import timezone

    from patrols.models import ReportExport, User
    from patrols.services import report_exports
    from patrols.tasks import run_report_export

    analyst = User.objects.get(username="bench_analyst")
    filters = report_exports.export_filters(
        analyst, {"year": YEAR, "district": district, **({"personal": "1"} if personal else {})}
    )
    job = ReportExport.objects.create(
        owner=analyst,
        format=fmt,
        filters=filters.codes(),
        language="ru",
        expires_at=timezone.now() + datetime.timedelta(days=1),
    )
    peak_reset = _reset_peak()
    before_kib = _status_kib("VmRSS")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    status = run_report_export.run(job.pk)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    peak_kib = _status_kib("VmHWM") if peak_reset else after.ru_maxrss
    job.refresh_from_db()
    print(
        json.dumps(
            {
                "status": status,
                "error": job.error,
                "rows": job.rows_done,
                "bytes": job.size_bytes,
                "seconds": seconds,
                "cpu": after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime,
                "before_kib": before_kib,
                "peak_kib": peak_kib,
                "peak_of_export": peak_reset,
            }
        ),
        flush=True,
    )
    if job.file:
        job.file.storage.delete(job.file.name)
    job.delete()
    return 0 if status == "done" else 1


def _status_kib(name: str) -> int:
    """A line of /proc/self/status in KiB: VmRSS (resident now) or VmHWM (the resident peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    """Set VmHWM back to what is resident now (Linux 4.0+), so that it says the export's own peak; False when it
    cannot be (then only the whole process's peak is known, which Django's start-up may have set)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_kib("VmHWM") <= _status_kib("VmRSS") + 1024


def run_child(args: list[str], env: dict[str, str]) -> dict:
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", *args], env=env, stdout=subprocess.PIPE, text=True, cwd=BASE_DIR
    )
    out, _err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"export {args} failed ({process.returncode}): {out[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def report(results: list[tuple[int, str, dict]]) -> None:
    """The table of size by format, then a verdict line per target of issue #19."""
    print(f"\nExports of reports ({os.getloadavg()[0]:.1f} load average on {os.cpu_count()} cores at the end)")
    print(
        f"{'reports':>9} | {'format':7} | {'wall s':>7} | {'CPU s':>6} | {'rows':>9} | {'file MB':>7} | "
        f"{'RSS before MB':>13} | {'peak RSS MB':>11} | {'peak - before':>13}"
    )
    for size, fmt, got in results:
        print(
            f"{size:>9,} | {fmt:7} | {got['seconds']:7.1f} | {got['cpu']:6.1f} | {got['rows']:>9,} | "
            f"{got['bytes'] / 2**20:7.1f} | {got['before_kib'] / 1024:13.1f} | {got['peak_kib'] / 1024:11.1f} | "
            f"{(got['peak_kib'] - got['before_kib']) / 1024:13.1f}"
        )
    exact = all(got["peak_of_export"] for _size, _fmt, got in results)
    when = "during the export" if exact else "during the export or before it (VmHWM could not be reset)"
    print(f"(MB are MiB; RSS is the writing process's resident memory, the peak {when})")
    by = {(size, fmt): got for size, fmt, got in results}
    for fmt, limit in LIMITS_S.items():
        got = by.get((1_000_000, fmt))
        if got is None:
            print(
                f"Target {fmt.upper()} of 1,000,000 reports within {limit} s: not measured (run --sizes with 1000000)"
            )
            continue
        verdict = "met" if got["seconds"] <= limit else "MISSED"
        print(
            f"Target {fmt.upper()} of 1,000,000 reports within {limit} s: {verdict} "
            f"({got['seconds']:.1f} s wall, {got['cpu']:.1f} s CPU in the writing process)"
        )
    sizes = sorted({size for size, _fmt, _got in results})
    if len(sizes) < 2:
        print("Target memory flat: not measured (needs two sizes)")
        return
    growths = []
    for fmt in dict.fromkeys(fmt for _size, fmt, _got in results):
        small, large = by.get((sizes[0], fmt)), by.get((sizes[-1], fmt))
        if small and large:
            above = [(got["peak_kib"] - got["before_kib"]) / 1024 for got in (small, large)]
            growths.append((fmt, *above))
    worst = max(large - small for _fmt, small, large in growths)
    verdict = "met" if worst <= FLAT_MIB else "MISSED"
    detail = ", ".join(f"{fmt} +{small:.1f} → +{large:.1f} MiB" for fmt, small, large in growths)
    print(
        f"Target memory flat ({sizes[0]:,} to {sizes[-1]:,} reports, peak above before grows ≤ {FLAT_MIB} MiB): "
        f"{verdict} ({detail})"
    )


def main() -> int:
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--database", default="bench_exports")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7"))
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--sizes", default=",".join(str(size) for size in SIZES.values()))
    parser.add_argument("--personal", action="store_true", help="include the details of other people (access log)")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--child", nargs=3, metavar=("FORMAT", "DISTRICT", "PERSONAL"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    media = os.environ.get("BENCH_MEDIA_ROOT")
    if options.child:
        production_django(database=options.database, redis_url=options.redis_url)
        fmt, district, personal = options.child
        return child(fmt, district, personal == "1")

    ensure_database(options.database)
    work = Path(tempfile.mkdtemp(prefix="bench-exports-"))
    os.environ["MEDIA_ROOT"] = str(work / "media")
    try:
        production_django(database=options.database, redis_url=options.redis_url)
        from django.core.management import call_command
        from django.db import connections

        print(f"Migrating {options.database} …", flush=True)
        call_command("migrate", verbosity=0)
        started = time.monotonic()
        seed()
        print(f"Reports ready in {time.monotonic() - started:.1f} s (kept for the next run)", flush=True)
        connections.close_all()
        env = {**os.environ, "MEDIA_ROOT": media or str(work / "media")}
        wanted = {int(size) for size in options.sizes.split(",")}
        results = []
        print(f"Load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the start", flush=True)
        for district, size in SIZES.items():
            if size not in wanted:
                continue
            for fmt in options.formats.split(","):
                got = run_child([fmt, district, "1" if options.personal else "0"], env)
                results.append((size, fmt, got))
                print(
                    f"  {size:>9,} {fmt:7} {got['seconds']:7.1f} s (CPU {got['cpu']:6.1f} s), {got['rows']:,} rows, "
                    f"{got['bytes'] / 2**20:7.1f} MiB file, RSS {mib(got['before_kib'])} before, "
                    f"peak {mib(got['peak_kib'])} (load average {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
                if got["rows"] != size:
                    print(f"  ROWS DIFFER: {got['rows']:,} written, {size:,} expected")
                    return 1
        report(results)
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if options.drop:
            drop_database(options.database)


if __name__ == "__main__":
    sys.exit(main())
