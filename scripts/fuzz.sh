#!/usr/bin/env bash
# `make fuzz`: runs each libFuzzer target for FUZZ_SECONDS (default 60) on the sanitizer build
# (scripts/test-sanitize.sh --build-only), starting from the seeds and regression inputs kept in
# tests/fuzz_corpus/TARGET/. A crash stops the run with a non-zero exit; its input is left in
# BUILD/fuzz-artifacts/. Fix the bug, then keep the input as tests/fuzz_corpus/TARGET/regression-*
# (tests/cli/reliability_fuzz_regressions_test.cpp replays them in `make test`).
#   FUZZ_SECONDS    seconds per target (CI's smoke run uses 20)
#   FUZZ_TARGETS    which targets (default: all three)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${SANITIZE_BUILD:-build-sanitize}
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"policy_file state_flags apply"}

SANITIZE_BUILD="$BUILD" scripts/test-sanitize.sh --build-only

export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1"
export UBSAN_OPTIONS="abort_on_error=1:halt_on_error=1:print_stacktrace=1"
mkdir -p "$BUILD/fuzz-artifacts"
for t in $TARGETS; do
  work="$BUILD/fuzz-corpus/$t"  # new inputs land here, not in the repository
  mkdir -p "$work"
  echo "fuzz_$t: ${SECONDS_EACH}s" >&2
  # -close_fd_mask=1: runctl's results on stdout are noise here; reports still reach stderr.
  "$BUILD/fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout=20 -rss_limit_mb=4096 \
    -max_len=1048576 -close_fd_mask=1 -print_final_stats=1 \
    -artifact_prefix="$BUILD/fuzz-artifacts/${t}-" "$work" "tests/fuzz_corpus/$t"
done
echo "fuzz: no crash in ${SECONDS_EACH}s per target (${TARGETS})" >&2
