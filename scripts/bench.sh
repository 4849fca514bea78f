#!/usr/bin/env bash
# make bench: builds runctl and the benchmark programs (RelWithDebInfo, the build users get),
# then measures and prints one table (docs/performance.md explains every figure):
#   1. engine only: chain evaluations per second, in memory (Google Benchmark)
#   2. set-state as a whole process: median wall time on databases of 1k, 100k and 1M runs
#   3. apply throughput: one commit per transition, and --commit-every 1000
#   4. the floors: the same transactions, bare, run by the sqlite3 shell and by a C program
#      (bench/floor_sqlite.c, one commit each and batched by 1000); runctl / floor; the database
#      bytes each transition adds
#   5. peak RSS of a one-off set-state
#   6. SQL statements runctl runs per transition (when the bench build counts them)
#   7. with BENCH_PG set: the same against PostgreSQL (bench/floor_pg.c, runctl --db URI)
# Databases are generated once and cached in BUILD/bench-cache. Environment knobs:
#   BENCH_SIZES="1000 100000 1000000"  BENCH_SETSTATE_RUNS=31  BENCH_REPS=3
#   BENCH_APPLY_N=10000 (default-commit transitions)  BENCH_BATCH_N=100000 (--commit-every 1000)
#   BENCH_NO_BUILD=1 (measure the build directory as it is)
#   BENCH_PG=postgresql:///bench?host=/tmp/pgsock (a database the PostgreSQL rows may write to)
#   BENCH_PG_APPLY_N=2000 (transitions per apply on PostgreSQL)
#   BENCH_PG_CONCURRENT_N=500 (transitions per apply when 4 run at once)
set -euo pipefail

build=${1:-build-bench}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
sizes=${BENCH_SIZES:-"1000 100000 1000000"}
setstate_runs=${BENCH_SETSTATE_RUNS:-31}
reps=${BENCH_REPS:-3}
apply_n=${BENCH_APPLY_N:-10000}
batch_n=${BENCH_BATCH_N:-100000}
pg_uri=${BENCH_PG:-}
pg_apply_n=${BENCH_PG_APPLY_N:-2000}
pg_conc_n=${BENCH_PG_CONCURRENT_N:-500}
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
    --target runctl runctl_engine_bench runctl_proc_bench runctl_floor_sqlite >/dev/null
  # Only where libpq was found (bench/CMakeLists.txt); its absence just leaves its rows empty.
  if [ -n "$pg_uri" ]; then
    cmake --build "$build" --target runctl_floor_pg >/dev/null 2>&1 ||
      say "bench: runctl_floor_pg not built (libpq-dev missing?)"
  fi
