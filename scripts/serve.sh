#!/usr/bin/env bash
# Serve the app with a Celery worker and beat beside it; stop them all on Ctrl+C.
set -euo pipefail
PY=.venv/bin/python
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
# The filesystem broker (no Redis on this machine) lists these folders from its first poll.
VAR=${VAR_DIR:-var}
mkdir -p "$VAR/log" "$VAR/broker/queue" "$VAR/broker/processed"

.venv/bin/celery -A coordination worker --loglevel=INFO --concurrency=2 >var/log/worker.log 2>&1 &
worker=$!
.venv/bin/celery -A coordination beat --loglevel=INFO >var/log/beat.log 2>&1 &
beat=$!
trap 'kill $worker $beat 2>/dev/null; wait 2>/dev/null' EXIT INT TERM

broker=$($PY -c 'import django, os; os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coordination.settings"); django.setup(); from django.conf import settings; print(settings.CELERY_BROKER_URL.split("://")[0])')
cat <<TXT

  Volunteer patrol coordination is running at http://$HOST:$PORT/
  Celery worker and beat are running (broker: $broker; logs in var/log/).

  Demo logins (password: demo12345):
    volunteer  leader  inspector  chief  analyst  admin

  Stop with Ctrl+C.

TXT
exec_pid=0
$PY manage.py runserver "$HOST:$PORT" --noreload &
exec_pid=$!
wait $exec_pid
