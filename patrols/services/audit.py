"""The access log of personal data: who was shown a volunteer's IIN or a report's details of other people unmasked.

Serializers and views note what they show (`volunteer_iin_shown`, `report_third_party_shown`) on the request;
`AccessLogMiddleware` writes the request's notes at its end in one insert, one row per object however often the
object appears in the response. Code that shows such data outside a request (an export built by a task) calls
`access_log_write` itself.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils import timezone

from ..choices import AccessKind
from ..models import AccessLogEntry

if TYPE_CHECKING:
    import datetime

    from django.http import HttpRequest

    from ..models import Report, User, Volunteer

_PENDING = "_access_log_pending"
PATH_MAX_LENGTH = AccessLogEntry._meta.get_field("path").max_length


@dataclass
class _Pending:
    user: User
    # (kind, object id) -> how it was shown; a dict keeps the first note of each object and the order of the page.
    rows: dict[tuple[str, int], str] = field(default_factory=dict)


def _http_request(request) -> HttpRequest:
    """Django's request under DRF's wrapper, so notes made in a serializer and in a view land in one place."""
    return getattr(request, "_request", request)


def access_note(request, *, kind: str, object_id: int, how: str) -> None:
    """Remember that this request shows the object's personal data unmasked; it is written when the response is."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return
    http = _http_request(request)
    pending = getattr(http, _PENDING, None)
    if pending is None:
        pending = _Pending(user=user)
        setattr(http, _PENDING, pending)
    pending.rows.setdefault((kind, object_id), how)


def volunteer_iin_shown(request, volunteer: Volunteer, *, how: str) -> None:
    """The volunteer's IIN is shown unmasked; a volunteer reading their own is not logged (it is their own)."""
    user = getattr(request, "user", None)
    if user is not None and volunteer.user_id is not None and volunteer.user_id == user.pk:
        return
    if volunteer.anonymised_at is not None:
        # What is shown is a placeholder, nobody's IIN.
        return
    access_note(request, kind=AccessKind.VOLUNTEER_IIN, object_id=volunteer.pk, how=how)


def report_third_party_shown(request, report: Report, *, how: str) -> None:
    """The report's details of other people are shown; an empty field shows nobody's details and is not logged."""
    if report.third_party_details:
        access_note(request, kind=AccessKind.REPORT_THIRD_PARTY, object_id=report.pk, how=how)


def _valid_ip(address: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(address or ""))
    except ValueError:
        return None


def access_log_write(
    *,
    user: User,
    shown: Iterable[tuple[str, int, str]],
    path: str = "",
    ip: str | None = None,
    at: datetime.datetime | None = None,
) -> int:
    """Write one entry per (kind, object id, how) shown to `user`, all in one insert; returns how many."""
    moment = at or timezone.now()
    entries = [
        AccessLogEntry(
            user=user,
            username=user.get_username(),
            at=moment,
            kind=kind,
            object_id=object_id,
            how=how,
            path=path[:PATH_MAX_LENGTH],
            ip=ip,
        )
        for kind, object_id, how in dict.fromkeys(shown)
    ]
    AccessLogEntry.objects.bulk_create(entries)
    return len(entries)


def access_log_flush(request, *, ip: str | None = None) -> int:
    """Write what the request noted (once; later calls find nothing) and return how many entries.

    `ip` is the client's address as the edge knows it (behind proxies, not REMOTE_ADDR); kept only if it is one.
    """
    http = _http_request(request)
    pending = getattr(http, _PENDING, None)
    if pending is None or not pending.rows:
        return 0
    setattr(http, _PENDING, None)
    return access_log_write(
        user=pending.user,
        shown=[(kind, object_id, how) for (kind, object_id), how in pending.rows.items()],
        # The path without its query: a search by IIN must not copy the IIN into the log.
        path=http.path,
        ip=_valid_ip(ip),
    )
