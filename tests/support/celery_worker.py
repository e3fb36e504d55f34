"""A real Celery worker process, its environment, and peak memory read from /proc."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

from .ports import wait_until

BASE_DIR = Path(__file__).resolve().parents[2]
# Variables of the calling process that must not leak into a worker.
NOT_INHERITED = {"CELERY_TASK_ALWAYS_EAGER", "DJANGO_ALLOW_ASYNC_UNSAFE", "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS"}


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database that `settings_dict` (Django's connection settings) points at."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgis://{credentials}{host}{port}/{settings_dict['NAME']}"


def app_env(*, database_url: str, redis_url: str, email_url: str, **extra: str) -> dict[str, str]:
    """The environment of an app process (worker, sweep) on the given database, own Redis and SMTP server."""
    env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
    env.update(
        DJANGO_SETTINGS_MODULE="coordination.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        CELERY_BROKER_URL=redis_url,
        EMAIL_URL=email_url,
        DEBUG="1",
        SITE_URL="https://patrol.example.kz",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def children(pid: int) -> list[int]:
    """Direct child processes of `pid` (the prefork pool's processes of a worker)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def peak_rss_kib(pid: int) -> int:
    """The peak resident memory (VmHWM) of a process in KiB, 0 when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


class CeleryWorker:
    """`celery -A coordination worker` in its own process group, so a test can SIGKILL all of it at once."""

    def __init__(self, *, env: dict[str, str], log_path: Path, concurrency: int = 2, name: str = "worker") -> None:
        self.env = env
        self.log_path = log_path
        self.concurrency = concurrency
        self.name = name
        self.process: subprocess.Popen | None = None
        self._log_offset = 0

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "coordination",
            "worker",
            "--pool=prefork",
            f"--concurrency={self.concurrency}",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{self.name}@%h",
            "-l",
            "INFO",
        ]

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_since_start(self) -> str:
        return self.log()[self._log_offset :]

    def start(self, *, timeout: float = 45) -> CeleryWorker:
        self._log_offset = len(self.log())
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                env=self.env,
                cwd=BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.wait_for_log(r"\bready\.", timeout=timeout, what="the worker to be ready")
        return self

    def wait_for_log(self, pattern: str, *, timeout: float, what: str, count: int = 1) -> None:
        """Wait until `pattern` appears `count` times in this run's log; fail at once if the worker died."""

        def seen() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}:\n{self.log_since_start()[-4000:]}")
            return len(re.findall(pattern, self.log_since_start())) >= count

        try:
            wait_until(seen, timeout=timeout, interval=0.1, what=what)
        except TimeoutError as error:
            raise TimeoutError(f"{error}\n--- worker log ---\n{self.log_since_start()[-4000:]}") from None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def pids(self) -> list[int]:
        """The main process and its pool processes."""
        if self.process is None or self.process.poll() is not None:
            return []
        return [self.process.pid, *children(self.process.pid)]

    def peak_rss_kib(self) -> dict[int, int]:
        """VmHWM of the main process and each pool process, by pid."""
        return {pid: peak_rss_kib(pid) for pid in self.pids()}

    def kill(self) -> None:
        """SIGKILL the whole process group (main process and pool) and reap it."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)
        pgid = self.process.pid
        self.process = None
        wait_until(lambda: not group_members(pgid), timeout=10, interval=0.02, what=f"process group {pgid} to end")


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, process_group = fields[0], int(fields[2])
        if process_group == pgid and state not in {"Z", "X"}:
            members.append(int(entry.name))
    return members
