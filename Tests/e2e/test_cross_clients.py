"""The real CLIs through the daemon to an upstream of ANOTHER protocol (translation), and free-model routing.

Claude Code (Anthropic Messages) → OpenAI Chat (openai-compatible), OpenAI Responses (openai), Gemini.
Codex CLI (OpenAI Responses)     → Anthropic Messages, Gemini.
Claude Code asking for its fast model → the free credential when free-models is on, else its assignment.

Each combination has its own app (an access key made with `key create --app`) assigned to its own credential,
so no test reassigns another's app and nothing waits on a reload between tests. Every credential's key
carries a tag (`fake-ok~NAME`) that the fake records, so a test knows which credential the daemon chose.

Needs the daemon (through-proxy.sh exports E2E_CTL_BIN, E2E_CTL_SOCKET, E2E_FAKE_URL); skipped without it.
"""

import json
import os
import re
import subprocess
import time
from types import SimpleNamespace

import pytest

from test_clients import (MARKER, TEXT_ONLY, TOOL_MARKER, _http_get_json, _per_test_timeout, fmt,  # noqa: F401
                          run_claude, run_codex, tok)

CTL_BIN = os.environ.get("E2E_CTL_BIN")
CTL_SOCKET = os.environ.get("E2E_CTL_SOCKET")
FAKE_URL = os.environ.get("E2E_FAKE_URL")

pytestmark = pytest.mark.skipif(not (CTL_BIN and CTL_SOCKET and FAKE_URL and os.environ.get("E2E_BASE_URL")),
                                reason="needs the daemon and its control socket (run through-proxy.sh)")

# The openai-compatible kind has no built-in tiers: the user names the server's models.
OC_TIERS = {"flagship": "qwen3-coder-480b", "standard": "qwen3-coder-30b", "fast": "qwen3-4b",
            "reasoning": "qwen3-235b-thinking"}

# name → (provider, base URL suffix, extra options)
CREDENTIALS = {
    "x-chat": ("openai-compatible", "/v1", []),
    "x-responses": ("openai", "/v1", []),
    "x-anthropic": ("anthropic", "", []),
    "x-gemini": ("gemini", "", []),
    "x-free": ("openai-compatible", "/v1", ["--free"]),
    # Rate-limited on every request (the fake's behaviour is chosen by the key, see credential_key).
    "x-anthropic-limited": ("anthropic", "", []),
    "x-openai-limited": ("openai", "/v1", []),
    # Streams are cut after two events; whole answers work (Claude Code's stream:false fallback).
    "x-chat-streams-break": ("openai-compatible", "/v1", []),
}


def credential_key(name):
    """The key the fake sees: its behaviour, then the credential's name as a tag it records."""
    if name.endswith("-streams-break"):
        return "fake-reset-stream-only~" + name
    return ("fake-429-retry-after-30~" if name.endswith("-limited") else "fake-ok~") + name

# app → its chain. cc-* are Claude Code, cx-* Codex.
APPS = {
    "cc-via-chat": ["x-chat"],
    "cc-via-responses": ["x-responses"],
    "cc-via-gemini": ["x-gemini"],
    "cx-via-anthropic": ["x-anthropic"],
    "cx-via-gemini": ["x-gemini"],
    "cc-free": ["x-anthropic"],
    # First a rate-limited credential of the client's own protocol, then one of another: failover translates.
    "cc-failover": ["x-anthropic-limited", "x-chat"],
    "cx-failover": ["x-openai-limited", "x-anthropic"],
    "cc-streams-break": ["x-chat-streams-break"],
    "cc-discovery": ["x-anthropic"],
}

# upstream wire → where a translated request must arrive (Gemini: the model is in the path).
PATHS = {
    "chat": re.compile(r"^/v1/chat/completions$"),
    "responses": re.compile(r"^/v1/responses$"),
    "anthropic": re.compile(r"^/v1/messages$"),
    "gemini": re.compile(r"^/v1beta/models/([^/:]+):streamGenerateContent$"),
}


def ctl(*args, key_env=None):
    env = dict(os.environ)
    if key_env:
        env["X_FAKE_KEY"] = key_env
    p = subprocess.run([CTL_BIN, "--socket", CTL_SOCKET, *args], env=env, capture_output=True, text=True, timeout=10)
    assert p.returncode == 0, "proxypoolctl %s: %s%s" % (" ".join(args), p.stdout, p.stderr)
    return p.stdout


def ctl_json(*args):
    return json.loads(ctl("--json", *args))


