"""The production web server (`scripts/serve-production.sh`: gunicorn) and Celery beat as child processes.

Each runs in its own process group, so stopping it stops its workers too. The environment is the caller's, usually
`celery_worker.app_env(...)` plus the production switches (`production_env`).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from .celery_worker import BASE_DIR, group_members
from .ports import free_port, wait_until


def production_env(env: dict[str, str]) -> dict[str, str]:
    """`env` with DEBUG off, a fresh secret key, plain http on loopback and throttles out of a test's way."""
    return {
        **env,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STAFF_2FA": "0",
        "THROTTLE_TOKEN": "100000/min",
        "THROTTLE_REPORTS": "100000/min",
        "THROTTLE_SIGNUP": "100000/min",
    }


class _Process:
    """A command in its own session whose whole process group is stopped at the end."""

    def __init__(self, *, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def launch(self, env: dict[str, str]) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                env=env,
                cwd=BASE_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"{self.command()[0]} exited with {self.process.returncode}:\n{self.log()[-4000:]}")

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL what is left after a few seconds, and reap it."""
        if self.process is None:
            return
        pgid = self.process.pid
        for sent in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pgid, sent)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=8)
                wait_until(lambda: not group_members(pgid), timeout=8, interval=0.05, what=f"group {pgid} to end")
                break
            except (subprocess.TimeoutExpired, TimeoutError):
                continue
        self.process = None


class WebServer(_Process):
    """gunicorn through `scripts/serve-production.sh` on a free loopback port."""

    def __init__(self, *, env: dict[str, str], log_path: Path, workers: int = 2, threads: int = 4) -> None:
        super().__init__(env=env, log_path=log_path)
        self.port = free_port()
        self.workers = workers
        self.threads = threads

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [str(BASE_DIR / "scripts" / "serve-production.sh")]

    def healthy(self) -> bool:
        self.check_alive()
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                return response.status == 200 and json.load(response)["database"] == "ok"
        except (urllib.error.URLError, OSError):
            return False

    def start(self, *, timeout: float = 60) -> WebServer:
        self.launch(
            {
                **self.env,
                "HOST": "127.0.0.1",
                "PORT": str(self.port),
                "WEB_WORKERS": str(self.workers),
                "WEB_THREADS": str(self.threads),
            }
        )
        wait_until(self.healthy, timeout=timeout, interval=0.2, what=f"gunicorn on port {self.port} to answer /healthz")
        return self


class CeleryBeat(_Process):
    """`celery -A coordination beat` with the database scheduler (django-celery-beat), as in production."""

    def command(self) -> list[str]:
        return [sys.executable, "-m", "celery", "-A", "coordination", "beat", "-l", "INFO"]

    def start(self, *, timeout: float = 30) -> CeleryBeat:
        self.launch(self.env)

        def ready() -> bool:
            self.check_alive()
            return "beat: Starting..." in self.log()

        wait_until(ready, timeout=timeout, interval=0.1, what="celery beat to start")
        return self
