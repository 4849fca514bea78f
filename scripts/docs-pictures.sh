#!/usr/bin/env bash
# Draws docs/pictures.md's images: each picture's DOT text (docs/images/*.dot) and, through
# Graphviz's dot, its SVG (docs/images/*.svg).
#   scripts/docs-pictures.sh [RUNCTL]          write them (RUNCTL: default build/runctl)
#   scripts/docs-pictures.sh --check [RUNCTL]  exit 1 when a committed .dot is not what RUNCTL
#                                              draws today (ctest runs this; needs no Graphviz)
# Time and ids are fixed (--now, --seed), so the same runctl draws the same bytes.
set -euo pipefail
check=0
if [ "${1:-}" = "--check" ]; then
  check=1
  shift
fi
root=$(cd "$(dirname "$0")/.." && pwd)
runctl=$(realpath "${1:-$root/build/runctl}")
images="$root/docs/images"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/runctl-pictures.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
out="$scratch/out"
mkdir -p "$out"

rc() { "$runctl" --db "$scratch/pictures.db" "$@"; }

# The policies, as docs/pictures.md shows them; the diff's file is named as the reader's would be.
rc --now 2026-01-01T12:00:00Z policy matrix CoreFlowPolicy --format dot >"$out/core-flow-matrix.dot"
rc --now 2026-01-01T12:00:00Z policy matrix CoreTaskPolicy --format dot >"$out/core-task-matrix.dot"
(cd "$root/docs/examples" &&
  rc --now 2026-01-01T12:00:00Z policy diff CoreFlowPolicy no-early-completion.json --format dot) \
  >"$out/policy-diff.dot"

# The run of docs/pictures.md's "Run history": SCHEDULED for 12:05, RUNNING too early (WAIT),
# PENDING, PENDING again (ABORT), PAUSED without a pause key (REJECT), RUNNING, COMPLETED.
run=$(rc --now 2026-01-01T12:00:00Z flow-run create --id 3ec88360-bbd3-4e5d-959f-c591ac9d7fa8 \
  --state SCHEDULED --scheduled-time 2026-01-01T12:05:00Z)
minute=1
for proposed in RUNNING PENDING PENDING PAUSED RUNNING COMPLETED; do
  rc --now "2026-01-01T12:0${minute}:00Z" --seed 7 set-state "$run" "$proposed" >/dev/null || true
  minute=$((minute + 1))
done
rc history "$run" --format dot >"$out/run-history.dot"

if [ "$check" = 1 ]; then
  stale=0
  for dot in "$out"/*.dot; do
    name=$(basename "$dot")
    if ! cmp -s "$dot" "$images/$name"; then
      echo "docs-pictures: docs/images/$name is not what runctl draws today; run scripts/docs-pictures.sh" >&2
      stale=1
    fi
  done
  exit "$stale"
fi

command -v dot >/dev/null || {
  echo "docs-pictures: no dot on PATH; install Graphviz (apt-get install graphviz)" >&2
  exit 69
}
mkdir -p "$images"
for dot in "$out"/*.dot; do
  name=$(basename "$dot" .dot)
  cp "$dot" "$images/$name.dot"
  dot -Tsvg "$dot" >"$images/$name.svg"
done
echo "docs-pictures: wrote $(ls "$out" | wc -l) pictures to docs/images"
