/* Shared by floor_sqlite.c and floor_pg.c: the pieces of a transition that do not depend on the
 * database (ids, timestamps, the state_details text, the order runs are visited in), so the
 * two floors do exactly the same work around their SQL. Plain C, header-only: each floor is
 * one translation unit that a bare `gcc -O2 floor_x.c -lx` builds. */
#ifndef RUNCTL_FLOOR_COMMON_H
#define RUNCTL_FLOOR_COMMON_H

/* Included first: clock_gettime and gmtime_r are POSIX. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Transitions per commit in `batch` mode: what `apply --commit-every 1000` shares a commit
 * between. */
#define FLOOR_BATCH 1000

/* Every generated run's creation time and its PENDING state's timestamp, as bench.sh's `now`. */
#define FLOOR_FILL_TS "2026-01-01T00:00:00.000000+00:00"

/* xoshiro256**, seeded through splitmix64: a fixed seed gives the same ids and the same visiting
 * order on every machine, and it costs a few nanoseconds per id, far below anything measured. */
typedef struct {
  uint64_t s[4];
} floor_rng;

static uint64_t floor_splitmix(uint64_t* x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* `stream` separates the fill's ids from a transition run's: the same seed in both would draw
 * the same ids again, and a new state id equal to a filled one breaks its UNIQUE constraint. */
static void floor_rng_seed(floor_rng* r, uint64_t seed, uint64_t stream) {
  uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
  for (int i = 0; i < 4; ++i) r->s[i] = floor_splitmix(&x);
}

static uint64_t floor_rng_next(floor_rng* r) {
  uint64_t* s = r->s;
  const uint64_t result = ((s[1] * 5) << 7 | (s[1] * 5) >> 57) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = s[3] << 45 | s[3] >> 19;
  return result;
}

/* A random (version 4) UUID as runctl stores them: 36 lowercase characters and a NUL. */
static void floor_uuid(floor_rng* r, char out[37]) {
  static const char hex[] = "0123456789abcdef";
  uint64_t hi = floor_rng_next(r), lo = floor_rng_next(r);
  hi = (hi & ~0xf000ULL) | 0x4000ULL;                     /* version 4 */
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL; /* variant 10 */
  int n = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out[n++] = '-';
    const uint64_t word = i < 16 ? hi : lo;
    out[n++] = hex[(word >> (60 - 4 * (i % 16))) & 0xf];
  }
  out[n] = '\0';
}

/* Nearly uniform in [0, n): the modulo's bias at these n is far below notice. */
static size_t floor_below(floor_rng* r, size_t n) { return (size_t)(floor_rng_next(r) % n); }

/* Fisher-Yates over an array of 37-byte ids: runs are visited in random key order, as apply
 * visits the runs bench.sh draws with ORDER BY random(). */
static void floor_shuffle(floor_rng* r, char (*ids)[37], size_t n) {
  char tmp[37];
  for (size_t i = n; i > 1; --i) {
    const size_t j = floor_below(r, i);
    memcpy(tmp, ids[i - 1], 37);
    memcpy(ids[i - 1], ids[j], 37);
    memcpy(ids[j], tmp, 37);
  }
}

static double floor_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The transition's timestamp, "2026-06-01T12:00:00.123456+00:00", from the real clock as
 * runctl's is (without --now). Kept strictly increasing within the process: a run's next state
 * must never share its previous state's (run_id, timestamp) key. */
static void floor_timestamp(char out[33]) {
  static int64_t last_us;
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  int64_t us = (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
  if (us <= last_us) us = last_us + 1;
  last_us = us;
  const time_t secs = (time_t)(us / 1000000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  const int fields[7] = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                         tm.tm_min,         tm.tm_sec,     (int)(us % 1000000)};
  static const int width[7] = {4, 2, 2, 2, 2, 2, 6};
  static const char after[7] = {'-', '-', 'T', ':', ':', '.', '+'};
  char* p = out;
  for (int f = 0; f < 7; ++f) {
    for (int d = width[f] - 1, v = fields[f]; d >= 0; --d, v /= 10) p[d] = (char)('0' + v % 10);
    p += width[f];
    *p++ = after[f];
  }
  memcpy(p, "00:00", 6);
}

/* The state_details text runctl writes for a flow run's state (only the keys that differ from
 * their defaults; lib/engine/state_text.cpp), so state rows have the size runctl's have. */
#define FLOOR_DETAILS_HEAD "{\"flow_run_id\":\""
#define FLOOR_DETAILS_TAIL "\"}"
#define FLOOR_DETAILS_MAX (sizeof FLOOR_DETAILS_HEAD + 36 + sizeof FLOOR_DETAILS_TAIL)

static size_t floor_details(char out[FLOOR_DETAILS_MAX], const char* run_id) {
  size_t n = 0;
  memcpy(out + n, FLOOR_DETAILS_HEAD, sizeof FLOOR_DETAILS_HEAD - 1);
  n += sizeof FLOOR_DETAILS_HEAD - 1;
  memcpy(out + n, run_id, 36);
  n += 36;
  memcpy(out + n, FLOOR_DETAILS_TAIL, sizeof FLOOR_DETAILS_TAIL);
  return n + sizeof FLOOR_DETAILS_TAIL - 1;
}

/* Transition i of k runs visited twice (all PENDING -> RUNNING, then RUNNING -> COMPLETED for the
 * first K - k of them), the order of bench.sh's apply input. */
typedef struct {
  size_t run;       /* index into the visiting order */
  int second;       /* 0: PENDING -> RUNNING, 1: RUNNING -> COMPLETED */
} floor_step;

static floor_step floor_step_of(size_t i, size_t k) {
  floor_step s = {i < k ? i : i - k, i >= k};
  return s;
}

static const char* const floor_from_type[2] = {"PENDING", "RUNNING"};
static const char* const floor_to_type[2] = {"RUNNING", "COMPLETED"};
static const char* const floor_to_name[2] = {"Running", "Completed"};

static void floor_die(const char* what, const char* why) {
  fprintf(stderr, "floor: %s: %s\n", what, why);
  exit(1);
}

static unsigned long long floor_count_arg(const char* text, const char* what) {
  char* end = NULL;
  const unsigned long long v = strtoull(text, &end, 10);
  if (!*text || *end || text[0] == '-') floor_die(what, "not a count");
  return v;
}

#endif
