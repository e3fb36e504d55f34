"""An SMS gateway played by a local HTTP server: it takes what `HttpSmsBackend` posts (JSON {to, from, text} with a
bearer token), answers 202 and keeps every message with the moment it arrived."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .ports import wait_until

TOKEN = "gateway-token-16"


@dataclass(frozen=True)
class Sms:
    to: str
    sender: str
    text: str
    at: float


class SmsGateway:
    """`SmsGateway().start()`; point SMS_GATEWAY_URL at `.url` with SMS_GATEWAY_TOKEN = `TOKEN`."""

    def __init__(self, *, token: str = TOKEN) -> None:
        self.token = token
        self._messages: list[Sms] = []
        self._lock = threading.Lock()
        self.refused = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.headers.get("Authorization") != f"Bearer {gateway.token}":
                    gateway.refused += 1
                    self._answer(401)
                    return
                try:
                    data = json.loads(body)
                    sms = Sms(to=data["to"], sender=data["from"], text=data["text"], at=time.monotonic())
                except (ValueError, KeyError, TypeError):
                    self._answer(400)
                    return
                with gateway._lock:
                    gateway._messages.append(sms)
                self._answer(202)

            def _answer(self, code: int) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args) -> None:  # quiet: the test reads `messages()`
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/messages"

    def start(self) -> SmsGateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def messages(self, to: str | None = None) -> list[Sms]:
        with self._lock:
            return [sms for sms in self._messages if to is None or sms.to == to]

    def wait_for(self, to: str, *, timeout: float, count: int = 1) -> list[Sms]:
        """The messages to `to` once at least `count` have arrived; TimeoutError after `timeout` seconds."""
        wait_until(lambda: len(self.messages(to)) >= count, timeout=timeout, what=f"an SMS to {to[:4]}…{to[-2:]}")
        return self.messages(to)
