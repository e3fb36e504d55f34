#!/usr/bin/env bash
# Install the system packages the app needs, only those missing, and only when we can (root with apt).
#   scripts/system-deps.sh run    GDAL, SpatiaLite, python3-venv, gettext
#   scripts/system-deps.sh test   the same plus PostGIS and Chromium (browser tests), the PostgreSQL client, nginx
#                                 and openssl (restore drill, deploy/ checks), promtool (the alert rules and /metrics),
#                                 and PostgreSQL/Redis started when they do not answer
set -euo pipefail
mode=${1:-run}

need=(gdal-bin libsqlite3-mod-spatialite python3-venv gettext)
if [ "$mode" = test ]; then
  # The browser tests drive Debian's Chromium through Playwright (its own browser download does not work here).
  need+=(chromium)
  # The restore drill runs pg_dump and pg_restore; the deploy/ tests check the nginx site (nginx -t, then served on
  # loopback with a self-signed certificate) and the systemd units (systemd-analyze, part of systemd).
  command -v pg_dump >/dev/null 2>&1 || need+=(postgresql-client)
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    need+=(postgresql)
  fi
  # The delivery tests start their own Redis (to stop and restart it): the server binary must be here.
  command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
fi

missing=()
for pkg in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "Missing system packages: $*. Install them (as root: apt-get install $*) and run again." >&2
    exit 1
  fi
  echo "Installing system packages: $*"
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

if [ "$mode" = test ] && [ ! -x /usr/bin/promtool ]; then
  # promtool checks deploy/prometheus/ and the app's /metrics (tests/test_metrics.py); Debian ships it in the
  # prometheus package. Only the tool is wanted: no recommended extras, and the server it starts is stopped again.
  apt_install --no-install-recommends prometheus
  if [ -d /run/systemd/system ]; then systemctl disable --now prometheus >/dev/null 2>&1 || true; fi
fi

if [ "$mode" = test ]; then
  # PostGIS for the PostgreSQL version installed here.
  pgver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
  if [ -n "$pgver" ] && ! dpkg-query -W -f='${Status}' "postgresql-$pgver-postgis-3" 2>/dev/null | grep -q "install ok installed"; then
    apt_install "postgresql-$pgver-postgis-3"
  fi
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "Starting PostgreSQL $pgver"
    pg_ctlcluster --skip-systemctl-redirect "$pgver" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "Starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done
  fi
  # The test role and database exist on CI machines; on a fresh machine, create them (trust or peer auth as postgres).
  if ! psql -h 127.0.0.1 -U "${PGUSER:-root}" -d postgres -tAc 'select 1' >/dev/null 2>&1; then
    su postgres -c "psql -tAc \"CREATE ROLE ${PGUSER:-root} SUPERUSER LOGIN\"" >/dev/null 2>&1 || true
  fi
  if ! psql -h 127.0.0.1 -U "${PGUSER:-root}" -d test -tAc 'select 1' >/dev/null 2>&1; then
    psql -h 127.0.0.1 -U "${PGUSER:-root}" -d postgres -tAc "CREATE DATABASE test" >/dev/null
  fi
  psql -h 127.0.0.1 -U "${PGUSER:-root}" -d test -qtAc "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
fi
