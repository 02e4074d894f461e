#!/usr/bin/env bash
# The long crash loop: caseledgerd SIGKILLed CYCLES times (default 1000) at
# seeded numbers of acknowledged appends while four clients append the demo
# caseload over gRPC; after every CHECK_EVERY-th kill (default 10, and after
# the last) the data directory is checked in full (acknowledged events,
# gap-free chains, projections equal to a clean rebuild). The CI suite runs
# the same test with 20 cycles (tests/services/crash_loop_test.cc).
# Bounded: each cycle ends at <= 24 acknowledged appends, and the whole run
# is stopped after TIMEOUT seconds (default 10800). Loopback only.
# Usage: tools/crash_loop.sh [CYCLES] [SEED]
# Env: CHECK_EVERY, TIMEOUT, JOBS (default 2), BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
BUILD_DIR="${BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j "${JOBS:-2}" --target crash_loop_test caseledgerd
export CASELEDGER_CRASH_CYCLES="${1:-1000}"
export CASELEDGER_CRASH_SEED="${2:-1}"
export CASELEDGER_CRASH_CHECK_EVERY="${CHECK_EVERY:-10}"
start=$(date +%s)
timeout "${TIMEOUT:-10800}" "$BUILD_DIR"/tests/services/crash_loop_test \
  --gtest_brief=1
echo "crash_loop: $CASELEDGER_CRASH_CYCLES cycles, seed $CASELEDGER_CRASH_SEED, $(( $(date +%s) - start )) s"
