# Two commands for a new machine: `make run` serves the demo, `make test` runs the whole suite on PostGIS and Redis.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgis://root@127.0.0.1:5432/test
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# The suite runs in this many processes (pytest-xdist), each on its own databases (tests/parallel.py); 0 runs it in one.
# Tests are handed out one by one in pytest-django's order (tests that commit after those that roll back), which a
# file-by-file split would break: a committing test empties the tables for the next file's tests.
TEST_PROCESSES ?= 2

.PHONY: help run test lint format messages bench load system-run system-test venv browser-checks

help:
	@echo "make run    install what is missing, migrate, seed the demo once, serve with a Celery worker and beat"
	@echo "make test   install what is missing and run the whole suite on PostGIS and Redis"
	@echo "make load   200 simulated people against the production server (gunicorn, Celery) on loopback"

system-run:
	@scripts/system-deps.sh run

system-test:
	@scripts/system-deps.sh test

browser-checks:
	@scripts/node-deps.sh test

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $$(scripts/python-for-venv.sh) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

run: system-run venv
	@mkdir -p var
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-1} $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0
	@DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo --once
	@DEBUG=$${DEBUG:-1} HOST=$(HOST) PORT=$(PORT) scripts/serve.sh

test: system-test venv browser-checks
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) DEBUG=1 $(PY) manage.py check
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v 0
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) DEBUG=1 $(PY) -m pytest -q -n $(TEST_PROCESSES) --dist load $(PYTEST_ARGS)

# BENCH picks the benchmarks (default all nine): BENCH=reminders, BENCH=messengers (10,000 reminders split between
# WhatsApp and Telegram through two workers to local API servers), BENCH=dashboard, BENCH=duty (500 phones on duty:
# position writes, the live board, CPU per position), BENCH=sos (50 alarms to the inspector's phone),
# BENCH=nominations (a district's quarterly proposal for rewards for 2,000 volunteers with a year of shifts and
# reports: time and queries), BENCH=exports (exports of 10,000, 100,000 and 1,000,000 reports as CSV, XLSX and
# GeoJSON: seconds, CPU and the writing process's peak memory; its database bench_exports is kept between runs),
# BENCH=phone_audit (Lighthouse on the phone pages and screenshots of each home) or BENCH=phone_sync (a phone back
# online with 50 queued reports of two photos each on DevTools' Slow 3G, the connection dropped mid-upload: the time
# to the last one stored, every report once and in order); BENCH_ARGS go to each one run.
BENCH ?= reminders messengers dashboard duty sos nominations exports phone_audit phone_sync
bench: system-test venv
	@scripts/node-deps.sh bench
	@set -e; for name in $(BENCH); do $(PY) bench/$$name.py $(BENCH_ARGS); done

# Settings: LOAD_DATABASE_URL, LOAD_REDIS_URL, LOAD_USERS, LOAD_DURATION, WEB_WORKERS, WEB_THREADS (see bench/load.py).
load: system-test venv
	$(PY) bench/load.py $(LOAD_ARGS)

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: venv
	DEBUG=1 $(PY) manage.py makemessages -l kk -l ru -l en --ignore=.venv --ignore=var --ignore=node_modules --no-obsolete
	DEBUG=1 $(PY) manage.py makemessages -d djangojs -l kk -l ru -l en --ignore=.venv --ignore=var --ignore=static/vendor --ignore=node_modules --no-obsolete
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules
