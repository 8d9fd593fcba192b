"""The translation matrix: 4 client protocols x 4 upstream protocols x cases, through the running daemon.

Clients are the official SDKs (openai chat.completions, openai responses, anthropic messages, google-genai
generate_content). The upstream is Tests/FakeUpstream/fake_upstream.py in --strict mode: it answers 400 to any
request that breaks its protocol's rules (protocol_rules.py) and records what it received. The daemon has one
credential per upstream protocol; the app named in X-Proxypool-App picks it (see Tests/e2e/matrix.sh).

Each cell checks that the SDK parsed a successful answer carrying the expected marker (text, tool call and
its result, reasoning, image report), and that every request the fake received for the cell went to the
expected credential and protocol path, in the upstream's model family, with no rule broken.

Environment (set by matrix.sh): E2E_BASE_URL, E2E_API_KEY, E2E_FAKE_URL. MATRIX_DUMP=1 (with pytest -s) prints
what the fake received for each cell.
"""

import base64
import json
import os
import re
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "FakeUpstream"))
import fake_upstream  # noqa: E402  (for the PNG the fake serves)

BASE = os.environ.get("E2E_BASE_URL")
KEY = os.environ.get("E2E_API_KEY", "")
FAKE = os.environ.get("E2E_FAKE_URL")
pytestmark = pytest.mark.skipif(not (BASE and FAKE), reason="run through Tests/e2e/matrix.sh")

for _k in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
    os.environ[_k] = "http://127.0.0.1:9"
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost,::1"

MARKER = "FAKE-UPSTREAM-OK"
TOOL_MARKER = "FAKE-TOOL-RAN"
THOUGHT = "FAKE-THOUGHT"
PNG = fake_upstream.IMAGE_PNG
PNG_B64 = base64.b64encode(PNG).decode()
IMAGE_REPORT = "FAKE-IMAGE image/png %d bytes" % len(PNG)
WEATHER_SCHEMA = {"type": "object", "properties": {"location": {"type": "string", "description": "City"},
                                                  "unit": {"type": "string", "enum": ["c", "f"]}},
                  "required": ["location"]}

CLIENTS = ["openai-chat", "openai-responses", "anthropic", "gemini"]
# upstream -> (app, credential, fake protocol, path pattern, model family prefix or None for any)
UPSTREAMS = {
    "openai-chat": ("up-openai-chat", "matrix-openai-chat", "openai-chat", r"^/v1/chat/completions$", None),
    "openai-responses": ("up-openai-responses", "matrix-openai-responses", "openai-responses", r"^/v1/responses$", "gpt-"),
    "anthropic": ("up-anthropic", "matrix-anthropic", "anthropic-messages", r"^/v1/messages$", "claude-"),
    "gemini": ("up-gemini", "matrix-gemini", "gemini",
               r"^/v1(beta)?/models/[^/:]+:(streamGenerateContent|generateContent)$", "gemini-"),
}
CASES = ["text", "stream_text", "tool_round_trip", "stream_tool_call", "image_base64", "image_url",
         "reasoning", "stream_reasoning", "reasoning_tool", "stream_reasoning_tool", "two_tools", "stream_two_tools"]

# matrix-openai-responses is an `openai` credential pinned to Responses (`--api responses`), so a Chat
# client's requests to it are translated Chat -> Responses like every other off-diagonal cell.
EXPECTED_UPSTREAM = {}

# Cells that cannot work, with the reason. Keep this short and precise.
XFAIL = {}


# ----------------------------------------------------------------------------
# what the fake saw
# ----------------------------------------------------------------------------

def fake_get(path):
    with urllib.request.urlopen(FAKE + path, timeout=10) as r:
        return json.loads(r.read())


class Seen:
    last = 0

    @classmethod
    def mark(cls):
        recs = fake_get("/__requests?since=%d" % cls.last)
        if recs:
            cls.last = recs[-1]["seq"]

    @classmethod
    def since_mark(cls):
        recs = fake_get("/__requests?since=%d" % cls.last)
        if recs:
            cls.last = recs[-1]["seq"]
        return recs


