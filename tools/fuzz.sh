#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang-14 + ASan/UBSan in
# build-fuzz (-O1 -gline-tables-only, as fuzzing builds usually are: a
# quicker build, and the sanitizers need no more), writes seed corpora from
# the demo caseload, and runs each target. Fails on any crash, sanitizer
# report or broken invariant (the crashing input is left in build-fuzz/ as
# crash-*).
# Usage: tools/fuzz.sh ci     each target for FUZZ_RUNS inputs (default
#                             5000) from the seeds, with a fixed -seed=1
#                             (the same mutations each run); tools/test.sh
#                             runs this
#        tools/fuzz.sh long   each target for FUZZ_SECONDS (default 600),
#                             corpora kept in build-fuzz/corpus across runs
# Needs clang-14 and libclang-rt-14-dev (in tools/setup.sh's list).
# Env: JOBS (default 2), FUZZ_DIR (default build-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-ci}"
case "$mode" in
  ci) limit=(-runs="${FUZZ_RUNS:-5000}" -seed=1) ;;
  long) limit=(-max_total_time="${FUZZ_SECONDS:-600}") ;;
  *) echo "usage: tools/fuzz.sh ci|long" >&2; exit 2 ;;
esac
if ! command -v clang++-14 >/dev/null; then
  echo "fuzz: clang++-14 not found: apt-get install -y clang-14 libclang-rt-14-dev" >&2
  exit 1
fi
targets=(stored_event append_request event_json server_config policy)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
flags="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer"
dir="${FUZZ_DIR:-build-fuzz}"
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
  -DCMAKE_CXX_COMPILER=clang++-14 "${launcher[@]}" -DCASELEDGER_FUZZ=ON \
  -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$dir" -j "${JOBS:-2}" --target caseledger_fuzz_seeds \
  "${targets[@]/%/_fuzzer}"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$dir"
rm -rf seeds
tests/fuzz/caseledger_fuzz_seeds seeds
for t in "${targets[@]}"; do
  corpus="corpus/$t"
  [ "$mode" = ci ] && corpus="corpus-ci/$t" && rm -rf "$corpus"
  mkdir -p "$corpus"
  start=$(date +%s)
  tests/fuzz/"$t"_fuzzer "${limit[@]}" -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 "$corpus" "seeds/$t" 2>"$t.log" || {
      tail -60 "$t.log" >&2
      echo "fuzz: $t FAILED (log: $dir/$t.log)" >&2
      exit 1
    }
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$t.log" | grep -o '[0-9]*$' || true)
  echo "fuzz: $t ok: ${runs:-?} inputs in $(( $(date +%s) - start )) s, corpus $(ls "$corpus" | wc -l) files"
done
