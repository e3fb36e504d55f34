"""Log lines: JSON (one object a line) or plain text, the request id on every line, and no personal data.

Loaded by the settings before Django is set up, so nothing here imports Django. `logging_config()` builds the
`LOGGING` setting; the web's middleware (`patrols/telemetry.py`) and the Celery signals (`coordination/celery.py`) set
the request id that the filter adds to each record. Every line passes through `redact()`: a 12-digit run (an IIN)
or a Kazakhstan phone number in a message, an argument or a traceback is replaced, whichever code logged it.
"""

from __future__ import annotations

import contextvars
import datetime
import logging
import re
import secrets
from collections.abc import Callable
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

# The id of the request (or task) being worked on in this thread, None outside one.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
# Who that request is for: a function, so the user is looked up only if a task is queued (their id goes with it).
request_user: contextvars.ContextVar[Callable[[], int | None] | None] = contextvars.ContextVar(
    "request_user", default=None
)

# An id a proxy sent is kept only when it is short and of safe characters (it goes into every log line and back in
# the response header); anything else is replaced by one of ours.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

# An id that is (or holds, between separators) an IIN or a phone number is not repeated. Digit runs between letters
# are normal in ids (nginx's $request_id is 32 hex digits), and such an id is kept: it is the one field of a line
# that is not redacted, so that it matches the proxy's own log.
_PERSONAL_IN_ID = re.compile(r"(?<![A-Za-z0-9])(?:\d{12}|[78]7\d{9})(?![A-Za-z0-9])")

# Digit boundaries only (not \b): an IIN glued to a Cyrillic word or to a JSON escape is still found.
IIN_PATTERN = re.compile(r"(?<!\d)\d{12}(?!\d)")
# +7 7xx xxx xx xx as people write it: +7, 8 or 7 first, spaces, dashes or brackets anywhere between the groups.
PHONE_PATTERN = re.compile(r"(?<!\d)(?:\+\s*7|8|7)[\s\-()]*7\d{2}[\s\-()]*\d{3}[\s\-]*\d{2}[\s\-]*\d{2}(?!\d)")

# The fields a JSON line may carry besides time, level, logger and message: what the app's own lines add with
# `extra=`. Anything else a library attaches to a record (Django's `request`, whose text is the raw URL with its
# query string; Celery's task arguments) stays out.
EXTRA_FIELDS = (
    "request_id",
    "user_id",
    "view",
    "method",
    "status",
    "duration_ms",
    "task",
    "task_id",
    "status_code",
    "queue",
)


# A UUID (a Celery task's id): one in three hundred ends in twelve decimal digits, which are not an IIN.
UUID_PATTERN = re.compile(r"(?<![0-9a-fA-F-])[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}(?![0-9a-fA-F])")
# All in one pass (a log line is scanned once): a UUID is kept whole; a phone is 11 digits, so it never hides an
# IIN's 12.
_PERSONAL = re.compile(f"(?P<uuid>{UUID_PATTERN.pattern})|(?P<phone>{PHONE_PATTERN.pattern})|{IIN_PATTERN.pattern}")


def _placeholder(match: re.Match) -> str:
    if match.group("uuid"):
        return match.group("uuid")
    return "[phone]" if match.group("phone") else "[iin]"


def redact(text: str) -> str:
    """`text` with IINs and phone numbers replaced by a placeholder."""
    return _PERSONAL.sub(_placeholder, text)


def current_user_id() -> int | None:
    """The id of the user the current request or task is for, None when there is none (or nobody signed in)."""
    lookup = request_user.get()
    return lookup() if lookup is not None else None


def new_request_id() -> str:
    """A fresh request id: 22 URL-safe characters, which never happen to spell an IIN."""
    return secrets.token_urlsafe(16)


def accepted_request_id(value: str | None) -> str:
    """The id a proxy sent (X-Request-ID) when it is safe to repeat, otherwise a new one."""
    if value and _SAFE_REQUEST_ID.fullmatch(value) and not _PERSONAL_IN_ID.search(value):
        return value
    return new_request_id()


class RequestIdFilter(logging.Filter):
    """Adds the current request's (or task's) id to every record; "-" outside any."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            # Django's line about a 4xx answer comes after the middleware has finished: the request carries the id.
            record.request_id = request_id.get() or getattr(getattr(record, "request", None), "request_id", "-")
        return True


class TextFormatter(logging.Formatter):
    """`make run`'s readable lines: time, level, logger, request id, message; redacted like the JSON ones."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = "-"
        return redact(super().format(record))


class JsonFormatter(_JsonFormatter):
    """One JSON object a line: `time` (UTC, ISO 8601), `level`, `logger`, `message`, `request_id` and the app's
    fields (`user_id`, `view` or `task`, `status`, `duration_ms`); `exc_info` with the traceback of an error."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 (logging's name)
        moment = datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        for field in self._required_fields:
            log_data[self._get_rename(field)] = record.__dict__.get(field)
        if "exc_info" in message_dict:
            log_data["exc_info"] = message_dict["exc_info"]
        if "stack_info" in message_dict:
            log_data["stack_info"] = message_dict["stack_info"]
        for field in EXTRA_FIELDS:
            value = record.__dict__.get(field)
            if value is not None and value != "-":
                log_data[field] = value

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {
            key: redact(value) if isinstance(value, str) and key != "request_id" else value
            for key, value in log_data.items()
        }


LOG_FORMATS = {"json": JsonFormatter, "text": TextFormatter}


def logging_config(*, log_format: str, level: str) -> dict:
    """The `LOGGING` setting: every line to stderr (the journal under systemd) in `log_format`, from `level` up."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "coordination.logs.RequestIdFilter"}},
        "formatters": {"app": {"()": LOG_FORMATS[log_format]}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "app", "filters": ["request_id"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own handlers (its console with DEBUG on, runserver's lines with the raw address) are replaced
            # by this one: every line is formatted and redacted alike.
            "django": {"handlers": [], "propagate": True},
            "django.server": {"handlers": [], "propagate": True},
            # django-axes reports every sign-in at INFO; its warnings (failures, lockouts) are what matters.
            "axes": {"level": "WARNING"},
            # fontTools (the monthly PDF's font subsetting) reports every table it subsets at INFO.
            "fontTools": {"level": "WARNING"},
        },
    }
