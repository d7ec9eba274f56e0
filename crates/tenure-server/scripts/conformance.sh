#!/usr/bin/env bash
# Runs two third-party SCIM 2.0 conformance tools against a local `tenure serve` on a fresh
# SQLite store, loopback only, and saves their output. Not part of CI (it needs PyPI).
#
#   crates/tenure-server/scripts/conformance.sh [OUT_DIR]
#
# * scim2-tester 0.5.2 through scim2-cli 0.6.0 (`scim2 test`, the python-scim project):
#   discovery, then create/read/query/replace/patch/delete of every resource type the
#   server publishes, with values generated from the published schemas.
# * scim-sanity 0.7.4 (`scim-sanity probe`): a 7-phase CRUD lifecycle probe (discovery,
#   user and group lifecycles, search, errors), strict mode.
#
# What it does: a virtualenv (VENV, default /tmp/scimvenv) with the two tools pinned;
# `cargo build --release -p tenure-cli --features server,postgres --bin tenure` (CARGO_TARGET_DIR
# honoured); the server on 127.0.0.1:PORT (default 18090) with the policy, mapping and
# inventory of scripts/data/ and a random `scim` token; both tools; the server stopped.
# Output: OUT_DIR (default scripts/conformance-results/) gets scim2-tester.txt,
# scim-sanity.txt, scim-sanity.json and server.log (one JSON line per request).
# VERBOSE=1 adds the data of every check (`scim2 test -v`, ~130 KB).
# Exit status 0 when everything ran, whatever the tools found; the verdicts are in the
# output and in docs/PERFORMANCE.md ("Conformance (third-party tools)").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=${1:-$here/conformance-results}
venv=${VENV:-/tmp/scimvenv}
port=${PORT:-18090}
target=${CARGO_TARGET_DIR:-$root/target}
mkdir -p "$out"
out=$(cd "$out" && pwd)

# 1. The tools, in a throwaway virtualenv.
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check \
  'scim2-tester==0.5.2' 'scim2-cli==0.6.0' 'scim-sanity==0.7.4'

# 2. The server.
(cd "$root" && cargo build --release -q -p tenure-cli --features server,postgres --bin tenure)
work=$(mktemp -d /tmp/tenure-conformance-XXXXXX)
server=
cleanup() {
  if [[ -n $server ]]; then kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  [[ -f $work/server.log ]] && cp "$work/server.log" "$out/server.log"
  rm -rf "$work"
}
trap cleanup EXIT
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$token scim" >"$work/tokens"
"$target/release/tenure" serve --policy "$here/data/policy.tenure" --mapping "$here/data/mapping.toml" \
  --inventory "$here/data/inventory.jsonl" --store "sqlite:$work/tenure.db" \
  --listen "127.0.0.1:$port" --token-file "$work/tokens" 2>"$work/server.log" &
server=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
base="http://127.0.0.1:$port/scim/v2"

# 3. The tools. The token goes through the environment, not the command line.
verbose=()
[[ ${VERBOSE:-0} == 1 ]] && verbose=(-v)
echo "== scim2-tester: scim2 test ${verbose[*]:-} ($base)"
SCIM_CLI_URL=$base SCIM_CLI_HEADERS="Authorization: Bearer $token" \
  "$venv/bin/scim2" test "${verbose[@]}" >"$out/scim2-tester.txt" 2>&1 || true
sed -i "s/$token/<token>/g" "$out/scim2-tester.txt"
echo "   $(grep -oE '^(SUCCESS|COMPLIANT|ACCEPTABLE|DEVIATION|ERROR|CRITICAL|SKIPPED)' "$out/scim2-tester.txt" | sort | uniq -c | tr -s ' \n' ' ') -> $out/scim2-tester.txt"

echo "== scim-sanity: scim-sanity probe --strict ($base)"
"$venv/bin/scim-sanity" probe "$base" --token "$token" --i-accept-side-effects \
  >"$out/scim-sanity.txt" 2>&1 || true
"$venv/bin/scim-sanity" probe "$base" --token "$token" --i-accept-side-effects --json-output \
  >"$out/scim-sanity.json" 2>&1 || true
sed -i "s/$token/<token>/g" "$out/scim-sanity.txt" "$out/scim-sanity.json"
tail -5 "$out/scim-sanity.txt" | sed 's/^/   /'
echo "output in $out"
