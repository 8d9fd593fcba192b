# Shared by the e2e scripts that run the real daemon (sourced, not run): start it under the egress trace, check
# its log for what was served and for secrets, and check its egress at the end. The caller sets ROOT, BIN, T,
# and E2E_NAME (its name in messages); these set TRACE, TRACER and DAEMON.
#
# Zero egress: with E2E_EGRESS_TRACE=1 (the default) the daemon runs under strace (connect/sendto/sendmsg/
# sendmmsg only, seccomp-filtered, so cheap) and egress_check.py then asserts it reached only the fake upstream,
# its own clients and the allowed local sockets, and made no DNS query. E2E_EGRESS_TRACE=0 skips it.

e2e_fail() { echo "$E2E_NAME: FAILED: $*" >&2; }

# e2e_start_daemon PROXYPOOLD-ARGS...: proxypoold on 127.0.0.1:0 with its state, socket and log in $T.
e2e_start_daemon() {
    TRACE=()
    if [ "${E2E_EGRESS_TRACE:-1}" = 1 ]; then
        command -v strace >/dev/null || { echo "$E2E_NAME: strace is missing (make test-deps), or set E2E_EGRESS_TRACE=0" >&2; exit 1; }
        python3 -m unittest -q "$ROOT/Tests/e2e/test_egress_check.py" 2>"$T/egress-selftest.log" ||
            { cat "$T/egress-selftest.log" >&2; e2e_fail "the egress checker's self-test"; exit 1; }
        TRACE=(strace -f -qq --seccomp-bpf -yy -s 0 -e trace=connect,sendto,sendmsg,sendmmsg -o "$T/egress.trace")
    fi
    "${TRACE[@]}" "$BIN/proxypoold" --state-dir "$T/state" --control-socket "$T/control.sock" --listen 127.0.0.1:0 "$@" \
        2>"$T/daemon.log" & DAEMON=$!
    if [ "${#TRACE[@]}" -gt 0 ]; then
        # $! is strace: signals must go to the daemon, strace's child. strace forks a short-lived child of its
        # own first (its seccomp probe): wait for the one that is proxypoold.
        TRACER=$DAEMON
        DAEMON=
        for _ in $(seq 200); do
            for c in $(cat /proc/$TRACER/task/$TRACER/children 2>/dev/null); do
                [ "$(cat /proc/$c/comm 2>/dev/null)" = proxypoold ] && DAEMON=$c
            done
            [ -n "$DAEMON" ] && break; sleep 0.05
        done
        [ -n "$DAEMON" ] || { e2e_fail "strace did not start proxypoold"; DAEMON=$TRACER; exit 1; }
    fi
}

# e2e_expect_served APP:CREDENTIAL...: each app had a successful request through that credential. Returns 1 if not.
e2e_expect_served() {
    local pair app cred ok=0
    for pair in "$@"; do
        app=${pair%%:*}; cred=${pair##*:}
        if ! grep -q "app=$app credential=$cred .*status=200" "$T/daemon.log"; then
            e2e_fail "no successful request from $app through $cred in the daemon log"
            ok=1
        fi
    done
    return $ok
}

# e2e_expect_no_secret REGEX: nothing the regex matches (keys, tokens) is in the daemon's log. Returns 1 if it is.
e2e_expect_no_secret() {
    if grep -E "$1" "$T/daemon.log" >/dev/null; then
        e2e_fail "token or key material appears in the daemon log"
        return 1
    fi
}

# e2e_check_egress UPSTREAM-PORT: stops the daemon and checks its trace (when traced). Returns 1 on egress.
e2e_check_egress() {
    [ "${#TRACE[@]}" -gt 0 ] || return 0
    kill "$DAEMON"; wait "$TRACER" || true   # strace exits with the daemon, its trace complete
    python3 "$ROOT/Tests/e2e/egress_check.py" "$T/egress.trace" --upstream "127.0.0.1:$1" \
        --listen "127.0.0.1:$PORT" --control-socket "$T/control.sock"
}