def check_upstream(recs, upstream, stream, n_min):
    _, cred, proto, path_rx, family = UPSTREAMS[upstream]
    if os.environ.get("MATRIX_DUMP"):
        print(json.dumps([{"path": r["path"], "body": r["body"], "response": r["response"]} for r in recs], indent=1))
    assert len(recs) >= n_min, "the fake saw %d requests, expected at least %d" % (len(recs), n_min)
    for r in recs:
        where = "%s %s (seq %s)" % (r["method"], r["path"], r["seq"])
        assert r["violations"] == [], "%s broke the %s rules: %s" % (where, proto, r["violations"])
        assert r["protocol"] == proto, where
        assert re.match(path_rx, r["path"]), where
        assert r["key_tag"] == cred, "%s served by %s, not %s" % (where, r["key_tag"], cred)
        assert r["response"].get("status") == 200, where
        model = r["body"].get("model") if proto != "gemini" else r["path"].split("/")[-1].split(":")[0]
        if family:
            assert model.startswith(family), "%s: model %r is not a %s model" % (where, model, family)
    if stream is not None:
        first = recs[0]
        if proto == "gemini":
            assert first["path"].endswith(":streamGenerateContent") == stream, first["path"]
        else:
            assert bool(first["body"].get("stream")) == stream


def asked_for_reasoning(rec):
    """Whether an upstream request asks for reasoning, in its protocol's terms. (Reasoning cells need no such
    check: the fake shows reasoning only when asked the way the real service needs, except Chat, which has
    no way to ask for it and always shows it.)"""
    b = rec["body"]
    if rec["protocol"] == "openai-chat":
        return b.get("reasoning_effort") not in (None, "none")
    if rec["protocol"] == "openai-responses":
        return (b.get("reasoning") or {}).get("effort") not in (None, "none")
    if rec["protocol"] == "anthropic-messages":
        return (b.get("thinking") or {}).get("type") in ("enabled", "adaptive")
    tc = (b.get("generationConfig") or b.get("generation_config") or {})
    tc = tc.get("thinkingConfig") or tc.get("thinking_config") or {}
    return bool(tc.get("includeThoughts") or tc.get("include_thoughts"))


GEMINI_SKIP_SIGNATURE = "skip_thought_signature_validator"


def check_reasoning_carried_back(recs, upstream, reasoning):
    """The provider's own reasoning payload reaches it again on the tool loop's next turn, whatever the client's
    protocol (the daemon keeps what a client cannot carry): Gemini 3 gets the thought signature it put on the
    call, not Google's placeholder; Anthropic with thinking gets the turn's signed thinking block first, and
    thinking stays on. (The strict fake checks that the payloads are ones it issued, unchanged.)"""
    follow = recs[-1]
    b = follow["body"]
    if upstream == "gemini":
        calls = [p for c in b.get("contents", []) if c.get("role") == "model" for p in c.get("parts", [])
                 if "functionCall" in p or "function_call" in p]
        assert calls, "no model turn with the call in the follow-up"
        sig = calls[0].get("thoughtSignature") or calls[0].get("thought_signature")
        assert sig and sig != GEMINI_SKIP_SIGNATURE, "the call's thought signature was not carried back (%r)" % sig
    elif upstream == "anthropic" and reasoning:
        assert (b.get("thinking") or {}).get("type") in ("enabled", "adaptive"), "thinking was turned off in the tool loop"
        turns = [m for m in b.get("messages", []) if m.get("role") == "assistant"]
        assert turns and isinstance(turns[-1]["content"], list), "no assistant turn in the follow-up"
        first = turns[-1]["content"][0]
        assert first.get("type") in ("thinking", "redacted_thinking"), "the tool loop's thinking was not carried back"


def result(args):
    """What the test's get_weather returns for a call."""
    return "sunny in %s %s" % (args.get("location"), TOOL_MARKER)


def tok():
    return uuid.uuid4().hex[:8]


# ----------------------------------------------------------------------------
# the four clients: one adapter each, same small interface
#   ask(prompt, stream, image=None, reasoning=False) -> Answer
#   tool_round_trip(prompt, stream) -> (name, args, final_text)
#   follow_up(answer, prompt) -> text of the next turn with the answer in the history
# ----------------------------------------------------------------------------

class Answer:
    def __init__(self, text="", reasoning="", calls=None, history=None):
        self.text, self.reasoning, self.calls, self.history = text, reasoning, calls or [], history