@pytest.fixture(scope="module")
def cross():
    for name, (provider, suffix, extra) in CREDENTIALS.items():
        ctl("credential", "add", name, "--provider", provider, "--base-url", FAKE_URL + suffix,
            "--key-env", "X_FAKE_KEY", *extra, key_env=credential_key(name))
    for tier, model in OC_TIERS.items():
        ctl("tier", "set", "openai-compatible", tier, model)
    keys = {}
    for app, chain in APPS.items():
        ctl("assign", app, *chain)
        keys[app] = ctl_json("key", "create", "--app", app)["key"]
    tiers = {(t["provider"], t["tier"]): t["model"] for t in ctl_json("tiers") if t.get("model")}
    time.sleep(0.3)   # the daemon reloads its routing table after each change
    return SimpleNamespace(keys=keys, tiers=tiers, base_url=os.environ["E2E_BASE_URL"].rstrip("/"))


def client_env(cross, app):
    """What run_claude / run_codex need: where to go and the app's key."""
    return SimpleNamespace(base_url=cross.base_url, api_key=cross.keys[app])


def expected_model(cross, client_model, provider):
    tier = ctl_json("classify", client_model)["tier"]
    return cross.tiers[(provider, tier)]


def recorded(token, credential):
    """The fake's records of this test's requests (the body mentions token) that credential made."""
    recs = _http_get_json(FAKE_URL + "/__requests")
    mine = [r for r in recs if token in json.dumps(r.get("body"))]
    assert mine, "the upstream saw no request for this test"
    others = sorted({"%s %s" % (r.get("key_tag"), r["path"]) for r in mine if r.get("key_tag") != credential})
    assert not others, "requests went to other credentials than %s: %s" % (credential, others)
    return mine


def upstream_model(rec, wire):
    if wire == "gemini":
        return PATHS["gemini"].match(rec["path"]).group(1)
    return (rec.get("body") or {}).get("model")


def check_arrival(recs, wire, model):
    for r in recs:
        assert PATHS[wire].match(r["path"]), "a request arrived at %s, not the %s path" % (r["path"], wire)
    models = {upstream_model(r, wire) for r in recs}
    assert model in models, "the upstream was asked for %s, not the mapped %s" % (sorted(models), model)
    for r in recs:
        body = r.get("body") or {}
        # OpenAI refuses end-user ids over 64 characters (Claude Code's metadata.user_id is ~150).
        for k in ("safety_identifier", "user"):
            if wire in ("chat", "responses") and isinstance(body.get(k), str):
                assert len(body[k]) <= 64, "%s is %d characters: OpenAI takes at most 64" % (k, len(body[k]))
        if wire == "gemini":
            check_gemini_limits(upstream_model(r, wire), body.get("generationConfig") or {})


# Google's documented ranges (ai.google.dev/gemini-api/docs/thinking): out of range is a 400 from Gemini.
GEMINI_THINKING = {"gemini-2.5-pro": (128, 32768), "gemini-2.5-flash-lite": (512, 24576), "gemini-2.5-flash": (1, 24576)}


def check_gemini_limits(model, gen):
    if model.startswith("gemini-2.5-") and "maxOutputTokens" in gen:
        assert gen["maxOutputTokens"] <= 65536, "maxOutputTokens %s over %s's 65536" % (gen["maxOutputTokens"], model)
    budget = (gen.get("thinkingConfig") or {}).get("thinkingBudget")
    family = next((f for f in sorted(GEMINI_THINKING, key=len, reverse=True) if model.startswith(f)), None)
    if budget is not None and family and budget not in (0, -1):
        lo, hi = GEMINI_THINKING[family]
        assert lo <= budget <= hi, "thinkingBudget %d is out of %s's range %d..%d" % (budget, model, lo, hi)


# --- the tool round trip as the upstream protocol says it: (call id or name, result text) pairs -------------

