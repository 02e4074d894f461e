#!/usr/bin/env bash
# caseledger against PostgreSQL 15 on this machine, in one report.
#
# Installs postgresql-15 and libpq-dev from Debian if missing, builds
# caseledger_bench (with libpq), starts a private PostgreSQL cluster in a
# temporary directory (initdb; no TCP listener at all: listen_addresses=''
# and only a Unix socket in a private directory of mode 700, so trust
# authentication admits only this user (and root); fsync on,
# synchronous_commit on, otherwise Debian's defaults), runs
# `caseledger_bench --mode=compare` against it, then stops the cluster and
# removes the directory (also on failure or Ctrl-C).
#
# Usage: tools/compare_postgres.sh [extra caseledger_bench flags]
#   e.g. tools/compare_postgres.sh --seconds=5 --runs=3 --writers=1,16
# Env: JOBS (build parallelism, default 2), BUILD_DIR (default build),
#      BENCH (a caseledger_bench built with libpq: skips the build),
#      TMPDIR (where the cluster and the bench data go).
# Must run as root (it installs packages and runs the cluster as the
# `postgres` user the package creates) or as a user that can run initdb.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-2}"
BUILD_DIR="${BUILD_DIR:-build}"

missing=()
for p in postgresql-15 libpq-dev; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "compare: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
PGBIN=/usr/lib/postgresql/15/bin

if [ -z "${BENCH:-}" ]; then
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD_DIR" -j "$JOBS" --target caseledger_bench >/dev/null
  BENCH="$BUILD_DIR/tools/caseledger_bench"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/caseledger_compare.XXXXXX")
pgdata="$work/pgdata"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$work"
  chmod 700 "$work"
  as_pg=(runuser -u postgres --)
fi
cleanup() {
  if [ -f "$pgdata/postmaster.pid" ]; then
    "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$pgdata" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The socket directory is private (mode 700, owned by the cluster's user):
# with --auth=trust, reaching the socket is the only way in.
sock="$work/sock"
mkdir -m 700 "$sock"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$sock"; fi
port=5432  # names the socket file only; nothing listens on TCP

"${as_pg[@]}" "$PGBIN/initdb" -D "$pgdata" -U postgres --auth=trust \
  --encoding=UTF8 --locale=C.UTF-8 >/dev/null
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$pgdata" -l "$work/postgres.log" -w \
  -o "-c listen_addresses='' -c port=$port -c unix_socket_directories=$sock -c unix_socket_permissions=0700 -c fsync=on -c synchronous_commit=on -c max_connections=300" \
  start >/dev/null

# The bench's own data (caseledger logs) beside the cluster's, same disk.
mkdir -p "$work/bench"
"$BENCH" --mode=compare \
  --pg="host=$sock port=$port dbname=postgres user=postgres" \
  --dir="$work/bench" --writers=1,16 --batch=1,10 "$@"
