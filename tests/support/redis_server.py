"""An own Redis server on a free loopback port, without persistence, that a test may stop and start again."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

from .ports import free_port, wait_until


class RedisServer:
    """`redis-server` as a child process; a restart keeps the port and loses the data (as a crashed broker would)."""

    def __init__(self, *, log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self, *, timeout: float = 10) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (make system-test installs it)")
        command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--daemonize", "no"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(self.answers, timeout=timeout, what=f"redis-server on port {self.port} to answer PING")

    def stop(self) -> None:
        """Stop the server at once (SIGKILL: what a crash looks like to clients); nothing is kept."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self.process = None
