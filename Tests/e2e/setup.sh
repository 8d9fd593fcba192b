#!/usr/bin/env bash
# Creates (or reuses) the e2e venv at .build-e2e/venv with the real clients, and
# prints where the `claude` and `codex` binaries are.
# Usage: bash Tests/e2e/setup.sh     (E2E_VENV overrides the venv path)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${E2E_VENV:-$ROOT/.build-e2e/venv}"
PKGS=(claude-agent-sdk openai-codex-cli-bin openai anthropic google-genai pytest selenium)

if [ ! -x "$VENV/bin/python" ]; then
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV"
fi
# Install only what is missing, so a reused venv needs no network.
missing=()
for p in "${PKGS[@]}"; do
  "$VENV/bin/python" -m pip show -q "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "e2e setup: installing ${missing[*]}" >&2
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${missing[@]}"
fi

"$VENV/bin/python" - <<'PY'
import site, os, sys
def find(rel):
    for d in site.getsitepackages():
        p = os.path.join(d, rel)
        if os.path.exists(p):
            return p
    return None
claude = find("claude_agent_sdk/_bundled/claude")
codex = find("codex_cli_bin/bin/codex")
print("venv:   " + sys.prefix)
print("claude: " + (claude or "NOT FOUND"))
print("codex:  " + (codex or "NOT FOUND"))
sys.exit(0 if claude and codex else 1)
PY