def calls_and_results(wire, body):
    """The tool calls the conversation echoes and the tool results, each keyed by how the protocol links them."""
    calls, results = {}, {}
    if wire == "chat":
        for m in body.get("messages") or []:
            for c in m.get("tool_calls") or []:
                calls[c["id"]] = c["function"]["name"]
            if m.get("role") == "tool":
                results[m["tool_call_id"]] = json.dumps(m.get("content"))
    elif wire == "responses":
        for it in body.get("input") or []:
            if it.get("type") == "function_call":
                calls[it["call_id"]] = it["name"]
            elif it.get("type") == "function_call_output":
                results[it["call_id"]] = json.dumps(it.get("output"))
    elif wire == "anthropic":
        for m in body.get("messages") or []:
            for b in m.get("content") if isinstance(m.get("content"), list) else []:
                if b.get("type") == "tool_use":
                    calls[b["id"]] = b["name"]
                elif b.get("type") == "tool_result":
                    results[b["tool_use_id"]] = json.dumps(b.get("content"))
    elif wire == "gemini":
        for c in body.get("contents") or []:
            for p in c.get("parts") or []:
                fc = p.get("functionCall") or p.get("function_call")
                fr = p.get("functionResponse") or p.get("function_response")
                if fc:
                    calls[fc.get("id") or fc["name"]] = fc["name"]
                if fr:
                    results[fr.get("id") or fr["name"]] = json.dumps(fr.get("response"))
    return calls, results


def check_tool_result_shape(recs, wire, tool_name, marker=TOOL_MARKER):
    """The second turn carries the echoed call and its result, linked, in the upstream's own shape."""
    seen = []
    for r in recs:
        calls, results = calls_and_results(wire, r.get("body") or {})
        for link, text in results.items():
            seen.append((link, text[:200]))
            if marker in text and calls.get(link) == tool_name:
                return
    pytest.fail("no %s follow-up carries a %s call and its result with %r (results seen: %s)"
                % (wire, tool_name, marker, seen))


# --- Claude Code → another protocol ----------------------------------------------------------------------

CLAUDE_VIA = [("chat", "cc-via-chat", "x-chat", "openai-compatible"),
              ("responses", "cc-via-responses", "x-responses", "openai"),
              ("gemini", "cc-via-gemini", "x-gemini", "gemini")]
CLAUDE_DEFAULT_MODEL = "claude-opus-5-5"   # what Claude Code sends without --model (clients.md)
FAST_MODEL = "claude-haiku-4-5"            # its fast model, asked for with --model


@pytest.mark.parametrize("wire,app,cred,provider", CLAUDE_VIA, ids=[c[0] for c in CLAUDE_VIA])
def test_claude_code_text_via(cross, tmp_path, wire, app, cred, provider):
    t = tok()
    out, p = run_claude(client_env(cross, app), tmp_path, "say hi %s %s" % (TEXT_ONLY, t))
    model = expected_model(cross, CLAUDE_DEFAULT_MODEL, provider)
    assert not out.get("is_error"), fmt(p)
    assert MARKER in out["result"] and "model=" + model in out["result"], fmt(p)
    check_arrival(recorded(t, cred), wire, model)


@pytest.mark.parametrize("wire,app,cred,provider", CLAUDE_VIA, ids=[c[0] for c in CLAUDE_VIA])
def test_claude_code_tool_round_trip_via(cross, tmp_path, wire, app, cred, provider):
    t = tok()
    out, p = run_claude(client_env(cross, app), tmp_path, "run echo %s with Bash %s" % (TOOL_MARKER, t),
                        ["--allowedTools", "Bash(echo:*)", "--permission-mode", "dontAsk"])
    assert not out.get("is_error"), fmt(p)
    assert MARKER in out["result"] and TOOL_MARKER in out["result"], fmt(p)
    recs = recorded(t, cred)
    check_arrival(recs, wire, expected_model(cross, CLAUDE_DEFAULT_MODEL, provider))
    check_tool_result_shape(recs, wire, "Bash")


def test_claude_code_fast_model_via_gemini(cross, tmp_path):
    """Claude Code's fast model thinks with a 31 999-token budget: the Gemini fast tier takes at most 24 576."""
    t = tok()
    out, p = run_claude(client_env(cross, "cc-via-gemini"), tmp_path, "say hi %s %s" % (TEXT_ONLY, t),
                        ["--model", FAST_MODEL])
    model = expected_model(cross, FAST_MODEL, "gemini")
    assert not out.get("is_error"), fmt(p)
    assert "model=" + model in out["result"], fmt(p)
    check_arrival(recorded(t, "x-gemini"), "gemini", model)


# Claude Code's gateway model discovery (2.1.126+, CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY=1): at start-up it
# asks GET {ANTHROPIC_BASE_URL}/v1/models?limit=1000 (x-api-key, anthropic-version), keeps the ids with claude
# or anthropic in them and writes them to ~/.claude/cache/gateway-models.json ({baseUrl, fetchedAt, models}),
# which its /model picker reads. Whatever credential serves the app, the list is the Claude names per tier.
DISCOVERY_VIA = [("chat", "cc-via-chat", "x-chat", "openai-compatible"),
                 ("gemini", "cc-via-gemini", "x-gemini", "gemini"),
                 ("anthropic", "cc-discovery", "x-anthropic", "anthropic")]