class ChatClient:
    model = "gpt-5"

    def __init__(self, app):
        import openai
        self.c = openai.OpenAI(base_url=BASE + "/v1", api_key=KEY, max_retries=0, timeout=30,
                               default_headers={"X-Proxypool-App": app})

    def _user(self, prompt, image):
        if not image:
            return {"role": "user", "content": prompt}
        url = "data:image/png;base64," + PNG_B64 if image == "base64" else FAKE + "/__image.png"
        return {"role": "user", "content": [{"type": "text", "text": prompt},
                                            {"type": "image_url", "image_url": {"url": url}}]}

    def _call(self, msgs, stream, tools=None, reasoning=False):
        kw = {"model": self.model, "messages": msgs}
        if tools:
            kw["tools"] = tools
        if reasoning:
            kw["reasoning_effort"] = "low"
        if not stream:
            r = self.c.chat.completions.create(**kw)
            m = r.choices[0].message
            calls = [(tc.id, tc.function.name, tc.function.arguments) for tc in (m.tool_calls or [])]
            extra = m.model_extra or {}
            assert r.choices[0].finish_reason == ("tool_calls" if calls else "stop"), r.choices[0].finish_reason
            assert r.usage and r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0, r.usage
            return Answer(m.content or "", extra.get("reasoning_content") or "", calls)
        text, reasoning_text, calls, finish, usage = "", "", {}, None, None
        for ch in self.c.chat.completions.create(stream=True, stream_options={"include_usage": True}, **kw):
            usage = ch.usage or usage
            for choice in ch.choices:
                finish = choice.finish_reason or finish
                d = choice.delta
                text += d.content or ""
                reasoning_text += (d.model_extra or {}).get("reasoning_content") or ""
                for tc in d.tool_calls or []:
                    c = calls.setdefault(tc.index, ["", "", ""])
                    c[0] = tc.id or c[0]
                    if tc.function:
                        c[1] += tc.function.name or ""
                        c[2] += tc.function.arguments or ""
        assert finish == ("tool_calls" if calls else "stop"), finish
        assert usage and usage.prompt_tokens > 0, "no usage chunk though include_usage was asked"
        return Answer(text, reasoning_text, [tuple(c) for _, c in sorted(calls.items())])

    def ask(self, prompt, stream, image=None, reasoning=False, system=None):
        msgs = ([{"role": "system", "content": system}] if system else []) + [self._user(prompt, image)]
        a = self._call(msgs, stream, reasoning=reasoning)
        a.history = msgs + [{"role": "assistant", "content": a.text}]
        return a

    def follow_up(self, a, prompt):
        return self._call(a.history + [{"role": "user", "content": prompt}], False).text

    def tool_round_trip(self, prompt, stream, reasoning=False):
        tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                                   "parameters": WEATHER_SCHEMA}}]
        msgs = [{"role": "user", "content": prompt}]
        a = self._call(msgs, stream, tools, reasoning)
        assert a.calls, "no tool call in the answer: %r" % a.text
        cid, name, args = a.calls[0]
        self.last_calls = [(n, json.loads(x)) for _, n, x in a.calls]
        msgs += [{"role": "assistant", "content": None, "tool_calls": [
                     {"id": i, "type": "function", "function": {"name": n, "arguments": x}} for i, n, x in a.calls]}]
        msgs += [{"role": "tool", "tool_call_id": i, "content": result(json.loads(x))} for i, n, x in a.calls]
        return name, json.loads(args), self._call(msgs, stream, tools, reasoning).text, a.reasoning


