"""Request rules of the four wire protocols, as the real services enforce them (a strict subset).

    validate(protocol, body) -> [violation, ...]      (empty: the request is acceptable)

protocol is one of PROTOCOLS. Each violation is a short sentence that names the JSON path it is about,
e.g. "messages[2]: a tool message needs a tool_call_id that answers a prior assistant tool_calls id".
The rules are the ones a translating proxy most easily breaks: roles and their order, tool call / tool
result pairing, content part shapes, tool declarations, fields that belong to another protocol.

Python standard library only.
"""

import base64
import binascii
import json
import re

OPENAI_CHAT = "openai-chat"
OPENAI_RESPONSES = "openai-responses"
ANTHROPIC = "anthropic-messages"
GEMINI = "gemini"
PROTOCOLS = (OPENAI_CHAT, OPENAI_RESPONSES, ANTHROPIC, GEMINI)

TOOL_NAME_RX = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
DATA_URL_RX = re.compile(r"^data:([a-zA-Z0-9.+-]+/[a-zA-Z0-9.+-]+);base64,(.*)$", re.S)
ANTHROPIC_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


def validate(protocol, body):
    if not isinstance(body, dict):
        return ["body: must be a JSON object"]
    v = []
    {OPENAI_CHAT: _chat, OPENAI_RESPONSES: _responses, ANTHROPIC: _anthropic, GEMINI: _gemini}[protocol](body, v)
    return v


# ----------------------------------------------------------------------------
# shared helpers
# ----------------------------------------------------------------------------

def b64_len(data):
    """Decoded length of strict base64, or None when it is not valid base64."""
    if not isinstance(data, str) or not data:
        return None
    try:
        return len(base64.b64decode(data, validate=True))
    except (binascii.Error, ValueError):
        return None


def parse_data_url(url):
    """(mime, decoded bytes) of a base64 data: URL, or None."""
    m = DATA_URL_RX.match(url or "")
    if not m:
        return None
    try:
        return m.group(1), base64.b64decode(m.group(2), validate=True)
    except (binascii.Error, ValueError):
        return None


def _unknown_keys(obj, known, path, v):
    for k in obj:
        if k not in known:
            v.append("%s: unknown field %r" % (path, k))


def _list_items(value, path, v):
    """(path of each item, item) of a list field; a field that is not a list is reported and yields none."""
    if value is None:
        return []
    if not isinstance(value, list):
        v.append("%s: must be a list" % path)
        return []
    return [("%s[%d]" % (path, j), item) for j, item in enumerate(value)]


def _is_http_url(u):
    return isinstance(u, str) and (u.startswith("http://") or u.startswith("https://"))


def _check_image_url(url, path, v):
    if not isinstance(url, str) or not url:
        v.append("%s: an image URL must be a non-empty string" % path)
    elif url.startswith("data:"):
        if parse_data_url(url) is None:
            v.append("%s: a data URL must be data:<mime>;base64,<valid base64>" % path)
    elif not _is_http_url(url):
        v.append("%s: an image URL must be http(s) or a base64 data URL" % path)


def _json_object_string(s, path, v):
    if not isinstance(s, str):
        v.append("%s: must be a string holding JSON" % path)
        return
    try:
        o = json.loads(s)
    except ValueError:
        v.append("%s: is not valid JSON" % path)
        return
    if not isinstance(o, dict):
        v.append("%s: must be a JSON object" % path)


def _schema_object(schema, path, v):
    if not isinstance(schema, dict):
        v.append("%s: must be a JSON Schema object" % path)
    elif schema.get("type", "object") != "object":
        v.append("%s: the type must be 'object'" % path)


# ----------------------------------------------------------------------------
# OpenAI Chat Completions
# ----------------------------------------------------------------------------

CHAT_KEYS = {"model", "messages", "stream", "stream_options", "temperature", "top_p", "n", "stop",
             "max_tokens", "max_completion_tokens", "presence_penalty", "frequency_penalty", "logit_bias",
             "logprobs", "top_logprobs", "user", "tools", "tool_choice", "parallel_tool_calls",
             "response_format", "seed", "service_tier", "store", "metadata", "reasoning_effort", "modalities",
             "audio", "prediction", "web_search_options", "verbosity", "prompt_cache_key",
             "safety_identifier", "functions", "function_call"}
CHAT_USER_PARTS = {"text", "image_url", "input_audio", "file"}


