"""End-to-end tests that drive the REAL clients (Claude Code, Codex CLI, and the
openai / anthropic / google-genai Python SDKs).

Environment:
  E2E_BASE_URL               where the clients point (e.g. the proxy). Unset: this
                             file starts Tests/FakeUpstream/fake_upstream.py itself
                             and points the clients straight at it.
  E2E_API_KEY                the key the clients send (default "fake-ok").
  E2E_UPSTREAM_REQUESTS_URL  the fake upstream's /__requests URL, to assert what the
                             upstream received. Unset and E2E_BASE_URL unset: the
                             self-started fake's. Unset otherwise: those checks skip.
  E2E_CLAUDE_BIN / E2E_CODEX_BIN   override the client binaries.
  E2E_TIMEOUT                per-test timeout in seconds (default 120).

No test reaches the internet: every client gets HTTPS_PROXY/HTTP_PROXY pointing at
a dead loopback port with NO_PROXY=127.0.0.1,localhost.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FAKE = ROOT / "Tests" / "FakeUpstream" / "fake_upstream.py"
MARKER = "FAKE-UPSTREAM-OK"
TOOL_MARKER = "FAKE-TOOL-RAN"
TEXT_ONLY = "FAKE-TEXT-ONLY"
TIMEOUT = int(os.environ.get("E2E_TIMEOUT", "120"))
DEAD_PROXY = "http://127.0.0.1:9"
NO_PROXY = "127.0.0.1,localhost,::1"

# The SDKs run in this process: make stray traffic fail fast here too.
for _k in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
    os.environ[_k] = DEAD_PROXY
os.environ["NO_PROXY"] = os.environ["no_proxy"] = NO_PROXY
for _k in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY",
           "ANTHROPIC_AUTH_TOKEN", "GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL",
           "GOOGLE_GENAI_API_VERSION", "GOOGLE_GENAI_USE_VERTEXAI"):
    os.environ.pop(_k, None)


# ----------------------------------------------------------------------------
# fixtures
# ----------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _per_test_timeout():
    def on_alarm(signum, frame):
        raise TimeoutError("e2e test exceeded %d s" % TIMEOUT)
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


class Env:
    base_url = None
    api_key = None
    requests_url = None


@pytest.fixture(scope="session")
def env():
    e = Env()
    e.api_key = os.environ.get("E2E_API_KEY") or "fake-ok"
    proc = None
    tmp = None
    if os.environ.get("E2E_BASE_URL"):
        e.base_url = os.environ["E2E_BASE_URL"].rstrip("/")
        e.requests_url = os.environ.get("E2E_UPSTREAM_REQUESTS_URL") or None
    else:
        tmp = tempfile.mkdtemp(prefix="e2e-fake-")
        port_file = os.path.join(tmp, "port")
        log = open(os.path.join(tmp, "fake.log"), "w")
        proc = subprocess.Popen([sys.executable, str(FAKE), "--port-file", port_file],
                                stdout=log, stderr=log)
        deadline = time.time() + 15
        while not os.path.exists(port_file):
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("fake upstream did not start (see %s)" % tmp)
            time.sleep(0.05)
        with open(port_file) as f:
            port = int(f.read().strip())
        e.base_url = "http://127.0.0.1:%d" % port
        e.requests_url = os.environ.get("E2E_UPSTREAM_REQUESTS_URL") or e.base_url + "/__requests"
    yield e
    if proc is not None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def _http_get_json(url):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as r:
        return json.loads(r.read())


def upstream_requests(env, token):
    """Requests the upstream recorded whose body mentions token (None: unknown)."""
    if not env.requests_url:
        return None
    recs = _http_get_json(env.requests_url)
    return [r for r in recs if token in json.dumps(r.get("body"))]


def need_upstream(env, token):
    recs = upstream_requests(env, token)
    if recs is None:
        pytest.skip("E2E_UPSTREAM_REQUESTS_URL not set: cannot inspect the upstream")
    return recs


def tok():
    return "t-" + uuid.uuid4().hex[:12]


def _find_in_site_packages(rel):
    import site
    dirs = list(site.getsitepackages()) + [site.getusersitepackages()]
    for d in dirs:
        p = Path(d) / rel
        if p.exists():
            return str(p)
    return None


def claude_bin():
    b = os.environ.get("E2E_CLAUDE_BIN") or _find_in_site_packages("claude_agent_sdk/_bundled/claude")
    if not b or not os.path.exists(b):
        pytest.fail("Claude Code binary not found (run Tests/e2e/setup.sh, or set E2E_CLAUDE_BIN)")
    return b


def codex_bin():
    b = os.environ.get("E2E_CODEX_BIN") or _find_in_site_packages("codex_cli_bin/bin/codex")
    if not b or not os.path.exists(b):
        pytest.fail("Codex binary not found (run Tests/e2e/setup.sh, or set E2E_CODEX_BIN)")
    return b


def base_child_env(home):
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "HTTPS_PROXY": DEAD_PROXY, "HTTP_PROXY": DEAD_PROXY, "ALL_PROXY": DEAD_PROXY,
        "https_proxy": DEAD_PROXY, "http_proxy": DEAD_PROXY, "all_proxy": DEAD_PROXY,
        "NO_PROXY": NO_PROXY, "no_proxy": NO_PROXY,
    }


def run(cmd, child_env, cwd, timeout=None):
    t0 = time.time()
    p = subprocess.run(cmd, env=child_env, cwd=str(cwd), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout or (TIMEOUT - 10))
    sys.stderr.write("ran %s in %.1fs rc=%d\n" % (os.path.basename(cmd[0]), time.time() - t0, p.returncode))
    return p


def fmt(p):
    return "rc=%s\n--- stdout\n%s\n--- stderr\n%s" % (p.returncode, p.stdout[-4000:], p.stderr[-4000:])


# ----------------------------------------------------------------------------
# OpenAI SDK
# ----------------------------------------------------------------------------

WEATHER_TOOL_CHAT = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"location": {"type": "string", "description": "City"}},
                   "required": ["location"]}}}


@pytest.fixture
def oai(env):
    from openai import OpenAI
    return OpenAI(base_url=env.base_url + "/v1", api_key=env.api_key, timeout=60, max_retries=0)


def test_openai_chat_text(oai):
    t = tok()
    r = oai.chat.completions.create(model="gpt-4o-mini", messages=[
        {"role": "system", "content": "You are brief."}, {"role": "user", "content": "say hi " + t}])
    assert MARKER in r.choices[0].message.content
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0


def test_openai_chat_stream(oai):
    t = tok()
    s = oai.chat.completions.create(model="gpt-4o-mini", stream=True, stream_options={"include_usage": True},
                                    messages=[{"role": "user", "content": "say hi " + t}])
    deltas, usage, finish = [], None, None
    for ch in s:
        if ch.usage:
            usage = ch.usage
        for c in ch.choices:
            if c.delta.content:
                deltas.append(c.delta.content)
            finish = c.finish_reason or finish
    text = "".join(deltas)
    assert MARKER in text
    assert len(deltas) > 1, "text should arrive in several deltas"
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens > 0


def test_openai_chat_tool_call(oai, env):
    t = tok()
    msgs = [{"role": "user", "content": "weather in Paris? " + t}]
    r = oai.chat.completions.create(model="gpt-4o-mini", messages=msgs, tools=[WEATHER_TOOL_CHAT],
                                    tool_choice="auto")
    m = r.choices[0].message
    assert r.choices[0].finish_reason == "tool_calls"
    call = m.tool_calls[0]
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments)["location"], str)

    # the same call, streamed: arguments arrive in fragments
    s = oai.chat.completions.create(model="gpt-4o-mini", messages=msgs, tools=[WEATHER_TOOL_CHAT], stream=True)
    name, frags = None, []
    for ch in s:
        for c in ch.choices:
            for tc in c.delta.tool_calls or []:
                name = tc.function.name or name
                if tc.function.arguments:
                    frags.append(tc.function.arguments)
    assert name == "get_weather" and len(frags) > 1
    assert "location" in json.loads("".join(frags))

    msgs += [{"role": "assistant", "content": None, "tool_calls": [
        {"id": call.id, "type": "function",
         "function": {"name": call.function.name, "arguments": call.function.arguments}}]},
        {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C " + TOOL_MARKER}]
    r2 = oai.chat.completions.create(model="gpt-4o-mini", messages=msgs, tools=[WEATHER_TOOL_CHAT])
    assert MARKER in r2.choices[0].message.content
    assert TOOL_MARKER in r2.choices[0].message.content


def test_openai_responses_text(oai):
    t = tok()
    r = oai.responses.create(model="gpt-5", input="say hi " + t, instructions="You are brief.",
                             reasoning={"effort": "low"})
    assert MARKER in r.output_text
    assert r.status == "completed"
    assert r.usage.input_tokens > 0 and r.usage.output_tokens > 0


def test_openai_responses_stream(oai):
    t = tok()
    deltas = []
    with oai.responses.stream(model="gpt-5", input="say hi " + t) as s:
        for ev in s:
            if ev.type == "response.output_text.delta":
                deltas.append(ev.delta)
        final = s.get_final_response()
    assert len(deltas) > 1
    assert MARKER in "".join(deltas)
    assert MARKER in final.output_text
    assert final.usage.output_tokens > 0
    assert final.usage.input_tokens_details.cached_tokens is not None


def test_openai_responses_tool_call(oai):
    t = tok()
    tool = {"type": "function", "name": "get_weather", "description": "Weather for a city",
            "parameters": WEATHER_TOOL_CHAT["function"]["parameters"], "strict": False}
    r = oai.responses.create(model="gpt-5", input="weather in Paris? " + t, tools=[tool])
    fc = [o for o in r.output if o.type == "function_call"][0]
    assert fc.name == "get_weather"
    r2 = oai.responses.create(model="gpt-5", tools=[tool], input=[
        {"role": "user", "content": "weather in Paris? " + t},
        {"type": "function_call", "call_id": fc.call_id, "name": fc.name, "arguments": fc.arguments, "id": fc.id},
        {"type": "function_call_output", "call_id": fc.call_id, "output": "sunny " + TOOL_MARKER}])
    assert MARKER in r2.output_text and TOOL_MARKER in r2.output_text


# ----------------------------------------------------------------------------
# Anthropic SDK
# ----------------------------------------------------------------------------

@pytest.fixture
def ant(env):
    from anthropic import Anthropic
    return Anthropic(base_url=env.base_url, api_key=env.api_key, timeout=60, max_retries=0)


def test_anthropic_messages_text(ant):
    t = tok()
    r = ant.messages.create(model="claude-sonnet-4-6", max_tokens=256, system="You are brief.",
                            messages=[{"role": "user", "content": "say hi " + t}])
    assert r.content[0].type == "text"
    assert MARKER in r.content[0].text
    assert r.stop_reason == "end_turn"
    assert r.usage.input_tokens > 0


def test_anthropic_messages_stream(ant):
    t = tok()
    deltas = []
    with ant.messages.stream(model="claude-sonnet-4-6", max_tokens=256,
                             messages=[{"role": "user", "content": "say hi " + t}]) as s:
        for d in s.text_stream:
            deltas.append(d)
        final = s.get_final_message()
    assert len(deltas) > 1
    assert MARKER in "".join(deltas)
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0


def test_anthropic_count_tokens(ant):
    r = ant.messages.count_tokens(model="claude-sonnet-4-6",
                                  messages=[{"role": "user", "content": "say hi " + tok()}])
    assert r.input_tokens > 0


def test_anthropic_tool_round_trip(ant):
    t = tok()
    tool = {"name": "get_weather", "description": "Weather for a city",
            "input_schema": WEATHER_TOOL_CHAT["function"]["parameters"]}
    msgs = [{"role": "user", "content": "weather in Paris? " + t}]
    r = ant.messages.create(model="claude-sonnet-4-6", max_tokens=256, tools=[tool], messages=msgs)
    assert r.stop_reason == "tool_use"
    tu = [b for b in r.content if b.type == "tool_use"][0]
    assert tu.name == "get_weather" and "location" in tu.input
    msgs += [{"role": "assistant", "content": [{"type": "tool_use", "id": tu.id, "name": tu.name, "input": tu.input}]},
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tu.id,
                                           "content": "sunny " + TOOL_MARKER}]}]
    r2 = ant.messages.create(model="claude-sonnet-4-6", max_tokens=256, tools=[tool], messages=msgs)
    assert MARKER in r2.content[0].text and TOOL_MARKER in r2.content[0].text


# ----------------------------------------------------------------------------
# google-genai SDK
# ----------------------------------------------------------------------------

@pytest.fixture
def gem(env):
    from google import genai
    from google.genai import types
    return genai.Client(api_key=env.api_key,
                        http_options=types.HttpOptions(base_url=env.base_url, timeout=60_000))


def test_genai_text(gem):
    r = gem.models.generate_content(model="gemini-2.5-flash", contents="say hi " + tok())
    assert MARKER in r.text
    assert r.usage_metadata.prompt_token_count > 0


def test_genai_stream(gem):
    chunks = [c.text for c in gem.models.generate_content_stream(model="gemini-2.5-flash",
                                                                  contents="say hi " + tok()) if c.text]
    assert len(chunks) > 1
    assert MARKER in "".join(chunks)


def test_genai_tool_round_trip(gem):
    from google.genai import types
    t = tok()
    fn = types.FunctionDeclaration(name="get_weather", description="Weather for a city",
                                   parameters_json_schema=WEATHER_TOOL_CHAT["function"]["parameters"])
    cfg = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[fn])],
                                      automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
    user = types.Content(role="user", parts=[types.Part(text="weather in Paris? " + t)])
    r = gem.models.generate_content(model="gemini-2.5-flash", contents=[user], config=cfg)
    fc = r.function_calls[0]
    assert fc.name == "get_weather"
    r2 = gem.models.generate_content(model="gemini-2.5-flash", config=cfg, contents=[
        user, types.Content(role="model", parts=[types.Part(function_call=fc)]),
        types.Content(role="user", parts=[types.Part.from_function_response(
            name="get_weather", response={"result": "sunny " + TOOL_MARKER})])])
    assert MARKER in r2.text and TOOL_MARKER in r2.text


# ----------------------------------------------------------------------------
# Claude Code
# ----------------------------------------------------------------------------

def claude_env(env, home):
    e = base_child_env(home)
    e.update({
        "ANTHROPIC_BASE_URL": env.base_url,
        "ANTHROPIC_API_KEY": env.api_key,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_AUTOUPDATER": "1",
    })
    return e


def run_claude(env, tmp_path, prompt, extra=(), child_env=None):
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    cmd = [claude_bin(), "-p", prompt, "--output-format", "json", *extra]
    p = run(cmd, {**claude_env(env, home), **(child_env or {})}, work)
    assert p.returncode == 0, fmt(p)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    return out, p


def test_claude_code_text(env, tmp_path):
    t = tok()
    out, p = run_claude(env, tmp_path, "say hi %s %s" % (TEXT_ONLY, t))
    assert not out.get("is_error"), fmt(p)
    assert MARKER in out["result"], fmt(p)
    recs = upstream_requests(env, t)
    if recs is not None:
        msgs = [r for r in recs if r["path"].endswith("/v1/messages")]
        assert msgs, "upstream saw no Messages request"


def test_claude_code_tool_round_trip(env, tmp_path):
    t = tok()
    out, p = run_claude(env, tmp_path, "run echo %s with Bash %s" % (TOOL_MARKER, t),
                        ["--allowedTools", "Bash(echo:*)", "--permission-mode", "dontAsk"])
    assert not out.get("is_error"), fmt(p)
    assert MARKER in out["result"], fmt(p)
    assert TOOL_MARKER in out["result"], fmt(p)
    recs = need_upstream(env, t)
    results = []
    for r in recs:
        msgs = (r.get("body") or {}).get("messages") or []
        for m in msgs:
            if isinstance(m.get("content"), list):
                results += [b for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_result"]
    assert any(TOOL_MARKER in json.dumps(b.get("content")) and not b.get("is_error") for b in results), results


# ----------------------------------------------------------------------------
# Codex CLI
# ----------------------------------------------------------------------------

CODEX_KEY_ENV = "PROXYPOOL_E2E_KEY"


def codex_setup(env, tmp_path):
    home = tmp_path / "home"
    codex_home = tmp_path / "codex-home"
    work = tmp_path / "work"
    for d in (home, codex_home, work):
        d.mkdir()
    (codex_home / "config.toml").write_text("""\