class ResponsesClient:
    model = "gpt-5"

    def __init__(self, app):
        import openai
        self.c = openai.OpenAI(base_url=BASE + "/v1", api_key=KEY, max_retries=0, timeout=30,
                               default_headers={"X-Proxypool-App": app})

    def _call(self, inp, stream, tools=None, reasoning=False, system=None):
        kw = {"model": self.model, "input": inp}
        if system:
            kw["instructions"] = system
        if tools:
            kw["tools"] = tools
        if reasoning:
            kw["reasoning"] = {"effort": "low", "summary": "auto"}
        if stream:
            resp = None
            deltas = ""
            for ev in self.c.responses.create(stream=True, **kw):
                if ev.type == "response.output_text.delta":
                    deltas += ev.delta
                if ev.type == "response.completed":
                    resp = ev.response
            assert resp is not None, "the stream ended without response.completed"
            assert deltas == (resp.output_text or ""), "streamed text differs from the completed response"
        else:
            resp = self.c.responses.create(**kw)
        assert resp.status == "completed" and resp.usage and resp.usage.input_tokens > 0, (resp.status, resp.usage)
        reasoning_text = "".join(s.text for o in resp.output if o.type == "reasoning" for s in (o.summary or []))
        calls = [(o.call_id, o.name, o.arguments) for o in resp.output if o.type == "function_call"]
        return Answer(resp.output_text or "", reasoning_text, calls,
                      [o.model_dump(exclude_none=True) for o in resp.output])

    def _user(self, prompt, image):
        content = [{"type": "input_text", "text": prompt}]
        if image:
            url = "data:image/png;base64," + PNG_B64 if image == "base64" else FAKE + "/__image.png"
            content.append({"type": "input_image", "image_url": url})
        return {"role": "user", "content": content}

    def ask(self, prompt, stream, image=None, reasoning=False, system=None):
        inp = [self._user(prompt, image)]
        a = self._call(inp, stream, reasoning=reasoning, system=system)
        a.history = inp + a.history
        return a

    def follow_up(self, a, prompt):
        return self._call(a.history + [self._user(prompt, None)], False).text

    def tool_round_trip(self, prompt, stream, reasoning=False):
        tools = [{"type": "function", "name": "get_weather", "description": "Weather for a city",
                  "parameters": WEATHER_SCHEMA, "strict": False}]
        inp = [self._user(prompt, None)]
        a = self._call(inp, stream, tools, reasoning)
        assert a.calls, "no tool call in the answer: %r" % a.text
        cid, name, args = a.calls[0]
        self.last_calls = [(n, json.loads(x)) for _, n, x in a.calls]
        inp += a.history + [{"type": "function_call_output", "call_id": i, "output": result(json.loads(x))}
                            for i, n, x in a.calls]
        return name, json.loads(args), self._call(inp, stream, tools, reasoning).text, a.reasoning


class AnthropicClient:
    model = "claude-sonnet-4-6"

    def __init__(self, app):
        import anthropic
        self.c = anthropic.Anthropic(base_url=BASE, api_key=KEY, max_retries=0, timeout=30,
                                     default_headers={"X-Proxypool-App": app})

    def _call(self, msgs, stream, tools=None, reasoning=False, system=None):
        kw = {"model": self.model, "max_tokens": 4096, "messages": msgs}
        if system:
            kw["system"] = system
        if tools:
            kw["tools"] = tools
        if reasoning:
            kw["thinking"] = {"type": "enabled", "budget_tokens": 1024}
        if stream:
            with self.c.messages.stream(**kw) as s:
                streamed = "".join(s.text_stream)
                m = s.get_final_message()
            assert streamed == "".join(b.text for b in m.content if b.type == "text")
        else:
            m = self.c.messages.create(**kw)
        assert m.usage.input_tokens > 0 and m.usage.output_tokens > 0, m.usage
        text = "".join(b.text for b in m.content if b.type == "text")
        reasoning_text = "".join(b.thinking for b in m.content if b.type == "thinking")
        calls = [(b.id, b.name, b.input) for b in m.content if b.type == "tool_use"]
        return Answer(text, reasoning_text, calls, [b.model_dump(exclude_none=True) for b in m.content]), m

    def _user(self, prompt, image):
        if not image:
            return {"role": "user", "content": prompt}
        src = ({"type": "base64", "media_type": "image/png", "data": PNG_B64} if image == "base64"
               else {"type": "url", "url": FAKE + "/__image.png"})
        return {"role": "user", "content": [{"type": "image", "source": src}, {"type": "text", "text": prompt}]}

    def ask(self, prompt, stream, image=None, reasoning=False, system=None):
        msgs = [self._user(prompt, image)]
        a, m = self._call(msgs, stream, reasoning=reasoning, system=system)
        assert m.stop_reason == "end_turn", m.stop_reason
        a.history = msgs + [{"role": "assistant", "content": a.history}]
        return a

    def follow_up(self, a, prompt):
        return self._call(a.history + [{"role": "user", "content": prompt}], False)[0].text

    def tool_round_trip(self, prompt, stream, reasoning=False):
        tools = [{"name": "get_weather", "description": "Weather for a city", "input_schema": WEATHER_SCHEMA}]
        msgs = [{"role": "user", "content": prompt}]
        a, m = self._call(msgs, stream, tools, reasoning)
        assert m.stop_reason == "tool_use", m.stop_reason
        assert a.calls, "no tool call in the answer: %r" % a.text
        cid, name, args = a.calls[0]
        self.last_calls = [(n, x) for _, n, x in a.calls]
        msgs += [{"role": "assistant", "content": a.history},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": i, "content": result(x)}
                                              for i, n, x in a.calls]}]
        return name, args, self._call(msgs, stream, tools, reasoning)[0].text, a.reasoning


