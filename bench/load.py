"""`make load`: the production server under 200 simulated people, on loopback, and what it answered how fast.

Creates the database if missing, migrates, seeds the demo once and gives it load logins (`bench/load_accounts.py`),
collects the static files, then starts gunicorn (`scripts/serve-production.sh`, DEBUG off, plain http on loopback),
one Celery worker and beat, runs locust headless (`bench/locustfile.py`) and prints requests per second,
p50/p95/p99 per endpoint, the errors, the CPU time each part used, and the targets met or missed. Everything it
started is stopped at the end, also on Ctrl+C or a failure. Logs and locust's CSV files are in var/load/.

The defaults: 200 users arriving 5 a second (a 40 s ramp, so the password sign-ins of the first minute do not all
land in the same few seconds) for 120 s; volunteers wait 2-8 s between taps (LOAD_WAIT_MIN, LOAD_WAIT_MAX; the
profile of issue #19 is LOAD_WAIT_MIN=0.5 LOAD_WAIT_MAX=2, and both are printed with the figures).
The CPU figures say what the run cost, so a run on a machine busy with other work can still be judged.
"""

from __future__ import annotations

import argparse
import csv
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

from tests.support.ports import free_port, wait_until  # noqa: E402 (after the path is set)

VENV_BIN = BASE_DIR / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")
# p95 targets of issue #7, in milliseconds, by endpoint name as the locustfile reports it.
TARGETS = {
    "POST /api/v1/reports/": 300,
    "GET /api/v1/dashboard/totals/?year=": 150,
    "GET /dashboard/": 150,
}
# Throttles stay on, at rates no simulated person reaches: the load measures the work, not the brakes.
UNTHROTTLED = {"THROTTLE_TOKEN": "100000/min", "THROTTLE_REPORTS": "100000/min", "THROTTLE_SIGNUP": "100000/min"}


@dataclass
class Started:
    name: str
    process: subprocess.Popen


