/* The bare floor for `runctl apply` on PostgreSQL: floor_sqlite.c's transitions through libpq,
 * with prepared statements, on tables of the same shape in a schema of their own (`floor`), so
 * it can share a database with runctl's tables.
 *
 *   floor_pg [--seed S] [--procs P] CONNINFO N MODE [K]      fill N runs afresh, then K transitions
 *   floor_pg [--seed S] --fill CONNINFO N                    fill only
 *   floor_pg [--seed S] [--procs P] --run CONNINFO MODE [K]  K transitions on the filled tables
 *
 * CONNINFO is a libpq connection string or URI (postgresql:///bench?host=/tmp/pgsock). MODE is
 * `one` (BEGIN .. COMMIT per transition) or `batch` (per FLOOR_BATCH transitions). A transition is
 * SELECT .. FOR UPDATE of the run, INSERT of the state, UPDATE of the run. --procs P splits the
 * runs between P processes, each with its own connection, started together; the rate is then the
 * aggregate one. Prints, on stdout:
 *   transitions=K seconds=S rate=R bytes=B
 * S covers the transitions only (connections are open and statements prepared before the clock
 * starts); B is the two tables' size with their indexes. --fill prints `runs=N bytes=B`.
 * Runs are drawn at random among those still PENDING, so repeated --run calls use disjoint runs.
 *
 * Build: gcc -O2 -Wall -I/usr/include/postgresql floor_pg.c -lpq   (or the runctl_floor_pg target) */
#include "floor_common.h"

#include <libpq-fe.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* floor_sqlite.c's tables. Timestamps and ids are TEXT, as in runctl's SQLite schema. The
 * foreign key is added after the fill: checking it per copied row would only slow the fill. */
static const char* const kSchema =
    "DROP SCHEMA IF EXISTS floor CASCADE;"
    "CREATE SCHEMA floor;"
    "CREATE TABLE floor.run ("
    "  id TEXT PRIMARY KEY, created TEXT NOT NULL, updated TEXT NOT NULL, name TEXT NOT NULL,"
    "  state_id TEXT, state_type TEXT, state_name TEXT, state_timestamp TEXT);"
    "CREATE TABLE floor.run_state ("
    "  id TEXT NOT NULL UNIQUE, created TEXT NOT NULL, run_id TEXT NOT NULL,"
    "  type TEXT NOT NULL, name TEXT NOT NULL, message TEXT, timestamp TEXT NOT NULL,"
    "  state_details TEXT NOT NULL, PRIMARY KEY (run_id, timestamp));";

static PGconn* connect_db(const char* conninfo) {
  PGconn* c = PQconnectdb(conninfo);
  if (PQstatus(c) != CONNECTION_OK) floor_die(conninfo, PQerrorMessage(c));
  return c;
}

static void expect(PGconn* c, PGresult* r, ExecStatusType want, const char* what) {
  if (PQresultStatus(r) != want) floor_die(what, PQerrorMessage(c));
  PQclear(r);
}

static void exec(PGconn* c, const char* sql) { expect(c, PQexec(c, sql), PGRES_COMMAND_OK, sql); }

static long long table_bytes(PGconn* c) {
  PGresult* r = PQexec(c, "SELECT pg_total_relation_size('floor.run') + "
                          "pg_total_relation_size('floor.run_state')");
  if (PQresultStatus(r) != PGRES_TUPLES_OK) floor_die("table size", PQerrorMessage(c));
  const long long bytes = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
  PQclear(r);
  return bytes;
}

/* COPY rows in chunks: one round trip per chunk rather than per row. */
typedef struct {
  PGconn* c;
  char buf[1 << 16];
  size_t len;
} copier;

static void copy_flush(copier* cp) {
  if (cp->len && PQputCopyData(cp->c, cp->buf, (int)cp->len) != 1)
    floor_die("COPY", PQerrorMessage(cp->c));
  cp->len = 0;
}

