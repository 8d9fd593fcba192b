"""The REAL Codex CLI over the Responses WebSocket, through proxypoold, onto OpenAI, Anthropic and Gemini
credentials (fake upstreams): a text turn and a tool round trip, with the built-in provider
(`openai_base_url`) and with a provider that sets `supports_websockets = true`. Each run must be served over
the WebSocket only: the daemon's request records for it read `WS /v1/responses ... transport=websocket`, and
none reads `POST /v1/responses` (Codex falls back to HTTP when the socket fails).

Environment (set by Tests/e2e/codex-websocket.sh): E2E_BASE_URL, E2E_API_KEY, E2E_CTL_BIN, E2E_CTL_SOCKET,
E2E_DAEMON_LOG.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_clients import MARKER, TOOL_MARKER, TEXT_ONLY, base_child_env, codex_bin, fmt, run, tok  # noqa: E402

BASE = os.environ.get("E2E_BASE_URL", "").rstrip("/")
KEY = os.environ.get("E2E_API_KEY", "")
CTL = os.environ.get("E2E_CTL_BIN")
SOCK = os.environ.get("E2E_CTL_SOCKET")
LOG = os.environ.get("E2E_DAEMON_LOG")

pytestmark = pytest.mark.skipif(not (BASE and KEY and CTL and SOCK and LOG),
                                reason="needs the daemon started by Tests/e2e/codex-websocket.sh")

CONFIG_HEAD = """\
model = "gpt-5-codex"
check_for_update_on_startup = false
approval_policy = "never"
sandbox_mode = "read-only"
%s

[analytics]
enabled = false

[features]
plugins = false
apps = false
remote_plugin = false
%s
"""


def codex_config(mode):
    if mode == "builtin":
        # The built-in OpenAI provider tries the WebSocket first (the key comes from CODEX_API_KEY).
        return CONFIG_HEAD % ('openai_base_url = "%s/v1"' % BASE, "")
    return CONFIG_HEAD % ('model_provider = "proxy"', """
[model_providers.proxy]
name = "proxy"
base_url = "%s/v1"
env_key = "CODEX_API_KEY"
wire_api = "responses"
supports_websockets = true
request_max_retries = 1
stream_max_retries = 1
""" % BASE)


def assign(cred):
    subprocess.run([CTL, "--socket", SOCK, "assign", "codex", cred], check=True, capture_output=True)


def run_codex(tmp_path, mode, prompt):
    home, codex_home, work = tmp_path / "home", tmp_path / "codex-home", tmp_path / "work"
    for d in (home, codex_home, work):
        d.mkdir()
    (codex_home / "config.toml").write_text(codex_config(mode))
    e = base_child_env(home)
    e.update({"CODEX_HOME": str(codex_home), "CODEX_API_KEY": KEY})
    last = tmp_path / "last-message.txt"
    p = run([codex_bin(), "exec", "--skip-git-repo-check", "--sandbox", "read-only", "-o", str(last), "--", prompt], e, work)
    assert p.returncode == 0, fmt(p)
    return (last.read_text() if last.exists() else ""), p


def daemon_log_since(offset):
    with open(LOG, "rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace")


@pytest.mark.parametrize("cred", ["openai-fake", "anthropic-fake", "gemini-fake"])
@pytest.mark.parametrize("mode", ["builtin", "provider"])
@pytest.mark.parametrize("kind", ["text", "tool"])
def test_codex_over_websocket(tmp_path, mode, cred, kind):
    assign(cred)
    t = tok()
    start = os.path.getsize(LOG)
    prompt = ("say hi %s %s" % (TEXT_ONLY, t)) if kind == "text" else ("run echo %s %s" % (TOOL_MARKER, t))
    text, p = run_codex(tmp_path, mode, prompt)
    assert MARKER in text, fmt(p)
    if kind == "tool":
        assert TOOL_MARKER in text, fmt(p)
    time.sleep(0.3)   # request records leave once per turn of the daemon's loop
    log = daemon_log_since(start)
    ws = [l for l in log.splitlines() if "WS /v1/responses app=codex credential=%s " % cred in l and "status=200" in l]
    posts = [l for l in log.splitlines() if "POST /v1/responses" in l]
    assert "WebSocket opened on /v1/responses app=codex" in log, log[-3000:]
    assert len(ws) >= (2 if kind == "tool" else 1), log[-3000:]
    assert all("transport=websocket" in l for l in ws)
    assert not posts, "Codex fell back to HTTP:\n" + "\n".join(posts)
