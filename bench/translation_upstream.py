#!/usr/bin/env python3
"""Fake OpenAI Chat / Anthropic Messages upstream for the translation benchmark (loopback only).

    translation_upstream.py --port P [--events 500] [--interval-ms 2]

POST /v1/chat/completions and POST /v1/messages answer a small JSON completion, or, with "stream":true, an
event stream of --events text deltas in that protocol's grammar. A request whose body contains BENCH-PACED
is streamed with --interval-ms between events, and each delta's text is "ts=<CLOCK_REALTIME ns> " taken just
before the event is written: a client that reads the text back knows how long the event took to reach it,
whatever translated it on the way. Unpaced streams are written as fast as the socket takes them.
GET /__last/chat and /__last/messages return the last body received on that path (the harness uses them to
get the exact upstream body a translated request became, to replay it untranslated as the baseline).
"""
import argparse, asyncio, json, time

from slow_upstream import chunk, read_request   # the same HTTP/1.1 framing as the latency test's upstream

CHAT_JSON = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": "bench-model",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "bench answer " * 8}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 250, "completion_tokens": 24, "total_tokens": 274}}, separators=(",", ":")).encode()
MESSAGES_JSON = json.dumps({
    "id": "msg_bench", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
    "content": [{"type": "text", "text": "bench answer " * 8}], "stop_reason": "end_turn", "stop_sequence": None,
    "usage": {"input_tokens": 250, "output_tokens": 24}}, separators=(",", ":")).encode()


def chat_events(n, text):
    yield b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-model","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n'
    for i in range(n):
        yield (b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-model","choices":[{"index":0,"delta":{"content":"%s"},"finish_reason":null}]}\n\n' % text(i))
    yield b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-model","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":250,"completion_tokens":%d,"total_tokens":%d}}\n\n' % (n, 250 + n)
    yield b"data: [DONE]\n\n"


def messages_events(n, text):
    yield b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":250,"output_tokens":1}}}\n\n'
    yield b'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'
    for i in range(n):
        yield b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"%s"}}\n\n' % text(i)
    yield b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
    yield b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":%d}}\n\n' % n
    yield b'event: message_stop\ndata: {"type":"message_stop"}\n\n'


async def handle(reader, writer, args, last):
    try:
        while True:
            method, path, body = await read_request(reader)
            if method == b"GET" and path.startswith(b"/__last/"):
                b = last.get(path[len(b"/__last/"):].decode(), b"")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))
                await writer.drain()
                continue
            kind = "chat" if path.endswith(b"/chat/completions") else "messages" if path.endswith(b"/messages") else None
            if kind is None:
                writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                continue
            last[kind] = body
            if b'"stream":true' not in body:
                b = CHAT_JSON if kind == "chat" else MESSAGES_JSON
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b))
                await writer.drain()
                continue
            paced = b"BENCH-PACED" in body
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            gen = chat_events if kind == "chat" else messages_events
            if paced:
                await writer.drain()
                # The generator builds each event (and takes its timestamp) just before it is written.
                for ev in gen(args.events, lambda i: b"ts=%d " % time.time_ns()):
                    writer.write(chunk(ev))
                    await writer.drain()
                    await asyncio.sleep(args.interval_ms / 1000)
            else:
                for ev in gen(args.events, lambda i: b"tok%d " % i):
                    writer.write(chunk(ev))
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
        pass
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--events", type=int, default=500)
    ap.add_argument("--interval-ms", type=float, default=2)
    args = ap.parse_args()
    last = {}
    server = await asyncio.start_server(lambda r, w: handle(r, w, args, last), "127.0.0.1", args.port, limit=1 << 24)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
