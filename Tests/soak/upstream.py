#!/usr/bin/env python3
"""The soak test's upstream: a small, fast OpenAI Chat Completions fake (asyncio, stdlib only, 127.0.0.1 only).

Unlike Tests/FakeUpstream/fake_upstream.py it keeps no record of requests (its memory stays flat for hours)
and costs little CPU per request, so the soak measures proxypoold, not the fake.

  POST .../chat/completions, "stream": false  ->  200 JSON chat.completion with usage
  POST .../chat/completions, "stream": true   ->  200 SSE: EVENTS chunks EVENT_MS apart, usage, [DONE]
  the body contains SOAK-BIG                  ->  200 SSE: BIG_EVENTS chunks of ~1 KiB, unpaced (for slow readers)
  a body that is not JSON                     ->  400 OpenAI error
  GET .../models                              ->  200 model list
Keep-alive, Content-Length or chunked request bodies are not needed (the proxy sends Content-Length).

  upstream.py --port-file PATH [--events 20] [--event-ms 100] [--big-events 400]
"""
import argparse
import asyncio
import json
import os

CHUNK_ID = "chatcmpl-soak"


def chunk_frame(b):
    return b"%x\r\n%s\r\n" % (len(b), b)


def sse_event(obj):
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


def delta_event(model, i, text):
    return sse_event({"id": CHUNK_ID, "object": "chat.completion.chunk", "created": 1700000000, "model": model,
                      "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]})


def final_events(model, n):
    stop = sse_event({"id": CHUNK_ID, "object": "chat.completion.chunk", "created": 1700000000, "model": model,
                      "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    usage = sse_event({"id": CHUNK_ID, "object": "chat.completion.chunk", "created": 1700000000, "model": model,
                       "choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": n, "total_tokens": 20 + n}})
    return stop + usage + b"data: [DONE]\n\n"


def json_answer(model):
    return json.dumps({"id": "chatcmpl-soak-json", "object": "chat.completion", "created": 1700000000, "model": model,
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": "SOAK-OK"},
                                    "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 20, "completion_tokens": 2, "total_tokens": 22}}).encode()


async def read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    line, *headers = head.split(b"\r\n")
    method, path, _ = line.split(b" ", 2)
    length = 0
    for h in headers:
        k, _, v = h.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    body = await reader.readexactly(length) if length else b""
    return method, path.split(b"?")[0], body


def response_head(status, ctype, extra=b""):
    reason = {200: b"OK", 400: b"Bad Request", 404: b"Not Found"}.get(status, b"X")
    return b"HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%s" % (status, reason, ctype, extra)


async def handle(reader, writer, args):
    try:
        while True:
            method, path, body = await read_request(reader)
            if path.endswith(b"/models"):
                data = json.dumps({"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]}).encode()
                writer.write(response_head(200, b"application/json", b"Content-Length: %d\r\n\r\n" % len(data)) + data)
                await writer.drain()
                continue
            if not path.endswith(b"/chat/completions"):
                data = b'{"error":{"message":"no such path","type":"invalid_request_error"}}'
                writer.write(response_head(404, b"application/json", b"Content-Length: %d\r\n\r\n" % len(data)) + data)
                await writer.drain()
                continue
            try:
                req = json.loads(body)
                model = str(req.get("model", "gpt-4o-mini"))
                stream = bool(req.get("stream"))
            except Exception:  # noqa: BLE001 - not JSON, not an object, nested too deep (RecursionError): 400, as a real API
                data = b'{"error":{"message":"body is not a JSON object","type":"invalid_request_error"}}'
                writer.write(response_head(400, b"application/json", b"Content-Length: %d\r\n\r\n" % len(data)) + data)
                await writer.drain()
                continue
            if not stream:
                data = json_answer(model)
                writer.write(response_head(200, b"application/json", b"Content-Length: %d\r\n\r\n" % len(data)) + data)
                await writer.drain()
                continue
            writer.write(response_head(200, b"text/event-stream",
                                       b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"))
            await writer.drain()
            if b"SOAK-BIG" in body:
                pad = "x" * 1000
                for i in range(args.big_events):
                    writer.write(chunk_frame(delta_event(model, i, pad)))
                    await writer.drain()
                n = args.big_events
            else:
                for i in range(args.events):
                    await asyncio.sleep(args.event_ms / 1000)
                    writer.write(chunk_frame(delta_event(model, i, "tok%d " % i)))
                    await writer.drain()
                n = args.events
            writer.write(chunk_frame(final_events(model, n)) + b"0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
        pass
    finally:
        writer.close()


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port-file", required=True)
    p.add_argument("--events", type=int, default=20)
    p.add_argument("--event-ms", type=float, default=100)
    p.add_argument("--big-events", type=int, default=400)
    args = p.parse_args()
    server = await asyncio.start_server(lambda r, w: handle(r, w, args), "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, args.port_file)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
