#!/usr/bin/env bash
# Creates (or reuses) the e2e venv with the real clients and prints where the
# `claude` and `codex` binaries are. Usage: bash Tests/e2e/setup.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${E2E_VENV:-$ROOT/.build-e2e/venv}"
PKGS=(claude-agent-sdk openai-codex-cli-bin openai anthropic google-genai pytest)

if [ ! -x "$VENV/bin/python" ]; then
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV"
fi
# Install only what is missing, so a reused venv costs no network round trip.
missing=()
for p in "${PKGS[@]}"; do
  "$VENV/bin/python" -m pip show -q "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${missing[@]}"
fi

"$VENV/bin/python" - <<'PY'
import sys
sys.path.insert(0, __import__("os").path.join(__import__("os").environ.get("E2E_ROOT", "."), "Tests", "e2e"))
PY
E2E_ROOT="$ROOT" "$VENV/bin/python" "$ROOT/Tests/e2e/find_clients.py"