static void copy_row(copier* cp, const char* row, size_t len) {
  if (cp->len + len > sizeof cp->buf) copy_flush(cp);
  memcpy(cp->buf + cp->len, row, len);
  cp->len += len;
}

static void copy_end(copier* cp) {
  copy_flush(cp);
  if (PQputCopyEnd(cp->c, NULL) != 1) floor_die("COPY", PQerrorMessage(cp->c));
  expect(cp->c, PQgetResult(cp->c), PGRES_COMMAND_OK, "COPY");
}

typedef struct {
  char run[37];
  char state[37];
} id_pair;

static int by_run_id(const void* a, const void* b) {
  return strcmp(((const id_pair*)a)->run, ((const id_pair*)b)->run);
}

/* As floor_sqlite's fill: runs in key order, their states in random key order. */
static long long fill(const char* conninfo, size_t n, uint64_t seed) {
  PGconn* c = connect_db(conninfo);
  exec(c, "SET client_min_messages = warning");  /* no NOTICE for the first DROP SCHEMA */
  exec(c, kSchema);
  floor_rng rng;
  floor_rng_seed(&rng, seed, 1);
  id_pair* ids = malloc(n * sizeof *ids);
  if (!ids) floor_die("fill", "out of memory");
  for (size_t i = 0; i < n; ++i) {
    floor_uuid(&rng, ids[i].run);
    floor_uuid(&rng, ids[i].state);
  }
  static copier cp;
  cp.c = c;
  char row[1024], details[FLOOR_DETAILS_MAX];

  qsort(ids, n, sizeof *ids, by_run_id);
  expect(c, PQexec(c, "COPY floor.run FROM STDIN"), PGRES_COPY_IN, "COPY floor.run");
  for (size_t i = 0; i < n; ++i) {
    const int len = snprintf(row, sizeof row, "%s\t%s\t%s\tflow-run-%.8s\t%s\tPENDING\tPending\t%s\n",
                             ids[i].run, FLOOR_FILL_TS, FLOOR_FILL_TS, ids[i].run, ids[i].state,
                             FLOOR_FILL_TS);
    copy_row(&cp, row, (size_t)len);
  }
  copy_end(&cp);

  /* The states in an order unrelated to their keys: shuffled with the fill's generator. */
  floor_rng order;
  floor_rng_seed(&order, seed, 3);
  for (size_t i = n; i > 1; --i) {
    const size_t j = floor_below(&order, i);
    const id_pair t = ids[i - 1];
    ids[i - 1] = ids[j];
    ids[j] = t;
  }
  expect(c, PQexec(c, "COPY floor.run_state FROM STDIN"), PGRES_COPY_IN, "COPY floor.run_state");
  for (size_t i = 0; i < n; ++i) {
    floor_details(details, ids[i].run);
    const int len = snprintf(row, sizeof row, "%s\t%s\t%s\tPENDING\tPending\t\\N\t%s\t%s\n",
                             ids[i].state, FLOOR_FILL_TS, ids[i].run, FLOOR_FILL_TS, details);
    copy_row(&cp, row, (size_t)len);
  }
  copy_end(&cp);
  exec(c, "ALTER TABLE floor.run_state ADD FOREIGN KEY (run_id) REFERENCES floor.run (id) "
          "ON DELETE CASCADE");
  exec(c, "VACUUM ANALYZE floor.run");
  exec(c, "VACUUM ANALYZE floor.run_state");
  const long long bytes = table_bytes(c);
  PQfinish(c);
  free(ids);
  return bytes;
}

