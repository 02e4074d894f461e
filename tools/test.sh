#!/usr/bin/env bash
# The README's test command: installs what is missing (Debian packages),
# builds everything and runs the whole test suite with CTest, then builds
# the libFuzzer targets with clang-14 (ASan+UBSan, in build-fuzz) and runs
# each for a fixed number of inputs from the demo caseload seeds
# (tools/fuzz.sh ci; FUZZ_RUNS, default 5000). Any test failure or fuzzer
# crash fails the run.
# Usage: tools/test.sh            (from anywhere; builds in ./build)
# Env:   JOBS (default 2), BUILD_DIR (default build), BUILD_TYPE (RelWithDebInfo)
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
JOBS="${JOBS:-2}"
BUILD_DIR="${BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
(cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS" --timeout 900)
JOBS="$JOBS" tools/fuzz.sh ci
