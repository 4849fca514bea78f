#!/usr/bin/env bash
# A one-minute tour of runctl on a scratch database: one transition accepted, one rejected,
# one told to wait and one aborted by a declarative rule, then a --verbose trace.
set -uo pipefail
runctl=${1:-build/runctl}
here=$(cd "$(dirname "$0")/.." && pwd)
policy="$here/docs/examples/demo-policy.json"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export RUNCTL_DB="$dir/demo.db"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; echo "(exit code $?)"; }

echo "runctl demo: database $RUNCTL_DB, policy $policy"
flow=$("$runctl" flow-run create --name nightly-etl --state SCHEDULED)
echo "created flow run $flow in SCHEDULED"
step "$runctl" set-state "$flow" PENDING --policy "$policy"
step "$runctl" set-state "$flow" COMPLETED --policy "$policy"
step "$runctl" set-state "$flow" RUNNING --policy "$policy"
step "$runctl" set-state "$flow" RUNNING --force --message "operator override"

task=$("$runctl" task-run create --flow-run "$flow" --task-key extract --state PENDING)
echo
echo "created task run $task in PENDING; now with --verbose (the trace goes to stderr):"
step "$runctl" set-state "$task" RUNNING --policy "$policy" --verbose
step "$runctl" set-state "$task" RUNNING --force
step "$runctl" set-state "$task" CANCELLED --policy "$policy"
step "$runctl" history "$flow"
step "$runctl" log "$task"

echo
echo "every transition CoreFlowPolicy can be asked for, at a glance (docs/pictures.md):"
step "$runctl" policy matrix CoreFlowPolicy
