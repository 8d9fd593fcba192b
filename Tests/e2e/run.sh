#!/usr/bin/env bash
# Runs the e2e client suite. Passes through E2E_BASE_URL, E2E_API_KEY,
# E2E_UPSTREAM_REQUESTS_URL (see test_clients.py), and E2E_FAKE_URL, E2E_CTL_BIN, E2E_CTL_SOCKET for the
# translation tests (test_cross_clients.py, skipped without them); extra args go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${E2E_VENV:-$ROOT/.build-e2e/venv}"
bash "$ROOT/Tests/e2e/setup.sh"
cd "$ROOT"
exec "$VENV/bin/python" -m pytest -q -p no:cacheprovider --durations=0 Tests/e2e/test_clients.py Tests/e2e/test_cross_clients.py "$@"
