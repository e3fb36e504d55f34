"""The one local time zone of the app, and the day of a moment in it.

Kazakhstan keeps one time, UTC+5, since 2024-03-01 (`settings.TIME_ZONE`, Asia/Almaty). The database keeps UTC;
totals, calendars and "today" are counted in local days.
"""

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

LOCAL_TZ = ZoneInfo(settings.TIME_ZONE)


def local_day(moment: datetime.datetime) -> datetime.date:
    """The local calendar day of an aware moment."""
    return moment.astimezone(LOCAL_TZ).date()


def local_today() -> datetime.date:
    """Today in Asia/Almaty."""
    return local_day(timezone.now())
