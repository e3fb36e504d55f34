"""Point the in-process Celery app (the one `queue_deliveries` publishes with) at another broker, then back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from kombu import pools

from coordination import celery_app


def _drop_connections() -> None:
    # The app caches a connection pool and a producer pool built for the broker URL of the moment; closing them
    # and clearing the caches (as Celery itself does after a fork) makes the next publish use the current URL.
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    producers = celery_app.amqp._producer_pool
    if producers is not None:
        producers.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    # kombu keeps its producer pools in a registry per connection: the closed one would be handed out again to the
    # next publish on the same broker ("Acquire on closed pool").
    pools.reset()


@contextmanager
def celery_app_on(url: str) -> Iterator[None]:
    conf = celery_app.conf
    before = (conf.broker_url, conf.broker_transport_options)
    _drop_connections()
    conf.broker_url, conf.broker_transport_options = url, {"visibility_timeout": 3600}
    try:
        yield
    finally:
        _drop_connections()
        conf.broker_url, conf.broker_transport_options = before
