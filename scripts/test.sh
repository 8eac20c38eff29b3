#!/usr/bin/env bash
# Command 2: install the test dependencies and run the whole suite — on SQLite + embedded Redis,
# and again on PostgreSQL + Redis when they are (or can be started) on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e '.[test]' 2>&1 | grep -v "WARNING: Location" || true

# Browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
  else
    echo "chromium is missing and this is not root: install Debian's chromium package" >&2
  fi
fi

start_services() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 1 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && command -v redis-server >/dev/null; then
    mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
    for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
  fi
}

# Random order (pytest-randomly): each run shuffles modules and the tests in them. The seed is
# printed; CRM_TEST_SEED=N runs the same order again.
seed() { echo "${CRM_TEST_SEED:-$(( (RANDOM << 15) | RANDOM ))}"; }

SEED=$(seed)
echo "== suite on SQLite + embedded Redis (order: --randomly-seed=$SEED)"
.venv/bin/python -m pytest -q -p no:cacheprovider -p randomly --randomly-seed="$SEED" "$@"

start_services
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  SEED=$(seed)
  echo "== suite on PostgreSQL + Redis (127.0.0.1) (order: --randomly-seed=$SEED)"
  CRM_TEST_POSTGRES=postgresql://postgres@127.0.0.1:5432/postgres \
  CRM_TEST_REDIS_URL=redis://127.0.0.1:6379/0 \
    .venv/bin/python -m pytest -q -p no:cacheprovider -p randomly --randomly-seed="$SEED" "$@"
elif [ "${CI:-}" = true ]; then
  echo "PostgreSQL or Redis is not reachable on 127.0.0.1 and could not be started" >&2
  exit 1
else
  echo "== PostgreSQL/Redis not reachable on 127.0.0.1: skipped the second run"
fi