/* One process's share of the transitions: runs r with r % procs == part, in the common order. */
static void transitions(const char* conninfo, char (*ids)[37], size_t total, size_t k, int batch,
                        int part, int procs, uint64_t seed, uint64_t stream, int ready, int go) {
  PGconn* c = connect_db(conninfo);
  expect(c, PQprepare(c, "sel",
                      "SELECT state_id, state_type, state_name, state_timestamp FROM floor.run "
                      "WHERE id = $1 FOR UPDATE", 1, NULL),
         PGRES_COMMAND_OK, "prepare select");
  expect(c, PQprepare(c, "ins",
                      "INSERT INTO floor.run_state (id, created, run_id, type, name, message, "
                      "timestamp, state_details) VALUES ($1, $2, $3, $4, $5, NULL, $2, $6)", 6, NULL),
         PGRES_COMMAND_OK, "prepare insert");
  expect(c, PQprepare(c, "upd",
                      "UPDATE floor.run SET updated = $2, state_id = $3, state_type = $4, "
                      "state_name = $5, state_timestamp = $2 WHERE id = $1", 5, NULL),
         PGRES_COMMAND_OK, "prepare update");
  floor_rng rng;
  floor_rng_seed(&rng, seed, stream + 1 + (uint64_t)part);

  /* Closing `ready` at once: a process that dies before this point leaves the parent an EOF
   * to notice instead of a byte to wait for forever. */
  char one = 1;
  if (write(ready, &one, 1) != 1) floor_die("start", "pipe");
  close(ready);
  if (read(go, &one, 1) < 0) floor_die("start", "pipe");

  char state_id[37], ts[33], details[FLOOR_DETAILS_MAX];
  const size_t per_commit = batch ? FLOOR_BATCH : 1;
  size_t done = 0, mine = 0;
  for (size_t i = 0; i < total; ++i) mine += floor_step_of(i, k).run % (size_t)procs == (size_t)part;
  for (size_t i = 0; i < total; ++i) {
    const floor_step st = floor_step_of(i, k);
    if (st.run % (size_t)procs != (size_t)part) continue;
    const char* id = ids[st.run];
    if (done % per_commit == 0) exec(c, "BEGIN");

    const char* sel[1] = {id};
    PGresult* r = PQexecPrepared(c, "sel", 1, sel, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) floor_die(id, PQerrorMessage(c));
    if (strcmp(PQgetvalue(r, 0, 1), floor_from_type[st.second]) != 0)
      floor_die(id, "run is not in the expected state");
    PQclear(r);

    floor_uuid(&rng, state_id);
    floor_timestamp(ts);
    floor_details(details, id);
    const char* ins[6] = {state_id, ts, id, floor_to_type[st.second], floor_to_name[st.second],
                          details};
    expect(c, PQexecPrepared(c, "ins", 6, ins, NULL, NULL, 0), PGRES_COMMAND_OK, "insert state");
    const char* upd[5] = {id, ts, state_id, floor_to_type[st.second], floor_to_name[st.second]};
    expect(c, PQexecPrepared(c, "upd", 5, upd, NULL, NULL, 0), PGRES_COMMAND_OK, "update run");

    ++done;
    if (done % per_commit == 0 || done == mine) exec(c, "COMMIT");
  }
  PQfinish(c);
}

