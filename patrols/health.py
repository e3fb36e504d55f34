"""`GET /healthz`: is the database answering, and the broker?"""

from pathlib import Path

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


def database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any failure means "not ok"; the reason is shown
        return f"error: {error.__class__.__name__}"
    return "ok"


def broker_state() -> str:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        return "ok" if folder.is_dir() or not folder.exists() else "error: not a folder"
    if url.startswith(("redis://", "rediss://")):
        try:
            redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
        except redis.RedisError as error:
            return f"error: {error.__class__.__name__}"
        return "ok"
    return "unknown"


@never_cache
def healthz(request):
    database, broker = database_state(), broker_state()
    body = {
        "status": "ok" if database == "ok" and broker == "ok" else "degraded",
        "database": database,
        "broker": broker,
        "broker_kind": settings.CELERY_BROKER_URL.split("://", 1)[0],
    }
    # The app cannot work without its database; without the broker, writes still work and tasks wait.
    return JsonResponse(body, status=200 if database == "ok" else 503)
