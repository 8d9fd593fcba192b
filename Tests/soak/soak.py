#!/usr/bin/env python3
"""Soak: a release proxypoold under steady load plus hostile clients for SOAK_SECONDS (default 1800).

Run with `make soak` (builds the release binaries first) or `python3 Tests/soak/soak.py`. All traffic is on
127.0.0.1: the daemon, the soak's own upstream (Tests/soak/upstream.py) and the clients below. Every loop stops
by itself at the deadline.

Load (well-formed: every one must succeed):
  - SOAK_STREAMS (200) concurrent streaming Chat Completions, each SOAK_EVENTS (20) events SOAK_EVENT_MS (100)
    apart, back to back on keep-alive connections; each answer must be 200 with every event and [DONE];
  - JSON Chat Completions at SOAK_JSON_RPS (200/s) from SOAK_JSON_WORKERS (8) keep-alive connections.
Hostile (outcomes counted, not required to succeed):
  - malformed requests (garbage, bad headers and lengths, smuggling, oversize heads, bad JSON, bad Host,
    bad key, unknown path), each on a new connection;
  - slow clients: a head sent a byte a second (slowloris), a body trickled in, and readers of a 400 KiB stream
    with a 4 KiB receive buffer reading 4 KiB per 100 ms (their streams must still arrive whole);
  - disconnects: mid-stream (plain close and RST), mid-body, right after sending, mid big stream.
Every SOAK_SAMPLE_SECONDS (10) the daemon's RSS, fds and threads are read from /proc and /healthz is asked.

Checks (the last line reads "soak: N passed, M failed"; exit 1 if any failed):
  RSS flat after warm-up (SOAK_WARMUP seconds, default min(120, SOAK_SECONDS/3)): every later sample within
  SOAK_RSS_TOLERANCE (0.10) of the first sample after warm-up; zero errors on the well-formed traffic; zero
  deaths (alive and /healthz 200 at every sample); nothing left in flight once the load has drained
  (proxypool_requests_in_flight 0); SIGTERM ends the daemon with exit 0.
SOAK_HOSTILE=0 leaves the hostile clients out; SOAK_HOSTILE_KINDS picks some (malformed,disconnects,slow).
PROXYPOOL_BIN_DIR picks the binaries (default .build/release); SOAK_DIR keeps the logs (default a temp dir).
"""
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import hostile  # noqa: E402


def env_num(name, default, kind=int):
    v = os.environ.get(name)
    return kind(v) if v not in (None, "") else default


SECONDS = env_num("SOAK_SECONDS", 1800)
STREAMS = env_num("SOAK_STREAMS", 200)
JSON_RPS = env_num("SOAK_JSON_RPS", 200.0, float)
JSON_WORKERS = env_num("SOAK_JSON_WORKERS", 8)
EVENTS = env_num("SOAK_EVENTS", 20)
EVENT_MS = env_num("SOAK_EVENT_MS", 100.0, float)
SAMPLE = env_num("SOAK_SAMPLE_SECONDS", 10.0, float)
WARMUP = env_num("SOAK_WARMUP", min(120, SECONDS // 3))
TOLERANCE = env_num("SOAK_RSS_TOLERANCE", 0.10, float)
HOSTILE = env_num("SOAK_HOSTILE", 1)    # 0: well-formed load only (to tell what memory growth comes from)
HOSTILE_KINDS = (os.environ.get("SOAK_HOSTILE_KINDS") or ",".join(hostile.KINDS)).split(",")
BIN = os.environ.get("PROXYPOOL_BIN_DIR") or os.path.join(ROOT, ".build", "release")
REQUEST_TIMEOUT = 30.0


class Stats:
    def __init__(self):
        self.latency = {}      # class -> [seconds]
        self.errors = {}       # class -> count
        self.error_samples = []
        self.outcomes = {}     # hostile kind -> {outcome: count}

    def ok(self, cls, seconds):
        self.latency.setdefault(cls, []).append(seconds)

    def error(self, cls, what):
        self.errors[cls] = self.errors.get(cls, 0) + 1
        if len(self.error_samples) < 20:
            self.error_samples.append("%.1fs %s: %s" % (time.monotonic() - T0, cls, what))

    def outcome(self, kind, what):
        d = self.outcomes.setdefault(kind, {})
        d[what] = d.get(what, 0) + 1


T0 = time.monotonic()
STATS = Stats()


def request_bytes(port, key, body, path="/v1/chat/completions", extra=b""):
    return (b"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n%s\r\n" % (
                path.encode(), port, key.encode(), len(body), extra)) + body


def chat_body(stream, content="soak"):
    return json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}],
                       "stream": stream}, separators=(",", ":")).encode()