def _chat_text_parts(content, path, v, allowed=("text",)):
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        v.append("%s: must be a string or a list of content parts" % path)
        return
    for j, p in enumerate(content):
        pp = "%s[%d]" % (path, j)
        if not isinstance(p, dict) or p.get("type") not in allowed:
            v.append("%s: part type must be one of %s" % (pp, ", ".join(allowed)))
        elif p["type"] in ("text", "refusal") and not isinstance(p.get(p["type"]), str):
            v.append("%s: a %s part needs a string %r" % (pp, p["type"], p["type"]))


def _chat(body, v):
    _unknown_keys(body, CHAT_KEYS, "body", v)
    if not isinstance(body.get("model"), str) or not body["model"]:
        v.append("model: required")
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        v.append("messages: a non-empty list is required")
        msgs = []
    if "stream_options" in body and not body.get("stream"):
        v.append("stream_options: only allowed when stream is true")
    pending = set()       # tool_call ids of the last assistant turn not answered yet
    for i, m in enumerate(msgs):
        p = "messages[%d]" % i
        if not isinstance(m, dict):
            v.append("%s: must be an object" % p)
            continue
        role = m.get("role")
        if role != "tool" and pending:
            v.append("%s: an assistant message with tool_calls must be followed by tool messages answering "
                     "each tool_call_id (missing %s)" % (p, ", ".join(sorted(pending))))
            pending = set()
        if role in ("system", "developer"):
            _unknown_keys(m, {"role", "content", "name"}, p, v)
            if "content" not in m:
                v.append("%s.content: required" % p)
            _chat_text_parts(m.get("content"), p + ".content", v)
        elif role == "user":
            _unknown_keys(m, {"role", "content", "name"}, p, v)
            c = m.get("content")
            if isinstance(c, str):
                pass
            elif isinstance(c, list) and c:
                for j, part in enumerate(c):
                    pp = "%s.content[%d]" % (p, j)
                    t = part.get("type") if isinstance(part, dict) else None
                    if t not in CHAT_USER_PARTS:
                        v.append("%s: part type must be one of %s" % (pp, ", ".join(sorted(CHAT_USER_PARTS))))
                    elif t == "text" and not isinstance(part.get("text"), str):
                        v.append("%s: a text part needs a string text" % pp)
                    elif t == "image_url":
                        iu = part.get("image_url")
                        if not isinstance(iu, dict):
                            v.append("%s.image_url: must be an object {url, detail?}" % pp)
                        else:
                            _unknown_keys(iu, {"url", "detail"}, pp + ".image_url", v)
                            _check_image_url(iu.get("url"), pp + ".image_url.url", v)
            else:
                v.append("%s.content: must be a string or a non-empty list of parts" % p)
        elif role == "assistant":
            _unknown_keys(m, {"role", "content", "name", "tool_calls", "refusal", "audio", "function_call"}, p, v)
            calls = m.get("tool_calls")
            if calls is not None:
                if not isinstance(calls, list) or not calls:
                    v.append("%s.tool_calls: must be a non-empty list when present" % p)
                    calls = []
                for j, tc in enumerate(calls):
                    pp = "%s.tool_calls[%d]" % (p, j)
                    if not isinstance(tc, dict):
                        v.append("%s: must be an object" % pp)
                        continue
                    if not isinstance(tc.get("id"), str) or not tc["id"]:
                        v.append("%s.id: required" % pp)
                    if tc.get("type") != "function":
                        v.append("%s.type: must be 'function'" % pp)
                    f = tc.get("function")
                    if not isinstance(f, dict) or not isinstance(f.get("name"), str) or not f["name"]:
                        v.append("%s.function: needs a name" % pp)
                    else:
                        _json_object_string(f.get("arguments"), pp + ".function.arguments", v)
                    if isinstance(tc.get("id"), str):
                        pending.add(tc["id"])
            c = m.get("content")
            if c is None:
                if not calls:
                    v.append("%s.content: required unless tool_calls is given" % p)
            else:
                _chat_text_parts(c, p + ".content", v, allowed=("text", "refusal"))
        elif role == "tool":
            _unknown_keys(m, {"role", "content", "tool_call_id"}, p, v)
            tid = m.get("tool_call_id")
            if not isinstance(tid, str) or tid not in pending:
                v.append("%s: a tool message needs a tool_call_id answering the preceding assistant "
                         "tool_calls (got %r)" % (p, tid))
            else:
                pending.discard(tid)
            if "content" not in m:
                v.append("%s.content: required" % p)
            _chat_text_parts(m.get("content"), p + ".content", v)
        else:
            v.append("%s.role: must be system, developer, user, assistant or tool (got %r)" % (p, role))
    if pending:
        v.append("messages: the last assistant tool_calls are not answered (%s)" % ", ".join(sorted(pending)))
    tools = body.get("tools")
    for pp, t in _list_items(tools, "tools", v):
        if not isinstance(t, dict) or t.get("type") != "function" or not isinstance(t.get("function"), dict):
            v.append("%s: must be {\"type\": \"function\", \"function\": {...}}" % pp)
            continue
        _unknown_keys(t, {"type", "function"}, pp, v)
        f = t["function"]
        _unknown_keys(f, {"name", "description", "parameters", "strict"}, pp + ".function", v)
        if not isinstance(f.get("name"), str) or not TOOL_NAME_RX.match(f["name"]):
            v.append("%s.function.name: must match ^[a-zA-Z0-9_-]{1,64}$" % pp)
        if "parameters" in f:
            _schema_object(f["parameters"], pp + ".function.parameters", v)
    tc = body.get("tool_choice")
    if tc is not None and tc not in ("none", "auto", "required"):
        if not (isinstance(tc, dict) and tc.get("type") == "function"
                and isinstance(tc.get("function"), dict) and isinstance(tc["function"].get("name"), str)):
            v.append("tool_choice: must be none, auto, required or {type: function, function: {name}}")
        if tools is None:
            v.append("tool_choice: only allowed when tools are given")


