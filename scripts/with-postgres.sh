#!/usr/bin/env bash
# with-postgres.sh CMD [ARGS...]: runs CMD with RUNCTL_TEST_PG set to the libpq URI of a
# PostgreSQL server.
#
# - RUNCTL_TEST_PG already set: that server is used and nothing is started.
# - Otherwise a throwaway cluster is made (initdb + pg_ctl from Debian's postgresql package,
#   /usr/lib/postgresql/*/bin): it listens only on a unix socket in a temporary directory, with
#   fsync off, and is stopped and removed when this script exits, whatever CMD did. PostgreSQL
#   refuses to run as root, so under root the cluster runs as the `postgres` user.
# - A cluster that fails to start fails the run when CI is set (never skipped silently);
#   otherwise a warning is printed and CMD runs without RUNCTL_TEST_PG (its PostgreSQL tests
#   then say they were skipped).
#
# CMD's exit status is this script's.
set -uo pipefail

if [ $# -eq 0 ]; then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 64
fi

if [ -n "${RUNCTL_TEST_PG:-}" ]; then
  exec "$@"
fi

# The newest installed server version's binaries.
bindir=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
  [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && bindir="$d"
done

start_error=""
if [ -z "$bindir" ]; then
  start_error="no initdb/pg_ctl under /usr/lib/postgresql/*/bin (install the postgresql package)"
fi

# Runs a command as the cluster's owner: `postgres` under root, else the current user.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    if command -v runuser >/dev/null 2>&1; then
      runuser -u postgres -- "$@"
    else
      su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
  else
    "$@"
  fi
}

dir=""
cleanup() {
  if [ -n "$dir" ] && [ -d "$dir" ]; then
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
    fi
    rm -rf "$dir"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "$start_error" ]; then
  dir=$(mktemp -d /tmp/runctl-pg.XXXXXX)
  if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      start_error="running as root and there is no postgres user to run the server as"
    else
      chown postgres: "$dir"
    fi
  fi
fi

if [ -z "$start_error" ]; then
  owner=$(as_owner id -un)
  if ! as_owner "$bindir/initdb" -D "$dir/data" -U "$owner" -A trust -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1; then
    start_error="initdb failed: $(tail -n 3 "$dir/initdb.log" | tr '\n' ' ')"
  elif ! as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
    -o "-c listen_addresses= -k $dir -c fsync=off -c synchronous_commit=off \
        -c full_page_writes=off -c max_connections=200" >/dev/null 2>&1; then
    start_error="pg_ctl start failed: $(tail -n 3 "$dir/server.log" 2>/dev/null | tr '\n' ' ')"
  fi
fi

if [ -n "$start_error" ]; then
  if [ -n "${CI:-}" ]; then
    echo "with-postgres: cannot start a PostgreSQL cluster: $start_error (CI is set: failing)" >&2
    exit 1
  fi
  echo "with-postgres: warning: cannot start a PostgreSQL cluster: $start_error;" \
       "running without RUNCTL_TEST_PG (the PostgreSQL tests are skipped)" >&2
  cleanup
  dir=""
  "$@"
  exit $?
fi

# The cluster's owner is its superuser; the tests connect as that user over the socket.
export RUNCTL_TEST_PG="postgresql:///postgres?host=${dir}&user=${owner}"
"$@"
exit $?