model = "gpt-5-codex"
model_provider = "proxy"
check_for_update_on_startup = false
approval_policy = "never"
sandbox_mode = "read-only"

[analytics]
enabled = false

[features]
plugins = false
apps = false
remote_plugin = false

[model_providers.proxy]
name = "proxy"
base_url = "%s/v1"
env_key = "%s"
wire_api = "responses"
request_max_retries = 1
stream_max_retries = 1
""" % (env.base_url, CODEX_KEY_ENV))
    e = base_child_env(home)
    e.update({"CODEX_HOME": str(codex_home), CODEX_KEY_ENV: env.api_key})
    return e, work


def run_codex(env, tmp_path, prompt, model=None):
    e, work = codex_setup(env, tmp_path)
    last = tmp_path / "last-message.txt"
    cmd = [codex_bin(), "exec", "--skip-git-repo-check", "--sandbox", "read-only", "-o", str(last)]
    if model:
        cmd += ["-m", model]
    cmd += ["--", prompt]
    p = run(cmd, e, work)
    assert p.returncode == 0, fmt(p)
    text = last.read_text() if last.exists() else ""
    return text, p


def test_codex_exec_text(env, tmp_path):
    t = tok()
    text, p = run_codex(env, tmp_path, "say hi %s %s" % (TEXT_ONLY, t))
    assert MARKER in text, fmt(p)
    assert MARKER in p.stdout, fmt(p)


# gpt-5-codex: classic shape (top-level function tools, exec_command).
# gpt-6.1-sol: Codex "code mode" (tools in an additional_tools input item, a custom
# `exec` tool taking JavaScript, custom_tool_call(_output) items).
@pytest.mark.parametrize("model", ["gpt-5-codex", "gpt-6.1-sol"])
def test_codex_exec_tool_round_trip(env, tmp_path, model):
    t = tok()
    text, p = run_codex(env, tmp_path, "run echo %s %s" % (TOOL_MARKER, t), model=model)
    assert MARKER in text, fmt(p)
    assert TOOL_MARKER in text, fmt(p)
    recs = need_upstream(env, t)
    outputs = []
    for r in recs:
        for it in (r.get("body") or {}).get("input") or []:
            if isinstance(it, dict) and it.get("type") in ("function_call_output", "custom_tool_call_output"):
                outputs.append(it)
    assert any(TOOL_MARKER in json.dumps(o.get("output")) for o in outputs), outputs