# ----------------------------------------------------------------------------
# OpenAI Responses
# ----------------------------------------------------------------------------

RESPONSES_KEYS = {"model", "input", "instructions", "stream", "stream_options", "temperature", "top_p",
                  "max_output_tokens", "tools", "tool_choice", "parallel_tool_calls", "reasoning", "text",
                  "store", "metadata", "previous_response_id", "include", "truncation", "user", "service_tier",
                  "prompt_cache_key", "safety_identifier", "background", "max_tool_calls", "top_logprobs",
                  "conversation", "prompt", "prompt_cache_retention"}
RESPONSES_INPUT_PARTS = {"input_text", "input_image", "input_file", "input_audio"}
RESPONSES_OUTPUT_PARTS = {"output_text", "refusal"}


def _responses_message(it, p, v):
    role = it.get("role")
    _unknown_keys(it, {"type", "role", "content", "id", "status"}, p, v)
    if role not in ("user", "assistant", "system", "developer"):
        v.append("%s.role: must be user, assistant, system or developer (got %r)" % (p, role))
        return
    c = it.get("content")
    if isinstance(c, str):
        return
    if not isinstance(c, list):
        v.append("%s.content: must be a string or a list of parts" % p)
        return
    allowed = RESPONSES_OUTPUT_PARTS if role == "assistant" else RESPONSES_INPUT_PARTS
    for j, part in enumerate(c):
        pp = "%s.content[%d]" % (p, j)
        t = part.get("type") if isinstance(part, dict) else None
        if t not in allowed:
            v.append("%s: a %s message part must be one of %s (got %r)" % (pp, role, ", ".join(sorted(allowed)), t))
        elif t in ("input_text", "output_text") and not isinstance(part.get("text"), str):
            v.append("%s: needs a string text" % pp)
        elif t == "input_image":
            _unknown_keys(part, {"type", "image_url", "file_id", "detail"}, pp, v)
            if part.get("file_id") is None:
                _check_image_url(part.get("image_url"), pp + ".image_url", v)
            if part.get("detail", "auto") not in ("auto", "low", "high"):
                v.append("%s.detail: must be auto, low or high" % pp)


