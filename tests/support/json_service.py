"""The common part of the outside services that tests play on loopback (SMS gateway, WhatsApp, Telegram): a
`ThreadingHTTPServer` on a free port speaking HTTP/1.1 with kept-alive connections (as the app's `requests` sessions
use them), JSON in and out, every request kept as an `Attempt`, and failures a test scripts in advance.

A subclass implements `answer(method, path, headers, data)` returning (status, JSON answer) and may override
`failure_body(status)` (the service's own error shape) and `recipient(data)` (who a request is for, so that a
failure can be scripted for one recipient only).

    server.fail_next(500, times=2)          # the next two requests answer 500, then it accepts again
    server.fail_next(400, to="77015550101")  # the next request for that recipient answers 400
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class Attempt:
    """One request as it arrived and what it was answered: accepted ones and refused ones alike."""

    method: str
    path: str
    headers: dict[str, str]
    data: Any
    status: int
    at: float


@dataclass
class _Failure:
    status: int
    body: dict | None
    to: str | None
    left: int


class JsonService:
    """Subclass it; `start()` serves in a thread, `stop()` ends it. `url` is the server's root (no trailing slash)."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._attempts: list[Attempt] = []
        self._failures: list[_Failure] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 60  # an idle kept-alive connection ends after this long
            # The headers and the body go out in two writes: with Nagle's algorithm the second waits for the
            # client's delayed ACK of the first (40 ms on Linux) on every kept-alive request.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {name: value for name, value in self.headers.items()}
                status, answer = service._serve(method, self.path, headers, raw)
                body = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args) -> None:  # quiet: tests read the attempts
                pass

        self.server = ThreadingHTTPServer((self.host, 0), Handler)
        self.server.daemon_threads = True
        self.server.request_queue_size = 128
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port (also when it never started)."""
        if self._thread.is_alive():
            self.server.shutdown()
            self._thread.join(timeout=5)
        self.server.server_close()

    # What a subclass provides

    def answer(self, method: str, path: str, headers: dict[str, str], data: Any) -> tuple[int, dict]:
        raise NotImplementedError

    def failure_body(self, status: int) -> dict:
        return {"error": f"HTTP {status}"}

    def recipient(self, data: Any) -> str | None:
        return None

    def authorised(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict] | None:
        """None when the request may go on, else the refusal (checked before any scripted failure)."""
        return None

    # Scripting and reading

    def fail_next(self, status: int, *, times: int = 1, body: dict | None = None, to: str | None = None) -> None:
        """The next `times` requests (for recipient `to` only, when given) answer `status` with `body` (by default the
        service's own error shape for that status), and nothing of them is kept as accepted."""
        with self.lock:
            self._failures.append(_Failure(status=status, body=body, to=to, left=times))

    def attempts(self, *, status: int | None = None) -> list[Attempt]:
        """Every request so far (or those answered `status`), oldest first."""
        with self.lock:
            return [a for a in self._attempts if status is None or a.status == status]

    # Serving

    def _serve(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict]:
        data = _parse(raw, headers.get("Content-Type", ""))
        status, answer = self._decide(method, path, headers, data)
        with self.lock:
            self._attempts.append(Attempt(method, path, headers, data, status, time.monotonic()))
        return status, answer

    def _decide(self, method: str, path: str, headers: dict[str, str], data: Any) -> tuple[int, dict]:
        refused = self.authorised(method, path, headers)
        if refused is not None:
            return refused
        failure = self._take_failure(self.recipient(data))
        if failure is not None:
            return failure.status, failure.body if failure.body is not None else self.failure_body(failure.status)
        return self.answer(method, path, headers, data)

    def _take_failure(self, recipient: str | None) -> _Failure | None:
        with self.lock:
            for failure in self._failures:
                if failure.left > 0 and (failure.to is None or failure.to == recipient):
                    failure.left -= 1
                    return failure
        return None


def _parse(raw: bytes, content_type: str) -> Any:
    """A JSON body, or a form body as a dict; None when it is neither."""
    if not raw:
        return {}
    text = raw.decode("utf-8", errors="replace")
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(text))
    try:
        return json.loads(text)
    except ValueError:
        return None
