#!/usr/bin/env bash
# Builds Debian's own source packages of caseledger's C++ dependencies with
# ThreadSanitizer into private prefixes, for tools/sanitize.sh tsan only.
# Nothing else uses them; the normal build and CI never run this script.
#
#   build-tsan-deps/absl      abseil 20220623   shared, Debian's sonames
#   build-tsan-deps/protobuf  protobuf 3.21     libprotobuf.so.32 only
#   build-tsan-deps/rocksdb   rocksdb 7.8       static librocksdb.a + CMake config
#   build-tsan-deps/grpc      grpc 1.51         libgpr/libgrpc/libgrpc++/
#                             libgrpc++_reflection/libupb/libaddress_sorting,
#                             Debian's sonames, + CMake config
#
# Why: a library that is not built with -fsanitize=thread is invisible to
# TSan except for its intercepted libc calls, so its own synchronisation
# (atomics, absl::Mutex inlined into it, gRPC's combiners and completion
# queues, RocksDB's memtable publication) is not seen and the accesses around
# it look like races. With every C++ dependency instrumented, TSan sees the
# whole order. OpenSSL, c-ares, re2, zlib and RocksDB's compression
# libraries stay Debian's (gRPC and RocksDB are configured to use the system
# packages, as Debian's own debian/rules does).
#
# Each library is built from the Debian source package of exactly the
# version installed (`apt-get source`, checked against dpkg), with the
# options Debian's debian/rules uses where they affect the ABI or the
# provider of a dependency, plus "-fsanitize=thread -fno-omit-frame-pointer
# -g -O1"; only the library targets are built (no tests, tools, benchmarks
# or codegen plugins: the system protoc and grpc_cpp_plugin are used).
# Shared libraries keep Debian's sonames, so at run time the loader picks one
# copy of each (sanitize.sh puts the prefixes on LD_LIBRARY_PATH and checks
# that no Debian copy is loaded).
#
# Usage: tools/tsan_deps.sh [absl|protobuf|rocksdb|grpc ...]
#        (default: all four, in dependency order)
# Env: JOBS (default 2). Idempotent: a library whose prefix has .done is not
# rebuilt; its build time in seconds is in PREFIX/.build-seconds. Needs root
# (or sudo) for a deb-src entry (the same Debian mirror the system already
# uses) and dpkg-dev. Sources and build trees go to build-tsan-deps/src
# (gitignored); delete it to reclaim the space once everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
deps="$root/build-tsan-deps"
work="$deps/src"
jobs="${JOBS:-2}"
flags="-fsanitize=thread -fno-omit-frame-pointer -g -O1"
multiarch="$(gcc -print-multiarch)"
mkdir -p "$work"
launcher=()
command -v ccache >/dev/null &&
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