def _responses(body, v):
    _unknown_keys(body, RESPONSES_KEYS, "body", v)
    if not isinstance(body.get("model"), str) or not body["model"]:
        v.append("model: required")
    inp = body.get("input")
    items = []
    if isinstance(inp, str):
        pass
    elif isinstance(inp, list):
        items = inp
    else:
        v.append("input: must be a string or a list of items")
    if "instructions" in body and body["instructions"] is not None and not isinstance(body["instructions"], str):
        v.append("instructions: must be a string")
    calls = {}       # call_id -> answered?
    for i, it in enumerate(items):
        p = "input[%d]" % i
        if not isinstance(it, dict):
            v.append("%s: must be an object" % p)
            continue
        t = it.get("type", "message" if "role" in it else None)
        if t == "message":
            _responses_message(it, p, v)
        elif t in ("function_call", "custom_tool_call"):
            if not isinstance(it.get("call_id"), str) or not it["call_id"]:
                v.append("%s.call_id: required" % p)
            if not isinstance(it.get("name"), str) or not it["name"]:
                v.append("%s.name: required" % p)
            if t == "function_call":
                _unknown_keys(it, {"type", "id", "call_id", "name", "arguments", "status", "namespace"}, p, v)
                _json_object_string(it.get("arguments"), p + ".arguments", v)
            elif not isinstance(it.get("input"), str):
                v.append("%s.input: must be a string" % p)
            if isinstance(it.get("call_id"), str):
                calls[it["call_id"]] = False
        elif t in ("function_call_output", "custom_tool_call_output"):
            _unknown_keys(it, {"type", "id", "call_id", "output", "status"}, p, v)
            cid = it.get("call_id")
            if cid not in calls:
                v.append("%s: No tool call found for %s call with call_id %r" % (p, t, cid))
            else:
                calls[cid] = True
            out = it.get("output")
            if isinstance(out, list):
                for j, part in enumerate(out):
                    if not isinstance(part, dict) or part.get("type") not in RESPONSES_INPUT_PARTS:
                        v.append("%s.output[%d]: must be an input_text, input_image or input_file part" % (p, j))
            elif not isinstance(out, str):
                v.append("%s.output: must be a string or a list of parts" % p)
        elif t == "reasoning":
            _unknown_keys(it, {"type", "id", "summary", "encrypted_content", "content", "status"}, p, v)
            s = it.get("summary")
            if not isinstance(s, list) or any(not isinstance(x, dict) or x.get("type") != "summary_text"
                                              or not isinstance(x.get("text"), str) for x in s):
                v.append("%s.summary: must be a list of {type: summary_text, text}" % p)
        elif t in ("item_reference", "compaction", "additional_tools", "web_search_call", "local_shell_call",
                   "local_shell_call_output", "tool_search_call", "tool_search_output"):
            pass
        else:
            v.append("%s.type: unknown input item type %r" % (p, t))
    tools = body.get("tools")
    for pp, t in _list_items(tools, "tools", v):
        if not isinstance(t, dict):
            v.append("%s: must be an object" % pp)
        elif t.get("type") == "function":
            _unknown_keys(t, {"type", "name", "description", "parameters", "strict"}, pp, v)
            if not isinstance(t.get("name"), str) or not TOOL_NAME_RX.match(t["name"]):
                v.append("%s.name: required, ^[a-zA-Z0-9_-]{1,64}$ (Responses tools are flat: "
                         "no nested 'function')" % pp)
            if "parameters" not in t:
                v.append("%s.parameters: required" % pp)
            elif t["parameters"] is not None:
                _schema_object(t["parameters"], pp + ".parameters", v)
        elif t.get("type") not in ("custom", "namespace", "web_search", "web_search_preview", "file_search",
                                   "local_shell", "image_generation", "code_interpreter", "mcp",
                                   "tool_search", "computer_use_preview"):
            v.append("%s.type: unknown tool type %r" % (pp, t.get("type")))
    tc = body.get("tool_choice")
    if tc is not None and tc not in ("none", "auto", "required"):
        if not (isinstance(tc, dict) and tc.get("type") in ("function", "custom") and isinstance(tc.get("name"), str)) \
                and not (isinstance(tc, dict) and tc.get("type") in ("allowed_tools", "web_search_preview")):
            v.append("tool_choice: must be none, auto, required or {type: function, name}")
    r = body.get("reasoning")
    if r is not None:
        if not isinstance(r, dict):
            v.append("reasoning: must be an object")
        else:
            _unknown_keys(r, {"effort", "summary", "generate_summary"}, "reasoning", v)
            if r.get("effort") not in (None, "none", "minimal", "low", "medium", "high", "xhigh"):
                v.append("reasoning.effort: unknown value %r" % r.get("effort"))
            if r.get("summary") not in (None, "auto", "concise", "detailed"):
                v.append("reasoning.summary: unknown value %r" % r.get("summary"))


# ----------------------------------------------------------------------------
# Anthropic Messages
# ----------------------------------------------------------------------------

ANTHROPIC_KEYS = {"model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream",
                  "temperature", "top_p", "top_k", "tools", "tool_choice", "thinking", "service_tier",
                  "container", "mcp_servers", "context_management", "output_config"}


def _anthropic_text_block(b, pp, v):
    _unknown_keys(b, {"type", "text", "cache_control", "citations"}, pp, v)
    if not isinstance(b.get("text"), str) or not b["text"]:
        v.append("%s: text content blocks must be non-empty" % pp)


def _anthropic_image(b, pp, v):
    _unknown_keys(b, {"type", "source", "cache_control"}, pp, v)
    s = b.get("source")
    if not isinstance(s, dict):
        v.append("%s.source: required" % pp)
    elif s.get("type") == "base64":
        _unknown_keys(s, {"type", "media_type", "data"}, pp + ".source", v)
        if s.get("media_type") not in ANTHROPIC_IMAGE_TYPES:
            v.append("%s.source.media_type: must be one of %s" % (pp, ", ".join(ANTHROPIC_IMAGE_TYPES)))
        if b64_len(s.get("data")) is None:
            v.append("%s.source.data: must be valid base64" % pp)
    elif s.get("type") == "url":
        _unknown_keys(s, {"type", "url"}, pp + ".source", v)
        if not _is_http_url(s.get("url")):
            v.append("%s.source.url: must be an http(s) URL" % pp)
    elif s.get("type") != "file":
        v.append("%s.source.type: must be base64, url or file" % pp)


