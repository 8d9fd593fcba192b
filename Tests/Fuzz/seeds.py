#!/usr/bin/env python3
"""Writes each fuzz target's seed corpus into OUT/<target>/ from the repository's fixtures and the captured
client traffic (/work/shared/notes/captures, or $CAPTURES, when present). Seeds are regenerated every run."""
import glob, json, os, shutil, sys

root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
out = sys.argv[1]
fixtures = os.path.join(root, "Tests", "ProxyPoolTranslationTests", "Fixtures")
captures = os.environ.get("CAPTURES", "/work/shared/notes/captures")
WIRES = ["anthropic", "openai-chat", "openai-responses", "gemini"]  # index = selector byte for response/stream
# WireProtocol.allCases order in Swift: openAIChat, openAIResponses, anthropicMessages, gemini
SELECTOR = {"openai-chat": 0, "openai-responses": 1, "anthropic": 2, "gemini": 3}

seeds = {}
def add(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    seeds.setdefault(target, {})[name] = data

def read(p):
    with open(p, "rb") as f:
        return f.read()

for wire in WIRES:
    for p in sorted(glob.glob(os.path.join(fixtures, wire, "*"))):
        name, data = os.path.basename(p), read(p)
        if p.endswith(".request.json"):
            add("request-" + wire, name, data)
            add("json", wire + "-" + name, data)
        elif p.endswith(".sse"):
            for client, sel in SELECTOR.items():   # byte 0: upstream in bits 0-1, client in bits 2-3
                add("stream", f"{wire}-to-{client}-{name}", bytes([SELECTOR[wire] | sel << 2, 7 * sel]) + data)
            add("sse", wire + "-" + name, b"\x05" + data)
        elif p.endswith(".json"):   # a whole upstream answer
            add("response", wire + "-" + name, bytes([SELECTOR[wire]]) + data)
            add("json", wire + "-" + name, data)

# Captured client traffic: the body goes to the request target of its protocol, the head to the HTTP target.
def wire_of(path):
    if path.startswith("/v1/messages"): return "anthropic"
    if path.startswith("/v1/chat/completions"): return "openai-chat"
    if path.startswith("/v1/responses"): return "openai-responses"
    if "/models/" in path and ":" in path: return "gemini"
    return None

def small(v, depth=0):
    """The body's JSON, shortened (strings, lists, objects and depth): the HTTP parser does not look into bodies,
    and a 100 KB seed makes every mutation of it cost 100 KB of parsing (the http-request target ran at a few
    hundred inputs a second, mostly on the base64 images and system prompts of these captures)."""
    if isinstance(v, str):
        return v[:40]
    if isinstance(v, list):
        return [small(x, depth + 1) for x in v[:3]] if depth < 4 else []
    if isinstance(v, dict):
        return {k: small(x, depth + 1) for k, x in list(v.items())[:8]} if depth < 4 else {}
    return v

for p in sorted(glob.glob(os.path.join(captures, "*.json"))):
    try:
        c = json.load(open(p))
    except Exception:
        continue
    name = os.path.basename(p)
    body = c.get("body")
    raw = json.dumps(body).encode() if body is not None else b""
    w = wire_of(c.get("path", ""))
    if w and isinstance(body, dict):
        add("request-" + w, "capture-" + name, raw)
    raw = json.dumps(small(body)).encode() if body is not None else b""
    head = f"{c.get('method', 'GET')} {c.get('raw_target', '/')} {c.get('http_version', 'HTTP/1.1')}\r\n"
    for k, v in c.get("headers", []):
        if k.lower() in ("content-length", "transfer-encoding"):
            continue
        head += f"{k}: {v}\r\n"
    plain = head.encode() + f"Content-Length: {len(raw)}\r\n\r\n".encode() + raw
    # Byte 0: the split seed, its low bit the limits (odd: small), bit 1 the second parse (set: in pieces, clear:
    # without kept lines), so the captures go in with all four combinations, and the pipelined pair (where kept
    # lines matter) with the default limits both ways.
    add("http-request", "capture-" + name, b"\x04" + plain)
    add("http-request", "capture-small-limits-" + name, b"\x03" + plain)
    chunked = head.encode() + b"Transfer-Encoding: chunked\r\n\r\n"
    for i in range(0, len(raw), 100):
        piece = raw[i:i + 100]
        chunked += b"%x\r\n" % len(piece) + piece + b"\r\n"
    chunked += b"0\r\n\r\n"
    add("http-request", "capture-chunked-" + name, b"\x0a" + chunked + plain)  # pipelined: two requests
    add("http-request", "capture-chunked-small-limits-" + name, b"\x09" + chunked + plain)
    add("http-request", "capture-chunked-afresh-" + name, b"\x08" + chunked + plain)

# Small hand-written seeds for the parsers.
add("json", "small", '{"a":[1,-2.5e3,true,false,null,"\\u00e9\\ud83d\\ude00\\n"],"b":{}}')
add("sse", "small", b"\x01: comment\r\nevent: x\r\ndata: a\r\ndata:  b\r\nid: 1\r\n\r\ndata: tail")
for seed in (2, 5):
    add("http-request", f"small-{seed}", bytes([seed]) + b"GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /x?y=1 HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc")

add("http-response", "chunked", b"\x05\x00HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n"
    b"7\r\ndata: a\r\nA;ext=1\r\n0123456789\r\n0\r\nX-T: t\r\n\r\n")
add("http-response", "length", b"\x02\x00HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
add("http-response", "until-close", b"\x07\x00HTTP/1.0 200 OK\nContent-Type: text/plain\n\nall of it")
add("http-response", "head", b"\x01\x01HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")

# websocket: byte 0 seeds the splits (odd: a 300-byte cap), then client frames, masked as RFC 6455 §5.3 wants.
def ws_frame(opcode, payload, fin=True, mask=b"\x37\xfa\x21\x3d", rsv=0):
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    m = 0x80 if mask else 0
    if n < 126: head += bytes([m | n])
    elif n <= 0xFFFF: head += bytes([m | 126]) + n.to_bytes(2, "big")
    else: head += bytes([m | 127]) + n.to_bytes(8, "big")
    if not mask: return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))