static void run(const char* conninfo, int batch, unsigned long long want, int have_want, int procs,
                uint64_t seed) {
  /* Untimed: which runs, in which order. */
  PGconn* c = connect_db(conninfo);
  PGresult* r = PQexec(c, "SELECT id FROM floor.run WHERE state_type = 'PENDING' ORDER BY id");
  if (PQresultStatus(r) != PGRES_TUPLES_OK) floor_die("pending runs", PQerrorMessage(c));
  const size_t count = (size_t)PQntuples(r);
  char(*ids)[37] = malloc((count ? count : 1) * sizeof *ids);
  if (!ids) floor_die("run", "out of memory");
  for (size_t i = 0; i < count; ++i) snprintf(ids[i], 37, "%s", PQgetvalue(r, (int)i, 0));
  PQclear(r);
  PQfinish(c);  /* not shared with the children */

  const size_t total = have_want ? (size_t)want : 2 * count;
  if (total > 2 * count) floor_die("run", "more transitions asked for than PENDING runs allow");
  const size_t k = (total + 1) / 2;
  /* As in floor_sqlite: a stream per number of runs left, so each --run draws new runs. */
  const uint64_t stream = (uint64_t)(2 + count) << 8;
  floor_rng rng;
  floor_rng_seed(&rng, seed, stream);
  floor_shuffle(&rng, ids, count);

  /* Every process connects and prepares, then all start together when `go` closes. */
  int ready[2], go[2];
  if (pipe(ready) != 0 || pipe(go) != 0) floor_die("pipe", "cannot create");
  fflush(stdout);
  pid_t pids[254];
  for (int p = 0; p < procs; ++p) {
    const pid_t pid = pids[p] = fork();
    if (pid < 0) floor_die("fork", "failed");
    if (pid == 0) {
      close(ready[0]);
      close(go[1]);
      transitions(conninfo, ids, total, k, batch, p, procs, seed, stream, ready[1], go[0]);
      _exit(0);
    }
  }
  close(ready[1]);
  close(go[0]);
  char byte;
  for (int p = 0; p < procs; ++p) {
    if (read(ready[0], &byte, 1) == 1) continue;
    for (int q = 0; q < procs; ++q) kill(pids[q], SIGTERM);
    floor_die("run", "a process failed before starting");
  }
  const double start = floor_seconds();
  close(go[1]);
  int failed = 0, status = 0;
  for (int p = 0; p < procs; ++p) {
    if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed = 1;
  }
  const double seconds = floor_seconds() - start;
  if (failed) floor_die("run", "a process failed");

  c = connect_db(conninfo);
  const long long bytes = table_bytes(c);
  PQfinish(c);
  free(ids);
  printf("transitions=%zu seconds=%.6f rate=%.0f bytes=%lld\n", total, seconds,
         seconds > 0 ? (double)total / seconds : 0.0, bytes);
}

static void usage(void) {
  fprintf(stderr,
          "usage: floor_pg [--seed S] [--procs P] CONNINFO N MODE [K]\n"
          "       floor_pg [--seed S] --fill CONNINFO N\n"
          "       floor_pg [--seed S] [--procs P] --run CONNINFO MODE [K]\n"
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
  int fill_only = 0, run_only = 0, procs = 1, a = 1;
  for (; a < argc && strncmp(argv[a], "--", 2) == 0; ++a) {
    if (strcmp(argv[a], "--fill") == 0) fill_only = 1;
    else if (strcmp(argv[a], "--run") == 0) run_only = 1;
    else if (strcmp(argv[a], "--seed") == 0 && a + 1 < argc) seed = floor_count_arg(argv[++a], "--seed");
    else if (strcmp(argv[a], "--procs") == 0 && a + 1 < argc) procs = (int)floor_count_arg(argv[++a], "--procs");
    else usage();
  }
  if (procs < 1 || procs > 254) floor_die("--procs", "between 1 and 254");
  const int left = argc - a;
  char** p = argv + a;
  if (fill_only && !run_only && left == 2) {
    const size_t n = (size_t)floor_count_arg(p[1], "N");
    const long long bytes = fill(p[0], n, seed);
    printf("runs=%zu bytes=%lld\n", n, bytes);
  } else if (run_only && !fill_only && (left == 2 || left == 3)) {
    const int batch = parse_mode(p[1]);
    run(p[0], batch, left == 3 ? floor_count_arg(p[2], "K") : 0, left == 3, procs, seed);
  } else if (!fill_only && !run_only && (left == 3 || left == 4)) {
    const int batch = parse_mode(p[2]);
    fill(p[0], (size_t)floor_count_arg(p[1], "N"), seed);
    run(p[0], batch, left == 4 ? floor_count_arg(p[3], "K") : 0, left == 4, procs, seed);
  } else {
    usage();
  }
  return 0;
}
