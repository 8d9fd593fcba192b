"""Claude Code and Codex through proxypoold to the fake Vertex AI (run by Tests/e2e/vertex.sh).

Claude Code asks for a Claude model, which the daemon sends to Anthropic's publisher on Vertex (rawPredict /
streamRawPredict, passed through); Codex asks for a Gemini model, sent to Google's publisher (generateContent,
translated from Responses). The fake Vertex checks bearer tokens, paths, anthropic_version and roles before
the fake upstream answers; its /__vertex says which publisher each request reached.
"""
import json
import os

import pytest

from test_clients import (MARKER, TEXT_ONLY, TOOL_MARKER, _http_get_json, _per_test_timeout, env, fmt,  # noqa: F401
                          need_upstream, run_claude, run_codex, tok)

CLAUDE_MODEL = "claude-sonnet-4-5"
GEMINI_MODEL = "gemini-2.5-pro"


def vertex_requests(publisher):
    url = os.environ.get("E2E_VERTEX_STATE_URL")
    if not url:
        pytest.skip("E2E_VERTEX_STATE_URL not set (run Tests/e2e/vertex.sh)")
    return [r for r in _http_get_json(url)["requests"] if r.get("publisher") == publisher]


def test_claude_code_text_on_claude_on_vertex(env, tmp_path):
    before = len(vertex_requests("anthropic"))
    t = tok()
    out, p = run_claude(env, tmp_path, "say hi %s %s" % (TEXT_ONLY, t), ["--model", CLAUDE_MODEL])
    assert not out.get("is_error"), fmt(p)
    assert MARKER in out["result"], fmt(p)
    recs = vertex_requests("anthropic")[before:]
    assert recs and all(r["auth"] == "bearer" and r["model"] == CLAUDE_MODEL for r in recs), recs
    assert {r["method"] for r in recs} <= {"rawPredict", "streamRawPredict"}, recs


def test_claude_code_tool_round_trip_on_claude_on_vertex(env, tmp_path):
    t = tok()
    out, p = run_claude(env, tmp_path, "run echo %s with Bash %s" % (TOOL_MARKER, t),
                        ["--model", CLAUDE_MODEL, "--allowedTools", "Bash(echo:*)", "--permission-mode", "dontAsk"])
    assert not out.get("is_error"), fmt(p)
    assert MARKER in out["result"] and TOOL_MARKER in out["result"], fmt(p)
    results = []
    for r in need_upstream(env, t):
        for m in (r.get("body") or {}).get("messages") or []:
            if isinstance(m.get("content"), list):
                results += [b for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]
    assert any(TOOL_MARKER in json.dumps(b.get("content")) and not b.get("is_error") for b in results), results


def test_codex_text_on_gemini_on_vertex(env, tmp_path):
    before = len(vertex_requests("google"))
    t = tok()
    text, p = run_codex(env, tmp_path, "say hi %s %s" % (TEXT_ONLY, t), model=GEMINI_MODEL)
    assert MARKER in text, fmt(p)
    recs = vertex_requests("google")[before:]
    assert recs and all(r["auth"] == "bearer" and r["model"] == GEMINI_MODEL for r in recs), recs


def test_codex_tool_round_trip_on_gemini_on_vertex(env, tmp_path):
    t = tok()
    text, p = run_codex(env, tmp_path, "run echo %s %s" % (TOOL_MARKER, t), model=GEMINI_MODEL)
    assert MARKER in text and TOOL_MARKER in text, fmt(p)
    responses = []
    for r in need_upstream(env, t):
        for c in (r.get("body") or {}).get("contents") or []:
            responses += [part["functionResponse"] for part in c.get("parts") or [] if "functionResponse" in part]
    assert any(TOOL_MARKER in json.dumps(fr) for fr in responses), responses
