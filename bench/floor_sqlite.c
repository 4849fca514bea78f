/* The bare floor for `runctl apply` on SQLite: the least a program must do for the transitions
 * apply makes, written directly against the SQLite C API with prepared statements, on tables of
 * runctl's shape. runctl apply over this is what its engine, log rows and bookkeeping cost.
 *
 *   floor_sqlite [--seed S] DB N MODE [K]      fill a fresh DB with N runs, then K transitions
 *   floor_sqlite [--seed S] --fill DB N        fill only (bench.sh caches the file and copies it)
 *   floor_sqlite [--seed S] --run DB MODE [K]  K transitions on a filled DB
 *
 * MODE is `one` (BEGIN IMMEDIATE .. COMMIT per transition, apply's default) or `batch` (one per
 * FLOOR_BATCH transitions, as `apply --commit-every 1000`). K is at most twice the PENDING runs
 * left (default: all of them, twice). A run prints, on stdout:
 *   transitions=K seconds=S rate=R bytes=B
 * S covers the transitions and the final checkpoint only (apply's time includes its own final
 * checkpoint), never the fill or the choice of runs; B is the file's size after that
 * checkpoint. --fill prints `runs=N bytes=B`.
 *
 * Each of the N runs has one PENDING state. A transition reads the run by id, inserts its next
 * state row and updates the run's state columns; the runs are drawn at random among those still
 * PENDING and visited in that order, all PENDING -> RUNNING first, then RUNNING -> COMPLETED, as
 * bench.sh feeds apply. So repeated --run calls on one file use disjoint runs.
 *
 * Build: gcc -O2 -Wall floor_sqlite.c -lsqlite3   (or the runctl_floor_sqlite CMake target) */
#include "floor_common.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

/* The run and state tables as runctl's schema 004 has them (schema/.../001 and 004), less the
 * columns a flow-run transition leaves NULL or at their default, which cost a few bytes a row:
 * runs keyed by their text UUID in a WITHOUT ROWID table, states clustered by (run, timestamp)
 * with the unique index on the state id Prefect's schema requires. foreign_keys=ON as in runctl,
 * so each state insert also checks its run, as runctl's does. */
static const char* const kSchema =
    "CREATE TABLE run ("
    "  id TEXT PRIMARY KEY, created TEXT NOT NULL, updated TEXT NOT NULL, name TEXT NOT NULL,"
    "  state_id TEXT, state_type TEXT, state_name TEXT, state_timestamp TEXT"
    ") WITHOUT ROWID;"
    "CREATE TABLE run_state ("
    "  id TEXT NOT NULL UNIQUE, created TEXT NOT NULL,"
    "  run_id TEXT NOT NULL REFERENCES run (id) ON DELETE CASCADE,"
    "  type TEXT NOT NULL, name TEXT NOT NULL, message TEXT, timestamp TEXT NOT NULL,"
    "  state_details TEXT NOT NULL,"
    "  PRIMARY KEY (run_id, timestamp)"
    ") WITHOUT ROWID;";

static sqlite3* db;

static void check(int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) floor_die(what, sqlite3_errmsg(db));
}

static void exec(const char* sql) { check(sqlite3_exec(db, sql, NULL, NULL, NULL), sql); }

static sqlite3_stmt* prepare(const char* sql) {
  sqlite3_stmt* s = NULL;
  check(sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL), sql);
  return s;
}

static void step_done(sqlite3_stmt* s, const char* what) {
  if (sqlite3_step(s) != SQLITE_DONE) floor_die(what, sqlite3_errmsg(db));
  sqlite3_reset(s);
}

static void open_db(const char* path) {
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
    floor_die(path, sqlite3_errmsg(db));
}

