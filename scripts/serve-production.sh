#!/usr/bin/env bash
# The production web server: gunicorn on the WSGI app, on HOST:PORT, WEB_WORKERS processes of WEB_THREADS threads.
# Settings come from the environment (README: Deployment); static files must be collected first
# (`manage.py collectstatic`), migrations applied (`manage.py migrate`). Runs in the foreground; stop with SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/gunicorn --config scripts/gunicorn.conf.py coordination.wsgi:application "$@"
