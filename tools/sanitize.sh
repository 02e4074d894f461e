#!/usr/bin/env bash
# Builds and runs the whole test suite under a sanitizer; fails on any report.
# Usage: tools/sanitize.sh asan   (AddressSanitizer + UndefinedBehaviorSanitizer)
#        tools/sanitize.sh tsan   (ThreadSanitizer)
# Builds in build-asan / build-tsan. Env: JOBS (default 2).
#
# tsan: a library not built with ThreadSanitizer is invisible to it (only
# its intercepted libc calls are seen), so its own synchronisation (atomics,
# absl::Mutex, gRPC's completion queues and combiners, RocksDB's memtable
# publication) is not seen and everything ordered by it looks like a race.
# tools/tsan_deps.sh first builds Debian's own source packages of Abseil,
# protobuf, RocksDB and gRPC with -fsanitize=thread into build-tsan-deps/
# (once; see README "Sanitizers" for the times); the tsan build compiles and
# links against them (explicit *_DIR / library paths, so no Debian copy is
# picked from an old cache), RUNPATH and LD_LIBRARY_PATH point the loader at
# them, and before the tests run the script checks with ldd that a test
# binary loads only the instrumented copies of Abseil, protobuf and gRPC
# and was linked against the instrumented librocksdb.a. OpenSSL, c-ares,
# re2, zlib and the compression libraries stay Debian's (tools/tsan.supp).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
kind="${1:-asan}"
extra=()
test_env=()
case "$kind" in
  asan)
    flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    ;;
  tsan)
    # TSAN_DEPS (default all four) picks which dependencies are the
    # instrumented copies; the others stay Debian's (only to measure a
    # partial setup: a clean run needs all four).
    tsan_deps="${TSAN_DEPS:-absl protobuf rocksdb grpc}"
    # shellcheck disable=SC2086
    tools/tsan_deps.sh $tsan_deps
    deps="$(pwd)/build-tsan-deps"
    sys="/usr/lib/$(gcc -print-multiarch)"
    use() { [[ " $tsan_deps " == *" $1 "* ]]; }
    libs=""
    pb="$sys/libprotobuf.so" pbl="$sys/libprotobuf-lite.so" pbi=/usr/include
    absl_dir="$sys/cmake/absl" grpc_dir="$sys/cmake/grpc" rocksdb_dir="$sys/cmake/rocksdb"
    check='-none-'
    if use absl; then
      absl_dir="$deps/absl/lib/cmake/absl" libs="$deps/absl/lib"; check="$check|absl_"
    fi
    if use protobuf; then
      pb="$deps/protobuf/lib/libprotobuf.so" pbl="$deps/protobuf/lib/libprotobuf-lite.so"
      pbi="$deps/protobuf/include" libs="$deps/protobuf/lib${libs:+:$libs}"
      check="$check|protobuf"
    fi
    use rocksdb && rocksdb_dir="$deps/rocksdb/lib/cmake/rocksdb"
    if use grpc; then
      grpc_dir="$deps/grpc/lib/cmake/grpc" libs="$deps/grpc/lib${libs:+:$libs}"
      check="$check|grpc|gpr|upb|address_sorting"
    fi
    flags="-fsanitize=thread -fno-omit-frame-pointer"
    # Every location explicit (and Debian's when a dependency is not
    # selected), so nothing stale is taken from build-tsan's cache.
    extra=(-Dabsl_DIR="$absl_dir" -DgRPC_DIR="$grpc_dir" -DRocksDB_DIR="$rocksdb_dir"
           -DProtobuf_INCLUDE_DIR="$pbi"
           -DProtobuf_LIBRARY="$pb" -DProtobuf_LIBRARY_RELEASE="$pb"
           -DProtobuf_LIBRARY_DEBUG="$pb" -DProtobuf_LITE_LIBRARY="$pbl"
           -DProtobuf_LITE_LIBRARY_RELEASE="$pbl" -DProtobuf_LITE_LIBRARY_DEBUG="$pbl"
           -DCMAKE_BUILD_RPATH="${libs//:/;}")
    # LD_LIBRARY_PATH only for the tests: during the build the system protoc
    # and grpc_cpp_plugin must keep Debian's (uninstrumented) libprotobuf.
    test_env=(env "LD_LIBRARY_PATH=$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
    # tools/tsan.supp: reports wholly inside Abseil's own bookkeeping and
    # inside still-uninstrumented C libraries (each entry says why); none
    # matches our code.
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$(pwd)/tools/tsan.supp"
    ;;
  *) echo "usage: tools/sanitize.sh asan|tsan" >&2; exit 2 ;;
esac
dir="build-$kind"
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
start=$(date +%s)
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
  "${extra[@]}" >/dev/null
cmake --build "$dir" -j "${JOBS:-2}"
built=$(date +%s)
if [ "$kind" = tsan ]; then
  # Exactly one copy of each instrumented library may be in the process:
  # a Debian copy slipping in (an old cache, a missing soname) would hide
  # its synchronisation from TSan again.
  probe="$dir/tests/services/ledger_server_test"
  loaded="$("${test_env[@]}" ldd "$probe")"
  bad="$(grep -E "^\s*lib($check)" <<<"$loaded" | grep -v "=> $deps/" || true)"
  if [ -n "$bad" ]; then
    echo "sanitize tsan: $probe loads uninstrumented copies:" >&2
    echo "$bad" >&2
    exit 1
  fi
  if use rocksdb && ! grep -q "$deps/rocksdb/lib/librocksdb.a" \
      "$dir/tests/services/CMakeFiles/ledger_server_test.dir/link.txt"; then
    echo "sanitize tsan: $probe not linked against the instrumented librocksdb.a" >&2
    exit 1
  fi
  echo "sanitize tsan: instrumented $tsan_deps; $probe loads" \
    "$(grep -cE "=> $deps/" <<<"$loaded") libraries from build-tsan-deps, no Debian copy of them"
fi
cd "$dir"
"${test_env[@]}" ctest --output-on-failure -j "${JOBS:-2}" --timeout 1800
note=""
[ "$kind" = tsan ] && note=" (instrumented: $tsan_deps)"
echo "sanitize $kind: clean$note; build $(( built - start )) s, tests $(( $(date +%s) - built )) s"
