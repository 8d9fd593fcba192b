#!/usr/bin/env python3
"""Fake OpenAI / Azure OpenAI / Anthropic / Gemini upstream for proxypool tests.

Python standard library only. Listens on 127.0.0.1 only and never opens an
outgoing connection.

    python3 fake_upstream.py --port-file PATH [--port 0] [--tls-cert C --tls-key K]

The port number is written to PATH (atomically) once the socket listens.

Behaviour is chosen by the API key the request carries (see BEHAVIOURS below).
A key may carry a tag after "~" (e.g. "fake-ok~cred1", "fake-429-bare~B") so
that tests can tell credentials with the same behaviour apart; the tag is
recorded and otherwise ignored.

Special prompts: if the last user turn contains FAKE-TEXT-ONLY, the fake
answers with text even when tools are offered; with FAKE-REASONING the answer
starts with reasoning in the protocol's own shape, when the request asks for it
as the real service needs: an Anthropic thinking block with a signature (thinking
enabled), a Responses reasoning item (its summary only with reasoning.summary),
Chat reasoning_content (always), Gemini thought parts (includeThoughts; the
thought signature on the first answer part always). With FAKE-TWO-TOOLS a tool
answer holds two calls of the same tool (the second's first string argument
gets "-2"). Signatures, reasoning ids and
encrypted_content echoed back must be ones the fake issued, unchanged. When the request carries images, the
text answer reports each as "FAKE-IMAGE <mime> <N> bytes" (an image URL of the
fake's own /__image.png counts as that PNG; other URLs as "FAKE-IMAGE url <url>");
when the system instructions (where the protocol keeps them) contain FAKE-SYSTEM,
it ends with "FAKE-SYSTEM-SEEN".

Protocol rules: every conversation request (Chat, Responses, Messages,
generateContent) is checked against its protocol's rules (protocol_rules.py);
each recorded request has "protocol" and "violations". With --strict a request
that breaks a rule is answered 400 in the protocol's error format.

Control endpoints (no key needed):
    GET  /__health     200 {"ok": true}
    GET  /__oauth      {"grants": N, "refused": M}: refresh-token grants at POST /oauth/token
    GET  /__requests   every recorded request (optional ?since=SEQ)
    POST /__reset      clears recordings and counters
    GET  /__aborted    {"aborted": N, ...}: responses the client abandoned
    GET  /__violations the recorded requests that broke a protocol rule
    GET  /__image.png  a tiny valid PNG (for image URL tests); ?delay_ms=N answers after N ms,
                       ?pad_kib=N adds N KiB of zeros after the PNG
    GET  /__image-stats {"served": N, "peak": M}: /__image.png requests, and most at once
"""

import argparse
import base64
import email.utils
import gzip
import json
import os
import random
import re
import select
import socket
import ssl
import struct
import sys
import threading
import time
import uuid
import zlib
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import protocol_rules  # noqa: E402

MARKER = "FAKE-UPSTREAM-OK"
TOOL_MARKER_CMD = "echo FAKE-TOOL-RAN"
TEXT_ONLY_MARKER = "FAKE-TEXT-ONLY"
REASONING_MARKER = "FAKE-REASONING"
TWO_TOOLS_MARKER = "FAKE-TWO-TOOLS"
THOUGHT_TEXT = "FAKE-THOUGHT: the user wants a marker; answer with it."
IMAGE_PATH = "/__image.png"


def _png_1x1():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)            # 1x1, 8-bit RGB
    idat = zlib.compress(b"\x00\xff\x80\x00")                     # filter 0, one orange pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


IMAGE_PNG = _png_1x1()

EXACT_BEHAVIOURS = {
    "fake-ok": "ok",
    "fake-429-retry-after-date": "429-retry-after-date",
    "fake-429-openai-reset": "429-openai-reset",
    "fake-429-anthropic-reset": "429-anthropic-reset",
    "fake-429-gemini": "429-gemini",
    "fake-429-bare": "429-bare",
    "fake-usage-limit": "usage-limit",
    "fake-529": "529",
    "fake-503": "503",
    "fake-500": "500",
    "fake-401": "401",
    "fake-403": "403",
    "fake-hang": "hang",
    "fake-hang-after-headers": "hang-after-headers",
    "fake-reset-midstream": "reset-midstream",
    "fake-reset-stream-only": "reset-stream-only",
    "fake-trailing-response": "trailing-response",
    # Hostile numbers (issue 12): values no parser may trap on; the daemon must clamp them.
    "fake-429-retry-after-huge": "429-retry-after-huge",
    "fake-429-retry-after-ms-huge": "429-retry-after-ms-huge",
    "fake-429-retry-after-date-far": "429-retry-after-date-far",
    "fake-429-reset-far": "429-reset-far",
    "fake-usage-limit-far": "usage-limit-far",
    "fake-usage-huge": "usage-huge",
    # Hostile answers (framing and header tricks), all in send_hostile.
    "fake-cl-and-chunked": "cl-and-chunked",
    "fake-bare-cr-header": "bare-cr-header",
    "fake-nul-header": "nul-header",
    "fake-connection-named-header": "connection-named-header",
    "fake-bad-chunk-size": "bad-chunk-size",
    "fake-gzip-chunked": "gzip-chunked",
    "fake-two-content-lengths": "two-content-lengths",
    "fake-many-headers": "many-headers",
    "fake-many-trailers": "many-trailers",
    "fake-status-099": "status-099",
    "fake-status-600": "status-600",
    # A 403 with a Retry-After: a short delay, 1e300, and one the Connection header names (hop-by-hop).
    "fake-403-retry-after-30": "403-retry-after-30",
    "fake-403-retry-after-huge": "403-retry-after-huge",
    "fake-403-retry-after-hop": "403-retry-after-hop",
}
HOSTILE_ANSWERS = {"cl-and-chunked", "bare-cr-header", "nul-header", "connection-named-header", "bad-chunk-size",
                   "gzip-chunked", "two-content-lengths", "many-headers", "many-trailers", "status-099", "status-600"}
# What a hostile answer smuggles in: a whole response of its own, never an answer to anything.
HOSTILE_SMUGGLED = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 42\r\n\r\n"
                    b'{"smuggled": "FAKE-SMUGGLED-WRONG-ANSWER"}')
PARAM_BEHAVIOURS = [
    (re.compile(r"^fake-429-retry-after-(\d+)$"), "429-retry-after"),
    (re.compile(r"^fake-429-retry-after-ms-(\d+)$"), "429-retry-after-ms"),
    (re.compile(r"^fake-slow-stream-(\d+)$"), "slow-stream"),
    (re.compile(r"^fake-big-(\d+)$"), "big"),
    (re.compile(r"^fake-usage-(\d+)$"), "usage-n"),
]
BEHAVIOURS = sorted(EXACT_BEHAVIOURS) + [
    "fake-429-retry-after-N", "fake-429-retry-after-ms-N",
    "fake-slow-stream-MS", "fake-big-N", "fake-usage-N"]

# fake-usage-huge: every usage count of an answer (prompt_tokens, input_tokens, promptTokenCount, …) is this.
HUGE_USAGE = 999999999999999999


def parse_behaviour(key):
    """Returns (behaviour, param, tag) or None for a key the fake rejects."""
    if not key or not key.startswith("fake-"):
        return None
    base, _, tag = key.partition("~")
    if base in EXACT_BEHAVIOURS:
        return EXACT_BEHAVIOURS[base], None, tag or None
    for rx, name in PARAM_BEHAVIOURS:
        m = rx.match(base)
        if m:
            return name, int(m.group(1)), tag or None
    return None


# ----------------------------------------------------------------------------
# OAuth token endpoint (proxypool's test-oauth provider kind)
# ----------------------------------------------------------------------------

class OAuthTokens:
    """POST /oauth/token (or /v1/oauth/token), grant_type=refresh_token. A refresh token reads
    rt~NAME~SECONDS[~GEN]: the grant answers an access token fake-ok~at-NAME-GEN+1 that lives SECONDS, and
    rotates the refresh token to rt~NAME~SECONDS~GEN+1. Each refresh token is single-use (a second use is
    invalid_grant, as real providers do); NAME starting with "revoked" is always invalid_grant; NAME containing
    "slow" answers after 500 ms. An access token it issued is refused (401) once it has expired."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.issued = {}
            self.used = set()
            self.grants = 0
            self.refused = 0

    def grant(self, form):
        rt = (form.get("refresh_token") or [""])[0]
        parts = rt.split("~")
        if (form.get("grant_type") or [""])[0] != "refresh_token" or len(parts) not in (3, 4) or parts[0] != "rt":
            return 400, {"error": "invalid_request", "error_description": "not a refresh-token grant the fake knows"}
        name, seconds, gen = parts[1], int(parts[2]), int(parts[3]) if len(parts) == 4 else 0
        if "slow" in name:
            time.sleep(0.5)
        with self.lock:
            if name.startswith("revoked") or rt in self.used:
                self.refused += 1
                why = "the refresh token was revoked" if name.startswith("revoked") else "the refresh token was already used"
                return 400, {"error": "invalid_grant", "error_description": why}
            self.used.add(rt)
            self.grants += 1
            access = "fake-ok~at-%s-%d" % (name, gen + 1)
            self.issued[access] = time.time() + seconds
        return 200, {"access_token": access, "token_type": "Bearer", "expires_in": seconds,
                     "refresh_token": "rt~%s~%d~%d" % (name, seconds, gen + 1)}

    def expired(self, key):
        """None for keys it did not issue; else whether the token has expired."""
        with self.lock:
            until = self.issued.get(key)
        return None if until is None else time.time() >= until

    def snapshot(self):
        with self.lock:
            return {"grants": self.grants, "refused": self.refused}


OAUTH = OAuthTokens()


# ----------------------------------------------------------------------------
# recording
# ----------------------------------------------------------------------------

class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.records = []
            self.seq = 0
            self.aborted = 0
            self.aborted_paths = []

    def add(self, rec):
        with self.lock:
            self.seq += 1
            rec["seq"] = self.seq
            self.records.append(rec)
        return rec

    def mark_aborted(self, rec):
        with self.lock:
            if rec.get("response", {}).get("aborted"):
                return
            rec.setdefault("response", {})["aborted"] = True
            self.aborted += 1
            self.aborted_paths.append({"seq": rec.get("seq"), "path": rec.get("path"),
                                       "behaviour": rec.get("behaviour")})

    def snapshot(self, since=0):
        with self.lock:
            return json.loads(json.dumps([r for r in self.records if r["seq"] > since]))


RECORDER = Recorder()


class ImageStats:
    """How often /__image.png was asked for, and the most requests for it at once (media fetch caps)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.served = self.now = self.peak = 0

    def enter(self):
        with self.lock:
            self.served += 1
            self.now += 1
            self.peak = max(self.peak, self.now)

    def leave(self):
        with self.lock:
            self.now -= 1

    def snapshot(self):
        with self.lock:
            return {"served": self.served, "peak": self.peak}


