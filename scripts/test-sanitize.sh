#!/usr/bin/env bash
# `make test-sanitize`: builds runctl, the unit tests and the fuzz targets with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer (any report aborts the process), then runs the
# unit suite on that build and the CLI suite (`make test`'s build of it, in TEST_BUILD) against the
# instrumented runctl. The CLI tests are drivers: what they exercise is the runctl binary they
# start, so only it needs the instrumentation, and the suite is not compiled twice. The same build
# carries libFuzzer's coverage instrumentation and the fuzz targets, so scripts/fuzz.sh reuses it.
#   SANITIZE_BUILD   build directory (default build-sanitize)
#   TEST_BUILD       the build directory with the CLI tests (default build; `make test-sanitize`
#                    builds it first)
#   --build-only     configure and build, run nothing (scripts/fuzz.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${SANITIZE_BUILD:-build-sanitize}
TEST_BUILD=${TEST_BUILD:-build}
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

# Line tables are all a report's stack trace needs, and much cheaper to compile than full -g.
flags="-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined"
flags+=" -fno-omit-frame-pointer -gline-tables-only -O1"
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DRUNCTL_FUZZ=ON \
    -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
fi
cmake --build "$BUILD" -j "$JOBS" --target runctl runctl_unit_tests fuzz_policy_file \
  fuzz_state_flags fuzz_apply
[ "${1:-}" = "--build-only" ] && exit 0
if [ ! -x "$TEST_BUILD/tests/runctl_cli_tests" ]; then
  echo "runctl: test-sanitize: $TEST_BUILD/tests/runctl_cli_tests is not built (run make build-tests)" >&2
  exit 1
fi

# Every sanitizer report aborts (exit 134), so it can never pass for an orchestration status such
# as 1 (REJECT); leaks count too. The children runctl spawns in tests inherit these.
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:check_initialization_order=1:strict_string_checks=1"
export UBSAN_OPTIONS="abort_on_error=1:halt_on_error=1:print_stacktrace=1"
# Under a throwaway PostgreSQL cluster, so the store contract and PostgreSQL-only tests run the
# PostgreSQL backend instrumented too. The unit suite runs as one process (its leak check covers
# every case at exit); the CLI cases through ctest, one job per core, with RUNCTL_TEST_BIN naming
# the instrumented runctl. cli-postgres/ (the whole CLI suite again with every scratch database on
# PostgreSQL) is left to `make test`: instrumented, it would double this phase's time.
# Also left to `make test`: the cases that repeat one code path many times over — the process
# races and kill loops (hundreds of runctl processes on the same few statements), the scenario
# corpus (which the unit suite runs through the instrumented engine) and the grids that check
# every (from, to) pair. Instrumented they were a third of this phase's time, spent on code the
# cases kept here run too.
repeated='^cli/(reliability: 8 concurrent writers|reliability: SIGKILL at random|postgres: 16 processes'
repeated+='|postgres: a tag limit of 3 raced|scenario corpus through the CLI|policy matrix: every'
repeated+='|PreventPendingTransitions: every other ordered pair|terminal protection: not compiled)'
export RUNCTL_TEST_BIN
RUNCTL_TEST_BIN=$(realpath "$BUILD/runctl")
exec scripts/with-postgres.sh bash -c '
  set -e
  "$1" --no-intro=true
  ctest --test-dir "$2" -j "$3" --output-on-failure -R "^cli/" -E "$4"' _ \
  "$BUILD/tests/runctl_unit_tests" "$TEST_BUILD" "$JOBS" "$repeated"
