#!/usr/bin/env bash
# One load run of `tenure serve` (issue 9), loopback only: starts the release server on a
# fresh store, runs examples/load.rs against it, stops the server, and measures the
# machine's fsync latency where the store lives. Never run in CI.
#
#   scripts/load.sh sqlite|postgres [SECONDS (60)] [CLIENTS (16)]
#
# Build first (from the workspace root):
#   cargo build --release -p tenure-cli --features server,postgres --bin tenure
#   cargo build --release -p tenure-server --example load
# Environment: CARGO_TARGET_DIR (default ./target), PORT (default 18089), LOAD_POOL and
# LOAD_MIX (passed to the load tool), KEEP=1 keeps the work directory (server log, store).
set -euo pipefail

store_kind=${1:?usage: load.sh sqlite|postgres [SECONDS] [CLIENTS]}
seconds=${2:-60}
clients=${3:-16}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
tenure=$target/release/tenure
load=$target/release/examples/load
port=${PORT:-18089}
for bin in "$tenure" "$load"; do
  [[ -x $bin ]] || { echo "missing $bin: build it first (see the top of this script)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/tenure-load-XXXXXX)
server=
cleanup() {
  if [[ -n $server ]]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  [[ $store_kind == postgres && -d $work/pg ]] && "$here/pg.sh" stop "$work/pg"
  if [[ ${KEEP:-0} == 1 ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$token scim" >"$work/tokens"
case "$store_kind" in
  sqlite)
    store="sqlite:$work/tenure.db"
    fsync_dir=$work
    ;;
  postgres)
    chmod 711 "$work" # the `postgres` user must reach its cluster directory inside
    store=$("$here/pg.sh" start "$work/pg")
    fsync_dir=$work/pg
    ;;
  *) echo "usage: load.sh sqlite|postgres [SECONDS] [CLIENTS]" >&2; exit 2 ;;
esac

"$tenure" serve --policy "$here/data/policy.tenure" --mapping "$here/data/mapping.toml" \
  --inventory "$here/data/inventory.jsonl" --store "$store" \
  --listen "127.0.0.1:$port" --token-file "$work/tokens" 2>"$work/server.log" &
server=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done

echo "== $store_kind, $(nproc) cores, $(uptime | sed 's/.*load average/load average/')"
status=0
"$load" "http://127.0.0.1:$port" "$token" "$seconds" "$clients" || status=$?
kill -TERM "$server"
wait "$server" || status=$?
server=
echo "server log: $(wc -l <"$work/server.log") lines; statuses: $(grep -o '"status":[0-9]*' "$work/server.log" | sort | uniq -c | tr '\n' ' ')"
python3 "$here/fsync_latency.py" "$fsync_dir" 100
exit "$status"