def _anthropic(body, v):
    _unknown_keys(body, ANTHROPIC_KEYS, "body", v)
    if not isinstance(body.get("model"), str) or not body["model"]:
        v.append("model: Field required")
    mt = body.get("max_tokens")
    if not isinstance(mt, int) or isinstance(mt, bool) or mt < 1:
        v.append("max_tokens: Field required (an integer >= 1)")
    sysp = body.get("system")
    if sysp is not None and not isinstance(sysp, str):
        if not isinstance(sysp, list):
            v.append("system: must be a string or a list of text blocks")
        else:
            for j, b in enumerate(sysp):
                if not isinstance(b, dict) or b.get("type") != "text":
                    v.append("system[%d]: must be a text block" % j)
                else:
                    _anthropic_text_block(b, "system[%d]" % j, v)
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        v.append("messages: a non-empty list is required")
        msgs = []
    prev_role = None
    prev_tool_uses = []         # ids of tool_use blocks in the previous (assistant) turn
    for i, m in enumerate(msgs):
        p = "messages[%d]" % i
        if not isinstance(m, dict):
            v.append("%s: must be an object" % p)
            continue
        _unknown_keys(m, {"role", "content"}, p, v)
        role = m.get("role")
        if role not in ("user", "assistant"):
            v.append("%s.role: must be user or assistant (system goes in the top-level system field; got %r)" % (p, role))
            continue
        if i == 0 and role != "user":
            v.append("%s: the first message must use the user role" % p)
        if role == prev_role:
            v.append("%s: roles must alternate between user and assistant (two %s turns in a row)" % (p, role))
        c = m.get("content")
        blocks = []
        if isinstance(c, str):
            if not c:
                v.append("%s.content: must be non-empty" % p)
        elif isinstance(c, list):
            if not c:
                v.append("%s.content: must be non-empty" % p)
            blocks = c
        else:
            v.append("%s.content: must be a string or a list of blocks" % p)
        results = []
        seen_other = False
        tool_uses = []
        for j, b in enumerate(blocks):
            pp = "%s.content[%d]" % (p, j)
            t = b.get("type") if isinstance(b, dict) else None
            if t == "text":
                _anthropic_text_block(b, pp, v)
                seen_other = True
            elif t == "image" and role == "user":
                _anthropic_image(b, pp, v)
                seen_other = True
            elif t == "document" and role == "user":
                seen_other = True
            elif t == "tool_result" and role == "user":
                _unknown_keys(b, {"type", "tool_use_id", "content", "is_error", "cache_control"}, pp, v)
                if seen_other:
                    v.append("%s: tool_result blocks must come before any other content in the user turn" % pp)
                results.append(b.get("tool_use_id"))
                rc = b.get("content")
                if isinstance(rc, list):
                    for k, rb in enumerate(rc):
                        rt = rb.get("type") if isinstance(rb, dict) else None
                        if rt == "text":
                            _anthropic_text_block(rb, "%s.content[%d]" % (pp, k), v)
                        elif rt == "image":
                            _anthropic_image(rb, "%s.content[%d]" % (pp, k), v)
                        elif rt not in ("document", "search_result"):
                            v.append("%s.content[%d]: must be a text, image or document block" % (pp, k))
                elif rc is not None and not isinstance(rc, str):
                    v.append("%s.content: must be a string or a list of blocks" % pp)
            elif t == "tool_use" and role == "assistant":
                _unknown_keys(b, {"type", "id", "name", "input", "cache_control", "caller"}, pp, v)
                if not isinstance(b.get("id"), str) or not re.match(r"^[a-zA-Z0-9_-]+$", b["id"]):
                    v.append("%s.id: must match ^[a-zA-Z0-9_-]+$" % pp)
                if not isinstance(b.get("name"), str) or not b["name"]:
                    v.append("%s.name: required" % pp)
                if not isinstance(b.get("input"), dict):
                    v.append("%s.input: must be an object" % pp)
                tool_uses.append(b.get("id"))
                seen_other = True
            elif t == "thinking" and role == "assistant":
                _unknown_keys(b, {"type", "thinking", "signature"}, pp, v)
                if not isinstance(b.get("thinking"), str):
                    v.append("%s.thinking: required" % pp)
                if not isinstance(b.get("signature"), str) or not b["signature"]:
                    v.append("%s.signature: a thinking block needs its signature" % pp)
                seen_other = True
            elif t == "redacted_thinking" and role == "assistant":
                if not isinstance(b.get("data"), str):
                    v.append("%s.data: required" % pp)
            else:
                v.append("%s: block type %r is not allowed in a %s turn" % (pp, t, role))
        if role == "user":
            for rid in results:
                if rid not in prev_tool_uses:
                    v.append("%s: unexpected tool_use_id %r in tool_result blocks: each tool_result must have a "
                             "corresponding tool_use block in the previous message" % (p, rid))
            missing = [x for x in prev_tool_uses if x not in results]
            if missing:
                v.append("%s: tool_use ids were found without tool_result blocks immediately after: %s"
                         % (p, ", ".join(str(x) for x in missing)))
        prev_tool_uses = tool_uses if role == "assistant" else []
        prev_role = role
    th = body.get("thinking")
    thinking_on = isinstance(th, dict) and th.get("type") in ("enabled", "adaptive")
    if thinking_on and len(msgs) >= 2 and isinstance(msgs[-1], dict) and isinstance(msgs[-2], dict):
        last, prev = msgs[-1], msgs[-2]
        in_tool_loop = isinstance(last.get("content"), list) and any(
            isinstance(b, dict) and b.get("type") == "tool_result" for b in last["content"])
        first = prev.get("content")[0] if isinstance(prev.get("content"), list) and prev["content"] else None
        if in_tool_loop and prev.get("role") == "assistant" and not (
                isinstance(first, dict) and first.get("type") in ("thinking", "redacted_thinking")):
            v.append("messages[%d].content[0].type: Expected `thinking` or `redacted_thinking`, but found %r. When "
                     "`thinking` is enabled, a final `assistant` message must start with a thinking block"
                     % (len(msgs) - 2, first.get("type") if isinstance(first, dict) else first))
    tools = body.get("tools")
    names = set()
    for pp, t in _list_items(tools, "tools", v):
        if not isinstance(t, dict):
            v.append("%s: must be an object" % pp)
            continue
        if t.get("type") not in (None, "custom"):
            continue        # server tools (web_search_20250305 ...) have their own shapes
        _unknown_keys(t, {"type", "name", "description", "input_schema", "cache_control", "strict",
                          "defer_loading", "input_examples"}, pp, v)
        if not isinstance(t.get("name"), str) or not TOOL_NAME_RX.match(t["name"]):
            v.append("%s.name: must match ^[a-zA-Z0-9_-]{1,64}$" % pp)
        else:
            names.add(t["name"])
        if "input_schema" not in t:
            v.append("%s.input_schema: Field required" % pp)
        else:
            _schema_object(t["input_schema"], pp + ".input_schema", v)
    tc = body.get("tool_choice")
    if tc is not None:
        if not isinstance(tc, dict) or tc.get("type") not in ("auto", "any", "tool", "none"):
            v.append("tool_choice: must be {type: auto|any|tool|none}")
        elif tc["type"] == "tool" and tc.get("name") not in names:
            v.append("tool_choice.name: must name one of the tools")
    if th is not None:
        if not isinstance(th, dict) or th.get("type") not in ("enabled", "disabled", "adaptive"):
            v.append("thinking: must be {type: enabled, budget_tokens} or {type: disabled|adaptive}")
        elif th["type"] == "enabled":
            bt = th.get("budget_tokens")
            if not isinstance(bt, int) or bt < 1024:
                v.append("thinking.budget_tokens: must be an integer >= 1024")
            elif isinstance(mt, int) and bt >= mt:
                v.append("thinking.budget_tokens: must be less than max_tokens")
            if body.get("temperature") not in (None, 1, 1.0):
                v.append("temperature: may only be set to 1 when thinking is enabled")
    temp = body.get("temperature")
    if temp is not None and (not isinstance(temp, (int, float)) or not 0 <= temp <= 1):
        v.append("temperature: must be between 0 and 1")


