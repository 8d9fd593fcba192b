#!/usr/bin/env python3
"""Slowly streaming SSE upstream (latency test only, not throughput): N events INTERVAL ms apart, plus [DONE].

HTTP/1.1 keep-alive, chunked; optional TLS on a second port. Usage:
  slow_upstream.py --port P [--tls-port P2 --cert C --key K] [--events 20] [--interval-ms 50]
"""
import argparse, asyncio, json, ssl

def event(i, n):
    last = i == n - 1
    c = {"id": "chatcmpl-slow", "object": "chat.completion.chunk", "created": 1700000000, "model": "bench-slow",
         "choices": [{"index": 0, "delta": {} if last else {"content": "tok%d " % i}, "finish_reason": "stop" if last else None}]}
    return ("data: " + json.dumps(c, separators=(",", ":")) + "\n\n").encode()

def chunk(b):
    return b"%x\r\n%s\r\n" % (len(b), b)

async def read_request(reader):
    """One request of a keep-alive connection: (method, path without query, body). Content-Length bodies only."""
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

async def handle(reader, writer, args):
    try:
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            await writer.drain()
            for i in range(args.events):
                await asyncio.sleep(args.interval_ms / 1000)
                writer.write(chunk(event(i, args.events)))
                await writer.drain()
            writer.write(chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ssl.SSLError, ValueError):
        pass
    finally:
        writer.close()

async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--tls-port", type=int)
    p.add_argument("--cert"); p.add_argument("--key")
    p.add_argument("--events", type=int, default=20)
    p.add_argument("--interval-ms", type=float, default=50)
    args = p.parse_args()
    servers = [await asyncio.start_server(lambda r, w: handle(r, w, args), "127.0.0.1", args.port)]
    if args.tls_port:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        servers.append(await asyncio.start_server(lambda r, w: handle(r, w, args), "127.0.0.1", args.tls_port, ssl=ctx))
    await asyncio.gather(*(s.serve_forever() for s in servers))

if __name__ == "__main__":
    asyncio.run(main())
