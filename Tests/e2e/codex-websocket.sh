#!/usr/bin/env bash
# The real Codex CLI over the Responses WebSocket through the real daemon (Tests/e2e/test_codex_websocket.py):
# start the fake upstream and proxypoold in a temp dir, give the daemon an OpenAI, an Anthropic and a Gemini
# credential (pointing at the fake) and an access key, and run Codex (built-in provider and a provider with
# supports_websockets = true) onto each, text and a tool round trip. Needs built binaries (swift build) and
# Tests/e2e/setup.sh (run here). Zero egress as in through-proxy.sh: with E2E_EGRESS_TRACE=1 (the default) the
# daemon runs under strace and egress_check.py asserts it reached only the fake, its clients and its sockets.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${PROXYPOOL_BIN_DIR:-$ROOT/.build/debug}"
VENV="${E2E_VENV:-$ROOT/.build-e2e/venv}"
T="$(mktemp -d /tmp/proxypool-e2e-ws-XXXXXX)"
cleanup() { kill "$DAEMON" "$FAKE" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
E2E_NAME="codex-websocket"
. "$ROOT/Tests/e2e/daemon-lib.sh"
bash "$ROOT/Tests/e2e/setup.sh"
python3 "$ROOT/Tests/FakeUpstream/fake_upstream.py" --port-file "$T/fake.port" >"$T/fake.log" 2>&1 & FAKE=$!
e2e_start_daemon --config /dev/null --log-level info
for _ in $(seq 100); do [ -s "$T/fake.port" ] && [ -S "$T/control.sock" ] && break; sleep 0.05; done
FAKE_URL="http://127.0.0.1:$(cat "$T/fake.port")"
ctl() { "$BIN/proxypoolctl" --socket "$T/control.sock" "$@"; }
export FAKE_KEY=fake-ok
ctl credential add openai-fake --provider openai --base-url "$FAKE_URL/v1" --key-env FAKE_KEY >/dev/null
ctl credential add anthropic-fake --provider anthropic --base-url "$FAKE_URL" --key-env FAKE_KEY >/dev/null
ctl credential add gemini-fake --provider gemini --base-url "$FAKE_URL" --key-env FAKE_KEY >/dev/null
KEY="$(ctl key create 2>/dev/null)"
PORT="$(ctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["listen"].rsplit(":",1)[1])')"
echo "codex-websocket: proxypoold on 127.0.0.1:$PORT, fake upstream at $FAKE_URL, logs in $T" >&2
status=0
cd "$ROOT"
E2E_BASE_URL="http://127.0.0.1:$PORT" E2E_API_KEY="$KEY" E2E_CTL_BIN="$BIN/proxypoolctl" E2E_CTL_SOCKET="$T/control.sock" \
    E2E_DAEMON_LOG="$T/daemon.log" \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider Tests/e2e/test_codex_websocket.py "$@" || status=$?
e2e_expect_no_secret 'fake-ok|ppk_[A-Za-z0-9]{8}' || status=1
kill -0 "$DAEMON" 2>/dev/null || { echo "codex-websocket: FAILED: the daemon died" >&2; status=1; }
e2e_check_egress "$(cat "$T/fake.port")" || status=1
exit $status