# ----------------------------------------------------------------------------
# Gemini generateContent
# ----------------------------------------------------------------------------

GEMINI_KEYS = {"contents", "systemInstruction", "tools", "toolConfig", "safetySettings", "generationConfig",
               "cachedContent", "labels", "model"}
GEMINI_GEN_KEYS = {"stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema",
                   "candidateCount", "maxOutputTokens", "temperature", "topP", "topK", "seed", "presencePenalty",
                   "frequencyPenalty", "responseLogprobs", "logprobs", "thinkingConfig", "responseModalities",
                   "mediaResolution", "speechConfig", "enableEnhancedCivicAnswers", "imageConfig"}
GEMINI_PART_DATA = ("text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
                    "codeExecutionResult")
GEMINI_PART_META = ("thought", "thoughtSignature", "videoMetadata", "partMetadata", "mediaResolution")
# The OpenAPI subset `parameters` takes; anything else (e.g. $schema, additionalProperties, $ref, oneOf)
# is refused: "Invalid JSON payload received. Unknown name ...".
GEMINI_SCHEMA_KEYS = {"type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
                      "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
                      "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum"}
GEMINI_TYPES = {"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL", "TYPE_UNSPECIFIED"}
# File API and YouTube URIs, Cloud Storage objects, and (since the Gemini API fetches external files itself)
# public or signed http(s) URLs.
GEMINI_FILE_URI_PREFIXES = ("https://", "http://", "gs://")


