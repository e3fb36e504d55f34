"""Metrics for Prometheus (`GET /metrics`): the web's requests, and the app's own state read when it is scraped.

Requests are counted per view, method and status, with their time, in each web process. gunicorn runs several
processes: with `PROMETHEUS_MULTIPROC_DIR` set (`scripts/gunicorn.conf.py` sets one up when it is not), every process
writes its counts to its own file there and a scrape of any process adds up all of them.

The app's gauges (`AppCollector`) are computed at every scrape from the database and Redis, a few indexed queries,
so any web process answers the same and nothing needs to be kept up to date meanwhile. The one thing a query
cannot tell, when a sweep last finished, the sweep itself writes to the cache (`sweep_succeeded`).
"""

from __future__ import annotations

import datetime
import hmac
import ipaddress
import os
import time
from collections.abc import Iterator

import redis
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, IntegerField, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from ..choices import DeliveryChannel, DeliveryStatus, ReportStatus, RosterImportStatus, SosKind, SosStatus
from ..health import database_state
from ..models import Delivery, District, Report, RosterImport, SosAlarm
from .sos import LAST_TIER

# No `_created` series beside each counter: Prometheus does not use them, and they double the lines of a scrape.
disable_created_metrics()
# Not in prometheus_client's global registry: each scrape builds its own (below), so nothing is collected twice.
REQUESTS = Counter(
    "patrol_http_requests",
    "HTTP requests answered, by view (the route's name, never the address), method and status.",
    ["view", "method", "status"],
    registry=None,
)
REQUEST_SECONDS = Histogram(
    "patrol_http_request_duration_seconds",
    "Time from the request reaching the app to its answer, by view, method and status.",
    ["view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=None,
)
# Any other method (a client may send anything) is counted as "other": labels stay few.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# The periodic sweeps whose last success is kept: the reminders and deliveries sweep (every minute) and the SOS clock
# (every 10 seconds).
SWEEPS = ("notifications", "sos")
_SWEEP_KEY = "metrics:sweep-succeeded:%s"
FAILED_WINDOW = datetime.timedelta(hours=1)


def request_observed(*, view: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request and its time."""
    labels = (view, method if method in METHODS else "other", str(status))
    REQUESTS.labels(*labels).inc()
    REQUEST_SECONDS.labels(*labels).observe(seconds)


def sweep_succeeded(name: str, *, at: float | None = None) -> None:
    """Note that sweep `name` has just finished (one cache write; Redis away, it is lost and the gauge ages)."""
    cache.set(_SWEEP_KEY % name, time.time() if at is None else at, timeout=None)


def scrape_allowed(*, authorization: str, address: str) -> bool:
    """A scrape is answered for the bearer token METRICS_TOKEN or from an address in METRICS_ALLOWED_IPS."""
    token = settings.METRICS_TOKEN
    scheme, _, credentials = authorization.partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode(), token.encode()):
        return True
    if not address or not settings.METRICS_ALLOWED_IPS:
        return False
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(network, strict=False) for network in settings.METRICS_ALLOWED_IPS)


def scrape_enabled() -> bool:
    """Metrics are off (the address does not exist) until a token or an address is configured."""
    return bool(settings.METRICS_TOKEN or settings.METRICS_ALLOWED_IPS)


def exposition(*, accept: str = "") -> tuple[bytes, str]:
    """The metrics as Prometheus's text format (or OpenMetrics when the scraper asks for it), with its content type."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(REQUEST_SECONDS)
    registry.register(AppCollector())
    encoder, content_type = choose_encoder(accept)
    return encoder(registry), content_type


def _gauge(name: str, documentation: str, value: float | None = None, labels: list[str] | None = None):
    family = GaugeMetricFamily(name, documentation, labels=labels)
    if value is not None:
        family.add_metric([], value)
    return family


_redis_clients: dict[str, redis.Redis] = {}


def _redis(url: str) -> redis.Redis:
    """One client per URL for this process: a scrape does not open a new connection each time."""
    client = _redis_clients.get(url)
    if client is None:
        client = _redis_clients[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    return client


def celery_queues() -> list[str]:
    """The queues the app's tasks go to (Celery's default one unless routes or queues are configured)."""
    from coordination import celery_app

    return sorted(celery_app.amqp.queues) or [celery_app.conf.task_default_queue]


def _queue_keys(queue: str) -> list[str]:
    # kombu's Redis transport keeps a queue as one list per priority step: the queue's own name for the default
    # priority, and the name plus a separator and the step for the others (kombu.transport.redis.PRIORITY_STEPS).
    return [queue, *(f"{queue}\x06\x16{step}" for step in (3, 6, 9))]


class AppCollector(Collector):
    """The app's own gauges, read at each scrape: what an operator is woken up for."""

    def collect(self) -> Iterator[Metric]:
        started = time.perf_counter()
        now = timezone.now()
        database_up = database_state() == "ok"
        yield _gauge("patrol_database_up", "1 when the database answers, 0 when it does not.", int(database_up))
        yield from self._redis()
        yield from self._sweeps()
        yield _gauge(
            "patrol_sos_ack_window_seconds",
            "SOS_ACK_SECONDS: an alarm nobody acknowledges within it goes to the next tier.",
            settings.SOS_ACK_SECONDS,
        )
        if database_up:
            yield from self._deliveries(now)
            yield from self._sos(now)
            yield from self._reports()
            yield from self._roster_imports(now)
        yield _gauge(
            "patrol_metrics_collect_seconds",
            "Time this scrape took to read the app's gauges.",
            time.perf_counter() - started,
        )

    def _redis(self) -> Iterator[Metric]:
        urls = [url for url in (settings.REDIS_URL, settings.CELERY_BROKER_URL) if url.startswith(("redis", "rediss"))]
        if not urls:
            return
        try:
            _redis(urls[0]).ping()
            up = 1
        except redis.RedisError:
            up = 0
        yield _gauge("patrol_redis_up", "1 when Redis (cache, sessions, throttles, broker) answers, 0 when not.", up)
        broker = settings.CELERY_BROKER_URL
        if not broker.startswith(("redis", "rediss")) or not up:
            return
        lengths = GaugeMetricFamily(
            "patrol_celery_queue_length", "Tasks waiting in the broker for a worker, per queue.", labels=["queue"]
        )
        try:
            pipe = _redis(broker).pipeline(transaction=False)
            queues = celery_queues()
            for queue in queues:
                for key in _queue_keys(queue):
                    pipe.llen(key)
            answers = pipe.execute()
        except redis.RedisError:
            return
        steps = len(_queue_keys(""))
        for index, queue in enumerate(queues):
            lengths.add_metric([queue], sum(answers[index * steps : (index + 1) * steps]))
        yield lengths

    def _sweeps(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "patrol_sweep_last_success_timestamp_seconds",
            "When each periodic sweep last finished without an error (Unix time); absent until it has.",
            labels=["sweep"],
        )
        for name, value in cache.get_many([_SWEEP_KEY % name for name in SWEEPS]).items():
            family.add_metric([name.rsplit(":", 1)[1]], float(value))
        yield family

    def _deliveries(self, now: datetime.datetime) -> Iterator[Metric]:
        pending = dict(
            Delivery.objects.filter(status=DeliveryStatus.PENDING)
            .order_by()
            .values_list("channel")
            .annotate(n=Count("pk"))
        )
        # A delivery that failed for good was queued for its last attempt just before (never queued: sent by the web
        # process itself while the broker was down, at its creation).
        since = now - FAILED_WINDOW
        failed = dict(
            Delivery.objects.filter(status=DeliveryStatus.FAILED)
            .filter(Q(queued_at__gte=since) | Q(queued_at__isnull=True, created_at__gte=since))
            .order_by()
            .values_list("channel")
            .annotate(n=Count("pk"))
        )
        waiting = GaugeMetricFamily(
            "patrol_deliveries_pending", "Deliveries waiting to be sent, per channel.", labels=["channel"]
        )
        gave_up = GaugeMetricFamily(
            "patrol_deliveries_failed_last_hour",
            "Deliveries that failed for good in the last hour, per channel.",
            labels=["channel"],
        )
        for channel in DeliveryChannel.values:
            waiting.add_metric([channel], pending.get(channel, 0))
            gave_up.add_metric([channel], failed.get(channel, 0))
        yield waiting
        yield gave_up

    def _sos(self, now: datetime.datetime) -> Iterator[Metric]:
        rows = (
            SosAlarm.objects.filter(status__in=(SosStatus.OPEN, SosStatus.ACKNOWLEDGED))
            .order_by()
            .values_list("kind", "status")
            .annotate(n=Count("pk"), oldest=Min("created_at"))
        )
        counts = {(kind, status): (n, oldest) for kind, status, n, oldest in rows}
        alarms = GaugeMetricFamily(
            "patrol_sos_alarms",
            "Alarms not yet resolved or cancelled, per kind (sos, missed_ok) and status (open, acknowledged).",
            labels=["kind", "status"],
        )
        oldest = GaugeMetricFamily(
            "patrol_sos_oldest_unacknowledged_age_seconds",
            "Age of the oldest alarm nobody has acknowledged yet, per kind; 0 when there is none.",
            labels=["kind"],
        )
        for kind in SosKind.values:
            for status in (SosStatus.OPEN, SosStatus.ACKNOWLEDGED):
                alarms.add_metric([kind, status], counts.get((kind, status), (0, None))[0])
            raised = counts.get((kind, SosStatus.OPEN), (0, None))[1]
            oldest.add_metric([kind], (now - raised).total_seconds() if raised else 0)
        yield alarms
        yield oldest
        # The escalation clock itself: an alarm whose next tier is overdue means the sweep or the workers are stuck.
        due = SosAlarm.objects.filter(
            kind=SosKind.SOS, status=SosStatus.OPEN, tier__lt=LAST_TIER, next_escalation_at__lt=now
        ).aggregate(first=Min("next_escalation_at"))["first"]
        yield _gauge(
            "patrol_sos_escalation_overdue_seconds",
            "How long past its time the most overdue escalation of an open SOS is; 0 when none is overdue.",
            (now - due).total_seconds() if due else 0,
        )

    def _reports(self) -> Iterator[Metric]:
        # One index lookup per district (district, status) rather than a count over every report.
        waiting = (
            Report.objects.filter(district=OuterRef("pk"), status=ReportStatus.SUBMITTED)
            .order_by()
            .values("district")
            .annotate(n=Count("pk"))
            .values("n")
        )
        rows = District.objects.annotate(
            waiting=Coalesce(Subquery(waiting, output_field=IntegerField()), 0)
        ).values_list("code", "waiting")
        family = GaugeMetricFamily(
            "patrol_reports_awaiting_verification",
            "Reports waiting for an inspector's verification, per district (code).",
            labels=["district"],
        )
        for code, count in rows.order_by("code"):
            family.add_metric([code], count)
        yield family

    def _roster_imports(self, now: datetime.datetime) -> Iterator[Metric]:
        first = RosterImport.objects.filter(
            status__in=(RosterImportStatus.PENDING, RosterImportStatus.RUNNING)
        ).aggregate(first=Min("created_at"))["first"]
        yield _gauge(
            "patrol_roster_import_oldest_running_age_seconds",
            "Age of the oldest roster import still waiting or running; 0 when there is none.",
            (now - first).total_seconds() if first else 0,
        )