@pytest.mark.parametrize("wire,app,cred,provider", DISCOVERY_VIA, ids=[c[0] for c in DISCOVERY_VIA])
def test_claude_code_gateway_model_discovery_via(cross, tmp_path, wire, app, cred, provider):
    discovery = {"CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY": "1"}
    first = tmp_path / "first"
    first.mkdir()
    out, p = run_claude(client_env(cross, app), first, "say hi %s %s" % (TEXT_ONLY, tok()), child_env=discovery)
    assert not out.get("is_error"), fmt(p)
    cache_file = first / "home" / ".claude" / "cache" / "gateway-models.json"
    assert cache_file.exists(), "Claude Code wrote no gateway model cache: " + fmt(p)
    cache = json.loads(cache_file.read_text())
    assert cache["baseUrl"] == cross.base_url
    listed = [m["id"] for m in cache["models"]]
    per_tier = []
    for tier in ("flagship", "standard", "fast", "reasoning"):
        m = cross.tiers[("anthropic", tier)]
        if m not in per_tier:
            per_tier.append(m)
    assert listed[:len(per_tier)] == per_tier, "the /model list is %s, not the Claude tier names %s" % (listed, per_tier)
    assert all(m.get("description", "").endswith(" tier") for m in cache["models"][:len(per_tier)]), cache["models"]
    # A name picked from the list serves the turn, through its tier when the credential is not Anthropic's.
    pick = cross.tiers[("anthropic", "fast")]
    second = tmp_path / "second"
    second.mkdir()
    t = tok()
    out, p = run_claude(client_env(cross, app), second, "say hi %s %s" % (TEXT_ONLY, t), ["--model", pick], child_env=discovery)
    model = expected_model(cross, pick, provider) if provider != "anthropic" else pick
    assert not out.get("is_error") and "model=" + model in out["result"], fmt(p)
    check_arrival(recorded(t, cred), wire, model)


# --- Codex → another protocol ----------------------------------------------------------------------------

CODEX_VIA = [("anthropic", "cx-via-anthropic", "x-anthropic", "anthropic"),
             ("gemini", "cx-via-gemini", "x-gemini", "gemini")]
CODEX_MODEL = "gpt-5-codex"   # the classic request shape (top-level function tools)


@pytest.mark.parametrize("wire,app,cred,provider", CODEX_VIA, ids=[c[0] for c in CODEX_VIA])
def test_codex_exec_text_via(cross, tmp_path, wire, app, cred, provider):
    t = tok()
    text, p = run_codex(client_env(cross, app), tmp_path, "say hi %s %s" % (TEXT_ONLY, t), model=CODEX_MODEL)
    model = expected_model(cross, CODEX_MODEL, provider)
    assert MARKER in text and "model=" + model in text, fmt(p)
    check_arrival(recorded(t, cred), wire, model)


# gpt-5.5 (in Codex's catalog) adds a custom apply_patch grammar tool, tool_search and a reasoning effort.
@pytest.mark.parametrize("model", [CODEX_MODEL, "gpt-5.5"])
@pytest.mark.parametrize("wire,app,cred,provider", CODEX_VIA, ids=[c[0] for c in CODEX_VIA])
def test_codex_exec_tool_round_trip_via(cross, tmp_path, wire, app, cred, provider, model):
    t = tok()
    text, p = run_codex(client_env(cross, app), tmp_path, "run echo %s %s" % (TOOL_MARKER, t), model=model)
    assert MARKER in text and TOOL_MARKER in text, fmt(p)
    recs = recorded(t, cred)
    check_arrival(recs, wire, expected_model(cross, model, provider))
    check_tool_result_shape(recs, wire, "exec_command")


# Code mode: the tools come in an `additional_tools` input item, and the one the model calls is the custom
# (free-text) `exec`, which runs JavaScript in Codex. It reaches the upstream as a function tool; the fake
# cannot know to write JavaScript into it, so it calls `exec` with a placeholder and Codex answers with its
# script runner's report ("Script failed ... FAKE is not defined"). What is checked is the round trip: the
# call reached Codex as a custom tool call, ran, and its output came back to the upstream in its own shape.
CODE_MODE_MODEL = "gpt-6.1-sol"
SCRIPT_REPORT = "Script "


