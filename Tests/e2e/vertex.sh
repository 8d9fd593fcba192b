#!/usr/bin/env bash
# The real clients through the real daemon to the fake Vertex AI: the fake upstream, the fake Google token
# endpoint and Vertex backend in front of it (Tests/FakeUpstream/fake_vertex.py, verifying assertions with the
# public half of a key made here with openssl), and proxypoold with one vertex credential (a service-account
# key) assigned to claude-code and codex. Claude Code runs on a Claude-on-Vertex model (rawPredict), Codex on
# a Gemini model (generateContent, translated from Responses): text and a tool round trip each
# (Tests/e2e/test_vertex_clients.py). Needs built binaries (swift build) and Tests/e2e/setup.sh.
# Zero egress as in through-proxy.sh: with E2E_EGRESS_TRACE=1 (the default) the daemon runs under strace and
# Tests/e2e/egress_check.py asserts it reached only the fake Vertex (token endpoint and backend), its own
# clients and the allowed local sockets, and made no DNS query.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${PROXYPOOL_BIN_DIR:-$ROOT/.build/debug}"
VENV="${E2E_VENV:-$ROOT/.build-e2e/venv}"
T="$(mktemp -d /tmp/proxypool-e2e-vertex-XXXXXX)"
cleanup() { kill "$DAEMON" "$VERTEX" "$FAKE" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
DAEMON= VERTEX=
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/test-only-key.pem" 2>/dev/null
openssl pkey -in "$T/test-only-key.pem" -pubout -out "$T/test-only-key.pub.pem"
python3 "$ROOT/Tests/FakeUpstream/fake_upstream.py" --port-file "$T/fake.port" >"$T/fake.log" 2>&1 & FAKE=$!
for _ in $(seq 100); do [ -s "$T/fake.port" ] && break; sleep 0.05; done
FAKE_URL="http://127.0.0.1:$(cat "$T/fake.port")"
python3 "$ROOT/Tests/FakeUpstream/fake_vertex.py" --port-file "$T/vertex.port" --upstream "$FAKE_URL" \
    --public-key "$T/test-only-key.pub.pem" >"$T/vertex.log" 2>&1 & VERTEX=$!
TRACE=()
if [ "${E2E_EGRESS_TRACE:-1}" = 1 ]; then
    command -v strace >/dev/null || { echo "vertex e2e: strace is missing (make test-deps), or set E2E_EGRESS_TRACE=0" >&2; exit 1; }
    TRACE=(strace -f -qq --seccomp-bpf -yy -s 0 -e trace=connect,sendto,sendmsg,sendmmsg -o "$T/egress.trace")
fi
"${TRACE[@]}" "$BIN/proxypoold" --state-dir "$T/state" --control-socket "$T/control.sock" --listen 127.0.0.1:0 --config /dev/null \
    --log-level debug 2>"$T/daemon.log" & DAEMON=$!
if [ "${#TRACE[@]}" -gt 0 ]; then   # $! is strace: signals must go to the daemon, strace's child (see through-proxy.sh)
    TRACER=$DAEMON
    DAEMON=
    for _ in $(seq 200); do
        for c in $(cat /proc/$TRACER/task/$TRACER/children 2>/dev/null); do
            [ "$(cat /proc/$c/comm 2>/dev/null)" = proxypoold ] && DAEMON=$c
        done
        [ -n "$DAEMON" ] && break; sleep 0.05
    done
    [ -n "$DAEMON" ] || { echo "vertex e2e: FAILED: strace did not start proxypoold" >&2; DAEMON=$TRACER; exit 1; }
fi
for _ in $(seq 100); do [ -s "$T/vertex.port" ] && [ -S "$T/control.sock" ] && break; sleep 0.05; done
VERTEX_URL="http://127.0.0.1:$(cat "$T/vertex.port")"
ctl() { "$BIN/proxypoolctl" --socket "$T/control.sock" "$@"; }
python3 - "$T/test-only-key.pem" "$VERTEX_URL/token" >"$T/sa.json" <<'PY'
import json, sys
print(json.dumps({"type": "service_account", "project_id": "e2e-proj", "private_key_id": "e2e-test-key",
                  "private_key": open(sys.argv[1]).read(), "client_email": "e2e@e2e-proj.iam.gserviceaccount.com",
                  "token_uri": sys.argv[2]}))
PY
ctl credential add gcp-e2e --provider vertex --project e2e-proj --region us-east5 --base-url "$VERTEX_URL" \
    --key-file "$T/sa.json" >/dev/null
rm -f "$T/sa.json"
ctl assign claude-code gcp-e2e >/dev/null
ctl assign codex gcp-e2e >/dev/null
KEY="$(ctl key create 2>/dev/null)"
PORT="$(ctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["listen"].rsplit(":",1)[1])')"
echo "vertex e2e: proxypoold on 127.0.0.1:$PORT, fake vertex at $VERTEX_URL, fake upstream at $FAKE_URL, logs in $T" >&2
bash "$ROOT/Tests/e2e/setup.sh" >/dev/null
status=0
E2E_BASE_URL="http://127.0.0.1:$PORT" E2E_API_KEY="$KEY" E2E_UPSTREAM_REQUESTS_URL="$FAKE_URL/__requests" \
    E2E_VERTEX_STATE_URL="$VERTEX_URL/__vertex" \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider --durations=0 "$ROOT/Tests/e2e/test_vertex_clients.py" "$@" || status=$?
for app in claude-code codex; do
    if ! grep -q "app=$app credential=gcp-e2e .*status=200" "$T/daemon.log"; then
        echo "vertex e2e: FAILED: no successful request from $app through gcp-e2e in the daemon log" >&2
        status=1
    fi
done
# No token, key or assertion in the daemon's log (debug level included).
if grep -E 'ya29\.|PRIVATE KEY|eyJhbGciOi|ppk_[A-Za-z0-9]{8}' "$T/daemon.log" >/dev/null; then
    echo "vertex e2e: FAILED: token or key material appears in the daemon log" >&2
    status=1
fi
if [ "${#TRACE[@]}" -gt 0 ]; then
    kill "$DAEMON"; wait "$TRACER" || true   # strace exits with the daemon, its trace complete
    python3 "$ROOT/Tests/e2e/egress_check.py" "$T/egress.trace" --upstream "127.0.0.1:$(cat "$T/vertex.port")" \
        --listen "127.0.0.1:$PORT" --control-socket "$T/control.sock" || status=1
fi
exit $status
