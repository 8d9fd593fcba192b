"""Codex CLI and Claude Code through proxypoold onto subscription accounts (run by Tests/e2e/accounts.sh).

The backends are Tests/FakeUpstream/fake_accounts.py's fake ChatGPT (Codex backend) and Claude, answering as
fake_upstream.py's scripted model (markers, tool calls, streams) and naming the account in their text; the
daemon holds two ChatGPT accounts (ca1, ca2: codex's chain) and one Claude account (cc1: claude-code's).
"""
import json
import os
import subprocess
import threading
import urllib.request
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from test_clients import (MARKER, TEXT_ONLY, TOOL_MARKER, _http_get_json, _per_test_timeout, env, fmt,  # noqa: F401
                          run_claude, run_codex, tok)


def fake_url():
    u = os.environ.get("E2E_FAKE_URL")
    if not u:
        pytest.skip("E2E_FAKE_URL not set (run Tests/e2e/accounts.sh)")
    return u


def control(obj):
    req = urllib.request.Request(fake_url() + "/__control", data=json.dumps(obj).encode(), method="POST")
    urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=10).read()


def ctl(*args):
    cmd = [os.environ["E2E_CTL_BIN"], "--socket", os.environ["E2E_CTL_SOCKET"], *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    return p.stdout


def backend(token, path_end):
    """What the fake backends received (bodies parsed) on paths ending with path_end, mentioning token."""
    out = []
    for r in _http_get_json(fake_url() + "/__requests"):
        if r["path"].split("?")[0].endswith(path_end) and token in r["body"]:
            r = dict(r, json=json.loads(r["body"]), headers={k.lower(): v for k, v in r["headers"]})
            out.append(r)
    return out


# ----------------------------------------------------------------------------
# Codex CLI on the ChatGPT accounts
# ----------------------------------------------------------------------------

def test_codex_text_on_a_chatgpt_account(env, tmp_path):
    t = tok()
    text, p = run_codex(env, tmp_path, "say hi %s %s" % (TEXT_ONLY, t))
    assert MARKER in text and "(account ca1)" in text, fmt(p)
    recs = backend(t, "/backend-api/codex/responses")
    assert recs, "the Codex backend saw nothing"
    for r in recs:
        assert r["headers"].get("chatgpt-account-id") == "acct-ca1" and r["headers"]["authorization"].startswith("Bearer ")
        assert r["headers"]["authorization"] != "Bearer " + env.api_key, "the account's token, not the client's key"
        assert r["json"].get("stream") is True


def test_codex_tool_round_trip_on_a_chatgpt_account(env, tmp_path):
    t = tok()
    text, p = run_codex(env, tmp_path, "run echo %s %s" % (TOOL_MARKER, t))
    assert MARKER in text and TOOL_MARKER in text, fmt(p)
    outputs = [it for r in backend(t, "/backend-api/codex/responses") for it in r["json"].get("input") or []
               if isinstance(it, dict) and it.get("type") in ("function_call_output", "custom_tool_call_output")]
    assert any(TOOL_MARKER in json.dumps(o.get("output")) for o in outputs), outputs


def test_codex_usage_limit_on_the_first_account_fails_over_before_codex_sees_it(env, tmp_path):
    control({"usage_limit": {"ca1": "429"}})
    try:
        t = tok()
        text, p = run_codex(env, tmp_path, "say hi %s %s" % (TEXT_ONLY, t))
        assert MARKER in text and "(account ca2)" in text, fmt(p)
        said = p.stdout + p.stderr
        assert "usage_limit_reached" not in said and "The usage limit has been reached" not in said, fmt(p)
        accounts = [r["headers"].get("chatgpt-account-id") for r in backend(t, "/backend-api/codex/responses")]
        assert accounts[0] == "acct-ca1" and accounts[-1] == "acct-ca2", accounts
        assert "usage limit reached" in ctl("status")
    finally:
        control({"usage_limit": {}})


# ----------------------------------------------------------------------------
# Claude Code on the Claude account (unchanged) and on a ChatGPT account (translated)
# ----------------------------------------------------------------------------

class Recorder:
    """A plain HTTP relay between Claude Code and the proxy that keeps every request body as sent."""

    def __init__(self, target):
        host, port = target.split("//")[1].split(":")
        bodies = self.bodies = []

        class Relay(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def relay(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                bodies.append((self.command, self.path, body))
                c = HTTPConnection(host, int(port), timeout=60)
                hop = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}
                headers = {k: v for k, v in self.headers.items() if k.lower() not in hop}
                headers["Content-Length"] = str(len(body))
                c.request(self.command, self.path, body=body, headers=headers)
                r = c.getresponse()
                data = r.read()
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in hop:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_HEAD = relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


class Via:
    def __init__(self, env, url):
        self.base_url, self.api_key, self.requests_url = url, env.api_key, env.requests_url


def test_claude_code_on_a_claude_account_bodies_reach_it_byte_for_byte(env, tmp_path):
    ctl("assign", "claude-code", "cc1")
    rec = Recorder(env.base_url)
    try:
        t = tok()
        out, p = run_claude(Via(env, rec.url), tmp_path, "run echo %s with Bash %s" % (TOOL_MARKER, t),
                            ["--allowedTools", "Bash(echo:*)", "--permission-mode", "dontAsk"])
    finally:
        rec.close()
    assert not out.get("is_error"), fmt(p)
    assert MARKER in out["result"] and TOOL_MARKER in out["result"] and "(account cc1)" in out["result"], fmt(p)
    sent = [b.decode("utf-8", "replace") for m, path, b in rec.bodies if path.split("?")[0] == "/v1/messages" and t.encode() in b]
    got = [r["body"] for r in backend(t, "/v1/messages")]
    assert len(sent) >= 2, "a tool round trip is at least two turns: %d" % len(sent)
    assert sorted(sent) == sorted(got), "every Messages body reached the Claude account unchanged"
    for r in backend(t, "/v1/messages"):
        assert r["headers"]["authorization"].startswith("Bearer sk-ant-oat01-cc1-") and "x-api-key" not in r["headers"]
        assert "oauth-2025-04-20" in r["headers"]["anthropic-beta"]


def test_claude_code_on_a_chatgpt_account_is_translated(env, tmp_path):
    ctl("assign", "claude-code", "ca2")
    try:
        t = tok()
        out, p = run_claude(env, tmp_path, "run echo %s with Bash %s" % (TOOL_MARKER, t),
                            ["--allowedTools", "Bash(echo:*)", "--permission-mode", "dontAsk"])
        assert not out.get("is_error"), fmt(p)
        assert MARKER in out["result"] and TOOL_MARKER in out["result"] and "(account ca2)" in out["result"], fmt(p)
        recs = backend(t, "/backend-api/codex/responses")
        assert recs and all(r["headers"].get("chatgpt-account-id") == "acct-ca2" for r in recs)
        outputs = [it for r in recs for it in r["json"].get("input") or [] if isinstance(it, dict) and it.get("type") == "function_call_output"]
        assert any(TOOL_MARKER in json.dumps(o.get("output")) for o in outputs), outputs
    finally:
        ctl("assign", "claude-code", "cc1")