@pytest.mark.parametrize("wire,app,cred,provider", CODEX_VIA, ids=[c[0] for c in CODEX_VIA])
def test_codex_code_mode_tool_round_trip_via(cross, tmp_path, wire, app, cred, provider):
    t = tok()
    text, p = run_codex(client_env(cross, app), tmp_path, "run echo %s %s" % (TOOL_MARKER, t), model=CODE_MODE_MODEL)
    assert MARKER in text and "Tool result received:" in text and SCRIPT_REPORT in text, fmt(p)
    recs = recorded(t, cred)
    check_arrival(recs, wire, expected_model(cross, CODE_MODE_MODEL, provider))
    check_tool_result_shape(recs, wire, "exec", marker=SCRIPT_REPORT)


# --- Issue 6: Claude Code's fast model and free-model routing ----------------------------------------------

def test_claude_code_fast_model_free_routing(cross, tmp_path):
    app = "cc-free"

    def fast_turn(switch, credential, wire, model):
        """Claude Code asks for its fast model with free routing `switch`: the answer names `model`, and the
        request went to `credential` in `wire` asking for `model`."""
        ctl("free-models", switch, "--app", app)
        time.sleep(0.3)
        t = tok()
        (tmp_path / switch).mkdir()
        out, p = run_claude(client_env(cross, app), tmp_path / switch, "say hi %s %s" % (TEXT_ONLY, t),
                            ["--model", FAST_MODEL])
        assert not out.get("is_error"), fmt(p)
        assert "model=" + model in out["result"], fmt(p)
        check_arrival(recorded(t, credential), wire, model)

    try:
        fast_turn("on", "x-free", "chat", cross.tiers[("openai-compatible", "fast")])
        fast_turn("off", "x-anthropic", "anthropic", FAST_MODEL)
    finally:
        ctl("free-models", "default", "--app", app)


# --- Failover from the client's own protocol to another one -------------------------------------------------

def test_failover_to_another_protocol(cross, tmp_path):
    """The app's first credential speaks the client's protocol and is rate-limited: the same turn goes on to
    the next credential, of another protocol, translated. Claude Code and Codex each see one good answer."""
    t = tok()
    (tmp_path / "cc").mkdir()
    out, p = run_claude(client_env(cross, "cc-failover"), tmp_path / "cc", "say hi %s %s" % (TEXT_ONLY, t))
    assert not out.get("is_error"), fmt(p)
    model = expected_model(cross, CLAUDE_DEFAULT_MODEL, "openai-compatible")
    assert "model=" + model in out["result"], fmt(p)
    recs = _http_get_json(FAKE_URL + "/__requests")
    mine = [(r.get("key_tag"), r["path"], r["response"].get("status")) for r in recs if t in json.dumps(r.get("body"))]
    assert mine[:2] == [("x-anthropic-limited", "/v1/messages", 429), ("x-chat", "/v1/chat/completions", 200)], mine

    t = tok()
    (tmp_path / "cx").mkdir()
    text, p = run_codex(client_env(cross, "cx-failover"), tmp_path / "cx", "say hi %s %s" % (TEXT_ONLY, t), model=CODEX_MODEL)
    assert "model=" + expected_model(cross, CODEX_MODEL, "anthropic") in text, fmt(p)
    recs = _http_get_json(FAKE_URL + "/__requests")
    mine = [(r.get("key_tag"), r["path"], r["response"].get("status")) for r in recs if t in json.dumps(r.get("body"))]
    assert mine[:2] == [("x-openai-limited", "/v1/responses", 429), ("x-anthropic", "/v1/messages", 200)], mine


def test_claude_code_falls_back_to_a_whole_answer_when_a_translated_stream_breaks(cross, tmp_path):
    """The OpenAI Chat upstream cuts the stream after two events: the daemon ends Claude Code's translated
    stream with an Anthropic error event (not a silent EOF, which makes Claude Code loop), Claude Code re-asks
    with stream:false, and the translated whole answer completes the turn."""
    t = tok()
    out, p = run_claude(client_env(cross, "cc-streams-break"), tmp_path, "say hi %s %s" % (TEXT_ONLY, t))
    assert not out.get("is_error"), fmt(p)
    model = expected_model(cross, CLAUDE_DEFAULT_MODEL, "openai-compatible")
    assert MARKER in out["result"] and "model=" + model in out["result"], fmt(p)
    recs = recorded(t, "x-chat-streams-break")
    streamed = [bool((r.get("body") or {}).get("stream")) for r in recs if r["path"] == "/v1/chat/completions"]
    assert streamed[:1] == [True] and False in streamed, streamed
    assert len(recs) <= 4, "Claude Code looped: %d requests" % len(recs)
