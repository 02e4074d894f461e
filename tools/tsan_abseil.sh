#!/usr/bin/env bash
# Builds Debian's own Abseil (source package `abseil`, the version installed
# as libabsl-dev) with -fsanitize=thread into a private prefix, for
# tools/sanitize.sh tsan only. Nothing else uses it.
#
# Why: Debian's libabsl is not built with ThreadSanitizer, so TSan cannot see
# absl::Mutex (nor gRPC's locks, which are absl::Mutex in gRPC 1.51)
# synchronise and reports every access guarded by one as a race. The
# instrumented libraries are built as shared libraries with the same sonames
# and ABI options (Debian's patched absl/base/options.h), so at run time the
# loader picks them for our binaries AND for Debian's gRPC/protobuf (via the
# RUNPATH/LD_LIBRARY_PATH that sanitize.sh sets): one Abseil in the process.
#
# Usage: tools/tsan_abseil.sh [PREFIX]   (default: build-tsan-deps/absl)
# Idempotent: does nothing when PREFIX/.done exists. Needs root for the
# deb-src entry (the same Debian mirror the system already uses) and the
# build dependencies. Takes about 10 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
prefix="${1:-$root/build-tsan-deps/absl}"
[ -f "$prefix/.done" ] && exit 0
work="$root/build-tsan-deps/src"
mkdir -p "$work"

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
src_list=/etc/apt/sources.list.d/caseledger-deb-src.sources
if ! apt-get source --print-uris abseil >/dev/null 2>&1; then
  # Same URIs/suites as the binary sources, with Types: deb-src.
  found=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    if grep -q '^Types: deb$' "$f"; then found="$f"; break; fi
  done
  if [ -n "$found" ]; then
    sed 's/^Types: deb$/Types: deb-src/' "$found" | $SUDO tee "$src_list" >/dev/null
  else
    grep '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' |
      $SUDO tee /etc/apt/sources.list.d/caseledger-deb-src.list >/dev/null
  fi
  $SUDO apt-get update -qq
fi
$SUDO apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null

cd "$work"
if ! ls -d abseil-*/ >/dev/null 2>&1; then
  apt-get source -qq abseil >/dev/null
fi
src="$(ls -d "$work"/abseil-*/ | head -1)"

flags="-fsanitize=thread -fno-omit-frame-pointer -g -O1"
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_STANDARD=17 -DBUILD_SHARED_LIBS=ON -DBUILD_TESTING=OFF \
  -DABSL_PROPAGATE_CXX_STD=ON \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" \
  -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib >/dev/null
cmake --build "$work/build" -j "${JOBS:-2}" >/dev/null
cmake --install "$work/build" >/dev/null
# The loader must find the same sonames Debian's gRPC asks for.
for lib in "/usr/lib/$(gcc -print-multiarch)"/libabsl_*.so.*; do
  name="$(basename "$lib")"
  [ -e "$prefix/lib/$name" ] || { echo "tsan_abseil: $name not built" >&2; exit 1; }
done
touch "$prefix/.done"
echo "tsan_abseil: instrumented Abseil in $prefix" >&2