async def read_response(reader):
    """(status, headers with lower-cased names, body); chunked bodies are de-chunked."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for ln in lines[1:]:
        k, sep, v = ln.partition(b":")
        if sep:
            headers[k.strip().lower().decode()] = v.strip().decode("latin-1")
    body = bytearray()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:
        body = await reader.read()
    return status, headers, bytes(body)


def stream_problem(body):
    """None if the SSE body has every event the upstream sent, in order, ending in [DONE]."""
    events = [e for e in body.split(b"\n\n") if e.strip()]
    data = [e[6:] for e in events if e.startswith(b"data: ")]
    if len(data) != EVENTS + 3:
        return "%d data events, expected %d" % (len(data), EVENTS + 3)
    if data[-1] != b"[DONE]":
        return "last event is not [DONE]"
    for i in range(EVENTS):
        if (b'"tok%d ' % i) not in data[i]:
            return "event %d is not tok%d" % (i, i)
    if b'"usage"' not in data[-2]:
        return "no usage event"
    return None


class KeepAlive:
    """One client connection, reopened when the server closes it (or after an error)."""

    def __init__(self, port):
        self.port, self.rw = port, None

    async def exchange(self, payload):
        if self.rw is None:
            self.rw = await asyncio.open_connection("127.0.0.1", self.port, limit=1 << 20)
        reader, writer = self.rw
        writer.write(payload)
        await writer.drain()
        status, headers, body = await read_response(reader)
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def close(self):
        if self.rw:
            self.rw[1].close()
            self.rw = None


def running(deadline):
    return time.monotonic() < deadline


async def stream_worker(port, key, deadline):
    conn, payload = KeepAlive(port), request_bytes(port, key, chat_body(True))
    while running(deadline):
        t = time.monotonic()
        try:
            status, body = await asyncio.wait_for(conn.exchange(payload), REQUEST_TIMEOUT)
            problem = "status %d: %s" % (status, body[:200]) if status != 200 else stream_problem(body)
            if problem:
                STATS.error("stream", problem)
            else:
                STATS.ok("stream", time.monotonic() - t)
        except Exception as e:  # noqa: BLE001 - every failure of well-formed traffic is counted
            STATS.error("stream", "%s %s" % (type(e).__name__, e))
            conn.close()
            await asyncio.sleep(0.5)
    conn.close()


async def json_worker(port, key, deadline, interval):
    conn, payload = KeepAlive(port), request_bytes(port, key, chat_body(False))
    next_at = time.monotonic()
    while running(deadline):
        t = time.monotonic()
        try:
            status, body = await asyncio.wait_for(conn.exchange(payload), REQUEST_TIMEOUT)
            if status != 200 or b"SOAK-OK" not in body:
                STATS.error("json", "status %d: %s" % (status, body[:200]))
            else:
                STATS.ok("json", time.monotonic() - t)
        except Exception as e:  # noqa: BLE001
            STATS.error("json", "%s %s" % (type(e).__name__, e))
            conn.close()
            await asyncio.sleep(0.5)
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    conn.close()


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "Threads", "State"):
                out[k] = v.strip()
    out["fds"] = len(os.listdir("/proc/%d/fd" % pid))
    return out


async def http_get(port, path, timeout=5.0, key=None):
    r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    try:
        auth = b"Authorization: Bearer %s\r\n" % key.encode() if key else b""
        w.write(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%sConnection: close\r\n\r\n" % (path.encode(), port, auth))
        await w.drain()
        status, _, body = await asyncio.wait_for(read_response(r), timeout)
        return status, body
    finally:
        w.close()


async def sampler(daemon, port, deadline, samples):
    while True:
        t = time.monotonic() - T0
        alive = daemon.poll() is None
        row = {"t": t, "alive": alive, "rss_kib": None, "fds": None, "threads": None, "healthz": None, "healthz_ms": None}
        if alive:
            try:
                st = proc_status(daemon.pid)
                row.update(rss_kib=int(st["VmRSS"].split()[0]), hwm_kib=int(st["VmHWM"].split()[0]),
                           fds=st["fds"], threads=int(st["Threads"]))
            except (OSError, KeyError, ValueError):
                row["alive"] = False
            h0 = time.monotonic()
            try:
                status, _ = await http_get(port, "/healthz")
                row["healthz"] = status
            except Exception as e:  # noqa: BLE001
                row["healthz"] = "%s" % type(e).__name__
            row["healthz_ms"] = (time.monotonic() - h0) * 1000
        samples.append(row)
        print("soak: t=%5.0fs rss=%s KiB fds=%s threads=%s healthz=%s (%.1f ms) streams ok=%d json ok=%d errors=%d" % (
            t, row["rss_kib"], row["fds"], row["threads"], row["healthz"], row["healthz_ms"] or 0,
            len(STATS.latency.get("stream", [])), len(STATS.latency.get("json", [])), sum(STATS.errors.values())),
            file=sys.stderr, flush=True)
        if not running(deadline) or not alive:
            return
        await asyncio.sleep(max(0.0, SAMPLE - ((time.monotonic() - T0) - t)))


def ctl(sock, *args, stdin=None):
    r = subprocess.run([os.path.join(BIN, "proxypoolctl"), "--socket", sock, *args], input=stdin,
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError("proxypoolctl %s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout.strip()


def wait_for_file(path, proc, what, seconds=15):
    end = time.monotonic() + seconds
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() > end:
            raise RuntimeError("%s did not start" % what)
        time.sleep(0.05)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


def report(samples, checks, workdir):
    print("\nsoak summary: %d s (warm-up %d s), %d streams x %d events x %.0f ms, JSON %.0f/s, binaries %s, logs %s" % (
        SECONDS, WARMUP, STREAMS, EVENTS, EVENT_MS, JSON_RPS, BIN, workdir))
    print("\n%-10s %9s %9s %7s %9s %9s %9s" % ("traffic", "requests", "ok", "errors", "p50 ms", "p99 ms", "max ms"))
    for cls in ("stream", "json"):
        lat = STATS.latency.get(cls, [])
        err = STATS.errors.get(cls, 0)
        print("%-10s %9d %9d %7d %9.1f %9.1f %9.1f" % (cls, len(lat) + err, len(lat), err, pct(lat, 50) * 1000,
                                                    pct(lat, 99) * 1000, (max(lat) if lat else float("nan")) * 1000))
    if STATS.error_samples:
        print("\nfirst errors:")
        for e in STATS.error_samples:
            print("  " + e)
    print("\n%-26s %s" % ("hostile case", "outcomes"))
    for kind in sorted(STATS.outcomes):
        print("%-26s %s" % (kind, ", ".join("%s x%d" % (k, v) for k, v in sorted(STATS.outcomes[kind].items()))))
    print("\n%7s %9s %9s %5s %8s %8s %10s" % ("t s", "RSS MiB", "HWM MiB", "fds", "threads", "healthz", "healthz ms"))
    for s in samples:
        rss = "%.2f" % (s["rss_kib"] / 1024) if s["rss_kib"] else "-"
        hwm = "%.2f" % (s["hwm_kib"] / 1024) if s.get("hwm_kib") else "-"
        print("%7.0f %9s %9s %5s %8s %8s %10.1f" % (s["t"], rss, hwm, s["fds"], s["threads"], s["healthz"],
                                                   s["healthz_ms"] or 0))
    print()
    for ok, text in checks:
        print("%s  %s" % ("PASS" if ok else "FAIL", text))
    passed = sum(1 for ok, _ in checks if ok)
    print("soak: %d passed, %d failed" % (passed, len(checks) - passed))
    return passed == len(checks)


def rss_check(samples):
    after = [s for s in samples if s["t"] >= WARMUP and s["rss_kib"]]
    if len(after) < 2:
        return False, "RSS flat after warm-up: too few samples after %d s of warm-up (%d)" % (WARMUP, len(after))
    base = after[0]["rss_kib"]
    lo, hi = min(s["rss_kib"] for s in after), max(s["rss_kib"] for s in after)
    ok = lo >= base * (1 - TOLERANCE) and hi <= base * (1 + TOLERANCE)
    # The least-squares slope says whether a short run that passed is heading out of the band.
    slope = statistics.linear_regression([s["t"] for s in after], [s["rss_kib"] for s in after]).slope * 60
    return ok, ("RSS flat after warm-up: baseline %.2f MiB at %.0f s; min %.2f (%+.1f%%), max %.2f (%+.1f%%), "
                "tolerance +/-%.0f%%, %d samples; trend %+.0f KiB/min" % (
                    base / 1024, after[0]["t"], lo / 1024, (lo / base - 1) * 100, hi / 1024, (hi / base - 1) * 100,
                    TOLERANCE * 100, len(after), slope))


async def soak(port, key, daemon, workdir):
    deadline = time.monotonic() + SECONDS
    samples = []
    sampler_task = asyncio.create_task(sampler(daemon, port, deadline, samples))
    well = [asyncio.create_task(stream_worker(port, key, deadline)) for _ in range(STREAMS)]
    if JSON_RPS > 0 and JSON_WORKERS > 0:
        well += [asyncio.create_task(json_worker(port, key, deadline, JSON_WORKERS / JSON_RPS))
                 for _ in range(JSON_WORKERS)]
    bad = [asyncio.create_task(t) for t in hostile.tasks(port, key, deadline, STATS, request_bytes, chat_body,
                                                       HOSTILE_KINDS)] \
        if HOSTILE else []
    if well:
        await asyncio.wait(well, timeout=SECONDS + REQUEST_TIMEOUT + 10)
    else:
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
    for t in bad:
        t.cancel()
    await asyncio.gather(*bad, return_exceptions=True)
    await sampler_task
    await asyncio.sleep(3)   # the daemon notices the last hostile disconnects
    in_flight = None
    try:
        status, body = await http_get(port, "/metrics", key=key)   # /metrics needs an access key
        for line in body.decode().splitlines():
            if line.startswith("proxypool_requests_in_flight "):
                in_flight = float(line.split()[1])
    except Exception as e:  # noqa: BLE001
        in_flight = "unreadable (%s)" % type(e).__name__
    return samples, in_flight


def main():
    workdir = os.environ.get("SOAK_DIR") or tempfile.mkdtemp(prefix="proxypool-soak-")
    os.makedirs(workdir, exist_ok=True)
    for exe in ("proxypoold", "proxypoolctl"):
        if not os.access(os.path.join(BIN, exe), os.X_OK):
            print("soak: no %s in %s: build it (make release)" % (exe, BIN), file=sys.stderr)
            return 2
    up_port_file, sock = os.path.join(workdir, "upstream.port"), os.path.join(workdir, "control.sock")
    for stale in (up_port_file, sock):
        if os.path.exists(stale):
            os.unlink(stale)
    up = subprocess.Popen([sys.executable, os.path.join(HERE, "upstream.py"), "--port-file", up_port_file,
                           "--events", str(EVENTS), "--event-ms", str(EVENT_MS)],
                          stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "upstream.log"), "w"))
    state = tempfile.mkdtemp(prefix="state-", dir=workdir)   # fresh each run, even in a kept SOAK_DIR
    daemon = subprocess.Popen([os.path.join(BIN, "proxypoold"), "--state-dir", state,
                               "--control-socket", sock, "--listen", "127.0.0.1:0", "--config", "/dev/null",
                               "--log-level", "warning"],
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(workdir, "daemon.log"), "w"))
    try:
        wait_for_file(up_port_file, up, "the soak upstream")
        wait_for_file(sock, daemon, "proxypoold")
        with open(up_port_file) as f:
            up_port = int(f.read())
        ctl(sock, "credential", "add", "soak", "--provider", "openai", "--base-url",
            "http://127.0.0.1:%d/v1" % up_port, "--key-stdin", stdin="sk-soak-upstream")
        key = ctl(sock, "key", "create")
        port = int(json.loads(ctl(sock, "status", "--json"))["listen"].rsplit(":", 1)[1])
        print("soak: proxypoold pid %d on 127.0.0.1:%d, upstream on %d, %d s, logs in %s" % (
            daemon.pid, port, up_port, SECONDS, workdir), file=sys.stderr, flush=True)
        samples, in_flight = asyncio.run(soak(port, key, daemon, workdir))
        well = sum(len(STATS.latency.get(c, [])) + STATS.errors.get(c, 0) for c in ("stream", "json"))
        errors = sum(STATS.errors.get(c, 0) for c in ("stream", "json"))
        dead = [s for s in samples if not s["alive"] or s["healthz"] != 200]
        checks = [rss_check(samples),
                  (errors == 0 and (well > 0 or STREAMS == 0 and JSON_RPS == 0), "zero errors on well-formed traffic: %d errors in %d requests" % (errors, well)),
                  (not dead and daemon.poll() is None,
                   "zero deaths: alive with /healthz 200 at %d of %d samples" % (len(samples) - len(dead), len(samples))),
                  (in_flight == 0, "nothing left in flight after the load drained: proxypool_requests_in_flight %s" % in_flight)]
        t = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        try:
            rc = daemon.wait(20)
        except subprocess.TimeoutExpired:
            rc = "still running after 20 s"
        checks.append((rc == 0, "SIGTERM ends the daemon: exit %s in %.2f s" % (rc, time.monotonic() - t)))
        with open(os.path.join(workdir, "samples.json"), "w") as f:
            json.dump({"samples": samples, "errors": STATS.errors, "outcomes": STATS.outcomes}, f, indent=1)
        return 0 if report(samples, checks, workdir) else 1
    finally:
        for p in (daemon, up):
            if p.poll() is None:
                p.kill()
                p.wait()


if __name__ == "__main__":
    sys.exit(main())
