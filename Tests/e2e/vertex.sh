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
E2E_NAME="vertex e2e"
. "$ROOT/Tests/e2e/daemon-lib.sh"
DAEMON= VERTEX=
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/test-only-key.pem" 2>/dev/null
openssl pkey -in "$T/test-only-key.pem" -pubout -out "$T/test-only-key.pub.pem"
python3 "$ROOT/Tests/FakeUpstream/fake_upstream.py" --port-file "$T/fake.port" >"$T/fake.log" 2>&1 & FAKE=$!
for _ in $(seq 100); do [ -s "$T/fake.port" ] && break; sleep 0.05; done
FAKE_URL="http://127.0.0.1:$(cat "$T/fake.port")"
python3 "$ROOT/Tests/FakeUpstream/fake_vertex.py" --port-file "$T/vertex.port" --upstream "$FAKE_URL" \
    --public-key "$T/test-only-key.pub.pem" >"$T/vertex.log" 2>&1 & VERTEX=$!
e2e_start_daemon --config /dev/null --log-level debug
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
e2e_expect_served claude-code:gcp-e2e codex:gcp-e2e || status=1
# No token, key or assertion in the daemon's log (debug level included).
e2e_expect_no_secret 'ya29\.|PRIVATE KEY|eyJhbGciOi|ppk_[A-Za-z0-9]{8}' || status=1
e2e_check_egress "$(cat "$T/vertex.port")" || status=1
exit $status
