#!/usr/bin/env bash
# make bench: builds runctl and the benchmark programs (RelWithDebInfo, the build users get),
# then measures and prints one table (docs/performance.md explains every figure):
#   1. engine only: chain evaluations per second, in memory (Google Benchmark)
#   2. set-state as a whole process: median wall time on databases of 1k, 100k and 1M runs
#   3. apply throughput: one commit per transition, and --commit-every 1000
#   4. the floor: the same transactions, bare, run by the sqlite3 shell; runctl / floor
#   5. peak RSS of a one-off set-state
# Databases are generated once and cached in BUILD/bench-cache. Environment knobs:
#   BENCH_SIZES="1000 100000 1000000"  BENCH_SETSTATE_RUNS=31  BENCH_REPS=3
#   BENCH_APPLY_N=10000 (default-commit transitions)  BENCH_BATCH_N=100000 (--commit-every 1000)
#   BENCH_NO_BUILD=1 (measure the build directory as it is)
set -euo pipefail

build=${1:-build-bench}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
sizes=${BENCH_SIZES:-"1000 100000 1000000"}
setstate_runs=${BENCH_SETSTATE_RUNS:-31}
reps=${BENCH_REPS:-3}
apply_n=${BENCH_APPLY_N:-10000}
batch_n=${BENCH_BATCH_N:-100000}
now="2026-01-01T00:00:00+00:00"  # creation time of every generated run

say() { printf '%s\n' "$*" >&2; }

# --- build --------------------------------------------------------------------------------------
if ! dpkg-query -W -f='${Status}' libbenchmark-dev 2>/dev/null | grep -q "install ok installed"; then
  say "installing libbenchmark-dev (Google Benchmark)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    libbenchmark-dev >/dev/null
fi
command -v sqlite3 >/dev/null || { say "bench: the sqlite3 shell is needed (make deps)"; exit 1; }
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRUNCTL_BENCH=ON >/dev/null
  cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" \
    --target runctl runctl_engine_bench runctl_proc_bench >/dev/null
fi
runctl=$(cd "$build" && pwd)/runctl
proc_bench=$(cd "$build" && pwd)/bench/runctl_proc_bench
engine_bench=$(cd "$build" && pwd)/bench/runctl_engine_bench
cache=$(cd "$build" && pwd)/bench-cache
work=$(mktemp -d "${TMPDIR:-/tmp}/runctl-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$cache"

# --- helpers ------------------------------------------------------------------------------------
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$2"; }         # key=value from proc_bench
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
uuid_sql="lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || \
substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || \
substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))"

# A runctl database of N flow runs, each PENDING with one state row and one log row, as
# `flow-run create --state PENDING` leaves them. One run is made by runctl; the rest are SQL
# copies of it (fresh ids), which is minutes faster than creating a million runs one by one and
# follows whatever columns the schema has.
make_db() {
  local n=$1 out=$2 tmp="$2.tmp"
  rm -f "$tmp" "$tmp-wal" "$tmp-shm"
  "$runctl" --db "$tmp" --now "$now" flow-run create --state PENDING >/dev/null
  local tid sid
  tid=$(sqlite3 "$tmp" "SELECT id FROM flow_run")
  sid=$(sqlite3 "$tmp" "SELECT state_id FROM flow_run")
  select_list() {  # table, then col=expression overrides: every column, overridden or copied
    local table=$1
    shift
    local cols expr out=""
    cols=$(sqlite3 "$tmp" "SELECT name FROM pragma_table_info('$table') ORDER BY cid")
    for c in $cols; do
      expr="t.\"$c\""
      for o in "$@"; do [ "${o%%=*}" = "$c" ] && expr="${o#*=}"; done
      out+="${out:+, }$expr"
    done
    printf '%s' "$out"
  }
  local run_cols state_cols log_cols
  run_cols=$(select_list flow_run "id=g.run_id" "state_id=g.state_id" \
    "name='flow-run-' || substr(g.run_id, 1, 8)")
  state_cols=$(select_list flow_run_state "seq=NULL" "id=g.state_id" "flow_run_id=g.run_id" \
    "state_details=replace(t.state_details, '$tid', g.run_id)")
  log_cols=$(select_list orchestration_log "id=NULL" "run_id=g.run_id" \
    "validated_state_id=g.state_id" "proposed_state=replace(t.proposed_state, '$sid', g.state_id)")
  sqlite3 "$tmp" >/dev/null <<SQL
PRAGMA journal_mode=DELETE;
PRAGMA synchronous=OFF;
PRAGMA cache_size=-1000000;
PRAGMA temp_store=MEMORY;
CREATE TEMP TABLE g AS
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n - 1)
  SELECT $uuid_sql AS run_id, $uuid_sql AS state_id FROM n;
BEGIN;
INSERT INTO flow_run SELECT $run_cols FROM temp.g AS g, flow_run AS t
  WHERE t.id = '$tid' ORDER BY g.run_id;
INSERT INTO flow_run_state SELECT $state_cols FROM temp.g AS g, flow_run_state AS t
  WHERE t.id = '$sid';
INSERT INTO orchestration_log SELECT $log_cols FROM temp.g AS g, orchestration_log AS t
  WHERE t.run_id = '$tid';
COMMIT;
ANALYZE;
PRAGMA journal_mode=WAL;
SQL
  mv "$tmp" "$out"
}