static long long file_size(const char* path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

typedef struct {
  char run[37];
  char state[37];
} id_pair;

static int by_run_id(const void* a, const void* b) {
  return strcmp(((const id_pair*)a)->run, ((const id_pair*)b)->run);
}

/* N PENDING runs with one state row each. Laid out as bench.sh's make_db lays out runctl's
 * cached databases: runs inserted in key order (packed leaves, as a bulk copy leaves them),
 * states in random key order (leaves about two thirds full, as years of use leave them). */
static long long fill(const char* path, size_t n, uint64_t seed) {
  char side[4096];
  unlink(path);
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);
  open_db(path);
  exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-1000000;");
  exec(kSchema);

  floor_rng rng;
  floor_rng_seed(&rng, seed, 1);
  id_pair* ids = malloc(n * sizeof *ids);
  if (!ids) floor_die("fill", "out of memory");
  for (size_t i = 0; i < n; ++i) {
    floor_uuid(&rng, ids[i].run);
    floor_uuid(&rng, ids[i].state);
  }

  exec("BEGIN");
  sqlite3_stmt* states = prepare(
      "INSERT INTO run_state (id, created, run_id, type, name, message, timestamp, state_details)"
      " VALUES (?1, ?2, ?3, 'PENDING', 'Pending', NULL, ?2, ?4)");
  char details[FLOOR_DETAILS_MAX];
  for (size_t i = 0; i < n; ++i) {
    const size_t len = floor_details(details, ids[i].run);
    sqlite3_bind_text(states, 1, ids[i].state, 36, SQLITE_STATIC);
    sqlite3_bind_text(states, 2, FLOOR_FILL_TS, -1, SQLITE_STATIC);
    sqlite3_bind_text(states, 3, ids[i].run, 36, SQLITE_STATIC);
    sqlite3_bind_text(states, 4, details, (int)len, SQLITE_STATIC);
    step_done(states, "insert state");
  }
  qsort(ids, n, sizeof *ids, by_run_id);
  sqlite3_stmt* runs = prepare(
      "INSERT INTO run (id, created, updated, name, state_id, state_type, state_name,"
      " state_timestamp) VALUES (?1, ?2, ?2, ?3, ?4, 'PENDING', 'Pending', ?2)");
  char name[32];
  for (size_t i = 0; i < n; ++i) {
    snprintf(name, sizeof name, "flow-run-%.8s", ids[i].run);
    sqlite3_bind_text(runs, 1, ids[i].run, 36, SQLITE_STATIC);
    sqlite3_bind_text(runs, 2, FLOOR_FILL_TS, -1, SQLITE_STATIC);
    sqlite3_bind_text(runs, 3, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(runs, 4, ids[i].state, 36, SQLITE_STATIC);
    step_done(runs, "insert run");
  }
  sqlite3_finalize(states);
  sqlite3_finalize(runs);
  exec("COMMIT");
  exec("ANALYZE; PRAGMA journal_mode=WAL;");
  sqlite3_close(db);
  free(ids);
  return file_size(path);
}

static void run(const char* path, int batch, unsigned long long want, int have_want, uint64_t seed) {
  open_db(path);
  /* runctl's connection (lib/store): WAL, synchronous=NORMAL, foreign keys; and what apply
   * sets for a bulk run: a checkpoint once the WAL holds 10,000 pages, and a 64 MB page cache
   * when transitions share a commit. */
  exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
       "PRAGMA wal_autocheckpoint=10000;");
  if (batch) exec("PRAGMA cache_size=-65536;");

  /* Untimed: which runs, in which order. */
  size_t count = 0, cap = 1024;
  char(*ids)[37] = malloc(cap * sizeof *ids);
  sqlite3_stmt* pending = prepare("SELECT id FROM run WHERE state_type = 'PENDING' ORDER BY id");
  while (sqlite3_step(pending) == SQLITE_ROW) {
    if (count == cap) ids = realloc(ids, (cap *= 2) * sizeof *ids);
    if (!ids) floor_die("run", "out of memory");
    snprintf(ids[count++], 37, "%s", (const char*)sqlite3_column_text(pending, 0));
  }
  sqlite3_finalize(pending);
  const size_t total = have_want ? (size_t)want : 2 * count;
  if (total > 2 * count) floor_die("run", "more transitions asked for than PENDING runs allow");
  const size_t k = (total + 1) / 2;
  /* The stream depends on how many runs are left, so that each --run on one file draws new
   * runs and new state ids, while a fresh copy repeats the same ones. */
  floor_rng rng;
  floor_rng_seed(&rng, seed, 2 + count);
  floor_shuffle(&rng, ids, count);

  sqlite3_stmt* begin = prepare("BEGIN IMMEDIATE");
  sqlite3_stmt* commit = prepare("COMMIT");
  sqlite3_stmt* select = prepare(
      "SELECT state_id, state_type, state_name, state_timestamp FROM run WHERE id = ?1");
  sqlite3_stmt* insert = prepare(
      "INSERT INTO run_state (id, created, run_id, type, name, message, timestamp, state_details)"
      " VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?2, ?6)");
  sqlite3_stmt* update = prepare(
      "UPDATE run SET updated = ?2, state_id = ?3, state_type = ?4, state_name = ?5,"
      " state_timestamp = ?2 WHERE id = ?1");

  char state_id[37], ts[33], details[FLOOR_DETAILS_MAX];
  const size_t per_commit = batch ? FLOOR_BATCH : 1;
  const double start = floor_seconds();
  for (size_t i = 0; i < total; ++i) {
    const floor_step st = floor_step_of(i, k);
    const char* id = ids[st.run];
    if (i % per_commit == 0) step_done(begin, "BEGIN");

    sqlite3_bind_text(select, 1, id, 36, SQLITE_STATIC);
    if (sqlite3_step(select) != SQLITE_ROW) floor_die(id, "run not found");
    /* What runctl checks first: the run is in the state the transition starts from. */
    if (strcmp((const char*)sqlite3_column_text(select, 1), floor_from_type[st.second]) != 0)
      floor_die(id, "run is not in the expected state");
    sqlite3_reset(select);

    floor_uuid(&rng, state_id);
    floor_timestamp(ts);
    const size_t len = floor_details(details, id);
    sqlite3_bind_text(insert, 1, state_id, 36, SQLITE_STATIC);
    sqlite3_bind_text(insert, 2, ts, 32, SQLITE_STATIC);
    sqlite3_bind_text(insert, 3, id, 36, SQLITE_STATIC);
    sqlite3_bind_text(insert, 4, floor_to_type[st.second], -1, SQLITE_STATIC);
    sqlite3_bind_text(insert, 5, floor_to_name[st.second], -1, SQLITE_STATIC);
    sqlite3_bind_text(insert, 6, details, (int)len, SQLITE_STATIC);
    step_done(insert, "insert state");

    sqlite3_bind_text(update, 1, id, 36, SQLITE_STATIC);
    sqlite3_bind_text(update, 2, ts, 32, SQLITE_STATIC);
    sqlite3_bind_text(update, 3, state_id, 36, SQLITE_STATIC);
    sqlite3_bind_text(update, 4, floor_to_type[st.second], -1, SQLITE_STATIC);
    sqlite3_bind_text(update, 5, floor_to_name[st.second], -1, SQLITE_STATIC);
    step_done(update, "update run");

    if ((i + 1) % per_commit == 0 || i + 1 == total) step_done(commit, "COMMIT");
  }
  check(sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL), "checkpoint");
  const double seconds = floor_seconds() - start;

  sqlite3_stmt* all[] = {begin, commit, select, insert, update};
  for (size_t i = 0; i < sizeof all / sizeof *all; ++i) sqlite3_finalize(all[i]);
  sqlite3_close(db);
  free(ids);
  printf("transitions=%zu seconds=%.6f rate=%.0f bytes=%lld\n", total, seconds,
         seconds > 0 ? (double)total / seconds : 0.0, file_size(path));
}

