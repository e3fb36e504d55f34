"""An SMTP server on loopback (aiosmtpd in a thread) that records every message it accepts.

Nothing is deduplicated: every accepted message is one entry, so tests count exactly what arrived. A test may close
the gate: new sessions then wait at MAIL FROM (before anything is accepted) until it opens again, so a test can
stop the world at a known point, e.g. to kill a worker while none of its messages is half-accepted.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email import policy
from email.parser import BytesHeaderParser

from aiosmtpd.controller import Controller

from .ports import free_port

HEADERS = BytesHeaderParser(policy=policy.default)


@dataclass(frozen=True)
class Received:
    message_id: str
    to: str
    subject: str
    at: float
    peer: str = ""  # the client's address and port: one per SMTP connection


class SinkHandler:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[Received] = []
        self._gate = threading.Event()
        self._gate.set()
        self._waiting = 0
        self.close_gate_after: int | None = None
        self._sessions: list = []

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802 (aiosmtpd's name)
        if not self._gate.is_set():
            with self._lock:
                self._waiting += 1
            try:
                while not self._gate.is_set():
                    await asyncio.sleep(0.005)
            finally:
                with self._lock:
                    self._waiting -= 1
        with self._lock:
            self._sessions.append(server)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        # Only the headers are read: parsing both parts of every message would make the sink, not the app, the
        # slow end of a 10,000-message run.
        message = HEADERS.parsebytes(envelope.original_content or envelope.content)
        received = Received(
            message_id=str(message.get("Message-ID", "")).strip(),
            to=", ".join(envelope.rcpt_tos),
            subject=str(message.get("Subject", "")),
            at=time.monotonic(),
            peer=":".join(str(part) for part in (session.peer or ())[:2]),
        )
        with self._lock:
            self._messages.append(received)
            if self.close_gate_after is not None and len(self._messages) >= self.close_gate_after:
                self._gate.clear()
        return "250 Message accepted for delivery"

    def messages(self) -> list[Received]:
        with self._lock:
            return list(self._messages)

    def sessions(self) -> list:
        with self._lock:
            return list(self._sessions)

    def count(self) -> int:
        with self._lock:
            return len(self._messages)

    def waiting_at_gate(self) -> int:
        with self._lock:
            return self._waiting

    def open_gate(self) -> None:
        with self._lock:
            self.close_gate_after = None
        self._gate.set()


class SmtpSink:
    """Start with `start()`, stop with `stop()`; `url` is the EMAIL_URL for the app."""

    def __init__(self) -> None:
        self.port = free_port()
        self.handler = SinkHandler()
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, server_hostname="smtp-sink.test", ready_timeout=10
        )

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command at INFO
        self.controller.start()
        return self

    def stop(self) -> None:
        self.handler.open_gate()
        self.controller.stop()

    def messages(self) -> list[Received]:
        return self.handler.messages()

    def hang_up(self) -> None:
        """Close every open connection from the server's side, as a server does to clients idle too long."""
        for server in self.handler.sessions():
            if server.transport is not None:
                self.controller.loop.call_soon_threadsafe(server.transport.close)

    def count(self) -> int:
        return self.handler.count()

    def message_ids(self) -> Counter:
        """How many times each Message-ID arrived."""
        return Counter(received.message_id for received in self.messages())