fi
runctl=$(cd "$build" && pwd)/runctl
proc_bench=$(cd "$build" && pwd)/bench/runctl_proc_bench
engine_bench=$(cd "$build" && pwd)/bench/runctl_engine_bench
floor_sqlite=$(cd "$build" && pwd)/bench/runctl_floor_sqlite
floor_pg=$(cd "$build" && pwd)/bench/runctl_floor_pg
[ -x "$floor_sqlite" ] || { say "bench: no $floor_sqlite (build target runctl_floor_sqlite)"; exit 1; }
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
# The C floor's own database of N runs (bench/floor_sqlite.c --fill), keyed by the floor's source
# so that a change to its tables makes a new one.
floor_key=$(cat bench/floor_sqlite.c bench/floor_common.h | sha1sum | cut -c1-10)
cached_floor_db() {
  local db="$cache/floor-$1-$floor_key.db"
  if [ ! -f "$db" ]; then
    say "generating the C floor's database of $1 runs"
    "$floor_sqlite" --fill "$db.tmp" "$1" >/dev/null
    mv "$db.tmp" "$db"
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

# Bytes a measurement added to a database: its size after folding the WAL back (TRUNCATE).
checkpointed_size() {
  sqlite3 "$1" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
  stat -c %s "$1"
}
# runctl's count of the SQL statements it ran (bench/statement_counter.cpp), or nothing when
# the build does not count them. Command and arguments; stdin is passed through.
statements_run() {
  { RUNCTL_COUNT_STATEMENTS=1 "$@" 2>&1 >/dev/null || true; } |
    sed -n 's/^runctl-bench: statements=\([0-9]*\)$/\1/p' | tail -1
}
# Statements per transition of apply (extra flags as arguments): a run of 2k transitions less a
# run with no input, so that opening the database and the pragmas are not counted.
statements_per_transition() {
  local k=$((n < 500 ? n : 500)) s0 s1
  fresh_copy "$master" "$db"
  sqlite3 "$db" "SELECT id FROM flow_run WHERE state_type = 'PENDING' ORDER BY random() \
    LIMIT $k" >"$work/count-ids.txt"
  apply_input "$work/count-ids.txt" >"$work/count.jsonl"
  s0=$(statements_run "$runctl" --db "$db" apply "$@" - </dev/null)
  s1=$(statements_run "$runctl" --db "$db" apply "$@" - <"$work/count.jsonl")
  if [ -z "$s0" ] || [ -z "$s1" ]; then echo n/a; return; fi
  awk -v a="$s0" -v b="$s1" -v t="$((2 * k))" 'BEGIN { printf "%.2f\n", (b - a) / t }'
}

# --- 1. engine only -----------------------------------------------------------------------------
say "1/4 engine benchmark"
engine_csv=$("$engine_bench" --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
  --benchmark_format=csv --benchmark_min_time=0.3 2>/dev/null)
engine_rate() {  # median items/s of one benchmark
  awk -F, -v name="\"$1_median\"" '$1 == name { printf "%.0f", $7 }' <<<"$engine_csv"
}

# --- 2-6. per database size -----------------------------------------------------------------------
declare -A setstate_ms setstate_cpu apply_rate batch_rate floor_rate floor_ratio rss_kb
declare -A cone_rate cbatch_rate cone_ratio cbatch_ratio apply_bpt cfloor_bpt
stmts_one=n/a stmts_batch=n/a stmts_setstate=n/a
first=${sizes%% *}
# shellcheck disable=SC2034  # the arrays are read through namerefs (row, at, worst)
for n in $sizes; do
  say "2-4/4 database of $n runs"
  master=$(cached_db "$n")
  floor_master=$(cached_floor_db "$n")
  db="$work/runs.db"
  floor_db="$work/floor.db"
  fresh_copy "$master" "$db"
  per_measure=$((n > 100000 ? 1 : 0))  # 1M: one working copy, disjoint runs for each measurement
  [ "$per_measure" -eq 1 ] && fresh_copy "$floor_master" "$floor_db"
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

  # apply and the floors, each repetition on runs nobody touched (a fresh copy below 1M runs).
  half() { local k=$(($1 / 2)); [ "$k" -gt "$n" ] && k=$n; echo "$k"; }
  measure() {  # kind (apply|batch|floor), transitions; prints transitions/s and bytes/transition
    local kind=$1 k before after
    k=$(half "$2")
    if [ "$per_measure" -eq 0 ]; then
      fresh_copy "$master" "$db"
      sqlite3 "$db" "SELECT id FROM flow_run WHERE state_type = 'PENDING' ORDER BY random() \
        LIMIT $k" >"$work/ids.txt"
    else
      take "$k" >"$work/ids.txt"
    fi
    before=$(checkpointed_size "$db")
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
    after=$(checkpointed_size "$db")
    awk -v k="$((k * 2))" -v s="$secs" -v b="$((after - before))" \
      'BEGIN { printf "%.0f %.0f\n", k / s, b / k }'
  }
  # The C floor on its own tables of N runs: the same number of transitions; the runs it draws
  # are PENDING ones, so on the shared 1M copy each repetition gets runs of its own.
  measure_c() {  # mode (one|batch), transitions, seed; prints transitions/s and bytes/transition
    local k before out
    k=$(half "$2")
    [ "$per_measure" -eq 0 ] && fresh_copy "$floor_master" "$floor_db"
    before=$(stat -c %s "$floor_db")
    out=$("$floor_sqlite" --seed "$3" --run "$floor_db" "$1" $((k * 2)))
    awk -v r="$(field rate "$out")" -v a="$before" -v b="$(field bytes "$out")" -v t="$((k * 2))" \
      'BEGIN { printf "%.0f %.0f\n", r, (b - a) / t }'
  }
  # Interleaved, so that a burst of load elsewhere on the machine hits apply and its floors
  # alike; each ratio is the median of each repetition's own ratio.
  : >"$work/rates"
  for rep in $(seq "$reps"); do
    # Captured first, not read from a process substitution: a failed measurement must stop
    # the script (set -e), not leave an empty figure.
    a=$(measure apply "$apply_n")
    f=$(measure floor "$apply_n")
    c1=$(measure_c one "$apply_n" "$rep")
    b=$(measure batch "$batch_n")
    c2=$(measure_c batch "$batch_n" "$rep")
    read -r a abpt <<<"$a"
    read -r c1 cbpt <<<"$c1"
    echo "$a ${f%% *} ${b%% *} $c1 ${c2%% *} $abpt $cbpt" >>"$work/rates"
  done
  col() { awk -v c="$1" '{ print $c }' "$work/rates" | median; }
  col_ratio() { awk -v x="$1" -v y="$2" '{ printf "%.4f\n", ($y > 0 ? $x / $y : 0) }' "$work/rates" | median; }
  apply_rate[$n]=$(col 1)
  floor_rate[$n]=$(col 2)
  batch_rate[$n]=$(col 3)
  cone_rate[$n]=$(col 4)
  cbatch_rate[$n]=$(col 5)
  apply_bpt[$n]=$(col 6)
  cfloor_bpt[$n]=$(col 7)
  floor_ratio[$n]=$(col_ratio 1 2)
  cone_ratio[$n]=$(col_ratio 1 4)
  cbatch_ratio[$n]=$(col_ratio 3 5)

  # Statements do not depend on the database's size: counted once, on the first one.
  if [ "$n" = "$first" ]; then
    say "   counting SQL statements"
    stmts_one=$(statements_per_transition)
    stmts_batch=$(statements_per_transition --commit-every 1000)
    fresh_copy "$master" "$db"
    run_id=$(sqlite3 "$db" "SELECT id FROM flow_run WHERE state_type = 'PENDING' LIMIT 1")
    stmts_setstate=$(statements_run "$runctl" --db "$db" set-state "$run_id" RUNNING)
    [ -n "$stmts_setstate" ] || stmts_setstate=n/a
  fi
done

# --- 7. PostgreSQL (only with BENCH_PG) -----------------------------------------------------------
# runctl's runs on PostgreSQL are made by runctl itself, one process each: whatever its schema
# there, they are what `flow-run create` makes. The floor fills its own tables (schema `floor`).
pg_runctl=skipped pg_floor=skipped
pg_apply=n/a pg_floor_rate=n/a pg_ratio=n/a pg_setstate_ms=n/a pg_conc=n/a pg_floor_conc=n/a
if [ -n "$pg_uri" ]; then
  say "PostgreSQL (BENCH_PG)"
  pg_k=$((pg_apply_n / 2))
  pg_m=$((pg_conc_n / 2))
  # Enough runs for every measurement, none used twice: set-state and its warm-ups, then per
  # repetition one apply, and one apply beside four at once.
  pg_runs=$((setstate_runs + 3 + reps * (pg_k + 5 * pg_m)))
  # A database that cannot be reached leaves these rows failed, not the SQLite table unprinted.
  if [ ! -x "$floor_pg" ]; then
    pg_floor=unbuilt
  elif "$floor_pg" --fill "$pg_uri" "$pg_runs" >/dev/null; then
    pg_floor=ok
  else
    pg_floor=failed
  fi
  create_pg_runs() {
    for _ in $(seq "$pg_runs"); do
      "$runctl" --db "$pg_uri" --now "$now" flow-run create --state PENDING || return 1
    done >"$work/pg-pending.txt"
  }
  if ! "$runctl" --db "$pg_uri" init >/dev/null 2>&1; then
    pg_runctl=unavailable
    say "runctl PG: unavailable"
  else
    say "   creating $pg_runs runs with runctl"
    if create_pg_runs; then pg_runctl=ok; else pg_runctl=failed; fi
  fi
  echo 1 >"$work/pg-next"
  pg_take() {  # as take(), over the PostgreSQL runs
    local first
    first=$(cat "$work/pg-next")
    sed -n "${first},$((first + $1 - 1))p" "$work/pg-pending.txt"
    echo $((first + $1)) >"$work/pg-next"
  }
  # Wall seconds of P applies started together, each on pg_m runs of its own; timed the same
  # way for P = 1 and P = 4, so the ratio compares like with like.
  concurrent_applies() {
    local p=$1 j start pids=()
    for j in $(seq "$p"); do
      pg_take "$pg_m" >"$work/pg-c$j.txt"
      apply_input "$work/pg-c$j.txt" >"$work/pg-c$j.jsonl"
    done
    start=$(date +%s.%N)
    for j in $(seq "$p"); do
      "$runctl" --db "$pg_uri" apply - <"$work/pg-c$j.jsonl" >/dev/null &
      pids+=($!)
    done
    for j in "${pids[@]}"; do wait "$j" || { say "bench: a concurrent apply failed"; exit 1; }; done
    awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.6f", b - a }'
  }

  if [ "$pg_runctl" = ok ]; then
    pg_take $((setstate_runs + 3)) | awk -v r="$runctl" -v d="$pg_uri" \
      '{ print r " --db " d " set-state " $1 " RUNNING" }' >"$work/pg-setstate.cmd"
    head -3 "$work/pg-setstate.cmd" >"$work/warm.cmd"
    "$proc_bench" "$work/warm.cmd" >/dev/null
    out=$(tail -n +4 "$work/pg-setstate.cmd" >"$work/measure.cmd" && "$proc_bench" "$work/measure.cmd")
    pg_setstate_ms=$(field median_ms "$out")
  fi
  : >"$work/pg-rates"
  for rep in $(seq "$reps"); do  # interleaved, as for SQLite; "-" where a side is missing
    a=- f=- c=- cf=-
    if [ "$pg_runctl" = ok ]; then
      pg_take "$pg_k" >"$work/ids.txt"
      apply_input "$work/ids.txt" >"$work/in.jsonl"
      echo "$runctl --db $pg_uri apply -" >"$work/one.cmd"
      secs=$(time_one "$work/one.cmd" "$work/in.jsonl")
      a=$(awk -v k="$((pg_k * 2))" -v s="$secs" 'BEGIN { printf "%.0f", k / s }')
    fi
    if [ "$pg_floor" = ok ]; then
      out=$("$floor_pg" --seed "$rep" --run "$pg_uri" one $((pg_k * 2)))
      f=$(field rate "$out")
    fi
    if [ "$pg_runctl" = ok ]; then
      t1=$(concurrent_applies 1)
      t4=$(concurrent_applies 4)
      c=$(awk -v a="$t1" -v b="$t4" 'BEGIN { printf "%.4f", 4 * a / b }')
    fi
    if [ "$pg_floor" = ok ]; then
      o1=$("$floor_pg" --seed "$rep" --run "$pg_uri" one $((pg_m * 2)))
      o4=$("$floor_pg" --seed "$rep" --procs 4 --run "$pg_uri" one $((pg_m * 8)))
      cf=$(awk -v a="$(field rate "$o1")" -v b="$(field rate "$o4")" 'BEGIN { printf "%.4f", b / a }')
    fi
    echo "$a $f $c $cf" >>"$work/pg-rates"
  done
  pg_col() { awk -v c="$1" '$c != "-" { print $c }' "$work/pg-rates" | median; }
  [ "$pg_runctl" = ok ] && pg_apply=$(pg_col 1) && pg_conc=$(pg_col 3)
  [ "$pg_floor" = ok ] && pg_floor_rate=$(pg_col 2) && pg_floor_conc=$(pg_col 4)
  if [ "$pg_runctl" = ok ] && [ "$pg_floor" = ok ]; then
    pg_ratio=$(awk '{ printf "%.4f\n", ($2 > 0 ? $1 / $2 : 0) }' "$work/pg-rates" | median)
  fi
fi

# --- the table ----------------------------------------------------------------------------------
fmt() {  # 1234567 -> 1,234,567; anything not a number as it is
  [[ $1 =~ ^[0-9.]+$ ]] || { printf '%s\n' "$1"; return; }
  awk -v v="$1" 'BEGIN { s = sprintf("%.0f", v); out = "";
    while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
    print s out }'
}
two() { [[ $1 =~ ^[0-9.]+$ ]] && awk -v r="$1" 'BEGIN { printf "%.2f", r }' || printf '%s' "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
last=${sizes##* }
w=48  # label column
row() {  # label, formatter, name of an array of per-size values
  local -n values=$3
  printf "%-${w}s" "$1"
  for n in $sizes; do printf ' %12s' "$($2 "${values[$n]:-n/a}")"; done
  echo
}
plain() { printf '%s' "$1"; }
mb() { [[ $1 =~ ^[0-9]+$ ]] && awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }' || printf '%s' "$1"; }
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
printf "%-${w}s" "database size (runs)"
for n in $sizes; do printf ' %12s' "$(fmt "$n")"; done
echo
row "2. set-state, median wall ms" plain setstate_ms
row "   (median CPU ms)" plain setstate_cpu
row "3. apply, one commit each, transitions/s" fmt apply_rate
row "   apply --commit-every 1000, /s" fmt batch_rate
row "4. floor (sqlite3 shell), transactions/s" fmt floor_rate
row "   runctl apply / floor" two floor_ratio
row "   C floor, one commit each, /s" fmt cone_rate
row "   apply / C floor (one commit)" two cone_ratio
row "   C floor, batched by 1000, /s" fmt cbatch_rate
row "   apply --commit-every 1000 / C floor (batched)" two cbatch_ratio
row "   database bytes per transition, apply" fmt apply_bpt
row "   database bytes per transition, C floor" fmt cfloor_bpt
row "5. set-state peak RSS, MB (max of runs)" mb rss_kb
echo
printf "%-${w}s %12s\n" "6. SQL statements per transition, one commit" "$stmts_one"
printf "%-${w}s %12s\n" "   --commit-every 1000" "$stmts_batch"
printf "%-${w}s %12s\n" "   a set-state process, in all" "$stmts_setstate"
if [ -n "$pg_uri" ]; then
  echo
  echo "7. PostgreSQL (BENCH_PG; $pg_runs runs for runctl, as many in the floor's tables)"
  case $pg_runctl in unavailable) echo "   runctl PG: unavailable" ;; failed) echo "   runctl PG: failed" ;; esac
  case $pg_floor in unbuilt) echo "   libpq floor: not built" ;; failed) echo "   libpq floor: failed" ;; esac
  printf "%-${w}s %12s\n" "   libpq floor, one commit each, /s" "$(fmt "$pg_floor_rate")"
  printf "%-${w}s %12s\n" "   apply, one commit each, /s" "$(fmt "$pg_apply")"
  printf "%-${w}s %12s\n" "   apply / libpq floor" "$(two "$pg_ratio")"
  printf "%-${w}s %12s\n" "   set-state, median wall ms" "$pg_setstate_ms"
  printf "%-${w}s %12s\n" "   4 applies at once / 1, aggregate rate" "$(two "$pg_conc")"
  printf "%-${w}s %12s\n" "   libpq floor, 4 processes / 1" "$(two "$pg_floor_conc")"