IMAGE_STATS = ImageStats()


class Issued:
    """What the fake handed out that a client must echo back unchanged: Anthropic thinking signatures (with
    the thinking they sign), Gemini thought signatures (and the function call each one rides on), Responses
    reasoning item ids and encrypted_content. A request echoing one it never issued, or a changed one, breaks
    the rule the real services enforce ("Invalid signature in thinking block", "Item with id ... not found")."""

    def __init__(self):
        self.lock = threading.Lock()
        self.anthropic = {}         # signature -> thinking text
        self.gemini = set()         # thoughtSignature
        self.reasoning_ids = set()  # Responses reasoning item ids
        self.encrypted = set()      # Responses encrypted_content

    def violations(self, protocol, body):
        v = []
        if not isinstance(body, dict):
            return v
        with self.lock:
            if protocol == protocol_rules.ANTHROPIC:
                for i, m in enumerate(body.get("messages") or []):
                    if not isinstance(m, dict) or m.get("role") != "assistant" or not isinstance(m.get("content"), list):
                        continue
                    for j, b in enumerate(m["content"]):
                        if isinstance(b, dict) and b.get("type") == "thinking" and b.get("signature"):
                            if self.anthropic.get(b["signature"]) != b.get("thinking"):
                                v.append("messages[%d].content[%d]: Invalid `signature` in `thinking` block" % (i, j))
            elif protocol == protocol_rules.GEMINI:
                contents = [c for c in body.get("contents") or [] if isinstance(c, dict)]
                # Gemini 3 checks the current turn (after the last user text): the first function call of
                # each model step must carry its thought signature (or Google's documented sentinel).
                current = 0
                for i, c in enumerate(contents):
                    if c.get("role", "user") == "user" and any(
                            isinstance(p, dict) and "text" in p for p in c.get("parts") or []):
                        current = i
                gemini3 = str(body.get("model", "")).startswith("gemini-3")
                for i, c in enumerate(contents):
                    first_call = True
                    for j, part in enumerate(c.get("parts") or []):
                        if not isinstance(part, dict):
                            continue
                        sig = part.get("thoughtSignature") or part.get("thought_signature")
                        if sig and sig != GEMINI_SKIP_SIGNATURE and sig not in self.gemini:
                            v.append("contents[%d].parts[%d]: Corrupted thought signature." % (i, j))
                        if part.get("functionCall") or part.get("function_call"):
                            if gemini3 and first_call and i > current and c.get("role") == "model" and not sig:
                                v.append("contents[%d].parts[%d]: Function call is missing a thought_signature "
                                         "in functionCall parts" % (i, j))
                            first_call = False
            elif protocol == protocol_rules.OPENAI_RESPONSES and isinstance(body.get("input"), list):
                for i, it in enumerate(body["input"]):
                    if not isinstance(it, dict) or it.get("type") != "reasoning":
                        continue
                    if it.get("encrypted_content") is not None:
                        if it["encrypted_content"] not in self.encrypted:
                            v.append("input[%d]: The encrypted content could not be verified." % i)
                    elif it.get("id") not in self.reasoning_ids:
                        v.append("input[%d]: Item with id %r not found." % (i, it.get("id")))
        return v


ISSUED = Issued()
GEMINI_SKIP_SIGNATURE = "skip_thought_signature_validator"


class ClientGone(Exception):
    pass


# ----------------------------------------------------------------------------
# helpers: ids, tokens, text
# ----------------------------------------------------------------------------

def hexid(n=24):
    return uuid.uuid4().hex[:n]


