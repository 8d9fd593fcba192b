#!/usr/bin/env bash
# The real clients through the real daemon: start the fake upstream and proxypoold in a temp dir, give the
# daemon one credential per protocol (pointing at the fake), assign claude-code and codex, create an access
# key, and run the client suite against the proxy. Needs built binaries (swift build) and Tests/e2e/setup.sh.
# Zero egress: with E2E_EGRESS_TRACE=1 (the default) the daemon runs under strace (connect/sendto/sendmsg/
# sendmmsg only, seccomp-filtered, so cheap) and Tests/e2e/egress_check.py then asserts it reached only the
# fake upstream, its own clients and the allowed local sockets, and made no DNS query. E2E_EGRESS_TRACE=0 skips it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${PROXYPOOL_BIN_DIR:-$ROOT/.build/debug}"
T="$(mktemp -d /tmp/proxypool-e2e-XXXXXX)"
cleanup() { kill "$DAEMON" "$FAKE" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
E2E_NAME="through-proxy"
. "$ROOT/Tests/e2e/daemon-lib.sh"
python3 "$ROOT/Tests/FakeUpstream/fake_upstream.py" --port-file "$T/fake.port" >"$T/fake.log" 2>&1 & FAKE=$!
e2e_start_daemon --config /dev/null --log-level info
for _ in $(seq 100); do [ -s "$T/fake.port" ] && [ -S "$T/control.sock" ] && break; sleep 0.05; done
FAKE_URL="http://127.0.0.1:$(cat "$T/fake.port")"
ctl() { "$BIN/proxypoolctl" --socket "$T/control.sock" "$@"; }
export FAKE_KEY=fake-ok
ctl credential add openai-fake --provider openai --base-url "$FAKE_URL/v1" --key-env FAKE_KEY >/dev/null
ctl credential add anthropic-fake --provider anthropic --base-url "$FAKE_URL" --key-env FAKE_KEY >/dev/null
ctl credential add gemini-fake --provider gemini --base-url "$FAKE_URL" --key-env FAKE_KEY >/dev/null
ctl assign claude-code anthropic-fake >/dev/null
ctl assign codex openai-fake >/dev/null
KEY="$(ctl key create 2>/dev/null)"
PORT="$(ctl status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["listen"].rsplit(":",1)[1])')"
echo "through-proxy: proxypoold on 127.0.0.1:$PORT, fake upstream at $FAKE_URL, logs in $T" >&2
status=0
E2E_BASE_URL="http://127.0.0.1:$PORT" E2E_API_KEY="$KEY" E2E_UPSTREAM_REQUESTS_URL="$FAKE_URL/__requests" \
    E2E_FAKE_URL="$FAKE_URL" E2E_CTL_BIN="$BIN/proxypoolctl" E2E_CTL_SOCKET="$T/control.sock" \
    bash "$ROOT/Tests/e2e/run.sh" "$@" || status=$?
# The daemon's view: each real client was recognised and routed to its assignment.
sleep 1.5   # usage and apps are written in batches, once a second
ctl apps >&2
ctl usage --by credential >&2
e2e_expect_served claude-code:anthropic-fake codex:openai-fake || status=1
e2e_expect_no_secret 'fake-ok|ppk_[A-Za-z0-9]{8}' || status=1
e2e_check_egress "$(cat "$T/fake.port")" || status=1
exit $status
