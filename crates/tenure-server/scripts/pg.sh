#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for `tenure serve` load runs, started by hand the way
# crates/tenure-directory/tests/support/postgres.rs does it (initdb and pg_ctl as the
# `postgres` user when run as root, trust authentication, no TCP, a Unix socket in the
# cluster's directory) — but with the server's durable defaults (fsync=on,
# synchronous_commit=on, full_page_writes=on), since the load run measures durable commits.
#
#   scripts/pg.sh start DIR   # prints the store URL (postgresql:///tenure?host=DIR&user=postgres)
#   scripts/pg.sh stop DIR    # stops the server and deletes DIR
set -euo pipefail

cmd=${1:?usage: pg.sh start|stop DIR}
dir=${2:?usage: pg.sh start|stop DIR}
bindir=$(pg_config --bindir 2>/dev/null || true)
if [[ ! -x "$bindir/initdb" ]]; then
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fi
[[ -x "$bindir/initdb" ]] || { echo "PostgreSQL not installed (apt-get install postgresql)" >&2; exit 2; }

as_pg() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [[ $(id -u) == 0 ]] && chown postgres:postgres "$dir"
    as_pg "$bindir/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
    as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-k $dir -c listen_addresses='' -c max_connections=20" start >/dev/null
    "$bindir/createdb" -h "$dir" -U postgres tenure
    echo "postgresql:///tenure?host=$dir&user=postgres"
    ;;
  stop)
    dir=$(cd "$dir" && pwd)
    as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    rm -rf "$dir"
    ;;
  *) echo "usage: pg.sh start|stop DIR" >&2; exit 2 ;;
esac