create = json.dumps({"type": "response.create", "model": "gpt-5", "stream": True,
                     "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "h\u00e9llo"}]}]}).encode()
follow = json.dumps({"type": "response.create", "model": "gpt-5", "previous_response_id": "resp_fuzz",
                     "input": [{"type": "function_call_output", "call_id": "c1", "output": "ok"}]}).encode()
for seed in (2, 3):
    add("websocket", f"turns-{seed}", bytes([seed]) + ws_frame(1, create) + ws_frame(9, b"p") + ws_frame(1, follow)
        + ws_frame(1, b'{"type":"response.processed","response_id":"r"}') + ws_frame(8, b"\x03\xe8bye"))
    add("websocket", f"fragments-{seed}", bytes([seed]) + ws_frame(1, create[:20], fin=False) + ws_frame(10, b"")
        + ws_frame(0, create[20:60], fin=False) + ws_frame(9, b"x" * 125) + ws_frame(0, create[60:]))
add("websocket", "warmup", b"\x04" + ws_frame(1, b'{"type":"response.create","generate":false,"input":"hi"}'))
add("websocket", "long-16", b"\x06" + ws_frame(2, b"\x00" * 300) + ws_frame(1, b"[" * 200))
add("websocket", "unmasked", b"\x02" + ws_frame(1, create, mask=None))
add("websocket", "bad-utf8", b"\x02" + ws_frame(1, b"\xe2\x82", fin=False) + ws_frame(0, b"\x28"))
add("websocket", "rsv", b"\x02" + ws_frame(1, b"{}", rsv=4))
for p in sorted(glob.glob(os.path.join(captures, "codex*.json"))):
    try:
        body = json.load(open(p)).get("body")
    except Exception:
        continue
    if isinstance(body, dict):
        msg = json.dumps(small(dict(body, type="response.create"))).encode()
        add("websocket", "capture-" + os.path.basename(p), b"\x08" + ws_frame(1, msg))

# upstream-response: byte 0 seeds the read splits (byte 0 % 5 picks reads of at most 1, 7, 64, 1024 or 16384
# bytes), byte 1 the upstream protocol (bits 0-1, SELECTOR), the client's (bits 2-3) and the credential's
# failures so far (bits 4-7; 15: a HEAD request); then the upstream's bytes.
def chunked(body, size):
    out = b""
    for i in range(0, len(body), size):
        piece = body[i:i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"

def answer(status, headers, body=b"", framing="length"):
    head = b"HTTP/1.1 %d X\r\n" % status + b"".join(b"%s: %s\r\n" % (k.encode(), v.encode()) for k, v in headers)
    if framing == "chunked":
        return head + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(body, 97)
    if framing == "close":
        return head + b"Connection: close\r\n\r\n" + body
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body

sse_head = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")]
for wire in WIRES:
    for p in sorted(glob.glob(os.path.join(fixtures, wire, "*.sse"))):
        name, data = os.path.basename(p), read(p)
        for client, sel in SELECTOR.items():
            if client == wire:   # not translated: the usage scanner reads it
                add("upstream-response", f"{wire}-close-{name}", bytes([1, SELECTOR[wire] | sel << 2]) + answer(200, sse_head, data, "close"))
            else:
                add("upstream-response", f"{wire}-to-{client}-{name}", bytes([2 + sel, SELECTOR[wire] | sel << 2]) + answer(200, sse_head, data, "chunked"))
    for p in sorted(glob.glob(os.path.join(fixtures, wire, "*.json"))):
        if p.endswith(".request.json"):
            continue
        name, data = os.path.basename(p), read(p)
        add("upstream-response", f"{wire}-{name}", bytes([3, SELECTOR[wire]]) + answer(200, [("Content-Type", "application/json")], data))

json_type = [("Content-Type", "application/json")]
rate_limits = {
    "429-retry-after": (429, [("Retry-After", "30")], b'{"error":{"type":"rate_limit_error"}}'),
    "429-retry-after-fraction": (429, [("retry-after", " 1.5 ")], b""),
    "429-retry-after-ms": (429, [("retry-after-ms", "1500")], b""),
    "429-retry-after-date": (429, [("Retry-After", "Wed, 25 Nov 2026 09:00:00 GMT")], b""),
    "429-openai-reset": (429, [("x-ratelimit-reset-requests", "6m0s"), ("x-ratelimit-remaining-requests", "0"),
                               ("x-ratelimit-reset-tokens", "1.5s"), ("x-ratelimit-remaining-tokens", "12")], b""),
    "429-anthropic-reset": (429, [("anthropic-ratelimit-tokens-reset", "2026-11-25T09:00:00.5+01:00"),
                                  ("anthropic-ratelimit-tokens-remaining", "0"),
                                  ("anthropic-ratelimit-requests-reset", "2026-11-25T08:00:00Z")], b""),
    "429-codex-usage-limit": (429, json_type, b'{"error":{"type":"usage_limit_reached","resets_in_seconds":3600,"resets_at":1764003600}}'),
    "429-gemini-retry-info": (429, json_type, b'{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"30s"}]}}'),
    "429-try-again": (429, json_type, b'{"error":{"message":"Rate limit reached. Please try again in 1m20.5s. Visit ..."}}'),
    "529-overloaded": (529, json_type, b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'),
    "503-quota": (503, json_type, b'{"error":{"code":"insufficient_quota"}}'),
    "401": (401, json_type, b'{"error":{"message":"invalid x-api-key"}}'),
    "500": (500, json_type, b'{"error":{"message":"internal"}}'),
}
for n, (status, headers, body) in rate_limits.items():
    add("upstream-response", n, bytes([3, 0x10 * (len(n) % 15)]) + answer(status, headers, body))
add("upstream-response", "100-continue-then-chunked-429", bytes([0, 2]) + b"HTTP/1.1 100 Continue\r\n\r\n"
    + answer(429, [("Retry-After", "7")], b'{"type":"error","error":{"type":"rate_limit_error"}}', "chunked"))
add("upstream-response", "head-request", bytes([4, 0xf0]) + answer(200, sse_head, b""))
add("upstream-response", "usage-split", bytes([1, 0]) + answer(200, json_type,
    b'{"usage":{"prompt_tokens": 123456,"completion_tokens":78,"prompt_tokens_details":{"cached_tokens":9}}}', "chunked"))

# tool-config: byte 0 picks the format (0 TOML, 1 JSON, 2 JSON5, 3 .env), then a settings file as users write them.
tool_config = {
    "codex-config": (0, b'# mine\nmodel = "o3"  # c\napproval_policy = "never"\n\n[features]\nplugins = false\n\n'
                        b'[model_providers.other]\nname = "x"\nbase_url = "https://e.invalid/v1"\nhttp_headers = { "X-A" = "b" }\n'
                        b'[[mcp]]\nname = \'a\'\nargs = [\n  "--x", # c\n  2.5e3,\n]\nwhen = 1979-05-27 07:32:00Z\ns = """\nmulti \\\n  line"""\n'),
    "codex-crlf": (0, b'model = "o3"\r\n[tui]\r\nnotifications = true\r\n'),
    "codex-empty": (0, b""),
    "claude-settings": (1, b'{\n  "env": {\n    "ANTHROPIC_AUTH_TOKEN": "sk-ant-x",\n    "FOO": "1"\n  },\n  "permissions": {"allow": ["Bash(ls:*)"]}\n}\n'),
    "claude-empty-object": (1, b"{}"),
    "claude-inline": (1, b'{"env":{"A":"\\u00e9"},"n":[1,-2.5e-3,true,null]}'),
    "openclaw": (2, b"// OpenClaw\n{\n  gateway: { port: 18789, }, /* block */\n  models: { providers: { mine: { baseUrl: 'http://x/v1', api: 'openai-completions', models: [], }, }, },\n  agents: { defaults: { model: { primary: 'mine/m' } } },\n  n: [0x1F, +1, .5, Infinity, NaN],\n}\n"),
    "openclaw-empty": (2, b"{ }\n"),
    "gemini-env": (3, b"# gemini\nexport GEMINI_API_KEY='old'  # c\nOTHER=\"multi\nline\"\nGEMINI_MODEL=gemini-2.5-pro\n"),
    "codex-env": (3, b"PROXYPOOL_API_KEY=ppk_x\r\nA=`b`\r\n"),
}
for n, (sel, body) in tool_config.items():
    add("tool-config", n, bytes([sel]) + body)

# json-codable reads what json reads, plus the shapes of the Core wire types it decodes into.
for name, data in list(seeds.get("json", {}).items()):
    add("json-codable", name, data)
add("json-codable", "rpc-error", '{"code":-32004,"message":"credential \'a\' is assigned","data":{"name":"in-use","hint":null}}')
add("json-codable", "quota-windows", '[{"name":"5h","usedPercent":37.5,"windowMinutes":300,"resetsAtMillis":1767225600000,"rejected":false},'
    '{"name":"week","usedPercent":1e2,"rejected":true}]')
add("json-codable", "credits", '{"me":{"hasCredits":true,"unlimited":false,"balance":"5.39"},"you":null}')
add("json-codable", "numbers", '[9007199254740993.0,18446744073709551615,-9223372036854775809,1e400,-0.0,5e-324,1.5e-07]')
add("json-codable", "rpc-line", '{"jsonrpc":"2.0","id":7,"method":"credential.add","params":{"name":"a\\/b","n":-3}}')

# body-scan: the request bodies (the captures' and the codec fixtures', as json has them), and strings with the
# escapes and UTF-8 the C loop must judge as the Swift one does.
for name, data in list(seeds.get("json", {}).items()):
    add("body-scan", name, data)
add("body-scan", "utf8-edges", "é—ü😀 ".encode() + rb'\u00e9\n\\\"\uD83D' + b'\xe0\xa0\x80\xed\x9f\xbf\xf4\x8f\xbf\xbf"')
add("body-scan", "utf8-bad", b"ok \xc0\x80 \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82")
add("body-scan", "long-plain", b"x" * 100 + b"\\u12G4" + b"y" * 40 + b'"')

for target, files in seeds.items():
    d = os.path.join(out, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(f"seeds: {target}: {len(files)}", file=sys.stderr)
