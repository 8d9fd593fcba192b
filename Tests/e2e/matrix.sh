#!/usr/bin/env bash
# The translation matrix (Tests/e2e/test_matrix.py): the four SDK clients x the four upstream protocols x
# cases, through a real proxypoold to the fake upstream in --strict mode (it refuses any request that breaks
# its protocol's rules). The daemon gets one credential per upstream protocol, each assigned to an app
# (up-openai-chat, up-openai-responses, up-anthropic, up-gemini) that the tests name in X-Proxypool-App.
# Then Tests/e2e/gemini_cli_replay.py sends Gemini CLI's recorded gateway-mode requests onto the same credentials.
# Needs built binaries (swift build) and Tests/e2e/setup.sh's venv. Extra args go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${PROXYPOOL_BIN_DIR:-$ROOT/.build/debug}"
VENV="${E2E_VENV:-$ROOT/.build-e2e/venv}"
T="$(mktemp -d /tmp/proxypool-matrix-XXXXXX)"
cleanup() { kill "$DAEMON" "$FAKE" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
bash "$ROOT/Tests/e2e/setup.sh" >/dev/null
python3 "$ROOT/Tests/FakeUpstream/fake_upstream.py" --strict --port-file "$T/fake.port" >"$T/fake.log" 2>&1 & FAKE=$!
# The fake (and the image URL the Gemini cells make the daemon fetch) is on 127.0.0.1.
printf 'fetch-private-urls = yes\n' >"$T/proxypoold.conf"
"$BIN/proxypoold" --state-dir "$T/state" --control-socket "$T/control.sock" --listen 127.0.0.1:0 \
    --config "$T/proxypoold.conf" --log-level info 2>"$T/daemon.log" & DAEMON=$!
for _ in $(seq 100); do [ -s "$T/fake.port" ] && [ -S "$T/control.sock" ] && break; sleep 0.05; done
FAKE_URL="http://127.0.0.1:$(cat "$T/fake.port")"
ctl() { "$BIN/proxypoolctl" --socket "$T/control.sock" "$@" >/dev/null; }
add() {   # NAME PROVIDER BASE-URL [OPTIONS]: the fake key carries the credential's name as its tag
    local name=$1 provider=$2 url=$3; shift 3
    FAKE_KEY="fake-ok~$name" ctl credential add "$name" --provider "$provider" --base-url "$url" --key-env FAKE_KEY "$@"
}
add matrix-openai-chat openai-compatible "$FAKE_URL/v1"
add matrix-openai-responses openai "$FAKE_URL/v1" --api responses
add matrix-anthropic anthropic "$FAKE_URL"
add matrix-gemini gemini "$FAKE_URL"
for up in openai-chat openai-responses anthropic gemini; do ctl assign "up-$up" "matrix-$up"; done
ctl fallback off     # a request must reach its app's own credential, never another protocol's
for tier in flagship standard fast reasoning; do
    ctl tier set openai "$tier" gpt-5
    ctl tier set anthropic "$tier" claude-sonnet-4-6
    ctl tier set gemini "$tier" gemini-3-flash-preview
done
KEY="$("$BIN/proxypoolctl" --socket "$T/control.sock" key create 2>/dev/null)"
PORT="$("$BIN/proxypoolctl" --socket "$T/control.sock" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["listen"].rsplit(":",1)[1])')"
echo "matrix: proxypoold on 127.0.0.1:$PORT, strict fake upstream at $FAKE_URL, logs in $T" >&2
status=0
cd "$ROOT"
E2E_BASE_URL="http://127.0.0.1:$PORT" E2E_API_KEY="$KEY" E2E_FAKE_URL="$FAKE_URL" \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider -rxXf Tests/e2e/test_matrix.py "$@" || status=$?
# Gemini CLI's gateway-mode requests, replayed from their recorded shapes onto every credential kind.
"$VENV/bin/python" Tests/e2e/gemini_cli_replay.py --base-url "http://127.0.0.1:$PORT" --fake-url "$FAKE_URL" \
    --ctl "$BIN/proxypoolctl" --socket "$T/control.sock" || status=1
if grep -E 'fake-ok|ppk_[A-Za-z0-9]{8}' "$T/daemon.log" >/dev/null; then
    echo "matrix: FAILED: a key appears in the daemon log" >&2
    status=1
fi
exit $status