static void usage(void) {
  fprintf(stderr,
          "usage: floor_sqlite [--seed S] DB N MODE [K]\n"
          "       floor_sqlite [--seed S] --fill DB N\n"
          "       floor_sqlite [--seed S] --run DB MODE [K]\n"
          "MODE: one (a commit per transition) | batch (a commit per %d)\n",
          FLOOR_BATCH);
  exit(64);
}

static int parse_mode(const char* m) {
  if (strcmp(m, "one") == 0) return 0;
  if (strcmp(m, "batch") == 0) return 1;
  usage();
  return 0;
}

int main(int argc, char** argv) {
  uint64_t seed = 1;
  int fill_only = 0, run_only = 0, a = 1;
  for (; a < argc && argv[a][0] == '-' && argv[a][1] == '-'; ++a) {
    if (strcmp(argv[a], "--fill") == 0) fill_only = 1;
    else if (strcmp(argv[a], "--run") == 0) run_only = 1;
    else if (strcmp(argv[a], "--seed") == 0 && a + 1 < argc) seed = floor_count_arg(argv[++a], "--seed");
    else usage();
  }
  const int left = argc - a;
  char** p = argv + a;
  if (fill_only && !run_only && left == 2) {
    const size_t n = (size_t)floor_count_arg(p[1], "N");
    const long long bytes = fill(p[0], n, seed);
    printf("runs=%zu bytes=%lld\n", n, bytes);
  } else if (run_only && !fill_only && (left == 2 || left == 3)) {
    const int batch = parse_mode(p[1]);
    run(p[0], batch, left == 3 ? floor_count_arg(p[2], "K") : 0, left == 3, seed);
  } else if (!fill_only && !run_only && (left == 3 || left == 4)) {
    const int batch = parse_mode(p[2]);
    fill(p[0], (size_t)floor_count_arg(p[1], "N"), seed);
    run(p[0], batch, left == 4 ? floor_count_arg(p[3], "K") : 0, left == 4, seed);
  } else {
    usage();
  }
  return 0;
}
