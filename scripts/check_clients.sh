#!/usr/bin/env bash
# The client check: regenerate both example clients from schema.graphql and examples/*.graphql
# and fail if the committed code differs, then run both demos against a live embedded Eterna.
#
# Needs the project's .venv (made by scripts/test.sh), Node 20 with npm, and the package
# registries. The server it starts is always stopped. That schema.graphql equals `eterna schema`
# is checked by tests/unit/test_schema_file.py, part of scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PY_CLIENT=examples/python-client
TS_CLIENT=examples/ts-client
started=$SECONDS

step() { echo "== clients: $1 ($((SECONDS - started)) s)"; }
fail() { echo "check_clients: $1" >&2; exit 1; }

[ -x .venv/bin/eterna ] || fail "no project venv: run bash scripts/test.sh first"
command -v npm >/dev/null || fail "npm is not installed"

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # leave through the EXIT trap, which stops the server

step "install the generators"
if [ ! -x "$PY_CLIENT/.venv/bin/python" ]; then
  python3 -m venv "$PY_CLIENT/.venv"
fi
"$PY_CLIENT/.venv/bin/python" -m pip install -q --disable-pip-version-check -r "$PY_CLIENT/requirements.txt"
(cd "$TS_CLIENT" && npm ci --no-audit --no-fund --loglevel=error)

# Regenerate from scratch (so a file the generator no longer writes shows up too) and compare
# with what was there; a stale client is left regenerated, ready to commit.
regenerate() {  # NAME DIR COMMAND...
  local name=$1 dir=$2
  shift 2
  rm -rf "$work/$name" && cp -a "$dir" "$work/$name"
  rm -rf "$dir"
  if ! "$@" >"$work/$name.log" 2>&1; then
    cat "$work/$name.log" >&2
    rm -rf "$dir" && cp -a "$work/$name" "$dir"  # put the committed code back
    fail "$name: generation failed"
  fi
  if ! diff -r -x __pycache__ "$work/$name" "$dir" >"$work/$name.diff"; then
    head -n 60 "$work/$name.diff" >&2
    echo "check_clients: $dir was stale; it is regenerated now: review and commit it" >&2
    stale=1
  fi
}
stale=0
step "regenerate the Python client (ariadne-codegen)"
regenerate python "$PY_CLIENT/eterna_client" \
  bash -c "cd $PY_CLIENT && .venv/bin/ariadne-codegen client"
step "regenerate the TypeScript client (GraphQL Code Generator)"
regenerate typescript "$TS_CLIENT/src/generated" bash -c "cd $TS_CLIENT && npm run --silent codegen"
[ "$stale" -eq 0 ] || fail "the committed generated code differs from what the generators make"
step "compile the TypeScript demo"
(cd "$TS_CLIENT" && rm -rf dist && npm run --silent build)

step "start an embedded Eterna"
port=$(.venv/bin/python -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
data_dir="$work/data"
mkdir -p "$data_dir"
# Embedded mode on its own data folder; slots frozen, so orders confirm at once.
server_env=(env -u DATABASE_URL -u REDIS_URL -u JWT_SECRET -u ETERNA_SOLANA_RPC_URL
  ETERNA_DATA_DIR="$data_dir" ETERNA_CHAIN_SLOT_MS=0 ETERNA_LOG_LEVEL=WARNING)
"${server_env[@]}" .venv/bin/eterna serve --host 127.0.0.1 --port "$port" >"$work/server.log" 2>&1 &
server_pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 150); do
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; fail "the server exited"; }
  if .venv/bin/python -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)" \
    "$url/health" 2>/dev/null; then
    break
  fi
  sleep 0.2
done
.venv/bin/python -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" \
  "$url/health" || { cat "$work/server.log" >&2; fail "the server did not become healthy"; }
token=$("${server_env[@]}" .venv/bin/eterna token clients-check)

passed=0
failed=0
step "Python demo against $url/graphql"
if "$PY_CLIENT/.venv/bin/python" "$PY_CLIENT/demo.py" --url "$url/graphql" --token "$token"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi
step "TypeScript demo against $url/graphql"
if (cd "$TS_CLIENT" && node dist/demo.js --url "$url/graphql" --token "$token"); then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi
if [ "$failed" -ne 0 ]; then
  echo "-- server log (last 40 lines)" >&2
  tail -n 40 "$work/server.log" >&2
fi
step "both clients current; demos run"
echo "clients: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || exit 1
