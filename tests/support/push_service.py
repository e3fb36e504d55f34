"""A Web Push service played by a local HTTPS server (RFC 8030, with VAPID, RFC 8292, and aes128gcm, RFC 8291), and
the browsers that subscribe to it.

`PushService().start()` listens on 127.0.0.1 with a certificate of its own: point REQUESTS_CA_BUNDLE at `.ca_file`
so the sender trusts it (a push service is always https, and the app refuses any other subscription). `subscribe()`
makes a subscription as a browser does (a P-256 key pair and a 16-byte authentication secret) and keeps the private
half, so what arrives can be decrypted with it. Each POST to a subscription's endpoint must carry
`Authorization: vapid t=<JWT>, k=<public key>` (an ES256 signature that verifies with k, `aud` this server's origin,
`exp` in the future and at most 24 hours ahead, a `sub` contact), a `TTL` and `Content-Encoding: aes128gcm`; it is
answered 201 and kept. Answers can be scripted per subscription: `answer(subscription, 500, 500)` fails the next two
attempts; `gone(subscription)` answers 410 from now on, as for a browser that unsubscribed.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import secrets
import ssl
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import http_ece
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID

from .ports import wait_until

MAX_BODY = 4096  # RFC 8030 §7.2: a push service must take at least 4096 bytes of payload, and may refuse more.
MAX_EXP_AHEAD = 24 * 60 * 60  # RFC 8292 §2: `exp` no more than 24 hours ahead.


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Refusal(Exception):
    """A request the push service answers with an error status."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def vapid_claims(authorization: str, *, origin: str, now: float) -> tuple[dict, str]:
    """The claims of a `vapid t=…, k=…` header and its key k, checked: the ES256 signature verifies with k, `aud`
    is `origin`, `exp` is ahead (at most 24 hours), `sub` is a contact. Refusal (401) for anything else."""
    scheme, _space, parameters = authorization.strip().partition(" ")
    if scheme.lower() != "vapid":
        raise Refusal(401, f"Authorization scheme {scheme!r} is not vapid")
    values = {}
    for part in parameters.split(","):
        name, equals, value = part.strip().partition("=")
        if equals:
            values[name.strip()] = value.strip()
    token, key = values.get("t", ""), values.get("k", "")
    try:
        head, body, signature = token.split(".")
        if json.loads(unb64url(head)).get("alg") != "ES256":
            raise Refusal(401, "the JWT is not signed with ES256")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
        raw = unb64url(signature)
        if len(raw) != 64:
            raise Refusal(401, "the JWT signature is not 64 bytes (r || s)")
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
        claims = json.loads(unb64url(body))
    except InvalidSignature as error:
        raise Refusal(401, "the JWT signature does not verify with k") from error
    except (ValueError, TypeError, AttributeError) as error:
        raise Refusal(401, f"unreadable VAPID credentials: {error}") from error
    if claims.get("aud") != origin:
        raise Refusal(401, f"aud {claims.get('aud')!r} is not {origin}")
    expiry = claims.get("exp")
    if not isinstance(expiry, int) or not now < expiry <= now + MAX_EXP_AHEAD:
        raise Refusal(401, f"exp {expiry!r} is not in the coming 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise Refusal(401, "sub is not a mailto: or https: contact")
    return claims, key


@dataclass
class Subscription:
    """One browser's subscription: what PushSubscription.toJSON() gives, and the keys to read its messages."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    # The application server key the browser subscribed with: a push from another key is refused (403).
    application_server_key: str | None = None

    @property
    def token(self) -> str:
        return self.endpoint.rsplit("/", 1)[-1]

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)

    def to_json(self) -> dict:
        """As the browser's PushSubscription.toJSON()."""
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": {"p256dh": self.p256dh, "auth": self.auth}}

    def decrypt(self, body: bytes) -> bytes:
        return http_ece.decrypt(body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm")


@dataclass(frozen=True)
class Push:
    """A message the push service took."""

    token: str
    body: bytes
    claims: dict
    key: str
    ttl: int
    urgency: str
    at: float


@dataclass
class Attempt:
    """Any request to an endpoint, with the status it got."""

    token: str
    status: int
    reason: str = ""


@dataclass
class _State:
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    answers: dict[str, deque[int]] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)
    pushes: list[Push] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)


def _certificate(folder: Path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (its own trust anchor) and its key, as files in `folder`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "push service on loopback")])
    now = datetime.datetime.now(datetime.UTC)
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "push-service.pem", folder / "push-service.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_file), str(key_file)