class GeminiClient:
    model = "gemini-3-flash-preview"

    def __init__(self, app):
        from google import genai
        from google.genai import types
        self.t = types
        self.c = genai.Client(api_key=KEY, http_options=types.HttpOptions(
            base_url=BASE, timeout=30_000, headers={"X-Proxypool-App": app}))

    def _call(self, contents, stream, tools=None, reasoning=False, system=None):
        t = self.t
        cfg = t.GenerateContentConfig(
            system_instruction=system,
            tools=tools, automatic_function_calling=t.AutomaticFunctionCallingConfig(disable=True) if tools else None,
            thinking_config=t.ThinkingConfig(include_thoughts=True) if reasoning else None)
        if stream:
            parts, finish, usage, last = [], None, None, None
            for ch in self.c.models.generate_content_stream(model=self.model, contents=contents, config=cfg):
                usage = ch.usage_metadata or usage
                last = ch
                for cand in ch.candidates or []:
                    finish = cand.finish_reason or finish
                    parts += (cand.content.parts if cand.content and cand.content.parts else [])
            # As Gemini streams: no empty text part (a thought signature's own carrier aside), and the calls
            # arrive with the finish reason, so code that reads the last chunk's content finds them.
            assert not [p for p in parts if p.text == "" and not p.thought_signature], parts
            tail = last.candidates[0].content.parts if last and last.candidates and last.candidates[0].content else None
            if any(p.function_call for p in parts):
                assert tail and any(p.function_call for p in tail), "the last chunk holds no call: %r" % last
        else:
            r = self.c.models.generate_content(model=self.model, contents=contents, config=cfg)
            parts, finish, usage = r.candidates[0].content.parts or [], r.candidates[0].finish_reason, r.usage_metadata
        assert finish == self.t.FinishReason.STOP, finish
        assert usage and usage.prompt_token_count > 0, usage
        text = "".join(p.text for p in parts if p.text and not p.thought)
        reasoning_text = "".join(p.text for p in parts if p.text and p.thought)
        calls = [(p.function_call.id, p.function_call.name, p.function_call.args) for p in parts if p.function_call]
        a = Answer(text, reasoning_text, calls, parts)
        # The last chunk's content: what code that keeps only the final chunk sends back as the model's turn.
        a.last_parts = (tail or []) if stream else parts
        return a

    def _user(self, prompt, image):
        t = self.t
        parts = [t.Part(text=prompt)]
        if image == "base64":
            parts.append(t.Part.from_bytes(data=PNG, mime_type="image/png"))
        elif image == "url":
            parts.append(t.Part.from_uri(file_uri=FAKE + "/__image.png", mime_type="image/png"))
        return t.Content(role="user", parts=parts)

    def ask(self, prompt, stream, image=None, reasoning=False, system=None):
        contents = [self._user(prompt, image)]
        a = self._call(contents, stream, reasoning=reasoning, system=system)
        a.history = contents + [self.t.Content(role="model", parts=a.history)]
        return a

    def follow_up(self, a, prompt):
        return self._call(a.history + [self._user(prompt, None)], False).text

    def tool_round_trip(self, prompt, stream, reasoning=False):
        t = self.t
        fn = t.FunctionDeclaration(name="get_weather", description="Weather for a city",
                                   parameters_json_schema=WEATHER_SCHEMA)
        tools = [t.Tool(function_declarations=[fn])]
        contents = [self._user(prompt, None)]
        a = self._call(contents, stream, tools, reasoning)
        assert a.calls, "no tool call in the answer: %r" % a.text
        cid, name, args = a.calls[0]
        # The model turn for the next request. Streamed: the last chunk's content only, as a common google-genai
        # pattern keeps it (`chunk.candidates[0].content`); Gemini puts the calls there, so it must hold them.
        # Not streamed: the whole turn as it came, thoughts and signatures included.
        call_parts = a.last_parts if stream else a.history
        self.last_calls = [(n, dict(x or {})) for _, n, x in a.calls]
        frs = []
        for i, n, x in a.calls:
            fr = t.Part.from_function_response(name=n, response={"result": result(dict(x or {}))})
            if i:
                fr.function_response.id = i
            frs.append(fr)
        contents += [t.Content(role="model", parts=call_parts), t.Content(role="user", parts=frs)]
        return name, dict(args or {}), self._call(contents, stream, tools, reasoning).text, a.reasoning


