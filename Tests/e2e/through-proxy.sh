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
TRACE=()
if [ "${E2E_EGRESS_TRACE:-1}" = 1 ]; then
    command -v strace >/dev/null || { echo "through-proxy: strace is missing (make test-deps), or set E2E_EGRESS_TRACE=0" >&2; exit 1; }
    python3 -m unittest -q "$ROOT/Tests/e2e/test_egress_check.py" 2>"$T/egress-selftest.log" ||
        { cat "$T/egress-selftest.log" >&2; echo "through-proxy: FAILED: the egress checker's self-test" >&2; exit 1; }
    TRACE=(strace -f -qq --seccomp-bpf -yy -s 0 -e trace=connect,sendto,sendmsg,sendmmsg -o "$T/egress.trace")
fi
python3 "$ROOT/Tests/FakeUpstream/fake_upstream.py" --port-file "$T/fake.port" >"$T/fake.log" 2>&1 & FAKE=$!
"${TRACE[@]}" "$BIN/proxypoold" --state-dir "$T/state" --control-socket "$T/control.sock" --listen 127.0.0.1:0 --config /dev/null \
    --log-level info 2>"$T/daemon.log" & DAEMON=$!
if [ "${#TRACE[@]}" -gt 0 ]; then   # $! is strace: signals must go to the daemon, strace's child
    TRACER=$DAEMON
    # strace forks a short-lived child of its own first (its seccomp probe): wait for the one that is proxypoold.
    DAEMON=
    for _ in $(seq 200); do
        for c in $(cat /proc/$TRACER/task/$TRACER/children 2>/dev/null); do
            [ "$(cat /proc/$c/comm 2>/dev/null)" = proxypoold ] && DAEMON=$c
        done
        [ -n "$DAEMON" ] && break; sleep 0.05
    done
    [ -n "$DAEMON" ] || { echo "through-proxy: FAILED: strace did not start proxypoold" >&2; DAEMON=$TRACER; exit 1; }
fi
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
for pair in claude-code:anthropic-fake codex:openai-fake; do
    app=${pair%%:*}; cred=${pair##*:}
    if ! grep -q "app=$app credential=$cred .*status=200" "$T/daemon.log"; then
        echo "through-proxy: FAILED: no successful request from $app through $cred in the daemon log" >&2
        status=1
    fi
done
if grep -E 'fake-ok|ppk_[A-Za-z0-9]{8}' "$T/daemon.log" >/dev/null; then
    echo "through-proxy: FAILED: a key appears in the daemon log" >&2
    status=1
fi
if [ "${#TRACE[@]}" -gt 0 ]; then
    kill "$DAEMON"; wait "$TRACER" || true   # strace exits with the daemon, its trace complete
    python3 "$ROOT/Tests/e2e/egress_check.py" "$T/egress.trace" --upstream "127.0.0.1:$(cat "$T/fake.port")" \
        --listen "127.0.0.1:$PORT" --control-socket "$T/control.sock" || status=1
fi
exit $status