def group_ticks(pgid: int) -> int:
    """CPU time of every live process of a process group (a gunicorn master and its workers, a celery pool)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += sum(int(value) for value in fields[11:15])
    return total


def machine_busy_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of the whole machine since boot, from /proc/stat."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class Load:
    def __init__(self, options: argparse.Namespace) -> None:
        self.options = options
        self.work = BASE_DIR / "var" / "load"
        self.work.mkdir(parents=True, exist_ok=True)
        self.started: list[Started] = []
        self.port = options.port or free_port()
        common = {
            name: value
            for name, value in os.environ.items()
            if name not in {"DEBUG", "SECRET_KEY", "HTTPS", "ALLOWED_HOSTS", "CELERY_TASK_ALWAYS_EAGER"}
        }
        common.update(
            DJANGO_SETTINGS_MODULE="coordination.settings",
            DATABASE_URL=options.database_url,
            REDIS_URL=options.redis_url,
            CELERY_BROKER_URL=options.redis_url,
            PYTHONUNBUFFERED="1",
        )
        self.manage_env = {**common, "DEBUG": "1"}
        self.production_env = {
            **common,
            **UNTHROTTLED,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "HTTPS": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "STAFF_2FA": "0",
            "SITE_URL": f"http://127.0.0.1:{self.port}",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WEB_WORKERS": str(options.workers),
            "WEB_THREADS": str(options.threads),
            "LOG_LEVEL": "WARNING",
        }

    def run_step(self, what: str, command: list[str], env: dict[str, str]) -> None:
        print(f"- {what}", flush=True)
        subprocess.run(command, cwd=BASE_DIR, env=env, check=True)

    def prepare(self) -> None:
        name = self.options.database_url.rsplit("/", 1)[1]
        listed = subprocess.run(
            ["psql", "-h", self.options.pg_host, "-U", self.options.pg_user, "-d", "postgres", "-qtAc",
             f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        if listed.stdout.strip() != "1":
            self.run_step(
                f"creating database {name}",
                ["createdb", "-h", self.options.pg_host, "-U", self.options.pg_user, name],
                self.manage_env,
            )
        manage = [PYTHON, "manage.py"]
        self.run_step("migrating", [*manage, "migrate", "--noinput", "-v", "0"], self.manage_env)
        self.run_step(
            "seeding the demo country (once)",
            [*manage, "seed_demo", "--once", "--password", self.options.password],
            self.manage_env,
        )
        self.run_step(
            "giving demo volunteers load logins",
            [PYTHON, "bench/load_accounts.py", "--volunteers", str(self.options.users),
             "--password", self.options.password, "--out", str(self.work / "accounts.json")],
            self.manage_env,
        )  # fmt: skip
        if self.static_is_current():
            print("- static files unchanged since they were last collected", flush=True)
        else:
            self.run_step(
                "collecting static files (a few minutes the first time)",
                [*manage, "collectstatic", "--noinput", "-v", "0"],
                self.production_env,
            )

    def static_is_current(self) -> bool:
        """Whether var/staticfiles has a manifest newer than every file of static/ (installed apps' change with pip)."""
        manifest = BASE_DIR / "var" / "staticfiles" / "staticfiles.json"
        if not manifest.exists():
            return False
        newest = max((path.stat().st_mtime for path in (BASE_DIR / "static").rglob("*") if path.is_file()), default=0)
        stamp = BASE_DIR / ".venv" / ".installed"
        if stamp.exists():
            newest = max(newest, stamp.stat().st_mtime)
        return manifest.stat().st_mtime > newest

    def start(self, name: str, command: list[str]) -> None:
        log = (self.work / f"{name}.log").open("wb")
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=self.production_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.started.append(Started(name, process))

    def serve(self) -> None:
        celery = str(VENV_BIN / "celery")
        print(
            f"- starting gunicorn ({self.options.workers} workers x {self.options.threads} threads) on "
            f"127.0.0.1:{self.port}, a Celery worker and beat",
            flush=True,
        )
        self.start("web", ["scripts/serve-production.sh"])
        self.start(
            "worker",
            [celery, "-A", "coordination", "worker", "--concurrency=1", "--without-gossip", "--without-mingle",
             "-n", "load@%h", "-l", "INFO"],
        )  # fmt: skip
        self.start("beat", [celery, "-A", "coordination", "beat", "-l", "INFO"])

        def healthy() -> bool:
            for item in self.started:
                if item.process.poll() is not None:
                    raise RuntimeError(
                        f"{item.name} exited with {item.process.returncode}; see var/load/{item.name}.log"
                    )
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as response:
                    return response.status == 200
            except (urllib.error.URLError, OSError):
                return False

        wait_until(healthy, timeout=60, interval=0.3, what="the web server to answer /healthz")

    def locust(self) -> None:
        options = self.options
        print(
            f"- locust: {options.users} users, {options.spawn_rate}/s, {options.duration} s against "
            f"http://127.0.0.1:{self.port}; volunteers wait {self.wait_profile()} s between taps",
            flush=True,
        )
        env = {**self.production_env, "LOAD_ACCOUNTS": str(self.work / "accounts.json")}
        for name in ("SECRET_KEY", "DATABASE_URL"):
            env.pop(name)
        command = [
            str(VENV_BIN / "locust"), "-f", "bench/locustfile.py", "--headless", "--only-summary",
            "-u", str(options.users), "-r", str(options.spawn_rate), "-t", f"{options.duration}s",
            "--host", f"http://127.0.0.1:{self.port}", "--csv", str(self.work / "locust"),
            "--stop-timeout", "10", "--exit-code-on-error", "0", "--loglevel", "WARNING",
        ]  # fmt: skip
        before = {item.name: group_ticks(item.process.pid) for item in self.started}
        busy_before, total_before = machine_busy_ticks()
        started = time.monotonic()
        locust = subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=(self.work / "locust.log").open("wb"),
            start_new_session=True,
        )  # fmt: skip
        self.started.append(Started("locust", locust))
        locust_ticks = 0
        while locust.poll() is None:
            locust_ticks = max(locust_ticks, group_ticks(locust.pid))
            time.sleep(1)
        elapsed = time.monotonic() - started
        busy_after, total_after = machine_busy_ticks()
        after = {item.name: group_ticks(item.process.pid) for item in self.started if item.name != "locust"}
        if locust.returncode != 0:
            raise RuntimeError(f"locust exited with {locust.returncode}; see var/load/locust.log")
        hertz = os.sysconf("SC_CLK_TCK")
        cpus = os.cpu_count() or 1
        self.cpu = {name: (after[name] - before[name]) / hertz for name in after}
        self.cpu["locust"] = locust_ticks / hertz
        self.cpu["PostgreSQL (load database)"] = self.database_ticks() / hertz
        self.cpu_machine = (busy_after - busy_before) / max(total_after - total_before, 1) * cpus
        self.elapsed = elapsed

    @staticmethod
    def wait_profile() -> str:
        """The volunteers' pause between two taps, as the locustfile reads it (the issue's profile is 0.5-2)."""
        return f"{os.environ.get('LOAD_WAIT_MIN', '2')}-{os.environ.get('LOAD_WAIT_MAX', '8')}"

    def database_ticks(self) -> int:
        """CPU time of the PostgreSQL backends serving the load database now (the web's and workers' connections
        live on between requests, so these are the ones that did the run's work)."""
        name = self.options.database_url.rsplit("/", 1)[1]
        listed = subprocess.run(
            ["psql", "-h", self.options.pg_host, "-U", self.options.pg_user, "-d", "postgres", "-qtAc",
             f"SELECT pid FROM pg_stat_activity WHERE datname = '{name}'"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        pids = [int(pid) for pid in listed.stdout.split() if pid.isdigit()]
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total

    def stop(self) -> None:
        for item in reversed(self.started):
            if item.process.poll() is None:
                try:
                    os.killpg(item.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        deadline = time.monotonic() + 15
        for item in self.started:
            try:
                item.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(item.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                item.process.wait(timeout=10)

    def report(self) -> int:
        """Print the summary from locust's CSV files; 0 when there were no errors and every target was met."""
        with (self.work / "locust_stats.csv").open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        total = next(row for row in rows if row["Name"] == "Aggregated")
        endpoints = sorted((row for row in rows if row["Name"] != "Aggregated"), key=lambda row: row["Name"])
        errors = int(total["Failure Count"])
        print()
        print(f"{'endpoint':<48} {'requests':>8} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} {'errors':>6}")
        for row in [*endpoints, total]:
            label = "all" if row is total else row["Name"]
            print(
                f"{label:<48} {row['Request Count']:>8} {float(row['Requests/s']):>7.1f} {row['50%']:>6} "
                f"{row['95%']:>6} {row['99%']:>6} {row['Failure Count']:>6}"
            )
        print("(times in ms)")
        print()
        print(
            f"Requests per second: {float(total['Requests/s']):.1f} over {self.elapsed:.0f} s "
            f"({total['Request Count']} requests); errors: {errors}"
        )
        if errors:
            with (self.work / "locust_failures.csv").open(encoding="utf-8") as handle:
                for row in sorted(csv.DictReader(handle), key=lambda r: -int(r["Occurrences"]))[:10]:
                    print(f"  {row['Occurrences']:>5} x {row['Method']} {row['Name']}: {row['Error'][:160]}")
        cpu = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in self.cpu.items())
        ours = sum(self.cpu.values()) / self.elapsed
        print(
            f"CPU time used: {cpu}. The machine was {self.cpu_machine:.2f} of {os.cpu_count()} cores busy, "
            f"{ours:.2f} of them with this load; the rest is other work on the machine"
        )
        requests = max(int(total["Request Count"]), 1)
        print(
            f"Web CPU per request: {self.cpu['web'] * 1000 / requests:.0f} ms, PostgreSQL CPU per request: "
            f"{self.cpu['PostgreSQL (load database)'] * 1000 / requests:.0f} ms (both averaged over all requests, "
            f"password sign-ins included)"
        )
        by_name = {row["Name"]: row for row in endpoints}
        verdicts = []
        for name, limit in TARGETS.items():
            row = by_name.get(name)
            if row is None or int(row["Request Count"]) == 0:
                verdicts.append(f"  {name}: not measured (no requests)")
                continue
            p95 = int(row["95%"])
            met = p95 < limit and int(row["Failure Count"]) == 0
            verdicts.append(f"  {name}: p95 {p95} ms, target < {limit} ms: {'met' if met else 'MISSED'}")
        print(f"Targets ({self.options.users} users, volunteers waiting {self.wait_profile()} s, no errors, p95):")
        print("\n".join(verdicts))
        print(f"  errors: {errors}, target 0: {'met' if errors == 0 else 'MISSED'}")
        missed = errors or any("MISSED" in line or "not measured" in line for line in verdicts)
        return 1 if missed else 0


def stop_on_terminate(signum, frame):
    raise SystemExit(128 + signum)  # so that the finally block stops what was started


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_terminate)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=int(os.environ.get("LOAD_USERS", 200)))
    parser.add_argument("--spawn-rate", type=float, default=float(os.environ.get("LOAD_SPAWN_RATE", 5)))
    parser.add_argument("--duration", type=int, default=int(os.environ.get("LOAD_DURATION", 120)))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", 4)))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", 1)))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--password", default=os.environ.get("LOAD_PASSWORD", "load-demo-1"))
    parser.add_argument(
        "--database-url", default=os.environ.get("LOAD_DATABASE_URL", "postgis://root@127.0.0.1:5432/load")
    )
    parser.add_argument("--redis-url", default=os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("--pg-host", default=os.environ.get("LOAD_PG_HOST", "127.0.0.1"))
    parser.add_argument("--pg-user", default=os.environ.get("LOAD_PG_USER", "root"))
    options = parser.parse_args()
    load = Load(options)
    try:
        load.prepare()
        load.serve()
        load.locust()
    finally:
        load.stop()
    return load.report()


if __name__ == "__main__":
    sys.exit(main())
