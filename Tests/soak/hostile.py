"""The soak's hostile clients (Tests/soak/soak.py): malformed requests, slow clients, disconnects.

Each kind loops on its own until the deadline (or until cancelled) and counts what the daemon did in
stats.outcome(kind, outcome): an HTTP status class ("400", "413"...), "closed" (the daemon closed without an
answer), "timeout" (neither within the case's time limit), "complete"/"incomplete" for slow readers' streams.
Only 127.0.0.1 is ever contacted; the bad Host names are header text, never looked up.
"""
import asyncio
import socket
import struct
import time

PAUSE = 0.2          # between two tries of one kind
ANSWER_TIMEOUT = 15  # the daemon's header-timeout is 10 s: every case must be settled before this


def malformed_cases(port, key, request_bytes, chat_body):
    """(name, bytes) pairs; each is sent whole on a new connection."""
    host = b"Host: 127.0.0.1:%d\r\n" % port
    auth = b"Authorization: Bearer %s\r\n" % key.encode()
    good = chat_body(False)
    return [
        ("garbage", b"\x16\x03\x01\x02\x00GARBAGE\r\n\r\n"),
        ("no-colon-header", b"POST /v1/chat/completions HTTP/1.1\r\n" + host + b"Bad Header Line\r\n\r\n"),
        ("nul-in-target", b"GET /heal\x00thz HTTP/1.1\r\n" + host + b"\r\n"),
        ("negative-length", b"POST /v1/chat/completions HTTP/1.1\r\n" + host + auth + b"Content-Length: -5\r\n\r\n"),
        ("overflow-length", b"POST /v1/chat/completions HTTP/1.1\r\n" + host + auth +
         b"Content-Length: 99999999999999999999999999\r\n\r\n"),
        ("length-over-cap", b"POST /v1/chat/completions HTTP/1.1\r\n" + host + auth + b"Content-Length: 1073741824\r\n\r\n"),
        ("cl-and-chunked", b"POST /v1/chat/completions HTTP/1.1\r\n" + host + auth +
         b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("bad-chunk-size", b"POST /v1/chat/completions HTTP/1.1\r\n" + host + auth +
         b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"),
        ("oversize-head", b"GET /healthz HTTP/1.1\r\n" + host + b"X-Big: " + b"a" * (100 * 1024) + b"\r\n\r\n"),
        ("not-json", request_bytes(port, key, b"{not json")),
        ("wrong-types", request_bytes(port, key, b'{"model":5,"messages":"x","stream":"yes"}')),
        ("deep-nesting", request_bytes(port, key, b'{"model":"m","messages":' + b"[" * 5000 + b"]" * 5000 + b"}")),
        ("bad-host", b"POST /v1/chat/completions HTTP/1.1\r\nHost: attacker.test\r\n" + auth +
         b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(good) + good),
        ("bad-key", request_bytes(port, "ppk_not_a_real_key", good)),
        ("unknown-path", request_bytes(port, key, good, path="/v1/nope")),
        ("http09", b"GET /healthz\r\n\r\n"),
        ("http2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
    ]


async def answer_of(reader, limit):
    """The status the daemon answered with, 'closed', or 'timeout'."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n"), limit)
        parts = head.split()
        return parts[1].decode() if len(parts) > 1 and parts[1].isdigit() else "non-http"
    except asyncio.TimeoutError:
        return "timeout"
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        return "closed"


async def malformed(port, key, deadline, stats, request_bytes, chat_body):
    cases = malformed_cases(port, key, request_bytes, chat_body)
    i = 0
    while time.monotonic() < deadline:
        name, data = cases[i % len(cases)]
        i += 1
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
        except OSError as e:
            stats.outcome("malformed/" + name, "connect-failed " + type(e).__name__)
            await asyncio.sleep(PAUSE)
            continue
        try:
            w.write(data)
            await w.drain()
            stats.outcome("malformed/" + name, await answer_of(r, ANSWER_TIMEOUT))
        except ConnectionError:
            stats.outcome("malformed/" + name, "closed")
        finally:
            w.close()
        await asyncio.sleep(PAUSE)


async def slowloris(port, deadline, stats):
    """A head sent one byte per second: the daemon must cut it off (header-timeout)."""
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Slow: " % port + b"s" * 200
    while time.monotonic() < deadline:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        t, outcome = time.monotonic(), "timeout"
        try:
            for b in head:
                w.write(bytes([b]))
                await w.drain()
                got = await answer_of(r, 1.0)
                if got != "timeout":
                    outcome = got
                    break
                if time.monotonic() - t > ANSWER_TIMEOUT:
                    break
        except ConnectionError:
            outcome = "closed"
        finally:
            w.close()
        stats.outcome("slow/head-1-byte-per-s", outcome if outcome == "timeout" else "%s after ~%ds" % (
            outcome, round(time.monotonic() - t)))
        await asyncio.sleep(PAUSE)


async def slow_body(port, key, deadline, stats, request_bytes, chat_body):
    """A whole head, then the body at 10 bytes a second, given up after ANSWER_TIMEOUT: the daemon's body
    timeout is 120 s, so "open-at-15s" is the expected outcome (the point is the load, not the answer)."""
    req = request_bytes(port, key, chat_body(False, content="s" * 300))
    split = req.index(b"\r\n\r\n") + 4
    while time.monotonic() < deadline:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        t, outcome = time.monotonic(), "open-at-%ds" % ANSWER_TIMEOUT
        try:
            w.write(req[:split])
            await w.drain()
            for i in range(split, len(req), 10):
                w.write(req[i:i + 10])
                await w.drain()
                got = await answer_of(r, 1.0)
                if got != "timeout":
                    outcome = got
                    break
                if time.monotonic() - t > ANSWER_TIMEOUT:
                    break
            else:
                outcome = await answer_of(r, ANSWER_TIMEOUT)
        except ConnectionError:
            outcome = "closed"
        finally:
            w.close()
        stats.outcome("slow/body-10-bytes-per-s", outcome)
        await asyncio.sleep(PAUSE)


async def slow_reader(port, key, deadline, stats, request_bytes, chat_body):
    """A 400 KiB stream read 4 KiB per 100 ms through a 4 KiB receive buffer: it must still arrive whole."""
    loop = asyncio.get_running_loop()
    req = request_bytes(port, key, chat_body(True, content="SOAK-BIG"))
    while time.monotonic() < deadline:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setblocking(False)
        got, outcome = bytearray(), "incomplete"
        try:
            await loop.sock_connect(s, ("127.0.0.1", port))
            await loop.sock_sendall(s, req)
            end = time.monotonic() + 120
            while time.monotonic() < end:
                piece = await asyncio.wait_for(loop.sock_recv(s, 4096), 30)
                if not piece:
                    break
                got += piece
                if got.endswith(b"\r\n0\r\n\r\n"):
                    outcome = "complete" if b"data: [DONE]" in got[-200:] and got.startswith(b"HTTP/1.1 200") else \
                        "wrong-answer"
                    break
                await asyncio.sleep(0.1)
        except (OSError, asyncio.TimeoutError) as e:
            outcome = "incomplete " + type(e).__name__
        finally:
            s.close()
        stats.outcome("slow/reader-4KiB-per-100ms", outcome)
        await asyncio.sleep(PAUSE)


def rst_close(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()


async def disconnects(port, key, deadline, stats, request_bytes, chat_body):
    """Clients that go away: mid-stream (close, RST), mid-body, right after sending, mid big stream."""
    stream = request_bytes(port, key, chat_body(True))
    big = request_bytes(port, key, chat_body(True, content="SOAK-BIG"))
    json_req = request_bytes(port, key, chat_body(False))
    kinds = ["mid-stream-close", "mid-stream-rst", "mid-body", "after-send", "mid-big-stream-rst"]
    i = 0
    while time.monotonic() < deadline:
        kind = kinds[i % len(kinds)]
        i += 1
        outcome = "done"
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            if kind.startswith("mid-stream"):
                w.write(stream)
                await w.drain()
                await asyncio.wait_for(r.readuntil(b"data: "), 10)   # the head and the first event are here
                rst_close(w) if kind.endswith("rst") else w.close()
            elif kind == "mid-body":
                w.write(json_req[:len(json_req) - 20])
                await w.drain()
                w.close()
            elif kind == "after-send":
                w.write(json_req)
                await w.drain()
                w.close()
            else:
                w.write(big)
                await w.drain()
                await asyncio.wait_for(r.readexactly(8192), 10)
                rst_close(w)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
            outcome = "failed " + type(e).__name__
        stats.outcome("disconnect/" + kind, outcome)
        await asyncio.sleep(PAUSE)


KINDS = ("malformed", "disconnects", "slow")


def tasks(port, key, deadline, stats, request_bytes, chat_body, kinds=KINDS):
    """The hostile coroutines of the kinds asked for: a few of each, so they overlap."""
    out = []
    for _ in range(2):
        if "malformed" in kinds:
            out.append(malformed(port, key, deadline, stats, request_bytes, chat_body))
        if "disconnects" in kinds:
            out.append(disconnects(port, key, deadline, stats, request_bytes, chat_body))
        if "slow" in kinds:
            out.append(slow_reader(port, key, deadline, stats, request_bytes, chat_body))
    if "slow" in kinds:
        out += [slowloris(port, deadline, stats) for _ in range(4)]
        out.append(slow_body(port, key, deadline, stats, request_bytes, chat_body))
    return out
