"""A parallel run (pytest-xdist, `make test`) gives each test process its own Redis database.

Loaded with `-p tests.parallel` before Django's settings are read: the process `gw1` counts one database down from
the one `REDIS_URL` names, so one process's `cache.clear()`, throttles and Celery queues never reach another's. The
PostgreSQL test database is already per process (pytest-django adds `_gw0`, `_gw1`). A run without xdist is untouched.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

REDIS_DATABASES = 16


def redis_url_for_worker(url: str, worker: str) -> str:
    """`url` with its database number moved down by the worker's index (`gw0` keeps it), wrapping within 0-15."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    index = int(worker.removeprefix("gw"))
    return urlunsplit(parts._replace(path=f"/{(base - index) % REDIS_DATABASES}"))


_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    for _name in ("REDIS_URL", "CELERY_BROKER_URL"):
        if os.environ.get(_name, "").startswith("redis"):
            os.environ[_name] = redis_url_for_worker(os.environ[_name], _worker)


# Files that take minutes (the demo country seeded once for a class of page walks): handed out first, so the other
# process works through the rest meanwhile instead of waiting for them at the end.
LONGEST_FIRST = ("tests/test_seed_demo.py",)


def pytest_collection_modifyitems(config, items) -> None:
    """Under xdist, the longest files go first; the order within a file, and a run without xdist, stay as written."""
    if not _worker:
        return
    rank = {path: position for position, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))
