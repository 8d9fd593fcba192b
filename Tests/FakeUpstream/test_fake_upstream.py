"""Self-tests of fake_upstream.py (stdlib only).

    python3 -m unittest Tests/FakeUpstream/test_fake_upstream.py     (or pytest)
"""

import email.utils
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE = os.path.join(HERE, "fake_upstream.py")


def start_fake(extra=()):
    tmp = tempfile.mkdtemp(prefix="fake-up-")
    pf = os.path.join(tmp, "port")
    proc = subprocess.Popen([sys.executable, FAKE, "--port-file", pf, *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while not os.path.exists(pf):
        if time.time() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("fake did not start")
        time.sleep(0.02)
    with open(pf) as f:
        port = int(f.read())
    return proc, port, tmp


ANTH_HDR = {"anthropic-version": "2023-06-01", "content-type": "application/json"}
CHAT = {"model": "gpt-x", "messages": [{"role": "user", "content": "hi"}]}
MSG = {"model": "claude-x", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
GEM = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}


class FakeUpstreamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port, cls.tmp = start_fake()

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(5)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def req(self, method, path, body=None, headers=None, timeout=10):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        c.request(method, path, body=data, headers=headers or {})
        r = c.getresponse()
        raw = r.read()
        c.close()
        try:
            j = json.loads(raw)
        except Exception:
            j = None
        return r, raw, j

    def openai(self, key, body=None, path="/v1/chat/completions"):
        return self.req("POST", path, body or CHAT, {"Authorization": "Bearer " + key})

    def raw_stream(self, path, body, headers, read_timeout=5):
        """Sends a request on a raw socket; returns (sock, initial bytes)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=read_timeout)
        data = json.dumps(body).encode()
        hdr = "".join("%s: %s\r\n" % kv for kv in headers.items())
        s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n" % (path, len(data), hdr)).encode()
                  + data)
        return s

    def assert_one_more_abort(self, before):
        """The fake counts a client that went away: wait up to 5 s for the count to rise by one."""
        deadline = time.time() + 5
        while self.aborted() == before and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.aborted(), before + 1)

    def aborted(self):
        return self.req("GET", "/__aborted")[2]["aborted"]

    # -- basics ----------------------------------------------------------------

    def test_health_and_requests(self):
        r, _, _ = self.req("GET", "/__health")
        self.assertEqual(r.status, 200)
        self.openai("fake-ok~tagA")
        recs = self.req("GET", "/__requests")[2]
        last = recs[-1]
        self.assertEqual(last["behaviour"], "ok")
        self.assertEqual(last["key_tag"], "tagA")
        self.assertIn(["Authorization", "Bearer fake-ok~tagA"], last["headers"])
        self.assertEqual(last["body"]["model"], "gpt-x")

    def test_unknown_and_missing_key(self):
        r, _, j = self.openai("sk-real-key")
        self.assertEqual(r.status, 401)
        self.assertIn("error", j)
        r, _, j = self.req("POST", "/v1/messages", MSG, ANTH_HDR)
        self.assertEqual(r.status, 401)
        self.assertEqual(j["error"]["type"], "authentication_error")
        r, _, j = self.req("POST", "/v1beta/models/g:generateContent", GEM, {"x-goog-api-key": "nope"})
        self.assertEqual(r.status, 401)
        self.assertEqual(j["error"]["status"], "UNAUTHENTICATED")

    def test_bad_shape(self):
        r, _, j = self.openai("fake-ok", {"model": "x"})
        self.assertEqual(r.status, 400)
        self.assertEqual(j["error"]["type"], "invalid_request_error")
        r, _, j = self.req("POST", "/v1/messages", {"model": "x", "max_tokens": 1},
                           dict(ANTH_HDR, **{"x-api-key": "fake-ok"}))
        self.assertEqual(r.status, 400)
        self.assertEqual(j["type"], "error")
        r, _, j = self.req("POST", "/v1/messages", MSG, {"x-api-key": "fake-ok"})
        self.assertEqual(r.status, 400, "anthropic-version is required")
        r, _, j = self.req("POST", "/v1/models/g:generateContent", b"{not json", {"x-goog-api-key": "fake-ok"})
        self.assertEqual(r.status, 400)
        self.assertEqual(j["error"]["status"], "INVALID_ARGUMENT")

    def test_routes_ok(self):
        r, _, j = self.openai("fake-ok")
        self.assertIn("FAKE-UPSTREAM-OK", j["choices"][0]["message"]["content"])
        r, _, j = self.req("POST", "/openai/deployments/dep1/chat/completions?api-version=2024-10-21",
                           {"messages": CHAT["messages"]}, {"api-key": "fake-ok"})
        self.assertEqual(r.status, 200)
        self.assertIn("dep1", j["choices"][0]["message"]["content"])
        r, _, j = self.req("POST", "/openai/v1/responses", {"model": "m", "input": "hi"}, {"api-key": "fake-ok"})
        self.assertEqual(j["output"][0]["content"][0]["text"][:16], "FAKE-UPSTREAM-OK")
        r, _, j = self.req("POST", "/openai/v1/chat/completions", CHAT, {"api-key": "fake-ok"})
        self.assertEqual(r.status, 200)
        r, _, j = self.req("POST", "/v1/messages?beta=true", MSG, dict(ANTH_HDR, **{"x-api-key": "fake-ok"}))
        self.assertIn("FAKE-UPSTREAM-OK", j["content"][0]["text"])
        r, _, j = self.req("POST", "/v1/messages/count_tokens", {"model": "c", "messages": MSG["messages"]},
                           dict(ANTH_HDR, Authorization="Bearer fake-ok"))
        self.assertGreater(j["input_tokens"], 0)
        self.assertEqual(self.req("GET", "/v1/models", None, {"Authorization": "Bearer fake-ok"})[2]["object"], "list")
        self.assertEqual(self.req("GET", "/v1/models", None, dict(ANTH_HDR, **{"x-api-key": "fake-ok"}))[2]
                         ["data"][0]["type"], "model")
        for p in ("/v1/models", "/v1beta/models"):
            self.assertIn("models", self.req("GET", p, None, {"x-goog-api-key": "fake-ok"})[2])
        r, _, j = self.req("POST", "/v1beta/models/gemini-x:countTokens", GEM, {"x-goog-api-key": "fake-ok"})
        self.assertGreater(j["totalTokens"], 0)
        r, raw, j = self.req("POST", "/v1beta/models/gemini-x:streamGenerateContent?key=fake-ok", GEM)
        self.assertIsInstance(j, list)
        self.assertGreater(len(j), 1)
        self.assertIn("usageMetadata", j[-1])
        r, raw, _ = self.req("POST", "/v1/models/gemini-x:streamGenerateContent?alt=sse", GEM,
                             {"x-goog-api-key": "fake-ok"})
        self.assertTrue(raw.startswith(b"data: "))
        r, _, _ = self.req("GET", "/v1/responses", None, {"Upgrade": "websocket", "Connection": "Upgrade"})
        self.assertEqual(r.status, 426)

    def test_each_sse_event_is_its_own_chunk(self):
        s = self.raw_stream("/v1/messages", dict(MSG, stream=True), dict(ANTH_HDR, **{"x-api-key": "fake-ok"}))
        buf = b""
        while not buf.endswith(b"0\r\n\r\n"):
            d = s.recv(65536)
            if not d:
                break
            buf += d
        s.close()
        head, body = buf.split(b"\r\n\r\n", 1)
        self.assertIn(b"Transfer-Encoding: chunked", head)
        chunks = []
        while body:
            size_line, rest = body.split(b"\r\n", 1)
            n = int(size_line, 16)
            if n == 0:
                break
            chunks.append(rest[:n])
            body = rest[n + 2:]
        names = [c.split(b"\n")[0].decode()[7:] for c in chunks]
        self.assertEqual(names[0], "message_start")
        self.assertEqual(names[-2:], ["message_delta", "message_stop"])
        self.assertGreater(names.count("content_block_delta"), 1)
        self.assertTrue(all(c.endswith(b"\n\n") for c in chunks))

    def test_tool_call_and_result(self):
        tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
            "type": "object", "properties": {"location": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["location", "days"]}}}]
        r, _, j = self.openai("fake-ok", dict(CHAT, tools=tools))
        call = j["choices"][0]["message"]["tool_calls"][0]
        self.assertEqual(json.loads(call["function"]["arguments"]), {"location": "FAKE", "days": 1})
        msgs = CHAT["messages"] + [{"role": "assistant", "content": None, "tool_calls": [call]},
                                   {"role": "tool", "tool_call_id": call["id"], "content": "FAKE-TOOL-RAN"}]
        r, _, j = self.openai("fake-ok", dict(CHAT, tools=tools, messages=msgs))
        self.assertIn("FAKE-TOOL-RAN", j["choices"][0]["message"]["content"])
        text_only = dict(CHAT, tools=tools, messages=[{"role": "user", "content": "hi FAKE-TEXT-ONLY"}])
        self.assertIsNotNone(self.openai("fake-ok", text_only)[2]["choices"][0]["message"]["content"])

    # -- error behaviours -------------------------------------------------------

    def test_429_variants(self):
        r, _, j = self.openai("fake-429-retry-after-7")
        self.assertEqual((r.status, r.getheader("Retry-After")), (429, "7"))
        self.assertEqual(j["error"]["code"], "rate_limit_exceeded")
        r, _, _ = self.openai("fake-429-retry-after-date")
        when = email.utils.parsedate_to_datetime(r.getheader("Retry-After"))
        self.assertAlmostEqual((when - datetime.now(timezone.utc)).total_seconds(), 120, delta=5)
        r, _, _ = self.openai("fake-429-retry-after-ms-1500")
        self.assertEqual(r.getheader("retry-after-ms"), "1500")
        self.assertIsNone(r.getheader("Retry-After"))
        r, _, j = self.openai("fake-429-openai-reset")
        self.assertEqual(r.getheader("x-ratelimit-reset-requests"), "6m0s")
        self.assertEqual(r.getheader("x-ratelimit-reset-tokens"), "1.5s")
        self.assertEqual((j["error"]["type"], j["error"]["code"]), ("requests", "rate_limit_exceeded"))
        r, _, j = self.req("POST", "/v1/messages", MSG, dict(ANTH_HDR, **{"x-api-key": "fake-429-anthropic-reset"}))
        reset = datetime.strptime(r.getheader("anthropic-ratelimit-requests-reset"), "%Y-%m-%dT%H:%M:%SZ")
        reset = reset.replace(tzinfo=timezone.utc)
        self.assertAlmostEqual((reset - datetime.now(timezone.utc)).total_seconds(), 60, delta=5)
        self.assertEqual(j["error"]["type"], "rate_limit_error")
        r, _, j = self.req("POST", "/v1beta/models/g:generateContent", GEM, {"x-goog-api-key": "fake-429-gemini"})
        self.assertEqual(j["error"]["status"], "RESOURCE_EXHAUSTED")
        ri = [d for d in j["error"]["details"] if d["@type"].endswith("RetryInfo")][0]
        self.assertEqual(ri["retryDelay"], "30s")
        r, _, j = self.openai("fake-429-bare")
        self.assertEqual(r.status, 429)
        for h in ("Retry-After", "retry-after-ms", "x-ratelimit-reset-requests"):
            self.assertIsNone(r.getheader(h))
        r, _, j = self.openai("fake-usage-limit", path="/v1/responses", body={"model": "m", "input": "x"})
        self.assertEqual((r.status, j["error"]["type"], j["error"]["resets_in_seconds"]),
                         (429, "usage_limit_reached", 3600))

    def test_status_errors_in_api_format(self):
        for key, status in (("fake-529", 529), ("fake-503", 503), ("fake-500", 500),
                            ("fake-401", 401), ("fake-403", 403)):
            r, _, j = self.req("POST", "/v1/messages", MSG, dict(ANTH_HDR, **{"x-api-key": key}))
            self.assertEqual(r.status, status)
            self.assertEqual(j["type"], "error")
            r, _, j = self.openai(key)
            self.assertEqual(r.status, status)
            self.assertIn("message", j["error"])
            r, _, j = self.req("POST", "/v1/models/g:generateContent", GEM, {"x-goog-api-key": key})
            self.assertEqual((r.status, j["error"]["code"]), (status, status))
        j = self.req("POST", "/v1/messages", MSG, dict(ANTH_HDR, **{"x-api-key": "fake-529"}))[2]
        self.assertEqual(j["error"]["type"], "overloaded_error")

    def test_hostile_numbers(self):
        for key, header, value in (("fake-429-retry-after-huge", "Retry-After", "1e300"),
                                   ("fake-429-retry-after-ms-huge", "retry-after-ms", "1e300"),
                                   ("fake-429-retry-after-date-far", "Retry-After", "Fri, 31 Dec 2147483647 23:59:59 GMT"),
                                   ("fake-429-reset-far", "x-ratelimit-reset-requests", "99999999999999h"),
                                   ("fake-429-reset-far", "anthropic-ratelimit-requests-reset", "9999-12-31T23:59:59Z")):
            r, _, j = self.openai(key)
            self.assertEqual((r.status, r.getheader(header)), (429, value), key)
            self.assertIn("message", j["error"])
        r, raw, _ = self.openai("fake-usage-limit-far")
        self.assertEqual(r.status, 429)
        self.assertIn(b'"resets_in_seconds": ' + b"9" * 400, raw)
        huge = 999999999999999999
        j = self.openai("fake-usage-huge")[2]
        self.assertEqual(j["usage"]["prompt_tokens"], huge)
        j = self.openai("fake-usage-huge", {"model": "m", "input": "x"}, path="/v1/responses")[2]
        self.assertEqual(j["usage"]["input_tokens"], huge)
        j = self.req("POST", "/v1/messages", MSG, dict(ANTH_HDR, **{"x-api-key": "fake-usage-huge"}))[2]
        self.assertEqual(j["usage"]["input_tokens"], huge)
        j = self.req("POST", "/v1beta/models/g:generateContent", GEM, {"x-goog-api-key": "fake-usage-huge"})[2]
        self.assertEqual(j["usageMetadata"]["promptTokenCount"], huge)
        j = self.openai("fake-usage-%d" % 2 ** 63)[2]
        self.assertEqual(j["usage"]["prompt_tokens"], 2 ** 63)

    def test_big(self):
        _, raw, j = self.openai("fake-big-50")
        n = len(j["choices"][0]["message"]["content"])
        self.assertTrue(45 * 1024 < n < 55 * 1024, n)

    # -- connection behaviours --------------------------------------------------

    def test_hang_counts_abort(self):
        before = self.aborted()
        s = self.raw_stream("/v1/chat/completions", CHAT, {"Authorization": "Bearer fake-hang"}, read_timeout=1.5)
        with self.assertRaises(socket.timeout):
            s.recv(100)
        s.close()
        self.assert_one_more_abort(before)

    def test_hang_after_headers(self):
        before = self.aborted()
        s = self.raw_stream("/v1/chat/completions", dict(CHAT, stream=True),
                            {"Authorization": "Bearer fake-hang-after-headers"}, read_timeout=1.5)
        got = b""
        try:
            while True:
                d = s.recv(4096)
                if not d:
                    break
                got += d
        except socket.timeout:
            pass
        s.close()
        self.assertTrue(got.startswith(b"HTTP/1.1 200"))
        self.assertTrue(got.endswith(b"\r\n\r\n"), "headers only")
        self.assertIn(b"text/event-stream", got)
        # The fake counts this abort a moment after the close: wait for it here, not in the next test.
        self.assert_one_more_abort(before)

    def test_reset_midstream(self):
        s = self.raw_stream("/v1/responses", {"model": "m", "input": "x", "stream": True},
                            {"Authorization": "Bearer fake-reset-midstream"})
        got, err = b"", None
        try:
            while True:
                d = s.recv(4096)
                if not d:
                    break
                got += d
        except ConnectionResetError as e:
            err = e
        s.close()
        self.assertIsNotNone(err, "expected a TCP RST")
        self.assertIn(b"response.created", got)
        self.assertIn(b"response.in_progress", got)
        self.assertNotIn(b"response.output_item.added", got)

    def test_slow_stream_and_client_abort(self):
        t0 = time.time()
        r, raw, _ = self.req("POST", "/v1/messages", dict(MSG, stream=True),
                             dict(ANTH_HDR, **{"x-api-key": "fake-slow-stream-30"}))
        self.assertGreaterEqual(raw.count(b"event: content_block_delta"), 20)
        self.assertGreater(time.time() - t0, 0.5)
        before = self.aborted()
        s = self.raw_stream("/v1/messages", dict(MSG, stream=True),
                            dict(ANTH_HDR, **{"x-api-key": "fake-slow-stream-200"}))
        s.recv(4096)
        s.close()
        self.assert_one_more_abort(before)
        recs = self.req("GET", "/__requests")[2]
        self.assertTrue(recs[-1]["response"]["aborted"])

    def test_reset(self):
        self.openai("fake-ok")
        self.req("POST", "/__reset")
        self.assertEqual(self.req("GET", "/__requests")[2], [])
        self.assertEqual(self.aborted(), 0)


sys.path.insert(0, HERE)
import protocol_rules as rules  # noqa: E402

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4/5+BAQAG/gH/vf5B2AAAAABJRU5ErkJggg=="
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


class ProtocolRulesTest(unittest.TestCase):
    """The rules themselves, without a server: a valid conversation of each protocol passes, and each
    typical translation mistake is named."""

    def check(self, proto, body, *expect):
        got = rules.validate(proto, body)
        if not expect:
            self.assertEqual(got, [], proto)
        for e in expect:
            self.assertTrue(any(e in x for x in got), "%r not in %r" % (e, got))

    def test_chat(self):
        ok = {"model": "m", "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "hi"},
                                         {"type": "image_url", "image_url": {"url": "data:image/png;base64," + PNG_B64}}]},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{\"city\":\"x\"}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"}],
            "tools": [{"type": "function", "function": {"name": "w", "parameters": WEATHER}}]}
        self.check(rules.OPENAI_CHAT, ok)
        bad = json.loads(json.dumps(ok))
        bad["messages"][3]["tool_call_id"] = "other"
        self.check(rules.OPENAI_CHAT, bad, "messages[3]: a tool message needs a tool_call_id", "not answered")
        bad = json.loads(json.dumps(ok))
        bad["tools"] = [{"type": "function", "name": "w", "parameters": WEATHER}]
        bad["messages"][1]["content"][1] = {"type": "input_image", "image_url": "x"}
        bad["max_output_tokens"] = 5
        self.check(rules.OPENAI_CHAT, bad, "tools[0]: must be", "messages[1].content[1]: part type",
                   "unknown field 'max_output_tokens'")

    def test_responses(self):
        ok = {"model": "m", "instructions": "x", "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "hi"},
                                         {"type": "input_image", "image_url": "https://h/i.png"}]},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "t"}]},
            {"type": "function_call", "call_id": "c1", "name": "w", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"}],
            "tools": [{"type": "function", "name": "w", "parameters": WEATHER}], "reasoning": {"effort": "low"}}
        self.check(rules.OPENAI_RESPONSES, ok)
        bad = json.loads(json.dumps(ok))
        bad["input"][3]["call_id"] = "nope"
        bad["input"][0]["content"][0]["type"] = "text"
        bad["tools"] = [{"type": "function", "function": {"name": "w"}}]
        bad["messages"] = []
        self.check(rules.OPENAI_RESPONSES, bad, "No tool call found", "input[0].content[0]", "tools[0].name",
                   "unknown field 'messages'")

    def test_anthropic(self):
        ok = {"model": "m", "max_tokens": 100, "system": "s", "messages": [
            {"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                                      "data": PNG_B64}},
                                         {"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": "s"},
                                              {"type": "tool_use", "id": "toolu_1", "name": "w", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                                         {"type": "text", "text": "go on"}]}],
            "tools": [{"name": "w", "input_schema": WEATHER}]}
        self.check(rules.ANTHROPIC, ok)
        bad = json.loads(json.dumps(ok))
        del bad["max_tokens"]
        bad["messages"][1]["content"][0]["signature"] = ""
        bad["messages"][2]["content"].reverse()
        bad["messages"].insert(0, {"role": "system", "content": "x"})
        self.check(rules.ANTHROPIC, bad, "max_tokens", "needs its signature", "tool_result blocks must come before",
                   "messages[0].role")
        thinking_loop = dict(ok, thinking={"type": "enabled", "budget_tokens": 1024}, max_tokens=2000)
        self.check(rules.ANTHROPIC, thinking_loop)
        thinking_loop["messages"][1] = {"role": "assistant", "content": ok["messages"][1]["content"][1:]}
        self.check(rules.ANTHROPIC, thinking_loop, "must start with a thinking block")
        bad = json.loads(json.dumps(ok))
        bad["messages"][2]["content"][0]["tool_use_id"] = "toolu_2"
        bad["messages"].append({"role": "user", "content": ""})
        self.check(rules.ANTHROPIC, bad, "unexpected tool_use_id", "without tool_result blocks", "alternate",
                   "must be non-empty")

    def test_gemini(self):
        ok = {"contents": [
            {"role": "user", "parts": [{"text": "hi"}, {"inline_data": {"mime_type": "image/png", "data": PNG_B64}}]},
            {"role": "model", "parts": [{"text": "t", "thought": True},
                                        {"functionCall": {"name": "w", "args": {}}, "thoughtSignature": "c2ln"}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "w", "response": {"result": "sunny"}}}]}],
            "systemInstruction": {"parts": [{"text": "s"}]},
            "tools": [{"functionDeclarations": [{"name": "w", "parameters": {
                "type": "OBJECT", "properties": {"city": {"type": "STRING"}}}}]}],
            "generationConfig": {"thinkingConfig": {"includeThoughts": True}, "max_output_tokens": 10}}
        self.check(rules.GEMINI, ok)
        bad = json.loads(json.dumps(ok))
        bad["contents"][2]["parts"][0]["functionResponse"]["name"] = "x"
        bad["contents"][0]["parts"][1] = {"fileData": {"fileUri": "i.png", "mimeType": "image/png"}}
        bad["tools"][0]["functionDeclarations"][0]["parameters"]["additionalProperties"] = False
        bad["contents"][1]["role"] = "assistant"
        self.check(rules.GEMINI, bad, "number of function response parts", "fileData.fileUri",
                   "Unknown name 'additionalProperties'", "role: must be user or model")
        bad = {"contents": [{"role": "user", "parts": [{"inlineData": {"data": "!!"}}]}]}
        self.check(rules.GEMINI, bad, "mimeType: required", "valid base64")


class StrictFakeTest(unittest.TestCase):
    """--strict: violations are answered 400 in the protocol's own format and listed by /__violations;
    FAKE-REASONING and images come back in each protocol's shape."""

    @classmethod
    def setUpClass(cls):
        cls.proc, cls.port, cls.tmp = start_fake(["--strict"])

    @classmethod
    def tearDownClass(cls):
        cls.proc.terminate()
        cls.proc.wait(5)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    req = FakeUpstreamTest.req

    def post(self, proto, body, stream=False):
        if proto == rules.OPENAI_CHAT:
            return self.req("POST", "/v1/chat/completions", dict(body, stream=stream), {"Authorization": "Bearer fake-ok"})
        if proto == rules.OPENAI_RESPONSES:
            return self.req("POST", "/v1/responses", dict(body, stream=stream), {"Authorization": "Bearer fake-ok"})
        if proto == rules.ANTHROPIC:
            return self.req("POST", "/v1/messages", dict(body, stream=stream), dict(ANTH_HDR, **{"x-api-key": "fake-ok"}))
        verb = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return self.req("POST", "/v1beta/models/gemini-3-x:" + verb, body, {"x-goog-api-key": "fake-ok"})

    def test_violations_rejected_and_listed(self):
        since = self.req("GET", "/__requests")[2]
        since = since[-1]["seq"] if since else 0
        r, _, j = self.post(rules.OPENAI_CHAT, {"model": "m", "messages": [{"role": "tool", "content": "x"}]})
        self.assertEqual((r.status, j["error"]["type"]), (400, "invalid_request_error"))
        r, _, j = self.post(rules.ANTHROPIC, {"model": "m", "messages": [{"role": "user", "content": "hi"}]})
        self.assertEqual((r.status, j["error"]["type"]), (400, "invalid_request_error"))
        self.assertIn("max_tokens", j["error"]["message"])
        r, _, j = self.post(rules.GEMINI, {"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]})
        self.assertEqual((r.status, j["error"]["status"]), (400, "INVALID_ARGUMENT"))
        r, _, j = self.post(rules.OPENAI_RESPONSES, {"model": "m", "input": "hi"})
        self.assertEqual(r.status, 200)
        bad = self.req("GET", "/__violations?since=%d" % since)[2]
        self.assertEqual([b["protocol"] for b in bad], [rules.OPENAI_CHAT, rules.ANTHROPIC, rules.GEMINI])
        recs = self.req("GET", "/__requests?since=%d" % since)[2]
        self.assertEqual(recs[-1]["protocol"], rules.OPENAI_RESPONSES)
        self.assertEqual(recs[-1]["violations"], [])

    def test_reasoning_each_protocol(self):
        hi = "hi FAKE-REASONING"
        _, _, j = self.post(rules.OPENAI_CHAT, {"model": "m", "messages": [{"role": "user", "content": hi}]})
        self.assertIn("FAKE-THOUGHT", j["choices"][0]["message"]["reasoning_content"])
        _, raw, _ = self.post(rules.OPENAI_CHAT, {"model": "m", "messages": [{"role": "user", "content": hi}]}, True)
        self.assertIn(b'"reasoning_content": "FAKE', raw)
        _, _, j = self.post(rules.OPENAI_RESPONSES, {"model": "m", "input": hi})
        self.assertEqual([o["type"] for o in j["output"]], ["reasoning", "message"])
        self.assertEqual(j["output"][0]["summary"], [], "no summary unless asked")
        rbody = {"model": "m", "input": hi, "reasoning": {"summary": "auto"}}
        _, _, j = self.post(rules.OPENAI_RESPONSES, rbody)
        self.assertIn("FAKE-THOUGHT", j["output"][0]["summary"][0]["text"])
        _, raw, _ = self.post(rules.OPENAI_RESPONSES, rbody, True)
        self.assertIn(b"response.reasoning_summary_text.delta", raw)
        self.assertIn(b'"output_index": 1', raw)
        body = {"model": "m", "max_tokens": 50, "messages": [{"role": "user", "content": hi}]}
        self.assertEqual([b["type"] for b in self.post(rules.ANTHROPIC, body)[2]["content"]], ["text"])
        body = {"model": "m", "max_tokens": 2000, "messages": [{"role": "user", "content": hi}],
                "thinking": {"type": "enabled", "budget_tokens": 1024}}
        _, _, j = self.post(rules.ANTHROPIC, body)
        self.assertEqual([b["type"] for b in j["content"]], ["thinking", "text"])
        self.assertTrue(j["content"][0]["signature"])
        _, raw, _ = self.post(rules.ANTHROPIC, body, True)
        self.assertIn(b"signature_delta", raw)
        self.assertIn(b'"index": 1', raw)
        _, _, j = self.post(rules.GEMINI, {"contents": [{"role": "user", "parts": [{"text": hi}]}]})
        self.assertNotIn("thought", j["candidates"][0]["content"]["parts"][0])
        _, _, j = self.post(rules.GEMINI, {"contents": [{"role": "user", "parts": [{"text": hi}]}],
                                           "generationConfig": {"thinkingConfig": {"includeThoughts": True}}})
        parts = j["candidates"][0]["content"]["parts"]
        self.assertTrue(parts[0]["thought"])
        self.assertIn("FAKE-UPSTREAM-OK", parts[1]["text"])
        # the echoed thinking passes the rules on the next turn
        follow = dict(body, messages=body["messages"] + [{"role": "assistant", "content": self.post(
            rules.ANTHROPIC, body)[2]["content"]}, {"role": "user", "content": "again"}])
        self.assertEqual(self.post(rules.ANTHROPIC, follow)[0].status, 200)

    def test_echoed_reasoning_must_be_what_was_issued(self):
        hi = "hi FAKE-REASONING"
        body = {"model": "m", "max_tokens": 2000, "messages": [{"role": "user", "content": hi}],
                "thinking": {"type": "enabled", "budget_tokens": 1024}}
        content = self.post(rules.ANTHROPIC, body)[2]["content"]
        content[0]["thinking"] += " (edited)"
        r, _, j = self.post(rules.ANTHROPIC, dict(body, messages=body["messages"] + [
            {"role": "assistant", "content": content}, {"role": "user", "content": "again"}]))
        self.assertEqual(r.status, 400)
        self.assertIn("Invalid `signature`", j["error"]["message"])
        tools = [{"functionDeclarations": [{"name": "w", "parameters": {"type": "OBJECT", "properties": {
            "city": {"type": "STRING"}}, "required": ["city"]}}]}]
        user = {"role": "user", "parts": [{"text": hi}]}
        parts = self.post(rules.GEMINI, {"contents": [user], "tools": tools})[2]["candidates"][0]["content"]["parts"]
        self.assertIn("thoughtSignature", parts[0])
        answer = {"functionResponse": {"name": "w", "response": {"r": "sunny"}}}
        follow = {"contents": [user, {"role": "model", "parts": parts}, {"role": "user", "parts": [answer]}],
                  "tools": tools}
        self.assertEqual(self.post(rules.GEMINI, follow)[0].status, 200)
        parts[0]["thoughtSignature"] = "c29tZXRoaW5nIGVsc2U="
        r, _, j = self.post(rules.GEMINI, follow)
        self.assertEqual(r.status, 400)
        self.assertIn("Corrupted thought signature", j["error"]["message"])
        del parts[0]["thoughtSignature"]
        r, _, j = self.post(rules.GEMINI, follow)
        self.assertEqual(r.status, 400)
        self.assertIn("missing a thought_signature", j["error"]["message"])
        parts[0]["thoughtSignature"] = "skip_thought_signature_validator"
        self.assertEqual(self.post(rules.GEMINI, follow)[0].status, 200)
        r, _, j = self.post(rules.OPENAI_RESPONSES, {"model": "m", "input": [
            {"type": "reasoning", "id": "rs_never", "summary": []}, {"role": "user", "content": "hi"}]})
        self.assertEqual(r.status, 400)
        self.assertIn("not found", j["error"]["message"])

    def test_two_tools(self):
        tools = [{"type": "function", "function": {"name": "w", "parameters": WEATHER}}]
        msgs = [{"role": "user", "content": "weather twice FAKE-TWO-TOOLS"}]
        for stream in (False, True):
            r, raw, j = self.post(rules.OPENAI_CHAT, {"model": "m", "messages": msgs, "tools": tools}, stream)
            if stream:
                self.assertIn(b'"index": 1, "id": "call_', raw)
        calls = j["choices"][0]["message"]["tool_calls"] if j else None
        r, _, j = self.post(rules.OPENAI_CHAT, {"model": "m", "messages": msgs, "tools": tools})
        calls = j["choices"][0]["message"]["tool_calls"]
        self.assertEqual([json.loads(c["function"]["arguments"])["city"] for c in calls], ["FAKE", "FAKE-2"])
        follow = msgs + [{"role": "assistant", "content": None, "tool_calls": calls},
                         {"role": "tool", "tool_call_id": calls[0]["id"], "content": "a"}]
        self.assertEqual(self.post(rules.OPENAI_CHAT, {"model": "m", "messages": follow, "tools": tools})[0].status, 400)
        follow.append({"role": "tool", "tool_call_id": calls[1]["id"], "content": "b"})
        r, _, j = self.post(rules.OPENAI_CHAT, {"model": "m", "messages": follow, "tools": tools})
        self.assertIn("Tool result received: a | b", j["choices"][0]["message"]["content"])

    def test_image_echo_and_png(self):
        r, raw, _ = self.req("GET", "/__image.png")
        self.assertEqual((r.status, r.getheader("Content-Type"), raw[:4]), (200, "image/png", b"\x89PNG"))
        n = len(raw)
        url = "http://127.0.0.1:%d/__image.png" % self.port
        cases = [
            (rules.OPENAI_CHAT, {"model": "m", "messages": [{"role": "user", "content": [
                {"type": "text", "text": "see"}, {"type": "image_url", "image_url": {"url": url}}]}]},
             lambda j: j["choices"][0]["message"]["content"], "image/png %d bytes" % n),
            (rules.OPENAI_RESPONSES, {"model": "m", "input": [{"role": "user", "content": [
                {"type": "input_image", "image_url": "data:image/png;base64," + PNG_B64}]}]},
             lambda j: j["output"][0]["content"][0]["text"], "image/png 70 bytes"),
            (rules.ANTHROPIC, {"model": "m", "max_tokens": 9, "messages": [{"role": "user", "content": [
                {"type": "image", "source": {"type": "url", "url": url}}]}]},
             lambda j: j["content"][0]["text"], "image/png %d bytes" % n),
            (rules.GEMINI, {"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": PNG_B64}}]}]},
             lambda j: j["candidates"][0]["content"]["parts"][0]["text"], "image/png 70 bytes"),
        ]
        cases += [
            (rules.OPENAI_CHAT, {"model": "m", "messages": [{"role": "developer", "content": "FAKE-SYSTEM"},
                                                            {"role": "user", "content": "hi"}]},
             lambda j: j["choices"][0]["message"]["content"], "FAKE-SYSTEM-SEEN"),
            (rules.ANTHROPIC, {"model": "m", "max_tokens": 9, "system": [{"type": "text", "text": "FAKE-SYSTEM"}],
                               "messages": [{"role": "user", "content": "hi"}]},
             lambda j: j["content"][0]["text"], "FAKE-SYSTEM-SEEN"),
            (rules.GEMINI, {"systemInstruction": {"parts": [{"text": "FAKE-SYSTEM"}]},
                            "contents": [{"parts": [{"text": "hi"}]}]},
             lambda j: j["candidates"][0]["content"]["parts"][0]["text"], "FAKE-SYSTEM-SEEN"),
            (rules.OPENAI_RESPONSES, {"model": "m", "input": "FAKE-SYSTEM"},
             lambda j: "SEEN IN THE USER TURN" if "SYSTEM-SEEN" in j["output"][0]["content"][0]["text"]
             else "NOT-SEEN", "NOT-SEEN"),
        ]
        for proto, body, text, want in cases:
            r, _, j = self.post(proto, body)
            self.assertEqual(r.status, 200, (proto, j))
            self.assertIn(want if "FAKE-" in want or "SEEN" in want else "FAKE-IMAGE " + want, text(j), proto)


@unittest.skipUnless(shutil.which("openssl"), "openssl CLI needed to make a test certificate")
class FakeUpstreamTLSTest(unittest.TestCase):
    def test_tls(self):
        tmp = tempfile.mkdtemp(prefix="fake-tls-")
        cert, key = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
        proc, port, tmp2 = start_fake(["--tls-cert", cert, "--tls-key", key])
        try:
            ctx = ssl.create_default_context(cafile=cert)
            c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
            c.request("POST", "/v1/chat/completions", json.dumps(dict(CHAT, stream=True)),
                      {"Authorization": "Bearer fake-ok"})
            r = c.getresponse()
            body = r.read()
            self.assertEqual(r.status, 200)
            self.assertIn(b"data: [DONE]", body)
            c.request("GET", "/__health")  # keep-alive on the same TLS connection
            self.assertEqual(c.getresponse().status, 200)
            c.close()
        finally:
            proc.terminate()
            proc.wait(5)
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(tmp2, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