fi
echo
printf 'set-state median, %s runs / %s runs: %s\n' "$(fmt "$last")" "$(fmt "$first")" \
  "$(ratio "${setstate_ms[$last]}" "${setstate_ms[$first]}")"
echo "transitions per measurement: apply $apply_n, --commit-every 1000 $batch_n (at most 2 per run);"
echo "medians of $reps repetitions; set-state: $setstate_runs processes after 3 warm-ups."
echo "C floor: bench/floor_sqlite.c on tables of its own, as many runs (timed: the transitions and"
echo "their final checkpoint, as apply's time includes its own);"
echo "statements: RUNCTL_COUNT_STATEMENTS (bench/statement_counter.cpp), n/a when not counted."

# The issue's targets: at the sizes they name (n/a when that size was not measured), else
# against the worst figure over the sizes measured.
worst() {  # min|max over the sizes of one array's values
  local -n values=$2
  for n in $sizes; do echo "${values[$n]}"; done | sort -g | { [ "$1" = min ] && head -1 || tail -1; }
}
at() {  # one array's value at one size, or n/a
  local -n values=$1
  printf '%s' "${values[$2]:-n/a}"
}
verdict() { awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN {
  ok = (op == ">=" ? v >= t : v <= t); printf "%s", (ok ? "met" : "MISSED") }'; }
target() {  # label, figure, op, threshold
  local shown=$2 verdict="not measured"
  [[ $2 =~ ^[0-9]{4,}(\.[0-9]*)?$ ]] && shown=$(fmt "$2")  # a median of an even count: x.5
  [[ $2 =~ ^[0-9.]+$ ]] && verdict=$(verdict "$2" "$3" "$4")
  printf '   %-64s %12s  %s\n' "$1" "$shown" "$verdict"
}
echo
echo "targets"
target "apply, one commit each / C floor >= 0.8, 1,000 runs" "$(two "$(at cone_ratio 1000)")" ">=" 0.8
target "apply, one commit each / C floor >= 0.8, 100,000 runs" "$(two "$(at cone_ratio 100000)")" ">=" 0.8
target "apply --commit-every 1000 / C floor (batched) >= 0.3, 1,000 runs" \
  "$(two "$(at cbatch_ratio 1000)")" ">=" 0.3
target "apply --commit-every 1000 >= 27,400/s, 1,000 runs" "$(at batch_rate 1000)" ">=" 27400
target "SQL statements per transition, --commit-every 1000 <= 5" "$stmts_batch" "<=" 5
target "SQL statements per transition, one commit each <= 6" "$stmts_one" "<=" 6
target "set-state median ms, $(fmt "$last") runs <= 3" "${setstate_ms[$last]}" "<=" 3
target "set-state median, $(fmt "$last") / $(fmt "$first") runs <= 1.3" \
  "$(ratio "${setstate_ms[$last]}" "${setstate_ms[$first]}")" "<=" 1.3
target "engine CoreFlowPolicy evaluations/s >= 1,000,000" \
  "$(engine_rate BM_CoreFlow_PendingToRunning)" ">=" 1000000
target "set-state peak RSS MB <= 10" "$(worst max rss_kb | awk '{ printf "%.1f", $1 / 1024 }')" "<=" 10
if [ -n "$pg_uri" ]; then
  target "PostgreSQL: apply, one commit each / libpq floor >= 0.8" "$(two "$pg_ratio")" ">=" 0.8
fi
