"""A duty unit's own system on loopback, for the tests of escalated reports and of SOS tier 2: it checks each
message's signature with the unit's key (HMAC-SHA256 of the body), records what arrived and answers with the HTTP
statuses a test queues (a 500 first, then 200)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class DutySystem:
    """The duty unit's own system on loopback: it records what arrives and answers with the statuses queued."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.received: list[dict] = []
        self.answers: list[int] = []
        system = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                expected = "sha256=" + hmac.new(system.secret.encode(), body, hashlib.sha256).hexdigest()
                system.received.append(
                    {
                        "signature_ok": hmac.compare_digest(expected, self.headers.get("X-Signature", "")),
                        "key": self.headers.get("X-Escalation-Key"),
                        "body": json.loads(body),
                    }
                )
                code = system.answers.pop(0) if system.answers else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/escalations"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> DutySystem:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