class PushService:
    """`PushService().start()`; `subscribe()` gives a browser's subscription on it; `messages()` what it took."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = _State()
        self._folder = tempfile.TemporaryDirectory(prefix="push-service-")
        self.ca_file, key_file = _certificate(Path(self._folder.name))
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                token = self.path.rsplit("/", 1)[-1] if self.path.startswith("/push/") else ""
                try:
                    push = service._take(token, self.headers, body)
                except Refusal as refusal:
                    service._attempt(token, refusal.status, refusal.reason)
                    self._answer(refusal.status, {"errno": refusal.status, "message": refusal.reason})
                    return
                service._attempt(token, 201)
                self._answer(201, None, location=f"/messages/{len(service.messages())}", ttl=push.ttl)

            def _answer(self, code: int, data: dict | None, *, location: str = "", ttl: int | None = None) -> None:
                payload = json.dumps(data).encode() if data is not None else b""
                self.send_response(code)
                if location:
                    self.send_header("Location", location)
                if ttl is not None:
                    self.send_header("TTL", str(ttl))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args) -> None:  # quiet: the test reads `messages()` and `attempts()`
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_file, key_file)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> PushService:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._folder.cleanup()

    def subscribe(self, *, application_server_key: str | None = None) -> Subscription:
        """A new browser subscription, as pushManager.subscribe() makes one (with `applicationServerKey` when given)."""
        subscription = Subscription(
            endpoint=f"{self.origin}/push/{secrets.token_urlsafe(24)}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=secrets.token_bytes(16),
            application_server_key=application_server_key,
        )
        with self._lock:
            self._state.subscriptions[subscription.token] = subscription
        return subscription

    def answer(self, subscription: Subscription, *statuses: int) -> None:
        """The next answers to pushes for this subscription, in order (after them: 201 again)."""
        with self._lock:
            self._state.answers.setdefault(subscription.token, deque()).extend(statuses)

    def gone(self, subscription: Subscription) -> None:
        """The browser unsubscribed: every push for it is answered 410 Gone from now on."""
        with self._lock:
            self._state.gone.add(subscription.token)

    def messages(self, subscription: Subscription | None = None) -> list[Push]:
        with self._lock:
            return [p for p in self._state.pushes if subscription is None or p.token == subscription.token]

    def attempts(self, subscription: Subscription | None = None) -> list[Attempt]:
        """Every request, taken or not, with its status (a refused one with the reason)."""
        with self._lock:
            return [a for a in self._state.attempts if subscription is None or a.token == subscription.token]

    def refusals(self) -> list[Attempt]:
        """Requests refused for breaking the protocol (not the scripted answers)."""
        return [a for a in self.attempts() if a.reason and not a.reason.startswith("scripted")]

    def read(self, push: Push) -> dict:
        """A message decrypted with its subscription's private key and secret, as the browser reads it (JSON)."""
        with self._lock:
            subscription = self._state.subscriptions[push.token]
        return json.loads(subscription.decrypt(push.body))

    def wait_for(self, subscription: Subscription, *, timeout: float, count: int = 1) -> list[Push]:
        """The messages for a subscription once at least `count` have arrived; TimeoutError after `timeout` s."""
        wait_until(lambda: len(self.messages(subscription)) >= count, timeout=timeout, what="a push message")
        return self.messages(subscription)

    def _attempt(self, token: str, status: int, reason: str = "") -> None:
        with self._lock:
            self._state.attempts.append(Attempt(token=token, status=status, reason=reason))

    def _take(self, token: str, headers, body: bytes) -> Push:
        """Check one push as the service would; the kept message, or Refusal with the answer to give."""
        with self._lock:
            subscription = self._state.subscriptions.get(token)
        if subscription is None:
            raise Refusal(404, "no such subscription")
        claims, key = vapid_claims(headers.get("Authorization", ""), origin=self.origin, now=time.time())
        if subscription.application_server_key and key != subscription.application_server_key:
            raise Refusal(403, "k is not the key the browser subscribed with")
        ttl = headers.get("TTL", "")
        if not ttl.isdigit():
            raise Refusal(400, "TTL is missing or not a number of seconds")
        if headers.get("Content-Encoding") != "aes128gcm":
            raise Refusal(415, f"Content-Encoding {headers.get('Content-Encoding')!r} is not aes128gcm")
        if len(body) > MAX_BODY:
            raise Refusal(413, f"{len(body)} bytes is more than {MAX_BODY}")
        with self._lock:
            if token in self._state.gone:
                raise Refusal(410, "scripted: the subscription is gone")
            answers = self._state.answers.get(token)
            if answers:
                status = answers.popleft()
                if status == 410:
                    self._state.gone.add(token)
                if status != 201:
                    raise Refusal(status, f"scripted: {status}")
            push = Push(
                token=token,
                body=body,
                claims=claims,
                key=key,
                ttl=int(ttl),
                urgency=headers.get("Urgency", ""),
                at=time.monotonic(),
            )
            self._state.pushes.append(push)
        return push
