#!/usr/bin/env bash
# `make test-sanitize`: builds everything with clang, AddressSanitizer and UndefinedBehaviorSanitizer
# (any report aborts the process) and runs the whole ctest suite on it. The same build carries
# libFuzzer's coverage instrumentation and the fuzz targets, so scripts/fuzz.sh reuses it.
#   SANITIZE_BUILD   build directory (default build-sanitize)
#   --build-only     configure and build, run nothing (scripts/fuzz.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${SANITIZE_BUILD:-build-sanitize}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

# clang and its sanitizer/libFuzzer runtimes come from Debian.
missing=()
for p in clang libclang-rt-14-dev llvm; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

flags="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined"
flags+=" -fno-omit-frame-pointer -g -O1"
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DRUNCTL_FUZZ=ON \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
fi
cmake --build "$BUILD" -j "$JOBS"
[ "${1:-}" = "--build-only" ] && exit 0

# Every sanitizer report aborts (exit 134), so it can never pass for an orchestration status such
# as 1 (REJECT); leaks count too. The children runctl spawns in tests inherit these.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:check_initialization_order=1:strict_string_checks=1"
export UBSAN_OPTIONS="abort_on_error=1:halt_on_error=1:print_stacktrace=1"
# Under a throwaway PostgreSQL cluster, so the store contract and PostgreSQL-only tests run the
# PostgreSQL backend instrumented too. cli-postgres (the whole CLI suite again with every scratch
# database on PostgreSQL) is left to `make test`: instrumented, it would double the CI's time.
exec scripts/with-postgres.sh ctest --test-dir "$BUILD" --output-on-failure -E '^cli-postgres$'
