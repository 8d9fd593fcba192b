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
            for seed in (0, 7):
                add("stream", f"{wire}-{seed}-{name}", bytes([SELECTOR[wire], seed]) + data)
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
    head = f"{c.get('method', 'GET')} {c.get('raw_target', '/')} {c.get('http_version', 'HTTP/1.1')}\r\n"
    for k, v in c.get("headers", []):
        if k.lower() in ("content-length", "transfer-encoding"):
            continue
        head += f"{k}: {v}\r\n"
    plain = head.encode() + f"Content-Length: {len(raw)}\r\n\r\n".encode() + raw
    add("http-request", "capture-" + name, b"\x03" + plain)
    chunked = head.encode() + b"Transfer-Encoding: chunked\r\n\r\n"
    for i in range(0, len(raw), 100):
        piece = raw[i:i + 100]
        chunked += b"%x\r\n" % len(piece) + piece + b"\r\n"
    chunked += b"0\r\n\r\n"
    add("http-request", "capture-chunked-" + name, b"\x09" + chunked + plain)  # pipelined: two requests

# Small hand-written seeds for the parsers.
add("json", "small", '{"a":[1,-2.5e3,true,false,null,"\\u00e9\\ud83d\\ude00\\n"],"b":{}}')
add("sse", "small", b"\x01: comment\r\nevent: x\r\ndata: a\r\ndata:  b\r\nid: 1\r\n\r\ndata: tail")
add("http-request", "small", b"\x02GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /x?y=1 HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc")

add("http-response", "chunked", b"\x05\x00HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n"
    b"7\r\ndata: a\r\nA;ext=1\r\n0123456789\r\n0\r\nX-T: t\r\n\r\n")
add("http-response", "length", b"\x02\x00HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
add("http-response", "until-close", b"\x07\x00HTTP/1.0 200 OK\nContent-Type: text/plain\n\nall of it")
add("http-response", "head", b"\x01\x01HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")

for target, files in seeds.items():
    d = os.path.join(out, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(f"seeds: {target}: {len(files)}", file=sys.stderr)
