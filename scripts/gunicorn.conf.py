"""gunicorn's settings for `scripts/serve-production.sh`, read from the environment (README: Deployment).

WEB_WORKERS processes of WEB_THREADS threads each. The app keeps nothing in process memory between requests, so
any number of them, on any number of machines, serve the same site.
"""

import itertools
import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("WEB_BIND") or f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS") or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("WEB_THREADS") or 1)
worker_class = "gthread" if threads > 1 else "sync"
# A request that takes longer is a bug or a stuck query: the worker is replaced, the others go on.
timeout = int(os.environ.get("WEB_TIMEOUT") or 30)
graceful_timeout = 20
keepalive = 5
# Workers are replaced now and then, so a slow leak in a library never grows for weeks.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS") or 5000)
max_requests_jitter = max_requests // 10
# The load balancer's X-Forwarded-* headers are believed from these addresses only.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("WEB_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("WEB_LOG_LEVEL", "info")
proc_name = "patrol-web"
# gunicorn's control socket is one path per user: several servers on one machine (a test runs two) would share it.
control_socket_disable = True

# Metrics (patrols/services/metrics.py): each worker process counts its requests in files of its own in
# PROMETHEUS_MULTIPROC_DIR, and a scrape of any worker adds up all of them. Without the variable, a folder of this
# server's own is made (in the unit's private /tmp) and removed at exit; a given one is emptied at start, since files
# of an earlier run would be counted again, and must not be shared with another server. The config is read again on
# a reload (SIGHUP): the folder made the first time is kept.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="patrol-metrics-")
    os.environ["PATROL_METRICS_DIR_MADE"] = "1"


def on_starting(server) -> None:
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def pre_fork(server, worker) -> None:
    """A new worker takes the lowest slot no live worker holds. Its files are named by the slot, not by its pid: a
    worker renewed after WEB_MAX_REQUESTS carries on its predecessor's counts in the same files, and the folder
    holds a few files however often workers are renewed (by pid, it would grow by two files each time)."""
    taken = {getattr(other, "metrics_slot", None) for other in server.WORKERS.values()}
    worker.metrics_slot = next(slot for slot in itertools.count() if slot not in taken)


def post_fork(server, worker) -> None:
    # Before the app is loaded, so every metric is created on the slot's files.
    from prometheus_client import values

    identifier = f"slot{worker.metrics_slot}"
    values.ValueClass = values.MultiProcessValue(process_identifier=lambda: identifier)


def post_worker_init(worker) -> None:
    """The URLs, and with them every view, serializer and service, are loaded before the worker takes a request,
    not during its first one: a worker renewed after WEB_MAX_REQUESTS does not keep its first caller waiting for a
    second of imports."""
    from django.urls import get_resolver

    loaded = get_resolver().url_patterns
    worker.log.debug("%d URL patterns loaded", len(loaded))


def on_exit(server) -> None:
    if os.environ.get("PATROL_METRICS_DIR_MADE") == "1":
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