ensure_deb_src() {
  if ! apt-get source --print-uris abseil >/dev/null 2>&1; then
    # Same URIs/suites as the binary sources, with Types: deb-src.
    local found="" f
    for f in /etc/apt/sources.list.d/*.sources; do
      [ -f "$f" ] || continue
      if grep -q '^Types: deb$' "$f"; then found="$f"; break; fi
    done
    if [ -n "$found" ]; then
      sed 's/^Types: deb$/Types: deb-src/' "$found" |
        $SUDO tee /etc/apt/sources.list.d/caseledger-deb-src.sources >/dev/null
    else
      grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' |
        $SUDO tee /etc/apt/sources.list.d/caseledger-deb-src.list >/dev/null
    fi
    $SUDO apt-get update -qq
  fi
  command -v dpkg-source >/dev/null ||
    $SUDO apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null
}

# fetch SOURCE BINARY: unpacks the source package SOURCE at the version the
# installed binary package BINARY was built from; prints the source tree.
fetch() {
  local source="$1" binary="$2" version upstream dir
  version="$(dpkg-query -W -f='${source:Version}' "$binary")"
  upstream="${version#*:}"
  upstream="${upstream%-*}"
  dir="$work/$source-$upstream"
  if [ ! -d "$dir" ]; then
    (cd "$work" && apt-get source -qq "$source=$version" >/dev/null)
  fi
  [ -d "$dir" ] || { echo "tsan_deps: no $dir after apt-get source" >&2; exit 1; }
  echo "$dir"
}

# Every soname in SONAMES that Debian ships must exist in PREFIX/lib.
check_sonames() {
  local prefix="$1"; shift
  local name
  for name in "$@"; do
    [ -e "$prefix/lib/$name" ] || { echo "tsan_deps: $name not built" >&2; exit 1; }
  done
}

# install_built BUILD: installs what was built. Only some targets of the
# project were built, so the install script is told to skip the files of
# the others (OPTIONAL) instead of failing on them.
install_built() {
  sed -i -E 's/(TYPE (SHARED_LIBRARY|STATIC_LIBRARY|EXECUTABLE)) FILES/\1 OPTIONAL FILES/' \
    "$1/cmake_install.cmake"
  cmake --install "$1" >/dev/null
}

# drop_unbuilt_imports TARGETS_FILE: the installed CMake export still
# declares the targets that were not built; stop CMake from checking their
# files at find_package time (using one of them still fails the link).
drop_unbuilt_imports() {
  local file="$1" line target path
  grep -E '_(IMPORT_CHECK_FILES_FOR|cmake_import_check_files_for)_' "$file" |
    while read -r line; do
      target="$(sed -E 's/.*_for_([^ ]+) .*/\1/I' <<<"$line")"
      path="$(sed -E 's/.*"\$\{_IMPORT_PREFIX\}\/([^"]+)".*/\1/' <<<"$line")"
      if [ ! -e "$(dirname "$(dirname "$(dirname "$(dirname "$file")")")")/$path" ]; then
        sed -i -E "/_(IMPORT_CHECK_TARGETS|cmake_import_check_targets) ${target//+/\\+} \)/d; /_(IMPORT_CHECK_FILES_FOR|cmake_import_check_files_for)_${target//+/\\+} /d" "$file"
      fi
    done
}

done_mark() {
  local prefix="$1" start="$2"
  echo $(( $(date +%s) - start )) >"$prefix/.build-seconds"
  touch "$prefix/.done"
  echo "tsan_deps: $(basename "$prefix") instrumented in $prefix" \
    "($(cat "$prefix/.build-seconds") s, JOBS=$jobs)" >&2
}

build_absl() {
  local prefix="$deps/absl" src start
  [ -f "$prefix/.done" ] && return 0
  start=$(date +%s)
  src="$(fetch abseil libabsl-dev)"
  # Debian's patched absl/base/options.h fixes the ABI options (std types).
  cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_STANDARD=17 -DBUILD_SHARED_LIBS=ON -DBUILD_TESTING=OFF \
    -DABSL_PROPAGATE_CXX_STD=ON \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib >/dev/null
  cmake --build "$work/build" -j "$jobs" >/dev/null
  cmake --install "$work/build" >/dev/null
  local names=() lib
  for lib in "/usr/lib/$multiarch"/libabsl_*.so.*; do names+=("$(basename "$lib")"); done
  check_sonames "$prefix" "${names[@]}"
  done_mark "$prefix" "$start"
}

build_protobuf() {
  local prefix="$deps/protobuf" src start
  [ -f "$prefix/.done" ] && return 0
  start=$(date +%s)
  src="$(fetch protobuf libprotobuf-dev)"
  # Debian builds with autotools (zlib on); the CMake build makes the same
  # libprotobuf.so.32 (SOVERSION 32, same version script). No protoc: the
  # system one generates the code.
  cmake -S "$src" -B "$work/build-protobuf" "${launcher[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_STANDARD=17 \
    -Dprotobuf_BUILD_SHARED_LIBS=ON -Dprotobuf_BUILD_TESTS=OFF \
    -Dprotobuf_BUILD_PROTOC_BINARIES=OFF -Dprotobuf_BUILD_LIBPROTOC=OFF \
    -Dprotobuf_WITH_ZLIB=ON -Dprotobuf_BUILD_EXAMPLES=OFF \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib >/dev/null
  cmake --build "$work/build-protobuf" -j "$jobs" \
    --target libprotobuf libprotobuf-lite >/dev/null
  install_built "$work/build-protobuf"
  check_sonames "$prefix" libprotobuf.so.32
  done_mark "$prefix" "$start"
}

build_rocksdb() {
  local prefix="$deps/rocksdb" src start
  [ -f "$prefix/.done" ] && return 0
  start=$(date +%s)
  src="$(fetch rocksdb librocksdb-dev)"
  # debian/rules: all five compression libraries, gflags (default), PORTABLE,
  # build type None (so no -DNDEBUG and RTTI on, as in Debian's library).
  # We link RocksDB statically (RocksDB::rocksdb), so only the static
  # library is built: no shared library, tools, tests or benchmarks.
  cmake -S "$src" -B "$work/build-rocksdb" "${launcher[@]}" -DCMAKE_BUILD_TYPE=None \
    -DWITH_BZ2=ON -DWITH_LZ4=ON -DWITH_ZLIB=ON -DWITH_ZSTD=ON -DWITH_SNAPPY=ON \
    -DWITH_GFLAGS=ON -DPORTABLE=ON -DFAIL_ON_WARNINGS=OFF \
    -DROCKSDB_BUILD_SHARED=OFF -DWITH_BENCHMARK_TOOLS=OFF \
    -DWITH_CORE_TOOLS=OFF -DWITH_TOOLS=OFF -DWITH_TESTS=OFF \
    -DWITH_ALL_TESTS=OFF -DWITH_EXAMPLES=OFF \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib >/dev/null
  cmake --build "$work/build-rocksdb" -j "$jobs" --target rocksdb >/dev/null
  install_built "$work/build-rocksdb"
  [ -f "$prefix/lib/librocksdb.a" ] || { echo "tsan_deps: librocksdb.a not built" >&2; exit 1; }
  done_mark "$prefix" "$start"
}

build_grpc() {
  local prefix="$deps/grpc" src start
  [ -f "$prefix/.done" ] && return 0
  [ -f "$deps/absl/.done" ] && [ -f "$deps/protobuf/.done" ] ||
    { echo "tsan_deps: build absl and protobuf before grpc" >&2; exit 1; }
  start=$(date +%s)
  src="$(fetch grpc libgrpc-dev)"
  # grpc++_reflection's service code is generated with $<TARGET_FILE:
  # grpc_cpp_plugin>; with the plugin not built, that target is Debian's
  # installed plugin (same version), imported right after project().
  # libprotoc (its -dev package is not installed) is named only for
  # grpc_plugin_support, which is not built.
  local plugin="$work/grpc-system-plugin.cmake"
  cat >"$plugin" <<EOF2
if(NOT TARGET grpc_cpp_plugin)
  add_executable(grpc_cpp_plugin IMPORTED GLOBAL)
  set_target_properties(grpc_cpp_plugin PROPERTIES
    IMPORTED_LOCATION "$(command -v grpc_cpp_plugin)")
endif()
EOF2
  # debian/rules: every dependency from the system ("package" providers),
  # here the instrumented Abseil and protobuf first on CMAKE_PREFIX_PATH;
  # c-ares, re2, zlib and OpenSSL stay Debian's. Only the libraries our
  # binaries and Debian's gRPC libraries need are built (CODEGEN stays on
  # only because it guards grpc++_reflection; no plugin is built).
  # Build type None and no -DNDEBUG, as Debian's (gRPCTargets-none.cmake).
  # -g1 (line tables) instead of -g, to shorten the build of its about 850
  # translation units on a small machine; TSan's stacks still name every
  # function, file and line (not the frames inlined into them).
  local gflags="${flags/-g /-g1 }"
  cmake -S "$src" -B "$work/build-grpc" "${launcher[@]}" -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_CXX_STANDARD=17 -DBUILD_SHARED_LIBS=ON -DgRPC_BUILD_TESTS=OFF \
    -DCMAKE_PREFIX_PATH="$deps/absl;$deps/protobuf" \
    -DgRPC_ABSL_PROVIDER=package -DgRPC_CARES_PROVIDER=package \
    -DgRPC_PROTOBUF_PROVIDER=package -DgRPC_RE2_PROVIDER=package \
    -DgRPC_SSL_PROVIDER=package -DgRPC_ZLIB_PROVIDER=package \
    -DgRPC_BENCHMARK_PROVIDER=none \
    -DgRPC_BACKWARDS_COMPATIBILITY_MODE=OFF \
    -DgRPC_BUILD_CODEGEN=ON -DgRPC_BUILD_CSHARP_EXT=OFF \
    -DgRPC_BUILD_GRPC_CPP_PLUGIN=OFF -DgRPC_BUILD_GRPC_CSHARP_PLUGIN=OFF \
    -DgRPC_BUILD_GRPC_NODE_PLUGIN=OFF -DgRPC_BUILD_GRPC_OBJECTIVE_C_PLUGIN=OFF \
    -DgRPC_BUILD_GRPC_PHP_PLUGIN=OFF -DgRPC_BUILD_GRPC_PYTHON_PLUGIN=OFF \
    -DgRPC_BUILD_GRPC_RUBY_PLUGIN=OFF -DCMAKE_PROJECT_INCLUDE="$plugin" \
    -DProtobuf_PROTOC_LIBRARY="/usr/lib/$multiarch/libprotoc.so.32" \
    -DCMAKE_CXX_FLAGS="$gflags" -DCMAKE_C_FLAGS="$gflags" \
    -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" \
    -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib \
    -DCMAKE_INSTALL_RPATH="$prefix/lib;$deps/protobuf/lib;$deps/absl/lib" \
    -DgRPC_INSTALL_LIBDIR=lib -DgRPC_INSTALL_CMAKEDIR=lib/cmake/grpc >/dev/null
  cmake --build "$work/build-grpc" -j "$jobs" \
    --target gpr grpc grpc++ grpc++_reflection upb address_sorting >/dev/null
  install_built "$work/build-grpc"
  local targets
  for targets in "$prefix"/lib/cmake/grpc/gRPCTargets-*.cmake; do
    drop_unbuilt_imports "$targets"
  done
  check_sonames "$prefix" libgpr.so.29 libgrpc.so.29 libupb.so.29 \
    libaddress_sorting.so.29 libgrpc++.so.1.51 libgrpc++_reflection.so.1.51
  done_mark "$prefix" "$start"
}

ensure_deb_src
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(absl protobuf rocksdb grpc)
for name in "${names[@]}"; do
  case "$name" in
    absl|protobuf|rocksdb|grpc) "build_$name" ;;
    *) echo "usage: tools/tsan_deps.sh [absl|protobuf|rocksdb|grpc ...]" >&2; exit 2 ;;
  esac
done