"$runctl" --db "$work/probe.db" init >/dev/null
schema=$(sqlite3 "$work/probe.db" "PRAGMA user_version")
cached_db() {  # path of the cached N-run database, made if missing
  local db="$cache/runs-$1-schema$schema.db"
  if [ ! -f "$db" ]; then
    say "generating a database of $1 runs (cached in $cache)"
    make_db "$1" "$db"
  fi
  printf '%s' "$db"
}
# Synced, so that the first WAL checkpoint measured does not pay for writing the copy back.
fresh_copy() { rm -f "$2" "$2-wal" "$2-shm"; cp "$1" "$2"; sync "$2"; }

# JSON Lines for apply: every given run PENDING -> RUNNING, then every one RUNNING -> COMPLETED.
apply_input() {
  awk '{ printf "{\"run_id\":\"%s\",\"state\":{\"type\":\"RUNNING\"}}\n", $1 }' "$1"
  awk '{ printf "{\"run_id\":\"%s\",\"state\":{\"type\":\"COMPLETED\"}}\n", $1 }' "$1"
}

# The floor for the same runs: per transition, in its own transaction, select the run, insert a
# state row (the same state_details text runctl writes) and update the run.
floor_input() {
  local db=$1 ids=$2
  printf 'PRAGMA synchronous=NORMAL;\nPRAGMA foreign_keys=ON;\n.output /dev/null\n'
  local second=0
  for type in RUNNING COMPLETED; do
    local name=${type:0:1}$(tr '[:upper:]' '[:lower:]' <<<"${type:1}")
    second=$((second + 1))  # a run's state timestamps must differ
    # MATERIALIZED: a flattened subquery would draw a second random id for the UPDATE.
    sqlite3 -noheader -list "$db" "
      WITH u AS MATERIALIZED (
        SELECT key, $uuid_sql AS sid,
               '2026-06-01T00:00:0$second.' || printf('%06d', key) || '+00:00' AS ts
        FROM json_each(readfile('$ids')))
      SELECT 'BEGIN IMMEDIATE;' || char(10) ||
        'SELECT * FROM flow_run WHERE id = ''' || r.id || ''';' || char(10) ||
        'INSERT INTO flow_run_state (id, created, flow_run_id, type, name, message, timestamp, ' ||
        'state_details) VALUES (''' || u.sid || ''', ''' || u.ts || ''', ''' || r.id ||
        ''', ''$type'', ''$name'', NULL, ''' || u.ts || ''', ''' || s.state_details || ''');' ||
        char(10) || 'UPDATE flow_run SET updated = ''' || u.ts || ''', state_id = ''' || u.sid ||
        ''', state_type = ''$type'', state_name = ''$name'', state_timestamp = ''' || u.ts ||
        ''' WHERE id = ''' || r.id || ''';' || char(10) || 'COMMIT;'
      FROM (SELECT value AS id, key FROM json_each(readfile('$ids'))) AS r
      JOIN flow_run AS f ON f.id = r.id JOIN flow_run_state AS s ON s.id = f.state_id
      JOIN u ON u.key = r.key
      ORDER BY r.key"
  done
}
ids_json() { awk 'BEGIN { printf "[" } { printf "%s\"%s\"", (NR > 1 ? "," : ""), $1 } END { print "]" }' "$1"; }

time_one() {  # wall seconds of one process: command file, stdin file
  local out
  out=$("$proc_bench" --ok-codes 0 --stdin "$2" "$1") || { say "bench: a run failed: $(cat "$1")"; exit 1; }
  awk -v ms="$(field median_ms "$out")" 'BEGIN { printf "%.4f", ms / 1000 }'
}

# --- 1. engine only -----------------------------------------------------------------------------
say "1/4 engine benchmark"
engine_csv=$("$engine_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_format=csv --benchmark_min_time=0.3 2>/dev/null)
engine_rate() {  # median items/s of one benchmark
  awk -F, -v name="\"$1_median\"" '$1 == name { printf "%.0f", $7 }' <<<"$engine_csv"
}

# --- 2-5. per database size -----------------------------------------------------------------------
declare -A setstate_ms setstate_cpu apply_rate batch_rate floor_rate floor_ratio rss_kb
for n in $sizes; do
  say "2-4/4 database of $n runs"
  master=$(cached_db "$n")
  db="$work/runs.db"
  fresh_copy "$master" "$db"
  per_measure=$((n > 100000 ? 1 : 0))  # 1M: one working copy, disjoint runs for each measurement
  pending="$work/pending.txt"
  sqlite3 "$db" "SELECT id FROM flow_run WHERE state_type = 'PENDING' ORDER BY random()" >"$pending"
  echo 1 >"$work/next"
  take() {  # the next $1 PENDING runs, none used twice (the position lives in a file: callers
    local first  # run this in subshells)
    first=$(cat "$work/next")
    sed -n "${first},$((first + $1 - 1))p" "$pending"
    echo $((first + $1)) >"$work/next"
  }

  # set-state: one process per transition, on distinct runs; three warm-up runs first.
  take $((setstate_runs + 3)) | awk -v r="$runctl" -v d="$db" \
    '{ print r " --db " d " set-state " $1 " RUNNING" }' >"$work/setstate.cmd"
  head -3 "$work/setstate.cmd" >"$work/warm.cmd"
  "$proc_bench" "$work/warm.cmd" >/dev/null
  out=$(tail -n +4 "$work/setstate.cmd" >"$work/measure.cmd" && "$proc_bench" "$work/measure.cmd")
  setstate_ms[$n]=$(field median_ms "$out")
  setstate_cpu[$n]=$(field median_cpu_ms "$out")
  rss_kb[$n]=$(field max_rss_kb "$out")

  # apply and the floor, each repetition on runs nobody touched (a fresh copy below 1M runs).
  half() { local k=$(($1 / 2)); [ "$k" -gt "$n" ] && k=$n; echo "$k"; }
  measure() {  # kind (apply|batch|floor), transitions; prints transitions/s
    local kind=$1 k
    k=$(half "$2")
    if [ "$per_measure" -eq 0 ]; then
      fresh_copy "$master" "$db"
      sqlite3 "$db" "SELECT id FROM flow_run WHERE state_type = 'PENDING' ORDER BY random() \
        LIMIT $k" >"$work/ids.txt"
    else
      take "$k" >"$work/ids.txt"
    fi
    case $kind in
      apply | batch)
        apply_input "$work/ids.txt" >"$work/in.jsonl"
        local extra=""
        [ "$kind" = batch ] && extra="--commit-every 1000"
        echo "$runctl --db $db apply $extra -" >"$work/one.cmd"
        secs=$(time_one "$work/one.cmd" "$work/in.jsonl")
        ;;
      floor)
        ids_json "$work/ids.txt" >"$work/ids.json"
        floor_input "$db" "$work/ids.json" >"$work/floor.sql"
        echo "$(command -v sqlite3) $db" >"$work/one.cmd"
        secs=$(time_one "$work/one.cmd" "$work/floor.sql")
        ;;
    esac
    awk -v k="$((k * 2))" -v s="$secs" 'BEGIN { printf "%.0f\n", k / s }'
  }
  # Interleaved, so that a burst of load elsewhere on the machine hits apply and its floor alike;
  # the ratio is the median of each repetition's own ratio.
  : >"$work/rates"
  for _ in $(seq "$reps"); do
    a=$(measure apply "$apply_n")
    f=$(measure floor "$apply_n")
    b=$(measure batch "$batch_n")
    echo "$a $f $b" >>"$work/rates"
  done
  apply_rate[$n]=$(awk '{ print $1 }' "$work/rates" | median)
  floor_rate[$n]=$(awk '{ print $2 }' "$work/rates" | median)
  batch_rate[$n]=$(awk '{ print $3 }' "$work/rates" | median)
  floor_ratio[$n]=$(awk '{ printf "%.4f\n", ($2 > 0 ? $1 / $2 : 0) }' "$work/rates" | median)
done

# --- the table ----------------------------------------------------------------------------------
fmt() {  # 1234567 -> 1,234,567
  awk -v v="$1" 'BEGIN { s = sprintf("%.0f", v); out = "";
    while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
    print s out }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
first=${sizes%% *}
last=${sizes##* }
echo
echo "runctl benchmark  ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), SQLite $(sqlite3 -version | cut -d' ' -f1))"
echo
printf '1. engine only (chain evaluations/s, in memory, median of 5)\n'
printf '   %-44s %12s\n' "CoreFlowPolicy PENDING -> RUNNING" "$(fmt "$(engine_rate BM_CoreFlow_PendingToRunning)")"
printf '   %-44s %12s\n' "CoreFlowPolicy RUNNING -> COMPLETED" "$(fmt "$(engine_rate BM_CoreFlow_RunningToCompleted)")"
printf '   %-44s %12s\n' "CoreTaskPolicy PENDING -> RUNNING" "$(fmt "$(engine_rate BM_CoreTask_PendingToRunning)")"
printf '   %-44s %12s\n' "CoreTaskPolicy RUNNING -> COMPLETED" "$(fmt "$(engine_rate BM_CoreTask_RunningToCompleted)")"
printf '   %-44s %12s\n' "CoreFlowPolicy, compiled per call (set-state)" "$(fmt "$(engine_rate BM_CoreFlow_PendingToRunning_Uncompiled)")"
echo
printf '%-40s' "database size (runs)"
for n in $sizes; do printf ' %12s' "$(fmt "$n")"; done
echo
printf '%-40s' "2. set-state, median wall ms"
for n in $sizes; do printf ' %12s' "${setstate_ms[$n]}"; done
echo
printf '%-40s' "   (median CPU ms)"
for n in $sizes; do printf ' %12s' "${setstate_cpu[$n]}"; done
echo
printf '%-40s' "3. apply, one commit each, transitions/s"
for n in $sizes; do printf ' %12s' "$(fmt "${apply_rate[$n]}")"; done
echo
printf '%-40s' "   apply --commit-every 1000, /s"
for n in $sizes; do printf ' %12s' "$(fmt "${batch_rate[$n]}")"; done
echo
printf '%-40s' "4. floor (sqlite3 shell), transactions/s"
for n in $sizes; do printf ' %12s' "$(fmt "${floor_rate[$n]}")"; done
echo
printf '%-40s' "   runctl apply / floor"
for n in $sizes; do printf ' %12s' "$(awk -v r="${floor_ratio[$n]}" 'BEGIN { printf "%.2f", r }')"; done
echo
printf '%-40s' "5. set-state peak RSS, MB (max of runs)"
for n in $sizes; do printf ' %12s' "$(awk -v k="${rss_kb[$n]}" 'BEGIN { printf "%.1f", k / 1024 }')"; done
echo
echo
printf 'set-state median, %s runs / %s runs: %s\n' "$(fmt "$last")" "$(fmt "$first")" \
  "$(ratio "${setstate_ms[$last]}" "${setstate_ms[$first]}")"
echo "transitions per measurement: apply $apply_n, --commit-every 1000 $batch_n (at most 2 per run);"
echo "medians of $reps repetitions; set-state: $setstate_runs processes after 3 warm-ups."

# The issue's targets, each against the worst figure over the database sizes measured.
worst() {  # min|max over the sizes of one array's values
  local -n values=$2
  for n in $sizes; do echo "${values[$n]}"; done | sort -g | { [ "$1" = min ] && head -1 || tail -1; }
}
verdict() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
  ok = (op == ">=" ? v >= t : v <= t); printf "%s", (ok ? "met" : "MISSED") }'; }
target() {  # label, figure, op, threshold
  local shown=$2
  [[ $2 =~ ^[0-9]{4,}$ ]] && shown=$(fmt "$2")
  printf '   %-52s %12s  %s\n' "$1" "$shown" "$(verdict "$2" "$3" "$4")"
}
echo
echo "targets (worst size)"
target "apply, one commit each / floor >= 0.8" "$(worst min floor_ratio | awk '{ printf "%.2f", $1 }')" ">=" 0.8
target "apply --commit-every 1000, /s >= 100,000" "$(worst min batch_rate)" ">=" 100000
target "set-state median ms, $(fmt "$last") runs <= 3" "${setstate_ms[$last]}" "<=" 3
target "set-state median, $(fmt "$last") / $(fmt "$first") runs <= 1.3" \
  "$(ratio "${setstate_ms[$last]}" "${setstate_ms[$first]}")" "<=" 1.3
target "engine CoreFlowPolicy evaluations/s >= 1,000,000" \
  "$(engine_rate BM_CoreFlow_PendingToRunning)" ">=" 1000000
target "set-state peak RSS MB <= 10" "$(worst max rss_kb | awk '{ printf "%.1f", $1 / 1024 }')" "<=" 10
