#!/usr/bin/env bash
# The dashboard in a real browser: headless Chromium from Debian driven by Selenium (PyPI, in the e2e venv,
# with the system browser and driver: nothing is downloaded), against the real proxypoold and the fake
# upstream. Screenshots of every page go to .build-e2e/dashboard/. Needs built binaries, chromium and
# chromium-driver (make test-deps) and Tests/e2e/setup.sh. Fails, never skips, when the browser is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${PROXYPOOL_BIN_DIR:-$ROOT/.build/debug}"
VENV="${E2E_VENV:-$ROOT/.build-e2e/venv}"
for f in /usr/bin/chromium /usr/bin/chromedriver; do
    [ -x "$f" ] || { echo "dashboard: FAILED: $f is missing (apt-get install chromium chromium-driver, or make test-deps)" >&2; exit 1; }
done
bash "$ROOT/Tests/e2e/setup.sh" >/dev/null
T="$(mktemp -d /tmp/proxypool-dash-XXXXXX)"
cleanup() { kill "$DAEMON" "$FAKE" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT
python3 "$ROOT/Tests/FakeUpstream/fake_upstream.py" --port-file "$T/fake.port" >"$T/fake.log" 2>&1 & FAKE=$!
# A HOME of its own: the Configure buttons make the daemon edit tools' files there, never the real ones.
mkdir -p "$T/home"
HOME="$T/home" "$BIN/proxypoold" --state-dir "$T/state" --control-socket "$T/control.sock" --listen 127.0.0.1:0 --config /dev/null \
    --log-level info 2>"$T/daemon.log" & DAEMON=$!
for _ in $(seq 100); do [ -s "$T/fake.port" ] && [ -S "$T/control.sock" ] && break; sleep 0.05; done
export DASH_CTL_BIN="$BIN/proxypoolctl" DASH_CTL_SOCKET="$T/control.sock" DASH_FAKE_URL="http://127.0.0.1:$(cat "$T/fake.port")"
export DASH_SHOTS="$ROOT/.build-e2e/dashboard" DASH_DAEMON_LOG="$T/daemon.log" DASH_HOME="$T/home"
mkdir -p "$DASH_SHOTS"
status=0
"$VENV/bin/python" -m pytest -q -p no:cacheprovider "$ROOT/Tests/e2e/test_dashboard.py" "$@" || status=$?
[ "$status" = 0 ] || { echo "dashboard: FAILED; daemon log:" >&2; tail -30 "$T/daemon.log" >&2; }
exit "$status"