ADAPTERS = {"openai-chat": ChatClient, "openai-responses": ResponsesClient, "anthropic": AnthropicClient,
            "gemini": GeminiClient}


# ----------------------------------------------------------------------------
# the matrix
# ----------------------------------------------------------------------------

SHORT = {"openai-chat": "chat", "openai-responses": "responses", "anthropic": "anthropic", "gemini": "gemini"}


def cells():
    out = []
    for client in CLIENTS:
        for upstream in ("openai-chat", "openai-responses", "anthropic", "gemini"):
            for case in CASES:
                marks = []
                reason = XFAIL.get((client, upstream, case))
                if reason:
                    marks.append(pytest.mark.xfail(reason=reason, strict=True))
                out.append(pytest.param(client, upstream, case, marks=marks,
                                        id="%s-to-%s-%s" % (SHORT[client], SHORT[upstream], case)))
    return out


@pytest.mark.parametrize("client,upstream,case", cells())
def test_cell(client, upstream, case):
    c = ADAPTERS[client](UPSTREAMS[upstream][0])
    upstream = EXPECTED_UPSTREAM.get((client, upstream), upstream)
    stream = case.startswith("stream_")
    Seen.mark()
    prompt = "matrix %s %s" % (case, tok())
    if case in ("text", "stream_text"):
        a = c.ask(prompt, stream, system="Answer briefly. FAKE-SYSTEM")
        assert MARKER in a.text
        assert "FAKE-SYSTEM-SEEN" in a.text, "the system prompt did not reach the upstream's system slot"
        check_upstream(Seen.since_mark(), upstream, stream, 1)
    elif case in ("tool_round_trip", "stream_tool_call", "reasoning_tool", "stream_reasoning_tool", "two_tools",
                  "stream_two_tools"):
        reasoning = "reasoning" in case
        two = "two_tools" in case
        name, args, final, thought = c.tool_round_trip(
            "weather in Paris? " + ("FAKE-REASONING " if reasoning else "") + ("FAKE-TWO-TOOLS " if two else "")
            + prompt, stream, reasoning)
        assert name == "get_weather"
        assert args.get("location") == "FAKE", args
        want = [("get_weather", "FAKE")] + ([("get_weather", "FAKE-2")] if two else [])
        assert [(n, x.get("location")) for n, x in c.last_calls] == want, c.last_calls
        assert MARKER in final and TOOL_MARKER in final, final
        # the fake lists the results it received, in order
        at = [final.find(result({"location": loc})) for _, loc in want]
        assert -1 not in at and at == sorted(at), final
        if reasoning:
            assert THOUGHT in thought, "no reasoning came back with the tool call"
        recs = Seen.since_mark()
        check_upstream(recs, upstream, stream, 2)
        if not reasoning:
            assert not any(asked_for_reasoning(r) for r in recs), "reasoning asked upstream unasked"
        check_reasoning_carried_back(recs, upstream, reasoning)
    elif case in ("image_base64", "image_url"):
        a = c.ask("describe " + prompt, False, image=case.split("_")[1])
        assert MARKER in a.text
        assert IMAGE_REPORT in a.text, a.text
        check_upstream(Seen.since_mark(), upstream, False, 1)
    elif case in ("reasoning", "stream_reasoning"):
        a = c.ask("think FAKE-REASONING " + prompt, stream, reasoning=True)
        assert MARKER in a.text
        assert THOUGHT in a.reasoning, "no reasoning came back (text %r)" % a.text
        # the answer, reasoning included, goes back as history on the next turn
        assert MARKER in c.follow_up(a, "and again " + prompt)
        check_upstream(Seen.since_mark(), upstream, stream, 2)
    else:
        raise AssertionError(case)
