"""An SMS gateway played by a local HTTP server: it takes what `HttpSmsBackend` posts (JSON {to, from, text} with a
bearer token), answers 202 {"id": …} and keeps every message with the moment it arrived and its `Idempotency-Key`.

    gateway = SmsGateway().start()          # SMS_GATEWAY_URL = gateway.url, SMS_GATEWAY_TOKEN = TOKEN
    gateway.fail_next(500)                   # the next message answers 500 (and is not kept), then it accepts
    gateway.fail_next(400, to="+77015550101")
    gateway.messages("+77015550101")         # what was accepted, as `Sms`
    gateway.attempts()                       # every request, refused ones too (`.headers["Idempotency-Key"]`)

A wrong token answers 401 and counts in `refused`; a body without to/from/text answers 400.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

from .json_service import JsonService
from .ports import wait_until

TOKEN = "gateway-token-16"


@dataclass(frozen=True)
class Sms:
    to: str
    sender: str
    text: str
    at: float
    key: str = ""
    id: str = ""


class SmsGateway(JsonService):
    """`SmsGateway().start()`; point SMS_GATEWAY_URL at `.url` with SMS_GATEWAY_TOKEN = `TOKEN`."""

    def __init__(self, *, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self._messages: list[Sms] = []
        self._ids = itertools.count(1)
        self.refused = 0

    @property
    def url(self) -> str:
        return f"{super().url}/messages"

    def authorised(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict] | None:
        if headers.get("Authorization") != f"Bearer {self.token}":
            with self.lock:
                self.refused += 1
            return 401, {"error": "unauthorised"}
        return None

    def recipient(self, data: Any) -> str | None:
        return data.get("to") if isinstance(data, dict) else None

    def failure_body(self, status: int) -> dict:
        return {"error": "temporarily unavailable" if status >= 500 else "rejected", "status": status}

    def answer(self, method: str, path: str, headers: dict[str, str], data: Any) -> tuple[int, dict]:
        try:
            to, sender, text = data["to"], data["from"], data["text"]
        except (KeyError, TypeError):
            return 400, {"error": "expected {to, from, text}"}
        if not all(isinstance(value, str) and value for value in (to, sender, text)):
            return 400, {"error": "expected {to, from, text}"}
        sms = Sms(
            to=to,
            sender=sender,
            text=text,
            at=time.monotonic(),
            key=headers.get("Idempotency-Key", ""),
            id=f"sms-{next(self._ids)}",
        )
        with self.lock:
            self._messages.append(sms)
        return 202, {"id": sms.id}

    def messages(self, to: str | None = None) -> list[Sms]:
        with self.lock:
            return [sms for sms in self._messages if to is None or sms.to == to]

    def wait_for(self, to: str, *, timeout: float, count: int = 1) -> list[Sms]:
        """The messages to `to` once at least `count` have arrived; TimeoutError after `timeout` seconds."""
        wait_until(lambda: len(self.messages(to)) >= count, timeout=timeout, what=f"an SMS to {to[:4]}…{to[-2:]}")
        return self.messages(to)
