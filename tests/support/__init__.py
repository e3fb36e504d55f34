"""Real processes for the integration tests and the benchmark: an own Redis server, an SMTP sink, Celery workers.

Each is started on a free loopback port and stopped by its owner, so tests can stop and restart them without
touching the machine's shared services.
"""