def approx_tokens(obj):
    try:
        n = len(json.dumps(obj))
    except Exception:
        n = 40
    return max(1, n // 4)


def split_deltas(text, n):
    """Splits text into n (or fewer, if short) non-empty pieces."""
    if n <= 1 or len(text) < 2:
        return [text]
    n = min(n, len(text))
    size = len(text) // n
    pieces, pos = [], 0
    for i in range(n):
        end = len(text) if i == n - 1 else pos + size
        pieces.append(text[pos:end])
        pos = end
    return [p for p in pieces if p]


def text_of(content):
    """Best-effort plain text of a message content in any of the 3 dialects."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        for k in ("text", "output", "content", "result"):
            if k in content:
                return text_of(content[k])
        return json.dumps(content)
    if isinstance(content, list):
        return "".join(text_of(p) for p in content)
    return str(content)


SYSTEM_MARKER = "FAKE-SYSTEM"


def system_text(body):
    """The system / developer instructions of a request, from where its protocol puts them."""
    if not isinstance(body, dict):
        return ""
    out = [text_of(body.get("system")), text_of(body.get("instructions"))]
    si = body.get("systemInstruction") or body.get("system_instruction")
    if isinstance(si, dict):
        out.append(text_of(si.get("parts")))
    for m in body.get("messages") or (body.get("input") if isinstance(body.get("input"), list) else []):
        if isinstance(m, dict) and m.get("role") in ("system", "developer"):
            out.append(text_of(m.get("content")))
    return " ".join(out)


def find_images(node, out=None):
    """Images a request carries, in any of the four dialects: [(mime, n_bytes) or ("url", url)]."""
    if out is None:
        out = []
    if isinstance(node, list):
        for x in node:
            find_images(x, out)
    elif isinstance(node, dict):
        t = node.get("type")
        url = None
        if t == "image_url" and isinstance(node.get("image_url"), dict):                 # Chat
            url = node["image_url"].get("url")
        elif t == "input_image" and isinstance(node.get("image_url"), str):              # Responses
            url = node["image_url"]
        elif t == "image" and isinstance(node.get("source"), dict):                      # Anthropic
            src = node["source"]
            if src.get("type") == "base64":
                out.append((src.get("media_type"), protocol_rules.b64_len(src.get("data")) or 0))
            elif src.get("type") == "url":
                url = src.get("url")
        inline = node.get("inlineData") or node.get("inline_data")                          # Gemini
        fdata = node.get("fileData") or node.get("file_data")
        if url is not None:
            pass
        elif isinstance(inline, dict):
            out.append((inline.get("mimeType") or inline.get("mime_type"),
                        protocol_rules.b64_len(inline.get("data")) or 0))
        elif isinstance(fdata, dict):
            url = fdata.get("fileUri") or fdata.get("file_uri")
        if url is not None:
            d = protocol_rules.parse_data_url(url)
            if d:
                out.append((d[0], len(d[1])))
            elif isinstance(url, str) and urlsplit(url).path == IMAGE_PATH:
                out.append(("image/png", len(IMAGE_PNG)))
            else:
                out.append(("url", url))
            return out
        for k, x in node.items():
            if isinstance(x, (dict, list)):
                find_images(x, out)
    return out


def image_report(images):
    return " ".join("FAKE-IMAGE %s %s" % (m, ("%d bytes" % n) if m != "url" else n) for m, n in images)


def make_text(model, tool_results, big_kb=None):
    if tool_results:
        out = " | ".join(r.strip() for r in tool_results)
        if len(out) > 4000:
            out = out[:4000] + "..."
        text = "%s model=%s. Tool result received: %s" % (MARKER, model, out)
    else:
        text = "%s model=%s. Hello from the fake upstream." % (MARKER, model)
    if big_kb:
        target = big_kb * 1024
        filler = " lorem ipsum dolor sit amet"
        reps = max(0, (target - len(text)) // len(filler) + 1)
        text = text + filler * reps
        text = text[:max(target, len(MARKER) + len(model) + 10)]
    return text


# ----------------------------------------------------------------------------
# tool selection
# ----------------------------------------------------------------------------

def _lower_type(t):
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), "string")
    return str(t or "").lower()


def gen_value(name, schema):
    if not isinstance(schema, dict):
        return "FAKE"
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    t = _lower_type(schema.get("type"))
    if t == "string" or not t:
        if name in ("command", "cmd"):
            return TOOL_MARKER_CMD
        return "FAKE"
    if t in ("integer", "number"):
        return 1
    if t == "boolean":
        return False
    if t == "array":
        if name in ("command", "cmd"):
            return ["bash", "-lc", TOOL_MARKER_CMD]
        return []
    if t == "object":
        return gen_args(schema)
    return "FAKE"


def gen_args(schema):
    if not isinstance(schema, dict):
        return {}
    props = schema.get("properties") or {}
    out = {}
    for name in schema.get("required") or []:
        out[name] = gen_value(name, props.get(name, {}))
    return out


def pick_tool(tools):
    """tools: list of dicts {name, schema, kind}; kind 'function' or 'custom'.

    Returns (kind, name, args_or_input) or None."""
    by_name = {t["name"]: t for t in tools}
    if "Bash" in by_name and by_name["Bash"]["kind"] == "function":      # Claude Code
        return ("function", "Bash", {"command": TOOL_MARKER_CMD,
                                     "description": "Print the fake tool marker"})
    if "exec_command" in by_name and by_name["exec_command"]["kind"] == "function":  # Codex
        return ("function", "exec_command", {"cmd": TOOL_MARKER_CMD})
    if "shell" in by_name and by_name["shell"]["kind"] == "function":    # older Codex
        schema = by_name["shell"]["schema"] or {}
        ctype = _lower_type(((schema.get("properties") or {}).get("command") or {}).get("type"))
        cmd = ["bash", "-lc", TOOL_MARKER_CMD] if ctype == "array" else TOOL_MARKER_CMD
        return ("function", "shell", {"command": cmd})
    if "exec" in by_name and by_name["exec"]["kind"] == "custom":         # Codex code mode
        return ("custom", "exec",
                'const r = await tools.exec_command({cmd: "%s"});\ntext(r.output);' % TOOL_MARKER_CMD)
    for t in tools:
        if t["kind"] != "function":
            continue
        props = (t["schema"] or {}).get("properties") or {}
        for cname in ("command", "cmd"):
            if _lower_type((props.get(cname) or {}).get("type")) == "string":
                args = gen_args(t["schema"])
                args[cname] = TOOL_MARKER_CMD
                return ("function", t["name"], args)
    for t in tools:
        if t["kind"] == "function":
            return ("function", t["name"], gen_args(t["schema"]))
    return None


def plan_answer(model, tools, last_kind, last_text, tool_results, tool_choice_none,
                big_kb=None):
    """Returns the abstract answer: dict(kind='text'|'function'|'custom', ...)."""
    if last_kind == "user" and tools and not tool_choice_none and TEXT_ONLY_MARKER not in last_text:
        picked = pick_tool(tools)
        if picked:
            kind, name, payload = picked
            return {"kind": kind, "name": name, "args": payload if kind == "function" else None,
                    "input": payload if kind == "custom" else None,
                    "call_id": "call_" + hexid(24)}
    return {"kind": "text", "text": make_text(model, tool_results, big_kb)}


# --- per-API conversation analysis -------------------------------------------

def analyze_anthropic(body):
    tools = []
    for t in body.get("tools") or []:
        if isinstance(t, dict) and t.get("name") and (
                "input_schema" in t or t.get("type") in (None, "custom")):
            tools.append({"name": t["name"], "schema": t.get("input_schema") or {}, "kind": "function"})
    tc = body.get("tool_choice")
    tc_none = isinstance(tc, dict) and tc.get("type") == "none"
    msgs = [m for m in body.get("messages") or [] if isinstance(m, dict) and m.get("role") != "system"]
    last = msgs[-1] if msgs else {}
    results = []
    content = last.get("content")
    if isinstance(content, list):
        for b in content:
            if isinstance(b, dict) and b.get("type") == "tool_result":
                results.append(text_of(b.get("content")))
    if last.get("role") == "user":
        kind = "tool_result" if results else "user"
    else:
        kind = last.get("role") or "none"
    return tools, kind, text_of(content), results, tc_none


def analyze_chat(body):
    tools = []
    for t in body.get("tools") or []:
        if isinstance(t, dict) and t.get("type", "function") == "function" and isinstance(t.get("function"), dict):
            f = t["function"]
            if f.get("name"):
                tools.append({"name": f["name"], "schema": f.get("parameters") or {}, "kind": "function"})
        elif isinstance(t, dict) and t.get("type") == "custom" and isinstance(t.get("custom"), dict):
            tools.append({"name": t["custom"].get("name"), "schema": {}, "kind": "custom"})
    for f in body.get("functions") or []:
        if isinstance(f, dict) and f.get("name"):
            tools.append({"name": f["name"], "schema": f.get("parameters") or {}, "kind": "function"})
    tc_none = body.get("tool_choice") == "none"
    msgs = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    results = []
    i = len(msgs) - 1
    while i >= 0 and msgs[i].get("role") in ("tool", "function"):
        results.insert(0, text_of(msgs[i].get("content")))
        i -= 1
    last = msgs[-1] if msgs else {}
    if results:
        kind = "tool_result"
    else:
        kind = last.get("role") or "none"
    return tools, kind, text_of(last.get("content")), results, tc_none


RESPONSES_TOOL_OUTPUTS = ("function_call_output", "custom_tool_call_output",
                          "local_shell_call_output", "computer_call_output",
                          "mcp_call_output", "tool_search_output")


def _responses_tools(tool_list, out):
    for t in tool_list or []:
        if not isinstance(t, dict):
            continue
        ty = t.get("type")
        if ty == "function" and t.get("name"):
            out.append({"name": t["name"], "schema": t.get("parameters") or {}, "kind": "function"})
        elif ty == "custom" and t.get("name"):
            out.append({"name": t["name"], "schema": {}, "kind": "custom"})
        elif ty == "namespace" and t.get("name") == "functions":
            # code mode: the "functions" namespace holds the plain tools
            _responses_tools(t.get("tools"), out)


def analyze_responses(body):
    tools = []
    _responses_tools(body.get("tools"), tools)
    inp = body.get("input")
    items = []
    if isinstance(inp, str):
        items = [{"type": "message", "role": "user", "content": inp}]
    elif isinstance(inp, list):
        items = [i for i in inp if isinstance(i, dict)]
    for it in items:
        if it.get("type") == "additional_tools":
            _responses_tools(it.get("tools"), tools)
    tc_none = body.get("tool_choice") == "none"
    results = []
    i = len(items) - 1
    while i >= 0 and items[i].get("type") in RESPONSES_TOOL_OUTPUTS:
        results.insert(0, text_of(items[i].get("output")))
        i -= 1
    last = items[-1] if items else {}
    if results:
        kind = "tool_result"
    elif last.get("type", "message") == "message" and last.get("role") == "user":
        kind = "user"
    else:
        kind = last.get("role") or last.get("type") or "none"
    return tools, kind, text_of(last.get("content")), results, tc_none


def analyze_gemini(body):
    tools = []
    for t in body.get("tools") or []:
        if not isinstance(t, dict):
            continue
        for f in (t.get("functionDeclarations") or t.get("function_declarations") or []):
            if isinstance(f, dict) and f.get("name"):
                schema = (f.get("parametersJsonSchema") or f.get("parameters_json_schema")
                          or f.get("parameters") or {})
                tools.append({"name": f["name"], "schema": schema, "kind": "function"})
    tc = body.get("toolConfig") or body.get("tool_config") or {}
    fcc = tc.get("functionCallingConfig") or tc.get("function_calling_config") or {}
    tc_none = str(fcc.get("mode", "")).upper() == "NONE"
    contents = [c for c in body.get("contents") or [] if isinstance(c, dict)]
    last = contents[-1] if contents else {}
    results = []
    texts = []
    for p in last.get("parts") or []:
        if not isinstance(p, dict):
            continue
        fr = p.get("functionResponse") or p.get("function_response")
        if isinstance(fr, dict):
            results.append(json.dumps(fr.get("response")))
        if isinstance(p.get("text"), str):
            texts.append(p["text"])
    role = last.get("role") or "user"
    kind = "tool_result" if results else ("user" if role == "user" else role)
    return tools, kind, "".join(texts), results, tc_none


# ----------------------------------------------------------------------------
# error bodies
# ----------------------------------------------------------------------------

STATUS_TEXT = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
               405: "Method Not Allowed", 426: "Upgrade Required", 429: "Too Many Requests",
               500: "Internal Server Error", 503: "Service Unavailable", 529: "Overloaded"}

OPENAI_ERR = {400: ("invalid_request_error", None), 401: ("invalid_request_error", "invalid_api_key"),
              403: ("permission_denied", "unsupported_country_region_territory"),
              404: ("invalid_request_error", "not_found"),
              405: ("invalid_request_error", "method_not_allowed"),
              429: ("requests", "rate_limit_exceeded"), 500: ("server_error", None),
              503: ("server_error", "service_unavailable"), 529: ("server_error", "overloaded")}
ANTHROPIC_ERR = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                 404: "not_found_error", 405: "invalid_request_error", 413: "request_too_large",
                 429: "rate_limit_error", 500: "api_error", 503: "api_error", 529: "overloaded_error"}
GEMINI_ERR = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
              404: "NOT_FOUND", 405: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
              503: "UNAVAILABLE", 529: "UNAVAILABLE"}


def error_body(api, status, message):
    if api == "anthropic":
        return {"type": "error", "error": {"type": ANTHROPIC_ERR.get(status, "api_error"), "message": message},
                "request_id": "req_" + hexid(24)}
    if api == "gemini":
        return {"error": {"code": status, "message": message, "status": GEMINI_ERR.get(status, "UNKNOWN")}}
    etype, code = OPENAI_ERR.get(status, ("server_error", None))
    return {"error": {"message": message, "type": etype, "param": None, "code": code}}


def openai_429_reset_body():
    return {"error": {"message": "Rate limit reached for requests (fake). Please try again in 6m0s.",
                      "type": "requests", "param": None, "code": "rate_limit_exceeded"}}


def anthropic_429_body():
    return {"type": "error", "error": {"type": "rate_limit_error",
                                       "message": "This request would exceed your organization's rate limit (fake)."},
            "request_id": "req_" + hexid(24)}


def gemini_429_body():
    return {"error": {"code": 429, "message": "Resource has been exhausted (fake quota).",
                      "status": "RESOURCE_EXHAUSTED",
                      "details": [
                          {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                           "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                                           "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                                           "quotaDimensions": {"location": "global", "model": "fake"},
                                           "quotaValue": "10"}]},
                          {"@type": "type.googleapis.com/google.rpc.Help",
                           "links": [{"description": "Learn more about Gemini API quotas",
                                      "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
                          {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "30s"}]}}


# The 429 headers of the hostile-number behaviours (fake-429-*-huge, -far): far beyond any sane wait.
HOSTILE_429_HEADERS = {
    "429-retry-after-huge": lambda: {"Retry-After": "1e300"},
    "429-retry-after-ms-huge": lambda: {"retry-after-ms": "1e300"},
    "429-retry-after-date-far": lambda: {"Retry-After": "Fri, 31 Dec 2147483647 23:59:59 GMT"},
    "429-reset-far": lambda: {
        "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "99999999999999h",
        "anthropic-ratelimit-requests-remaining": "0", "anthropic-ratelimit-requests-reset": "9999-12-31T23:59:59Z"},
}


def usage_limit_body():
    return {"error": {"type": "usage_limit_reached",
                      "message": "The usage limit has been reached (fake).",
                      "plan_type": "plus",
                      "resets_at": int(time.time()) + 3600,
                      "resets_in_seconds": 3600}}


# ----------------------------------------------------------------------------
# model lists
# ----------------------------------------------------------------------------

OPENAI_MODELS = ["gpt-5", "gpt-5-codex", "gpt-5.5", "gpt-4o-mini"]
ANTHROPIC_MODELS = ["claude-sonnet-4-6", "claude-opus-5-5", "claude-haiku-4-5"]
GEMINI_MODELS = ["gemini-2.5-flash", "gemini-2.5-pro"]


def openai_models():
    return {"object": "list", "data": [{"id": m, "object": "model", "created": 1700000000,
                                        "owned_by": "fake-upstream"} for m in OPENAI_MODELS]}


def anthropic_models():
    data = [{"type": "model", "id": m, "display_name": m.replace("-", " ").title(),
             "created_at": "2025-09-29T00:00:00Z"} for m in ANTHROPIC_MODELS]
    return {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}


def gemini_model(m):
    return {"name": "models/" + m, "version": "001", "displayName": m, "description": "fake " + m,
            "inputTokenLimit": 1048576, "outputTokenLimit": 65536,
            "supportedGenerationMethods": ["generateContent", "countTokens", "streamGenerateContent"],
            "temperature": 1, "topP": 0.95, "topK": 64, "maxTemperature": 2, "thinking": True}


def gemini_models():
    return {"models": [gemini_model(m) for m in GEMINI_MODELS]}


# ----------------------------------------------------------------------------
# response builders: each returns (non_stream_json, [stream events as bytes])
# ----------------------------------------------------------------------------

def sse(event, data):
    if event:
        return ("event: %s\ndata: %s\n\n" % (event, json.dumps(data))).encode()
    return ("data: %s\n\n" % json.dumps(data)).encode()


def n_deltas(ctx):
    if ctx.get("slow"):
        return 20
    if ctx.get("big_kb"):
        return max(5, ctx["big_kb"])
    return 5


def build_anthropic(ctx, ans):
    model, in_tok = ctx["model"], ctx["in_tok"]
    msg_id = "msg_" + hexid(24)
    if ans["kind"] == "text":
        out_tok = max(1, len(ans["text"]) // 4)
        content = [{"type": "text", "text": ans["text"]}]
        stop = "end_turn"
    else:
        out_tok = 20
        content = [{"type": "tool_use", "id": "toolu_" + hexid(24), "name": c["name"], "input": c["args"]}
                   for c in [ans] + ans.get("more", [])]
        stop = "tool_use"
    th = ctx["body"].get("thinking") or {}
    thinking = ans.get("reasoning") if th.get("type") in ("enabled", "adaptive") else None
    signature = "fakesig_" + hexid(32) if thinking else None
    if thinking:
        content = [{"type": "thinking", "thinking": thinking, "signature": signature}] + content
        with ISSUED.lock:
            ISSUED.anthropic[signature] = thinking
    usage = {"input_tokens": in_tok, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
             "output_tokens": out_tok, "service_tier": "standard"}
    full = {"id": msg_id, "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": stop, "stop_sequence": None, "usage": usage}
    ev = [sse("message_start", {"type": "message_start", "message": {
        "id": msg_id, "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": in_tok, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                  "output_tokens": 1, "service_tier": "standard"}}})]
    idx = 0
    if thinking:
        ev.append(sse("content_block_start", {"type": "content_block_start", "index": 0,
                                              "content_block": {"type": "thinking", "thinking": "", "signature": ""}}))
        for d in split_deltas(thinking, 3):
            ev.append(sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                  "delta": {"type": "thinking_delta", "thinking": d}}))
        ev.append(sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                              "delta": {"type": "signature_delta", "signature": signature}}))
        ev.append(sse("content_block_stop", {"type": "content_block_stop", "index": 0}))
        idx = 1
    if ans["kind"] == "text":
        ev.append(sse("content_block_start", {"type": "content_block_start", "index": idx,
                                              "content_block": {"type": "text", "text": ""}}))
        ev.append(sse("ping", {"type": "ping"}))
        for d in split_deltas(ans["text"], n_deltas(ctx)):
            ev.append(sse("content_block_delta", {"type": "content_block_delta", "index": idx,
                                                  "delta": {"type": "text_delta", "text": d}}))
    else:
        for k, full_block in enumerate(content[idx:]):
            if k:
                ev.append(sse("content_block_stop", {"type": "content_block_stop", "index": idx}))
                idx += 1
            block = dict(full_block, input={})
            ev.append(sse("content_block_start", {"type": "content_block_start", "index": idx,
                                                  "content_block": block}))
            ev.append(sse("ping", {"type": "ping"}))
            for d in split_deltas(json.dumps(full_block["input"]), n_deltas(ctx)):
                ev.append(sse("content_block_delta", {"type": "content_block_delta", "index": idx,
                                                      "delta": {"type": "input_json_delta", "partial_json": d}}))
    ev.append(sse("content_block_stop", {"type": "content_block_stop", "index": idx}))
    ev.append(sse("message_delta", {"type": "message_delta",
                                    "delta": {"stop_reason": stop, "stop_sequence": None},
                                    "usage": {"input_tokens": in_tok, "cache_creation_input_tokens": 0,
                                              "cache_read_input_tokens": 0, "output_tokens": out_tok}}))
    ev.append(sse("message_stop", {"type": "message_stop"}))
    return full, ev


def build_chat(ctx, ans):
    model, in_tok = ctx["model"], ctx["in_tok"]
    cid = "chatcmpl-" + hexid(24)
    created = int(time.time())
    if ans["kind"] == "text":
        out_tok = max(1, len(ans["text"]) // 4)
        message = {"role": "assistant", "content": ans["text"], "refusal": None, "annotations": []}
        finish = "stop"
    else:
        out_tok = 20
        calls = []
        for c in [ans] + ans.get("more", []):
            args = json.dumps(c["args"]) if ans["kind"] == "function" else ans["input"]
            calls.append({"id": c["call_id"], "type": "function", "function": {"name": c["name"], "arguments": args}})
        message = {"role": "assistant", "content": None, "refusal": None, "annotations": [], "tool_calls": calls}
        finish = "tool_calls"
    thinking = ans.get("reasoning")
    if thinking:
        message["reasoning_content"] = thinking
    usage = {"prompt_tokens": in_tok, "completion_tokens": out_tok, "total_tokens": in_tok + out_tok,
             "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
             "completion_tokens_details": {"reasoning_tokens": 12 if thinking else 0, "audio_tokens": 0,
                                           "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}
    full = {"id": cid, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
            "usage": usage, "service_tier": "default", "system_fingerprint": "fp_fake"}
    inc_usage = bool((ctx["body"].get("stream_options") or {}).get("include_usage"))

    def chunk(delta, finish_reason=None, choices=True):
        c = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
             "service_tier": "default", "system_fingerprint": "fp_fake",
             "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
             if choices else []}
        if inc_usage:
            c["usage"] = None
        return c

    ev = []
    if thinking:
        ev.append(sse(None, chunk({"role": "assistant", "content": None, "reasoning_content": ""})))
        for d in split_deltas(thinking, 3):
            ev.append(sse(None, chunk({"reasoning_content": d})))
    if ans["kind"] == "text":
        ev.append(sse(None, chunk({"role": "assistant", "content": "", "refusal": None})))
        for d in split_deltas(ans["text"], n_deltas(ctx)):
            ev.append(sse(None, chunk({"content": d})))
    else:
        for k, call in enumerate(message["tool_calls"]):
            first = {"role": "assistant", "content": None} if k == 0 else {}
            ev.append(sse(None, chunk(dict(first, tool_calls=[
                {"index": k, "id": call["id"], "type": "function",
                 "function": {"name": call["function"]["name"], "arguments": ""}}]))))
            for d in split_deltas(call["function"]["arguments"], n_deltas(ctx)):
                ev.append(sse(None, chunk({"tool_calls": [{"index": k, "function": {"arguments": d}}]})))
    ev.append(sse(None, chunk({}, finish)))
    if inc_usage:
        u = chunk({}, choices=False)
        u["usage"] = usage
        ev.append(sse(None, u))
    ev.append(b"data: [DONE]\n\n")
    return full, ev


def build_responses(ctx, ans):
    model, in_tok, body = ctx["model"], ctx["in_tok"], ctx["body"]
    rid = "resp_" + hexid(32)
    created = int(time.time())
    cached = in_tok // 2 if body.get("prompt_cache_key") else 0
    if ans["kind"] == "text":
        out_tok = max(1, len(ans["text"]) // 4)
        item = {"type": "message", "id": "msg_" + hexid(32), "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": ans["text"], "annotations": [], "logprobs": []}]}
    elif ans["kind"] == "function":
        out_tok = 20
        item = {"type": "function_call", "id": "fc_" + hexid(32), "call_id": ans["call_id"],
                "name": ans["name"], "arguments": json.dumps(ans["args"]), "status": "completed"}
    else:
        out_tok = 20
        item = {"type": "custom_tool_call", "id": "ctc_" + hexid(32), "call_id": ans["call_id"],
                "name": ans["name"], "input": ans["input"], "status": "completed"}
    thinking = ans.get("reasoning")
    ritem = None
    if thinking:
        # A reasoning model always reasons; the summary text comes back only when reasoning.summary asks.
        show = (body.get("reasoning") or {}).get("summary") in ("auto", "concise", "detailed")
        ritem = {"type": "reasoning", "id": "rs_" + hexid(32),
                 "summary": [{"type": "summary_text", "text": thinking}] if show else []}
        if "reasoning.encrypted_content" in (body.get("include") or []):
            ritem["encrypted_content"] = "fakeenc_" + hexid(32)
        with ISSUED.lock:
            ISSUED.reasoning_ids.add(ritem["id"])
            if "encrypted_content" in ritem:
                ISSUED.encrypted.add(ritem["encrypted_content"])
    usage = {"input_tokens": in_tok, "input_tokens_details": {"cached_tokens": cached},
             "output_tokens": out_tok, "output_tokens_details": {"reasoning_tokens": 12 if thinking else 0},
             "total_tokens": in_tok + out_tok}

    def resp(status, output, usage_):
        return {"id": rid, "object": "response", "created_at": created, "status": status,
                "background": False, "error": None, "incomplete_details": None,
                "instructions": body.get("instructions"), "max_output_tokens": body.get("max_output_tokens"),
                "max_tool_calls": None, "model": model, "output": output,
                "parallel_tool_calls": body.get("parallel_tool_calls", True),
                "previous_response_id": body.get("previous_response_id"),
                "prompt_cache_key": body.get("prompt_cache_key"),
                "reasoning": {"effort": (body.get("reasoning") or {}).get("effort"),
                              "summary": (body.get("reasoning") or {}).get("summary")},
                "service_tier": "default", "store": body.get("store", True),
                "temperature": 1.0, "text": {"format": {"type": "text"}, "verbosity": "medium"},
                "tool_choice": body.get("tool_choice", "auto"), "tools": [], "top_logprobs": 0,
                "top_p": 1.0, "truncation": "disabled", "usage": usage_, "user": None, "metadata": {}}

    items = [item] + [{"type": "function_call", "id": "fc_" + hexid(32), "call_id": c["call_id"], "name": c["name"],
                       "arguments": json.dumps(c["args"]), "status": "completed"} for c in ans.get("more", [])]
    full = resp("completed", ([ritem] if ritem else []) + items, usage)
    seq = [0]

    def ev(etype, **fields):
        d = {"type": etype}
        d.update(fields)
        d["sequence_number"] = seq[0]
        seq[0] += 1
        return sse(etype, d)

    out = [ev("response.created", response=resp("in_progress", [], None)),
           ev("response.in_progress", response=resp("in_progress", [], None))]
    iid = item["id"]
    oi = 0
    if ritem:
        rid_ = ritem["id"]
        out.append(ev("response.output_item.added", output_index=0, item=dict(ritem, summary=[])))
        if show:
            out.append(ev("response.reasoning_summary_part.added", item_id=rid_, output_index=0, summary_index=0,
                          part={"type": "summary_text", "text": ""}))
            for d in split_deltas(thinking, 3):
                out.append(ev("response.reasoning_summary_text.delta", item_id=rid_, output_index=0,
                              summary_index=0, delta=d))
            out.append(ev("response.reasoning_summary_text.done", item_id=rid_, output_index=0, summary_index=0,
                          text=thinking))
            out.append(ev("response.reasoning_summary_part.done", item_id=rid_, output_index=0, summary_index=0,
                          part={"type": "summary_text", "text": thinking}))
        out.append(ev("response.output_item.done", output_index=0, item=ritem))
        oi = 1
    if ans["kind"] == "text":
        text = ans["text"]
        added = dict(item, status="in_progress", content=[])
        part0 = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        out.append(ev("response.output_item.added", output_index=oi, item=added))
        out.append(ev("response.content_part.added", item_id=iid, output_index=oi, content_index=0, part=part0))
        for d in split_deltas(text, n_deltas(ctx)):
            out.append(ev("response.output_text.delta", item_id=iid, output_index=oi, content_index=0,
                          delta=d, logprobs=[]))
        out.append(ev("response.output_text.done", item_id=iid, output_index=oi, content_index=0,
                      text=text, logprobs=[]))
        out.append(ev("response.content_part.done", item_id=iid, output_index=oi, content_index=0,
                      part=item["content"][0]))
    elif ans["kind"] == "function":
        for k, it in enumerate(items):
            if k:
                out.append(ev("response.output_item.done", output_index=oi, item=items[k - 1]))
                oi += 1
            out.append(ev("response.output_item.added", output_index=oi,
                          item=dict(it, status="in_progress", arguments="")))
            for d in split_deltas(it["arguments"], n_deltas(ctx)):
                out.append(ev("response.function_call_arguments.delta", item_id=it["id"], output_index=oi, delta=d))
            out.append(ev("response.function_call_arguments.done", item_id=it["id"], output_index=oi,
                          name=it["name"], arguments=it["arguments"]))
        item = items[-1]
    else:
        out.append(ev("response.output_item.added", output_index=oi,
                      item=dict(item, status="in_progress", input="")))
        for d in split_deltas(item["input"], n_deltas(ctx)):
            out.append(ev("response.custom_tool_call_input.delta", item_id=iid, output_index=oi, delta=d))
        out.append(ev("response.custom_tool_call_input.done", item_id=iid, output_index=oi, input=item["input"]))
    out.append(ev("response.output_item.done", output_index=oi, item=item))
    out.append(ev("response.completed", response=full))
    return full, out


def build_gemini(ctx, ans, sse_mode):
    model, in_tok = ctx["model"], ctx["in_tok"]
    resp_id = hexid(22)
    if ans["kind"] == "text":
        out_tok = max(1, len(ans["text"]) // 4)
        parts_full = [{"text": ans["text"]}]
        pieces = [[{"text": d}] for d in split_deltas(ans["text"], n_deltas(ctx))]
    else:
        out_tok = 20
        fc = {"name": ans["name"], "args": ans["args"] if ans["kind"] == "function" else {"input": ans["input"]}}
        parts_full = [{"functionCall": fc}] + [{"functionCall": {"name": c["name"], "args": c["args"]}}
                                               for c in ans.get("more", [])]
        pieces = [parts_full]
    usage = {"promptTokenCount": in_tok, "candidatesTokenCount": out_tok, "totalTokenCount": in_tok + out_tok,
             "promptTokensDetails": [{"modality": "TEXT", "tokenCount": in_tok}]}
    thinking = ans.get("reasoning")
    if thinking:
        # The model thinks either way (and signs its first part, as Gemini does with function calls); the
        # thoughts themselves come back only when includeThoughts asks for them.
        gc = ctx["body"].get("generationConfig") or ctx["body"].get("generation_config") or {}
        tc = gc.get("thinkingConfig") or gc.get("thinking_config") or {}
        show = bool(tc.get("includeThoughts") or tc.get("include_thoughts"))
        sig = base64.b64encode(b"fake-thought-signature-" + hexid(16).encode()).decode()
        thoughts = [{"text": thinking, "thought": True}] if show else []
        parts_full = thoughts + [dict(parts_full[0], thoughtSignature=sig)] + parts_full[1:]
        first = pieces[0]
        pieces = ([[{"text": d, "thought": True}] for d in split_deltas(thinking, 3)] if show else []) + \
            [[dict(first[0], thoughtSignature=sig)] + first[1:]] + pieces[1:]
        usage["thoughtsTokenCount"] = 12
        usage["totalTokenCount"] += 12
        with ISSUED.lock:
            ISSUED.gemini.add(sig)
    elif ans["kind"] != "text" and str(model).startswith("gemini-3"):
        # Gemini 3 always thinks, and signs each step's first function call.
        sig = base64.b64encode(b"fake-thought-signature-" + hexid(16).encode()).decode()
        parts_full = [dict(parts_full[0], thoughtSignature=sig)] + parts_full[1:]
        pieces = [parts_full]
        with ISSUED.lock:
            ISSUED.gemini.add(sig)

    def cand(parts, finish):
        c = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if finish:
            c["finishReason"] = "STOP"
        return c

    full = {"candidates": [cand(parts_full, True)], "usageMetadata": usage, "modelVersion": model,
            "responseId": resp_id}
    chunks = []
    for i, p in enumerate(pieces):
        last = i == len(pieces) - 1
        u = usage if last else {"promptTokenCount": in_tok, "totalTokenCount": in_tok}
        chunks.append({"candidates": [cand(p, last)], "usageMetadata": u, "modelVersion": model,
                       "responseId": resp_id})
    if sse_mode:
        ev = [("data: %s\r\n\r\n" % json.dumps(c)).encode() for c in chunks]
    else:
        ev = []
        for i, c in enumerate(chunks):
            prefix = "[" if i == 0 else ",\r\n"
            ev.append((prefix + json.dumps(c)).encode())
        ev.append(b"]")
    return full, ev


# ----------------------------------------------------------------------------
# HTTP handler
# ----------------------------------------------------------------------------

GEMINI_RX = re.compile(r"^/(v1|v1beta|v1alpha)/models/([^/:]+)(?::([A-Za-z]+))?$")
AZURE_DEP_RX = re.compile(r"^/openai/deployments/([^/]+)/(chat/completions|completions|responses|embeddings)$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeUpstream/1.0"

    def version_string(self):
        return self.server_version

    # -- plumbing -----------------------------------------------------------

    def setup(self):
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.settimeout(30)
                self.connection.do_handshake()
                self.connection.settimeout(None)
            except Exception:
                self.close_connection = True
                raise

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("fake_upstream: %s - %s\n" % (self.address_string(), fmt % args))

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            data = b""
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data += self.rfile.read(size)
                self.rfile.readline(65537)
        else:
            n = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(n) if n > 0 else b""
        enc = (self.headers.get("Content-Encoding") or "").lower().strip()
        note = None
        if data and enc:
            try:
                if enc == "gzip":
                    data = gzip.decompress(data)
                elif enc == "deflate":
                    data = zlib.decompress(data)
                elif enc != "identity":
                    note = "undecoded content-encoding " + enc
            except Exception as e:
                note = "cannot decode %s: %s" % (enc, e)
        return data, note

    def send_bytes(self, status, data, ctype="application/json", headers=None):
        if self.rec.get("behaviour") in HOSTILE_ANSWERS and self.command != "HEAD":
            return self.send_hostile(status, data, ctype, headers)
        # fake-trailing-response: the answer, then a whole second response nobody asked for, in the same TCP
        # segment (TCP_CORK) but, over TLS, in a record of its own. A client that pools the connection anyway
        # takes it for the answer to its next request.
        trailing = self.rec.get("behaviour") == "trailing-response" and self.command != "HEAD"
        if trailing:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        try:
            self.send_response(status, STATUS_TEXT.get(status))
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            if trailing:
                extra = json.dumps({"smuggled": "FAKE-TRAILING-WRONG-ANSWER"}).encode()
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                                 % (len(extra), extra))
        finally:
            if trailing:
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)

    def send_hostile(self, status, data, ctype, headers):
        """The answer with the hostile framing or headers the key asks for, written as raw bytes (http.server
        would refuse or fix some of them)."""
        beh = self.rec["behaviour"]
        lines = ["HTTP/1.1 %d %s" % (status, STATUS_TEXT.get(status, "OK")), "Server: " + self.server_version,
                 "Content-Type: " + ctype] + ["%s: %s" % kv for kv in (headers or {}).items()]

        def chunk(b):
            return b"%x\r\n%s\r\n" % (len(b), b)

        body = data
        if beh == "cl-and-chunked":
            # The length covers the answer only; the chunked body carries a whole second response after it. A
            # proxy that passes the length on hands its keep-alive client that second response as the next one.
            # Each piece follows a moment later, so a proxy has passed the one before on by then.
            lines += ["Content-Length: %d" % len(data), "Transfer-Encoding: chunked"]
            self.wfile.write("\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + chunk(data))
            time.sleep(0.05)
            self.wfile.write(chunk(HOSTILE_SMUGGLED))
            time.sleep(0.05)
            lines, body = None, b"0\r\n\r\n"
        elif beh == "bare-cr-header":
            lines += ["X-Evil: a\rInjected: FAKE-INJECTED", "Content-Length: %d" % len(data)]
        elif beh == "nul-header":
            lines += ["X-Evil: a\x00Injected: FAKE-INJECTED", "Content-Length: %d" % len(data)]
        elif beh == "connection-named-header":
            lines += ["Connection: keep-alive, X-Hop-Secret", "X-Hop-Secret: FAKE-HOP-LEAK", "Content-Length: %d" % len(data)]
        elif beh == "bad-chunk-size":
            lines += ["Transfer-Encoding: chunked"]
            body = b"ffffffffffffffffff\r\n" + data + b"\r\n0\r\n\r\n"
            self.close_connection = True
        elif beh == "gzip-chunked":
            lines += ["Transfer-Encoding: gzip, chunked"]
            body = chunk(gzip.compress(data)) + b"0\r\n\r\n"
        elif beh == "two-content-lengths":
            lines += ["Content-Length: %d" % len(data), "Content-Length: %d" % (len(data) + len(HOSTILE_SMUGGLED))]
            body = data + HOSTILE_SMUGGLED
        elif beh == "many-headers":
            lines += ["X-Pad-%d: p" % i for i in range(150)] + ["Content-Length: %d" % len(data)]
        elif beh == "many-trailers":
            # A good stream: 96 header fields, then 6 trailer fields (together past the head's cap of 100).
            lines += ["X-Pad-%d: p" % i for i in range(92)] + ["Trailer: X-Trailer-0", "Transfer-Encoding: chunked"]
            body = chunk(data) + b"0\r\n" + b"".join(b"X-Trailer-%d: t\r\n" % i for i in range(6)) + b"\r\n"
        elif beh == "status-099":
            # No status (RFC 9110 §15), with a length beside chunks: nothing to pass on.
            lines[0] = "HTTP/1.1 099 OK"
            lines += ["Content-Length: %d" % len(data), "Transfer-Encoding: chunked"]
            body = chunk(data) + b"0\r\n\r\n"
            self.close_connection = True
        elif beh == "status-600":
            lines[0] = "HTTP/1.1 600 OK"
            lines += ["Content-Length: %d" % len(data)]
        self.wfile.write(("\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" if lines else b"") + body)

    def send_json(self, status, obj, headers=None):
        self.rec.setdefault("response", {})["status"] = status
        self.send_bytes(status, json.dumps(obj).encode(), "application/json", headers)

    def send_error_api(self, status, message, headers=None):
        self.rec.setdefault("response", {})["error"] = message
        self.send_json(status, error_body(self.api, status, message), headers)

    def start_chunked(self, status=200, ctype="text/event-stream", headers=None):
        self.rec.setdefault("response", {})["status"] = status
        self.send_response(status, STATUS_TEXT.get(status))
        self.send_header("Content-Type", ctype if ctype != "text/event-stream" else "text/event-stream; charset=utf-8")
        if ctype == "text/event-stream":
            self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.flush()

    def write_chunk(self, data):
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, ssl.SSLError, OSError):
            raise ClientGone()

    def end_chunked(self):
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, ssl.SSLError, OSError):
            raise ClientGone()

    def peer_closed(self, timeout):
        """Waits up to timeout seconds; True when the client has gone away."""
        sock = self.connection
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return False
        try:
            r, _, _ = select.select([sock], [], [], timeout)
        except (ValueError, OSError):
            return True
        if not r:
            return False
        try:
            if isinstance(sock, ssl.SSLSocket):
                data = sock.recv(4096)       # TLS: cannot peek; nothing is expected here anyway
                if data:
                    self.close_connection = True
                return not data
            data = sock.recv(4096, socket.MSG_PEEK)
            if data:
                sock.recv(len(data))         # unexpected bytes (pipelining): drop them
                self.close_connection = True
                return False
            return True
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError, OSError):
            return True

    def wait_until_client_gone(self):
        deadline = time.time() + self.server.hang_max
        while time.time() < deadline and not self.server.stopping:
            if self.peer_closed(1.0):
                RECORDER.mark_aborted(self.rec)
                break
        self.close_connection = True

    def rst_close(self):
        """Abruptly closes the TCP connection with RST (SO_LINGER 0)."""
        try:
            self.wfile.flush()
        except Exception:
            pass
        sock = self.connection
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        for f in (self.wfile, self.rfile):
            try:
                f.close()
            except Exception:
                pass
        try:
            if isinstance(sock, ssl.SSLSocket):
                # close the raw fd without a TLS close_notify
                raw = socket.socket(fileno=sock.detach())
                raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                raw.close()
            else:
                sock.close()
        except OSError:
            pass
        self.close_connection = True
        self.rec.setdefault("response", {})["reset"] = True

    # -- dispatch -----------------------------------------------------------

    def dispatch(self):
        parts = urlsplit(self.path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        body_bytes, note = self.read_body()
        body, body_raw = None, None
        if body_bytes:
            try:
                body = json.loads(body_bytes)
            except Exception:
                body_raw = body_bytes[:2000].decode("utf-8", "replace")
                note = note or "body is not JSON"
        self.api = "openai"
        self.rec = {"time": time.time(), "method": self.command, "path": path, "query": query,
                    "raw_target": self.path, "http_version": self.request_version,
                    "headers": [[k, v] for k, v in self.headers.items()],
                    "body": body, "body_raw": body_raw, "body_note": note,
                    "api": None, "route": None, "key": None, "auth_via": None,
                    "behaviour": None, "behaviour_param": None, "key_tag": None,
                    "client": self.client_address[0], "tls": isinstance(self.connection, ssl.SSLSocket),
                    "protocol": None, "violations": [], "response": {}}
        if path.startswith("/__"):
            return self.control(path, query)
        RECORDER.add(self.rec)
        try:
            self.route(path, query, body, body_bytes)
        except ClientGone:
            RECORDER.mark_aborted(self.rec)
            self.close_connection = True

    def control(self, path, query):
        if path == "/__health":
            return self.send_bytes(200, b'{"ok": true}')
        if path == "/__oauth" and self.command == "GET":
            return self.send_bytes(200, json.dumps(OAUTH.snapshot()).encode())
        if path == "/__requests" and self.command == "GET":
            since = int((query.get("since") or ["0"])[0] or 0)
            return self.send_bytes(200, json.dumps(RECORDER.snapshot(since)).encode())
        if path == "/__reset" and self.command == "POST":
            RECORDER.reset()
            IMAGE_STATS.reset()
            OAUTH.reset()
            return self.send_bytes(200, b'{"ok": true}')
        if path == "/__violations" and self.command == "GET":
            since = int((query.get("since") or ["0"])[0] or 0)
            bad = [{"seq": r["seq"], "protocol": r["protocol"], "path": r["path"], "violations": r["violations"]}
                   for r in RECORDER.snapshot(since) if r.get("violations")]
            return self.send_bytes(200, json.dumps(bad).encode())
        if path == IMAGE_PATH and self.command in ("GET", "HEAD"):
            return self.send_image(query)
        if path == "/__image-stats" and self.command == "GET":
            return self.send_bytes(200, json.dumps(IMAGE_STATS.snapshot()).encode())
        if path == "/__aborted" and self.command == "GET":
            with RECORDER.lock:
                d = {"aborted": RECORDER.aborted, "requests": list(RECORDER.aborted_paths)}
            return self.send_bytes(200, json.dumps(d).encode())
        return self.send_bytes(404, b'{"error": "unknown control path"}')

    def send_image(self, query):
        IMAGE_STATS.enter()
        left = False
        try:
            delay = int((query.get("delay_ms") or ["0"])[0] or 0)
            pad = int((query.get("pad_kib") or ["0"])[0] or 0)
            if delay > 0:
                time.sleep(min(delay, 10_000) / 1000)
            data = IMAGE_PNG + b"\0" * (min(pad, 1 << 20) * 1024)
            self.send_response(200, STATUS_TEXT.get(200))
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command == "HEAD":
                return
            self.wfile.write(data[:-1])
            self.wfile.flush()
            # No longer counted before the last byte goes: once the client has it, it may start its next fetch
            # at once, and this thread leaving after that would count one fetch too many at a time.
            IMAGE_STATS.leave()
            left = True
            self.wfile.write(data[-1:])
        finally:
            if not left:
                IMAGE_STATS.leave()

    def header(self, name):
        return self.headers.get(name)

    def bearer(self):
        a = self.header("Authorization") or ""
        if a[:7].lower() == "bearer ":
            return a[7:].strip()
        return None

    def route(self, path, query, body, body_bytes):
        m = self.command
        if path in ("/oauth/token", "/v1/oauth/token") and m == "POST":
            self.rec["route"] = "oauth.token"
            status, answer = OAUTH.grant(parse_qs((body_bytes or b"").decode("utf-8", "replace"), keep_blank_values=True))
            return self.send_bytes(status, json.dumps(answer).encode())
        # Azure OpenAI
        am = AZURE_DEP_RX.match(path)
        if am:
            self.api = "openai"
            self.rec["api"] = "azure"
            if not query.get("api-version"):
                return self.auth_then(lambda: self.send_error_api(
                    404, "Resource not found (api-version query parameter is required)"), azure=True)
            kind = am.group(2)
            if kind != "chat/completions" and kind != "responses":
                return self.send_error_api(404, "operation not supported by the fake")
            return self.auth_then(lambda: self.openai_endpoint(
                "chat" if kind == "chat/completions" else "responses", body, default_model=am.group(1)),
                azure=True)
        if path.startswith("/openai/v1/"):
            self.api = "openai"
            self.rec["api"] = "azure"
            sub = path[len("/openai"):]
            return self.openai_routes(sub, body, azure=True)
        gm = GEMINI_RX.match(path)
        goog = bool(self.header("x-goog-api-key") or self.header("x-goog-api-client") or query.get("key"))
        if path in ("/v1beta/models", "/v1alpha/models") or (gm and (gm.group(1) != "v1" or gm.group(3) or goog)):
            self.api = "gemini"
            self.rec["api"] = "gemini"
            return self.gemini_routes(path, gm, query, body)
        if path == "/v1/models" and m == "GET":
            if self.header("anthropic-version") and not self.header("x-goog-api-key"):
                self.api = "anthropic"
                self.rec["api"] = "anthropic"
                self.rec["route"] = "anthropic.models"
                return self.anthropic_auth_then(lambda: self.send_json(200, anthropic_models()))
            if goog:
                self.api = "gemini"
                self.rec["api"] = "gemini"
                return self.gemini_routes(path, None, query, body)
            self.rec["api"] = "openai"
            return self.openai_routes(path, body, azure=False)
        if path in ("/v1/messages", "/v1/messages/count_tokens"):
            self.api = "anthropic"
            self.rec["api"] = "anthropic"
            if m != "POST":
                return self.send_error_api(405, "Method not allowed")
            if path.endswith("count_tokens"):
                self.rec["route"] = "anthropic.count_tokens"
                return self.anthropic_auth_then(lambda: self.anthropic_count(body))
            self.rec["route"] = "anthropic.messages"
            return self.anthropic_auth_then(lambda: self.anthropic_messages(body))
        if path.startswith("/v1/models/") and m == "GET" and self.header("anthropic-version"):
            self.api = "anthropic"
            self.rec["api"] = "anthropic"
            mid = path[len("/v1/models/"):]
            return self.anthropic_auth_then(lambda: self.send_json(200, {
                "type": "model", "id": mid, "display_name": mid, "created_at": "2025-09-29T00:00:00Z"}))
        if path.startswith("/v1/"):
            self.rec["api"] = "openai"
            return self.openai_routes(path, body, azure=False)
        self.api = "openai"
        return self.send_error_api(404, "Unknown path %s (fake upstream)" % path)

    # -- auth ---------------------------------------------------------------

    def check_key(self, key, via):
        self.rec["key"] = key
        self.rec["auth_via"] = via
        if key and "~at-" in key and OAUTH.expired(key) is not False:
            self.send_error_api(401, "The access token expired or was never issued (fake upstream).")
            return None
        b = parse_behaviour(key)
        if b is None:
            if not key:
                self.send_error_api(401, "Missing API key (fake upstream).")
            else:
                self.send_error_api(401, "Incorrect API key provided (fake upstream).")
            return None
        self.rec["behaviour"], self.rec["behaviour_param"], self.rec["key_tag"] = b
        return b

    def auth_then(self, fn, azure=False):
        if azure:
            key, via = self.header("api-key"), "api-key"
            if not key and self.bearer():
                key, via = self.bearer(), "authorization"
        else:
            key, via = self.bearer(), "authorization"
        if self.check_key(key, via) is None:
            return
        return fn()

    def anthropic_auth_then(self, fn):
        key, via = self.header("x-api-key"), "x-api-key"
        if not key and self.bearer():
            key, via = self.bearer(), "authorization"
        if self.check_key(key, via) is None:
            return
        if not self.header("anthropic-version"):
            return self.send_error_api(400, "anthropic-version: header is required")
        return fn()

    def gemini_auth_then(self, query, fn):
        key, via = self.header("x-goog-api-key"), "x-goog-api-key"
        if not key and query.get("key"):
            key, via = query["key"][0], "query"
        if self.check_key(key, via) is None:
            return
        return fn()

    # -- protocol rules -------------------------------------------------------

    def broke_rules(self, protocol, body):
        """Checks a conversation request against its protocol's rules and records the result; in strict
        mode answers 400 (True) when it breaks one."""
        self.rec["protocol"] = protocol
        self.rec["violations"] = protocol_rules.validate(protocol, body) + ISSUED.violations(protocol, body)
        if self.rec["violations"] and self.server.strict:
            self.send_error_api(400, "Request breaks the %s rules (fake upstream, strict): %s"
                                % (protocol, "; ".join(self.rec["violations"])))
            return True
        return False

    # -- OpenAI -------------------------------------------------------------

    def openai_routes(self, path, body, azure):
        m = self.command
        if path == "/v1/chat/completions":
            if m != "POST":
                return self.send_error_api(405, "Method not allowed")
            return self.auth_then(lambda: self.openai_endpoint("chat", body), azure=azure)
        if path == "/v1/responses":
            if m == "GET":
                self.rec["route"] = "openai.responses.websocket"
                if (self.header("Upgrade") or "").lower() == "websocket":
                    self.rec.setdefault("response", {})["status"] = 426
                    return self.send_bytes(426, json.dumps(error_body(
                        "openai", 400, "WebSocket is not supported by the fake upstream; use HTTP POST")).encode())
                return self.send_error_api(405, "Method not allowed")
            if m != "POST":
                return self.send_error_api(405, "Method not allowed")
            return self.auth_then(lambda: self.openai_endpoint("responses", body), azure=azure)
        if path == "/v1/models" and m == "GET":
            self.rec["route"] = "openai.models"
            return self.auth_then(lambda: self.send_json(200, openai_models()), azure=azure)
        if path.startswith("/v1/models/") and m == "GET":
            mid = path[len("/v1/models/"):]
            return self.auth_then(lambda: self.send_json(200, {
                "id": mid, "object": "model", "created": 1700000000, "owned_by": "fake-upstream"}), azure=azure)
        return self.send_error_api(404, "Unknown path %s (fake upstream)" % path)

    def openai_endpoint(self, kind, body, default_model=None):
        self.rec["route"] = "openai." + kind
        if not isinstance(body, dict):
            return self.send_error_api(400, "We could not parse the JSON body of your request.")
        if default_model and not body.get("model"):
            body = dict(body, model=default_model)
        if self.broke_rules(protocol_rules.OPENAI_CHAT if kind == "chat" else protocol_rules.OPENAI_RESPONSES, body):
            return
        if not isinstance(body.get("model"), str) or not body["model"]:
            return self.send_error_api(400, "you must provide a model parameter")
        if kind == "chat":
            if not isinstance(body.get("messages"), list) or not body["messages"]:
                return self.send_error_api(400, "Missing required parameter: 'messages'.")
            analysis = analyze_chat(body)
        else:
            if not isinstance(body.get("input"), (str, list)):
                return self.send_error_api(400, "Missing required parameter: 'input'.")
            analysis = analyze_responses(body)
        stream = bool(body.get("stream"))
        builder = (lambda ctx, ans: build_chat(ctx, ans)) if kind == "chat" else build_responses
        self.generate(body, analysis, stream, builder)

    # -- Anthropic ----------------------------------------------------------

    def anthropic_messages(self, body):
        if not isinstance(body, dict):
            return self.send_error_api(400, "Request body is not valid JSON.")
        if self.broke_rules(protocol_rules.ANTHROPIC, body):
            return
        for f in ("model", "messages", "max_tokens"):
            if f not in body:
                return self.send_error_api(400, "%s: Field required" % f)
        if not isinstance(body["messages"], list) or not isinstance(body["model"], str):
            return self.send_error_api(400, "messages: Input should be a valid list")
        self.generate(body, analyze_anthropic(body), bool(body.get("stream")), build_anthropic)

    def anthropic_count(self, body):
        if not isinstance(body, dict):
            return self.send_error_api(400, "Request body is not valid JSON.")
        for f in ("model", "messages"):
            if f not in body:
                return self.send_error_api(400, "%s: Field required" % f)
        if self.apply_error_behaviour():
            return
        self.send_json(200, {"input_tokens": approx_tokens(body)})

    # -- Gemini -------------------------------------------------------------

    def gemini_routes(self, path, gm, query, body):
        m = self.command
        if gm is None or not gm.group(3):
            if m != "GET":
                return self.send_error_api(405, "Method not allowed")
            if gm is None:
                self.rec["route"] = "gemini.models"
                return self.gemini_auth_then(query, lambda: self.send_json(200, gemini_models()))
            self.rec["route"] = "gemini.model"
            return self.gemini_auth_then(query, lambda: self.send_json(200, gemini_model(gm.group(2))))
        model, verb = gm.group(2), gm.group(3)
        self.rec["route"] = "gemini." + verb
        if m != "POST":
            return self.send_error_api(405, "Method not allowed")
        if verb not in ("generateContent", "streamGenerateContent", "countTokens", "embedContent", "batchEmbedContents"):
            return self.send_error_api(404, "Method %s not found (fake upstream)" % verb)

        def go():
            if not isinstance(body, dict):
                return self.send_error_api(400, "Invalid JSON payload received.")
            if verb in ("embedContent", "batchEmbedContents"):
                return self.gemini_embed(model, verb, body)
            if verb == "countTokens":
                contents = body.get("contents")
                if contents is None and isinstance(body.get("generateContentRequest"), dict):
                    contents = body["generateContentRequest"].get("contents")
                if not isinstance(contents, list):
                    return self.send_error_api(400, "contents is required")
                if self.apply_error_behaviour():
                    return
                return self.send_json(200, {"totalTokens": approx_tokens(contents)})
            if self.broke_rules(protocol_rules.GEMINI, dict(body, model=model)):
                return
            if not isinstance(body.get("contents"), list) or not body["contents"]:
                return self.send_error_api(400, "* GenerateContentRequest.contents: contents is not specified")
            b = dict(body, model=model)
            if verb == "generateContent":
                return self.generate(b, analyze_gemini(body), False, lambda c, a: build_gemini(c, a, False))
            sse_mode = (query.get("alt") or [""])[0] == "sse"
            return self.generate(b, analyze_gemini(body), True, lambda c, a: build_gemini(c, a, sse_mode),
                                 ctype="text/event-stream" if sse_mode else "application/json")

        return self.gemini_auth_then(query, go)

    def gemini_embed(self, model, verb, body):
        """ai.google.dev/api/embeddings: embedContent takes {content}, batchEmbedContents {requests: [{model,
        content}]} whose every model must be the path's ("models/" + model); each text gets a vector."""
        def problem(req, where):
            content = req.get("content") if isinstance(req, dict) else None
            parts = content.get("parts") if isinstance(content, dict) else None
            if not isinstance(parts, list) or not parts:
                return "%s.content.parts is required" % where
            if not all(isinstance(p, dict) and isinstance(p.get("text"), str) for p in parts):
                return "%s.content.parts: only text parts can be embedded" % where
            return None

        def vector(req):
            text = " ".join(p["text"] for p in req["content"]["parts"])
            dims = req.get("outputDimensionality") or 8
            return {"values": [round(((len(text) + i) % 17) / 17.0, 4) for i in range(min(int(dims), 64))]}

        if verb == "embedContent":
            why = problem(body, "request")
            if why:
                return self.send_error_api(400, why)
            if self.apply_error_behaviour():
                return
            return self.send_json(200, {"embedding": vector(body)})
        reqs = body.get("requests")
        if not isinstance(reqs, list) or not reqs:
            return self.send_error_api(400, "requests is required")
        for i, r in enumerate(reqs):
            why = problem(r, "requests[%d]" % i)
            if why:
                return self.send_error_api(400, why)
            if r.get("model") != "models/" + model:
                return self.send_error_api(400, "requests[%d].model is %r: it must be the model in the path, models/%s"
                                           % (i, r.get("model"), model))
        if self.apply_error_behaviour():
            return
        return self.send_json(200, {"embeddings": [vector(r) for r in reqs]})

    # -- behaviours -----------------------------------------------------------

    def apply_error_behaviour(self):
        """Sends the error answer a key asks for; True if it did."""
        beh, param = self.rec["behaviour"], self.rec["behaviour_param"]
        api = self.api
        if beh == "429-retry-after":
            self.send_error_api(429, "Rate limited (fake): retry after %d s." % param, {"Retry-After": str(param)})
        elif beh == "429-retry-after-date":
            when = email.utils.formatdate(time.time() + 120, usegmt=True)
            self.send_error_api(429, "Rate limited (fake): retry at %s." % when, {"Retry-After": when})
        elif beh == "429-retry-after-ms":
            self.send_error_api(429, "Rate limited (fake): retry after %d ms." % param,
                                {"retry-after-ms": str(param)})
        elif beh == "429-openai-reset":
            self.send_json(429, openai_429_reset_body(), {
                "x-ratelimit-limit-requests": "500", "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": "6m0s", "x-ratelimit-limit-tokens": "30000",
                "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "1.5s"})
        elif beh == "429-anthropic-reset":
            reset = (datetime.now(timezone.utc) + timedelta(seconds=60)).replace(microsecond=0)
            self.send_json(429, anthropic_429_body(), {
                "anthropic-ratelimit-requests-limit": "50", "anthropic-ratelimit-requests-remaining": "0",
                "anthropic-ratelimit-requests-reset": reset.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "request-id": "req_" + hexid(24)})
        elif beh == "429-gemini":
            self.send_json(429, gemini_429_body())
        elif beh == "429-bare":
            self.send_error_api(429, "Rate limited (fake).")
        elif beh == "usage-limit":
            self.send_json(429, usage_limit_body())
        elif beh == "529":
            self.send_error_api(529, "Overloaded")
        elif beh == "503":
            self.send_error_api(503, "Service unavailable (fake).")
        elif beh == "500":
            self.send_error_api(500, "Internal server error (fake).")
        elif beh == "401":
            self.send_error_api(401, "Invalid authentication (fake-401).")
        elif beh == "403":
            self.send_error_api(403, "Permission denied (fake-403).")
        elif beh.startswith("403-retry-after-"):
            self.send_error_api(403, "Permission denied (fake-403).", {
                "403-retry-after-30": {"Retry-After": "30"}, "403-retry-after-huge": {"Retry-After": "1e300"},
                "403-retry-after-hop": {"Retry-After": "30", "Connection": "Retry-After"}}[beh])
        elif beh == "hang":
            self.rec["response"]["status"] = None
            self.wait_until_client_gone()
        elif beh in HOSTILE_429_HEADERS:
            self.send_error_api(429, "Rate limited (fake, hostile numbers).", HOSTILE_429_HEADERS[beh]())
        elif beh == "usage-limit-far":
            # A reset 400 digits long: a double parser reads it as infinity.
            self.rec.setdefault("response", {})["status"] = 429
            self.send_bytes(429, b'{"error": {"type": "usage_limit_reached", "message": "The usage limit has been reached (fake).", '
                            b'"resets_in_seconds": ' + b"9" * 400 + b', "resets_at": ' + b"9" * 400 + b'}}')
        else:
            return False
        _ = api
        return True

    def generate(self, body, analysis, stream, builder, ctype="text/event-stream"):
        if self.apply_error_behaviour():
            return
        beh, param = self.rec["behaviour"], self.rec["behaviour_param"]
        model = body.get("model") or "unknown-model"
        tools, last_kind, last_text, results, tc_none = analysis
        ans = plan_answer(model, tools, last_kind, last_text, results, tc_none,
                          big_kb=param if beh == "big" else None)
        if REASONING_MARKER in last_text:
            ans["reasoning"] = THOUGHT_TEXT
        if ans["kind"] == "function" and TWO_TOOLS_MARKER in last_text:
            args2 = dict(ans["args"])
            key = next((k for k, x in args2.items() if isinstance(x, str)), None)
            if key:
                args2[key] = args2[key] + "-2"
            ans["more"] = [{"call_id": "call_" + hexid(24), "name": ans["name"], "args": args2}]
        images = find_images(body.get("contents") or body.get("messages") or body.get("input"))
        if images and ans["kind"] == "text":
            ans["text"] += " " + image_report(images)
        if ans["kind"] == "text" and SYSTEM_MARKER in system_text(body):
            ans["text"] += " FAKE-SYSTEM-SEEN"
        in_tok = HUGE_USAGE if beh == "usage-huge" else (param if beh == "usage-n" else approx_tokens(body))
        ctx = {"model": model, "in_tok": in_tok, "body": body,
               "slow": beh == "slow-stream", "big_kb": param if beh == "big" else None}
        full, events = builder(ctx, ans)
        resp = self.rec["response"]
        resp["stream"] = stream
        resp["answer_kind"] = ans["kind"]
        if ans["kind"] != "text":
            resp["tool"] = {"name": ans["name"], "args": ans.get("args"), "input": ans.get("input"),
                            "more": ans.get("more")}
        resp["text"] = ans.get("text", "")[:300] if ans["kind"] == "text" else None
        resp["reasoning"] = bool(ans.get("reasoning"))

        if beh == "hang-after-headers":
            self.start_chunked(200, ctype if stream else "application/json")
            self.wait_until_client_gone()
            return
        if not stream:
            data = json.dumps(full).encode()
            if beh == "reset-midstream":
                self.rec["response"]["status"] = 200
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data[:len(data) // 2])
                except OSError:
                    pass
                return self.rst_close()
            if beh == "slow-stream":
                if self.peer_closed(param * 20 / 1000.0):
                    raise ClientGone()
            return self.send_json(200, full)

        self.start_chunked(200, ctype)
        delay = param / 1000.0 if beh == "slow-stream" else 0.0
        for i, e in enumerate(events):
            if beh in ("reset-midstream", "reset-stream-only") and i == 2:
                return self.rst_close()
            if i and delay:
                if self.peer_closed(delay):
                    raise ClientGone()
            elif self.peer_closed(0):
                raise ClientGone()
            self.write_chunk(e)
        self.end_chunked()
        resp["completed"] = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--hang-max", type=float, default=900.0,
                    help="longest a fake-hang connection is held open, seconds")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--strict", action="store_true",
                    help="answer 400 to requests that break their protocol's rules (they are recorded either way)")
    a = ap.parse_args(argv)
    if not (a.host.startswith("127.") or a.host in ("localhost", "::1")):
        ap.error("the fake only binds loopback addresses")
    srv = Server((a.host, a.port), Handler)
    srv.verbose = a.verbose
    srv.strict = a.strict
    srv.hang_max = a.hang_max
    srv.stopping = False
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    port = srv.server_address[1]
    tmp = a.port_file + ".tmp%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, a.port_file)
    if a.verbose:
        sys.stderr.write("fake_upstream listening on %s:%d%s\n" % (a.host, port, " (TLS)" if a.tls_cert else ""))
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stopping = True
        srv.server_close()


if __name__ == "__main__":
    main()