def camel(k):
    parts = k.split("_")
    return parts[0] + "".join(x[:1].upper() + x[1:] for x in parts[1:])


def _g(obj, key):
    """A Gemini field by its camelCase name, also accepting the snake_case spelling."""
    if not isinstance(obj, dict):
        return None
    if key in obj:
        return obj[key]
    snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), key)
    return obj.get(snake)


def _gemini_keys(obj, known, path, v):
    for k in obj:
        if camel(k) not in known:
            v.append("%s: Invalid JSON payload received. Unknown name %r" % (path, k))


def _gemini_schema(s, path, v):
    if not isinstance(s, dict):
        v.append("%s: must be a schema object" % path)
        return
    _gemini_keys(s, GEMINI_SCHEMA_KEYS, path, v)
    t = s.get("type")
    if t is not None and (not isinstance(t, str) or t.upper() not in GEMINI_TYPES):
        v.append("%s.type: must be one of %s (got %r)" % (path, ", ".join(sorted(GEMINI_TYPES)), t))
    for name, sub in (s.get("properties") or {}).items():
        _gemini_schema(sub, "%s.properties.%s" % (path, name), v)
    if "items" in s:
        _gemini_schema(s["items"], path + ".items", v)
    for j, sub in enumerate(s.get("anyOf") or []):
        _gemini_schema(sub, "%s.anyOf[%d]" % (path, j), v)


