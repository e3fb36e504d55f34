"""Sentry played by a local HTTP server: it takes what sentry-sdk posts to `/api/<project>/envelope/` and keeps it.

An envelope (develop.sentry.dev/sdk/envelopes/) is newline-separated JSON: a header, then for each item an item
header (its `type`: event, session, client_report, ...) and its payload, of the header's `length` or up to the next
newline. The SDK compresses the body (Content-Encoding gzip or br). The DSN is `http://publickey@127.0.0.1:PORT/1`.

    sentry = SentryServer().start()
    sentry.wait_for_events(1)     # the error events received, decoded
    sentry.raw()                  # every body received, decompressed, as text
"""

from __future__ import annotations

import gzip
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

from .ports import wait_until

try:
    import brotli
except ImportError:  # the SDK compresses with gzip when brotli is not installed
    brotli = None


def decompress(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        return brotli.decompress(body)
    return body


def envelope_items(body: bytes) -> list[tuple[dict, bytes]]:
    """The (item header, payload) pairs of an envelope."""
    _header, _, rest = body.partition(b"\n")
    items = []
    while rest.strip():
        item_line, _, rest = rest.partition(b"\n")
        item = json.loads(item_line)
        length = item.get("length")
        if length is None:
            payload, _, rest = rest.partition(b"\n")
        else:
            payload, rest = rest[:length], rest[length + 1 :]
        items.append((item, payload))
    return items


class SentryServer:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = decompress(self.rfile.read(length), self.headers.get("Content-Encoding", ""))
                with server.lock:
                    server.requests.append((self.path, dict(self.headers.items()), body))
                answer = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def dsn(self) -> str:
        return f"http://publickey@127.0.0.1:{self.httpd.server_address[1]}/1"

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def raw(self) -> str:
        with self.lock:
            return "\n".join(body.decode(errors="replace") for _path, _headers, body in self.requests)

    def events(self) -> list[dict]:
        with self.lock:
            bodies = [body for _path, _headers, body in self.requests]
        return [
            json.loads(payload) for body in bodies for item, payload in envelope_items(body) if item["type"] == "event"
        ]

    def wait_for_events(self, count: int, *, timeout: float = 15) -> list[dict]:
        wait_until(lambda: len(self.events()) >= count, timeout=timeout, interval=0.1, what=f"{count} Sentry events")
        return self.events()
