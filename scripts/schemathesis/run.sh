#!/usr/bin/env bash
# Property-based API tests: a pinned schemathesis, installed into a venv outside the
# checkout, runs against an embedded appliance on a free port with a temp data folder, over the
# collector, stats and admin REST routes of /api/openapi.json, a bounded number of cases each.
# Fails on server errors, responses that do not match the document, and valid requests refused
# other than with the documented auth and unknown-site answers (401, 403, 404).
#   scripts/schemathesis/run.sh            (SCHEMATHESIS_MAX_EXAMPLES=30 by default)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SCHEMATHESIS_VERSION=4.32.5
CACHE=${ALMANAC_CACHE:-$HOME/.cache/almanac}
VENV=$CACHE/venv-schemathesis
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-30}

if [ "$("$VENV/bin/schemathesis" --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

DATA=$(mktemp -d "${TMPDIR:-/tmp}/almanac-schemathesis-XXXXXX")
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
BASE=http://127.0.0.1:$PORT
APP_PID=
cleanup() {
  [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null && wait "$APP_PID" 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT

echo "== embedded appliance on $BASE (data in $DATA)"
ALMANAC_DATA_DIR=$DATA ALMANAC_PORT=$PORT ALMANAC_HOST=127.0.0.1 ALMANAC_PUBLIC_URL=$BASE \
  node appliance/bin/almanac.mjs start >"$DATA/appliance.log" 2>&1 &
APP_PID=$!
for _ in $(seq 1 120); do
  curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
  kill -0 "$APP_PID" 2>/dev/null || { cat "$DATA/appliance.log"; exit 1; }
  sleep 0.5
done
curl -fsS "$BASE/healthz" >/dev/null || { echo "the appliance did not become ready"; cat "$DATA/appliance.log"; exit 1; }

cred() { node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"))[process.argv[2]])' "$DATA/credentials.json" "$1"; }
export ALMANAC_ST_TRACKING_ID=$(cred trackingId) ALMANAC_ST_TENANT_ID=$(cred tenantId)
ADMIN_KEY=$(cred adminApiKey)
SERVER_KEY=$(cred serverKey)

echo "== schemathesis $SCHEMATHESIS_VERSION, at most $MAX_EXAMPLES examples per operation"
# hooks.py: the documented cross-parameter and time-relative rules (see its header).
# Run from the data folder: schemathesis keeps its example database in ./.schemathesis.
cd "$DATA"
SCHEMATHESIS_HOOKS=hooks PYTHONPATH=$ROOT/scripts/schemathesis \
  "$VENV/bin/schemathesis" --config-file "$ROOT/scripts/schemathesis/schemathesis.toml" run "$BASE/api/openapi.json" \
  --url "$BASE" \
  -H "Authorization: Bearer $ADMIN_KEY" -H "X-Almanac-Key: $SERVER_KEY" \
  --max-examples "$MAX_EXAMPLES" --seed "${SCHEMATHESIS_SEED:-11}" \
  --exclude-path-regex '^/(tracker\.js|px\.gif)$' \
  --report junit --report-dir "${SCHEMATHESIS_REPORT_DIR:-$DATA/report}"
