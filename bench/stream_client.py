#!/usr/bin/env python3
"""Latency/correctness client for the proxypool benchmark (stdlib only, c=1, one keep-alive connection).

  stream: N streamed requests; per stream the time to the response head, to the first SSE event (TTFB), the
          largest gap between consecutive events, and the event count. Prints one JSON line.
  check:  POST a body to the fake upstream's /check endpoint through the target; verify length, MD5 and the
          Authorization header that arrived upstream. Prints one JSON line.
"""
import argparse, hashlib, json, socket, ssl, statistics, sys, time
from urllib.parse import urlsplit


class Conn:
    def __init__(self, url, cafile=None):
        u = urlsplit(url)
        self.host, self.port, self.path = u.hostname, u.port, u.path
        self.hostport = "%s:%d" % (u.hostname, u.port)
        s = socket.create_connection((self.host, self.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if u.scheme == "https":
            ctx = ssl.create_default_context(cafile=cafile)
            s = ctx.wrap_socket(s, server_hostname=self.host)
        self.s, self.buf = s, b""

    def fill(self):
        d = self.s.recv(65536)
        if not d:
            raise ConnectionError("connection closed by peer")
        self.buf += d
        return time.perf_counter()

    def until(self, sep):
        while sep not in self.buf:
            self.fill()
        i = self.buf.index(sep)
        out, self.buf = self.buf[:i], self.buf[i + len(sep):]
        return out

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def request(self, body, headers, on_data=None):
        """Send a POST; return (status, headers, body, t_sent, t_head). on_data(bytes, t) per body piece."""
        h = "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % (
            self.path, self.hostport, len(body))
        for k, v in headers.items():
            h += "%s: %s\r\n" % (k, v)
        t0 = time.perf_counter()
        self.s.sendall(h.encode() + b"\r\n" + body)
        head = self.until(b"\r\n\r\n")
        t_head = time.perf_counter()
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(b":")
            hdrs[k.strip().lower().decode()] = v.strip().decode()
        out = []
        def piece(b, t):
            out.append(b)
            if on_data:
                on_data(b, t)
        if hdrs.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self.until(b"\r\n").split(b";")[0], 16)
                if size == 0:
                    self.until(b"\r\n")  # no trailers expected
                    break
                # Timestamp each chunk when its first bytes arrive (what a client's SSE parser would see).
                if not self.buf:
                    self.fill()
                t = time.perf_counter()
                piece(self.exact(size), t)
                self.exact(2)
        elif "content-length" in hdrs:
            n = int(hdrs["content-length"])
            if n:
                if not self.buf:
                    self.fill()
                piece(self.exact(n), time.perf_counter())
        else:  # read to close
            try:
                while True:
                    t = self.fill()
                    piece(self.buf, t)
                    self.buf = b""
            except ConnectionError:
                pass
        return status, hdrs, b"".join(out), t0, t_head


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def cmd_stream(a):
    body = open(a.body, "rb").read()
    hdr = {"Authorization": "Bearer " + a.auth} if a.auth else {}
    c = Conn(a.url, a.cafile)
    ttfb, thead, gaps, counts, totals, statuses, errors = [], [], [], [], [], [], []
    for i in range(a.n + 1):  # the first one warms the connection and upstream pool; not counted
        stamps, pending = [], [b""]
        def on_data(b, t):
            pending[0] += b
            while b"\n\n" in pending[0]:
                ev, _, pending[0] = pending[0].partition(b"\n\n")
                if ev.strip():
                    stamps.append(t)
        try:
            st, h, _, t0, th = c.request(body, hdr, on_data)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e)); c = Conn(a.url, a.cafile); continue
        if i == 0:
            continue
        statuses.append(st)
        counts.append(len(stamps))
        thead.append((th - t0) * 1000)
        if stamps:
            ttfb.append((stamps[0] - t0) * 1000)
            totals.append((stamps[-1] - t0) * 1000)
            gaps.append(max([0.0] + [(b - x) * 1000 for x, b in zip(stamps, stamps[1:])]))
        if h.get("connection", "").lower() == "close":
            c = Conn(a.url, a.cafile)
    print(json.dumps({
        "n": a.n, "statuses": sorted(set(statuses)), "errors": errors[:3], "n_errors": len(errors),
        "events_min": min(counts) if counts else 0, "events_max": max(counts) if counts else 0, "events_expected": a.expect,
        "all_events": bool(counts) and all(x == a.expect for x in counts) and len(counts) == a.n,
        "head_p50_ms": round(statistics.median(thead), 3) if thead else None,
        "ttfb_p50_ms": round(statistics.median(ttfb), 3) if ttfb else None,
        "ttfb_max_ms": round(max(ttfb), 3) if ttfb else None,
        "gap_max_ms": round(max(gaps), 2) if gaps else None,
        "total_p50_ms": round(statistics.median(totals), 1) if totals else None,
    }))


def cmd_check(a):
    body = open(a.body, "rb").read()
    hdr = {"Authorization": "Bearer " + a.auth} if a.auth else {}
    ok, problems = True, []
    try:
        c = Conn(a.url, a.cafile)
        st, h, resp, _, _ = c.request(body, hdr)
        got = json.loads(resp)
        if st != 200: problems.append("status %d" % st)
        if got["len"] != len(body): problems.append("body length %d != %d" % (got["len"], len(body)))
        if got["md5"] != hashlib.md5(body).hexdigest(): problems.append("body md5 differs")
        if a.expect_auth is not None and got["authorization"] != a.expect_auth:
            problems.append("upstream saw Authorization %r, expected %r" % (got["authorization"][:24], a.expect_auth[:24]))
    except Exception as e:  # noqa: BLE001
        problems.append(repr(e)[:200])
    print(json.dumps({"ok": not problems, "problems": problems, "bytes": len(body)}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["stream", "check"])
    p.add_argument("--url", required=True)
    p.add_argument("--body", required=True)
    p.add_argument("--auth", default="")
    p.add_argument("--cafile")
    p.add_argument("--n", type=int, default=5)
    p.add_argument("--expect", type=int, default=21)
    p.add_argument("--expect-auth")
    a = p.parse_args()
    (cmd_stream if a.mode == "stream" else cmd_check)(a)


if __name__ == "__main__":
    sys.exit(main())
