#!/usr/bin/env bash
# The real clients through the real daemon onto subscription accounts (issue 14): the fake ChatGPT and Claude
# backends with their token endpoints (Tests/FakeUpstream/fake_accounts.py, answering as fake_upstream.py's
# scripted model), two ChatGPT accounts and one Claude account imported from minted login files, and
# Tests/e2e/test_account_clients.py: Codex CLI on the ChatGPT accounts (text, a tool round trip, a
# usage_limit_reached on the first account failing over to the second before Codex sees it), Claude Code on the
# Claude account (its request bodies reach the backend byte for byte) and on a ChatGPT account (translated).
# Needs built binaries (swift build) and Tests/e2e/setup.sh. Zero egress as in through-proxy.sh: with
# E2E_EGRESS_TRACE=1 (the default) the daemon runs under strace and Tests/e2e/egress_check.py asserts it
# reached only the fake backends, its own clients and the allowed local sockets, and made no DNS query.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${PROXYPOOL_BIN_DIR:-$ROOT/.build/debug}"
VENV="${E2E_VENV:-$ROOT/.build-e2e/venv}"
T="$(mktemp -d /tmp/proxypool-e2e-accounts-XXXXXX)"
cleanup() { kill "$DAEMON" "$FAKE" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
E2E_NAME="accounts e2e"
. "$ROOT/Tests/e2e/daemon-lib.sh"
DAEMON=
python3 "$ROOT/Tests/FakeUpstream/fake_accounts.py" --port-file "$T/fake.port" >"$T/fake.log" 2>&1 & FAKE=$!
# test-providers: the credentials' token endpoints are the fake's.
echo "test-providers = yes" >"$T/proxypoold.conf"
e2e_start_daemon --config "$T/proxypoold.conf" --log-level debug
for _ in $(seq 200); do [ -s "$T/fake.port" ] && [ -S "$T/control.sock" ] && break; sleep 0.05; done
FAKE_URL="http://127.0.0.1:$(cat "$T/fake.port")"
ctl() { "$BIN/proxypoolctl" --socket "$T/control.sock" "$@"; }
curl -sf -X POST -d '{"scripted": true}' "$FAKE_URL/__control" >/dev/null
for n in ca1 ca2; do
    curl -sf "$FAKE_URL/__mint?kind=chatgpt&name=$n&exp=864000" >"$T/$n.json"
    ctl credential import codex "$n" --from "$T/$n.json" --base-url "$FAKE_URL/backend-api/codex" --token-url "$FAKE_URL/oauth/token" >/dev/null
done
curl -sf "$FAKE_URL/__mint?kind=claude&name=cc1&exp=86400" >"$T/cc1.json"
ctl credential import claude cc1 --from "$T/cc1.json" --base-url "$FAKE_URL" --token-url "$FAKE_URL/v1/oauth/token" >/dev/null
ctl assign codex ca1 ca2 >/dev/null
ctl assign claude-code cc1 >/dev/null
KEY="$(ctl key create 2>/dev/null)"
PORT="$(ctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["listen"].rsplit(":",1)[1])')"
echo "accounts e2e: proxypoold on 127.0.0.1:$PORT, fake accounts at $FAKE_URL, logs in $T" >&2
bash "$ROOT/Tests/e2e/setup.sh" >/dev/null
status=0
E2E_BASE_URL="http://127.0.0.1:$PORT" E2E_API_KEY="$KEY" E2E_UPSTREAM_REQUESTS_URL="$FAKE_URL/__requests" \
    E2E_FAKE_URL="$FAKE_URL" E2E_CTL_BIN="$BIN/proxypoolctl" E2E_CTL_SOCKET="$T/control.sock" \
    "$VENV/bin/python" -m pytest -q -p no:cacheprovider --durations=0 "$ROOT/Tests/e2e/test_account_clients.py" "$@" || status=$?
e2e_expect_served codex:ca1 codex:ca2 claude-code:cc1 || status=1
# No login token (the fake's JWTs, Claude's sk-ant-oat, the refresh tokens) or access key in the daemon's log.
e2e_expect_no_secret 'eyJhbGciOi|sk-ant-oat|rt-(chatgpt|claude)-|ppk_[A-Za-z0-9]{8}' || status=1
e2e_check_egress "$(cat "$T/fake.port")" || status=1
exit $status