def _gemini(body, v):
    _gemini_keys(body, GEMINI_KEYS, "body", v)
    contents = _g(body, "contents")
    if not isinstance(contents, list) or not contents:
        v.append("contents: contents is not specified")
        contents = []
    si = _g(body, "systemInstruction")
    if si is not None:
        if not isinstance(si, dict) or not isinstance(_g(si, "parts"), list):
            v.append("systemInstruction: must be a Content {parts: [...]}")
        else:
            for j, part in enumerate(_g(si, "parts")):
                if not isinstance(part, dict) or not isinstance(part.get("text"), str):
                    v.append("systemInstruction.parts[%d]: must be a text part" % j)
    prev = None       # ("user"|"model", [function call names], [function response names])
    for i, c in enumerate(contents):
        p = "contents[%d]" % i
        if not isinstance(c, dict):
            v.append("%s: must be an object" % p)
            continue
        _gemini_keys(c, {"role", "parts"}, p, v)
        role = c.get("role", "user")
        if role not in ("user", "model"):
            v.append("%s.role: must be user or model (got %r)" % (p, role))
        parts = c.get("parts")
        if not isinstance(parts, list) or not parts:
            v.append("%s.parts: must be a non-empty list" % p)
            parts = []
        calls, responses = [], []
        for j, part in enumerate(parts):
            pp = "%s.parts[%d]" % (p, j)
            if not isinstance(part, dict):
                v.append("%s: must be an object" % pp)
                continue
            _gemini_keys(part, set(GEMINI_PART_DATA) | set(GEMINI_PART_META), pp, v)
            data = [k for k in GEMINI_PART_DATA if _g(part, k) is not None]
            if len(data) != 1 and not (not data and _g(part, "thoughtSignature")):
                v.append("%s: a part must hold exactly one of %s (has %s)" % (pp, ", ".join(GEMINI_PART_DATA), data))
                continue
            kind = data[0] if data else "thoughtSignature"
            val = _g(part, kind)
            if kind == "text" and not isinstance(val, str):
                v.append("%s.text: must be a string" % pp)
            elif kind == "inlineData":
                if not isinstance(val, dict) or not isinstance(_g(val, "mimeType"), str) or not _g(val, "mimeType"):
                    v.append("%s.inlineData.mimeType: required" % pp)
                if b64_len(_g(val, "data")) is None:
                    v.append("%s.inlineData.data: must be valid base64" % pp)
                if isinstance(val, dict):
                    _gemini_keys(val, {"mimeType", "data", "displayName"}, pp + ".inlineData", v)
            elif kind == "fileData":
                uri = _g(val, "fileUri")
                if not isinstance(uri, str) or not uri.startswith(GEMINI_FILE_URI_PREFIXES) or "://" not in uri[:8] or len(uri) < 9:
                    v.append("%s.fileData.fileUri: must be a File API, gs:// or http(s) URL (got %r)" % (pp, uri))
            elif kind == "functionCall":
                if role != "model":
                    v.append("%s: functionCall parts belong in a model turn" % pp)
                if not isinstance(val, dict) or not isinstance(val.get("name"), str) or not val["name"]:
                    v.append("%s.functionCall.name: required" % pp)
                else:
                    _gemini_keys(val, {"name", "args", "id"}, pp + ".functionCall", v)
                    if val.get("args") is not None and not isinstance(val["args"], dict):
                        v.append("%s.functionCall.args: must be an object" % pp)
                    calls.append(val["name"])
            elif kind == "functionResponse":
                if role != "user":
                    v.append("%s: functionResponse parts belong in a user turn" % pp)
                if not isinstance(val, dict) or not isinstance(val.get("name"), str) or not val["name"]:
                    v.append("%s.functionResponse.name: required" % pp)
                else:
                    _gemini_keys(val, {"name", "response", "id", "parts", "willContinue", "scheduling"},
                                 pp + ".functionResponse", v)
                    if not isinstance(val.get("response"), dict):
                        v.append("%s.functionResponse.response: must be an object" % pp)
                    responses.append(val["name"])
            if _g(part, "thought") is not None and not isinstance(_g(part, "thought"), bool):
                v.append("%s.thought: must be a boolean" % pp)
        if calls:
            if prev is not None and not (prev[0] == "user"):
                v.append("%s: Please ensure that function call turn comes immediately after a user turn or after "
                         "a function response turn." % p)
        if responses:
            if prev is None or sorted(prev[1]) != sorted(responses):
                v.append("%s: Please ensure that the number of function response parts is equal to the number of "
                         "function call parts of the function call turn (calls %s, responses %s)"
                         % (p, prev[1] if prev else [], responses))
        elif prev is not None and prev[1]:
            v.append("%s: the turn after a function call turn must hold its function responses" % p)
        if i == 0 and role != "user":
            v.append("%s: the first content must have the user role" % p)
        prev = (role, calls, responses)
    tools = _g(body, "tools")
    for pp, t in _list_items(tools, "tools", v):
        if not isinstance(t, dict):
            v.append("%s: must be an object" % pp)
            continue
        _gemini_keys(t, {"functionDeclarations", "googleSearch", "googleSearchRetrieval", "codeExecution",
                         "urlContext", "computerUse", "fileSearch", "googleMaps"}, pp, v)
        for k, f in enumerate(_g(t, "functionDeclarations") or []):
            fp = "%s.functionDeclarations[%d]" % (pp, k)
            if not isinstance(f, dict):
                v.append("%s: must be an object" % fp)
                continue
            _gemini_keys(f, {"name", "description", "parameters", "parametersJsonSchema", "response",
                             "responseJsonSchema", "behavior"}, fp, v)
            name = f.get("name")
            if not isinstance(name, str) or not re.match(r"^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$", name):
                v.append("%s.name: must start with a letter or underscore, then [a-zA-Z0-9_.:-], at most 64" % fp)
            if _g(f, "parameters") is not None and _g(f, "parametersJsonSchema") is not None:
                v.append("%s: parameters and parametersJsonSchema are mutually exclusive" % fp)
            if _g(f, "parameters") is not None:
                _gemini_schema(_g(f, "parameters"), fp + ".parameters", v)
    gc = _g(body, "generationConfig")
    if gc is not None:
        if not isinstance(gc, dict):
            v.append("generationConfig: must be an object")
        else:
            _gemini_keys(gc, GEMINI_GEN_KEYS, "generationConfig", v)
            tc = _g(gc, "thinkingConfig")
            if tc is not None:
                if not isinstance(tc, dict):
                    v.append("generationConfig.thinkingConfig: must be an object")
                else:
                    _gemini_keys(tc, {"includeThoughts", "thinkingBudget", "thinkingLevel"},
                                 "generationConfig.thinkingConfig", v)
    tcfg = _g(body, "toolConfig")
    if tcfg is not None:
        fcc = _g(tcfg, "functionCallingConfig")
        if fcc is not None:
            mode = fcc.get("mode")
            if mode is not None and str(mode).upper() not in ("AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"):
                v.append("toolConfig.functionCallingConfig.mode: unknown value %r" % mode)
