#!/usr/bin/env bash
# The README's first command: installs what is missing (Debian packages),
# builds, starts caseledgerd on an embedded RocksDB data directory (./data),
# loads the deterministic demo caseload through the API, prints what to try
# next, and keeps the server in the foreground until Ctrl-C (graceful
# shutdown).
# Env: DATA_DIR (default data), LISTEN (default 127.0.0.1:50051),
#      DEMO_CASES (default 60), JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
JOBS="${JOBS:-2}"
DATA_DIR="${DATA_DIR:-data}"
LISTEN="${LISTEN:-127.0.0.1:50051}"
DEMO_CASES="${DEMO_CASES:-60}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$JOBS" --target caseledgerd casectl
CASECTL="build/tools/casectl/casectl --server=$LISTEN"

build/services/caseledgerd --data_dir="$DATA_DIR" --listen="$LISTEN" &
server=$!
trap 'kill -TERM "$server" 2>/dev/null || true; wait "$server" || true' INT TERM
for _ in $(seq 1 150); do
  if $CASECTL --timeout=1 status >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "run: caseledgerd did not start (see above)" >&2
    exit 1
  fi
  sleep 0.2
done
$CASECTL demo --cases="$DEMO_CASES" --seed=1

cat <<MSG

caseledgerd is serving on $LISTEN with data in $DATA_DIR (Ctrl-C stops it).
Try, in another terminal:
  $CASECTL plan case-000001
  $CASECTL timeline case-000001
  $CASECTL history case-000001
  $CASECTL metrics --by=program
  $CASECTL verify
  $CASECTL status
  $CASECTL tail --from=1
  $CASECTL export --out=ledger.jsonl
  $CASECTL --help
MSG
wait "$server"
