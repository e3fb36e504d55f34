"""An authenticator app in a few lines (RFC 6238, as Google Authenticator computes it), independent of django-otp:
codes from the secret the set-up page shows, or from a device's key."""

import base64
import hashlib
import hmac
import struct
import time

STEP = 30


def key_from_secret(secret: str) -> bytes:
    """The key behind the base32 secret shown for typing (spaces and missing padding allowed)."""
    compact = "".join(secret.split()).upper()
    return base64.b32decode(compact + "=" * (-len(compact) % 8))


def code(key: bytes, *, steps_ahead: int = 0, period: int | None = None, digits: int = 6) -> str:
    """The code the app shows now, `steps_ahead` periods later, or in a given `period` (each is accepted once)."""
    counter = period if period is not None else int(time.time() // STEP) + steps_ahead
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)
