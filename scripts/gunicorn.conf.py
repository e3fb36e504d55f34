"""gunicorn's settings for `scripts/serve-production.sh`, read from the environment (README: Deployment).

WEB_WORKERS processes of WEB_THREADS threads each. The app keeps nothing in process memory between requests, so
any number of them, on any number of machines, serve the same site.
"""

import multiprocessing
import os

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
