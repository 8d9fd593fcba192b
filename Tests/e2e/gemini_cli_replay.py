"""Gemini CLI in gateway mode, replayed: the request shapes it sends (Tests/e2e/fixtures/gemini-cli/*.json, each
citing the gemini-cli and @google/genai source it was taken from) sent byte for byte through proxypoold onto every
credential kind. The CLI is an npm package and cannot be installed here, so this client stands in for it.

Each fixture goes out under the three prefixes (/v1beta as Gemini CLI sends it, /v1 and none as other gateway
clients do) and with the key in both places Gemini CLI can put it (x-goog-api-key, or Authorization: Bearer with
GEMINI_API_KEY_AUTH_MECHANISM=bearer); then, with require-key off, with the empty x-goog-api-key it sends when no
key is set, the app found from its User-Agent alone. Run by Tests/e2e/matrix.sh after the matrix:

  gemini_cli_replay.py --base-url URL --fake-url URL --ctl PROXYPOOLCTL --socket CONTROL_SOCKET
"""

import argparse
import glob
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures", "gemini-cli")
# matrix.sh's credentials: upstream protocol → (credential, the app assigned to it).
KINDS = {"openai-chat": "matrix-openai-chat", "openai-responses": "matrix-openai-responses",
         "anthropic": "matrix-anthropic", "gemini": "matrix-gemini"}
PREFIXES = ["/v1beta", "/v1", ""]


def body_bytes(fixture, token):
    """JSON.stringify's output for the fixture's body: compact, keys in order, non-ASCII as is."""
    text = json.dumps(fixture["body"], separators=(",", ":"), ensure_ascii=False)
    return text.replace("{TOKEN}", token).encode("utf-8")


def request_bytes(fixture, host, target, key, placement, token):
    body = body_bytes(fixture, token)
    lines = ["%s %s HTTP/1.1" % (fixture["method"], target), "host: " + host, "connection: keep-alive"]
    for name, value in fixture["headers"]:
        if name.lower() == "x-goog-api-key":
            if placement == "bearer":
                lines.append("Authorization: Bearer " + key)
                continue
            value = value.replace("{KEY}", key)
        lines.append("%s: %s" % (name, value))
    lines.append("content-length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def exchange(base, raw, timeout=30):
    """One request on its own connection; the response decoded as Node's fetch would (chunks, gzip)."""
    hostport = base.split("//", 1)[1]
    host, port = hostport.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=timeout)
    try:
        s.sendall(raw)
        f = s.makefile("rb")
        status_line = f.readline().decode("latin-1")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        while True:
            line = f.readline().decode("latin-1")
            if line in ("\r\n", "\n", ""):
                break
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(f.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    f.readline()
                    break
                body += f.read(size)
                f.readline()
        elif "content-length" in headers:
            body = f.read(int(headers["content-length"]))
        else:
            body = f.read()
    finally:
        s.close()
    enc = headers.get("content-encoding", "").lower()
    if enc in ("gzip", "deflate"):
        body = zlib.decompress(body, 16 + zlib.MAX_WBITS if enc == "gzip" else zlib.MAX_WBITS)
    return status, headers, body.decode("utf-8")


def sse_events(text):
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = [ln[5:].lstrip() for ln in block.split("\n") if ln.startswith("data:")]
        if data:
            events.append(json.loads("\n".join(data)))
    return events


def parts_of(event):
    cands = event.get("candidates") or []
    return ((cands[0].get("content") or {}).get("parts") or []) if cands else []


def check(fixture, kind, status, headers, text):
    """Why the answer is not what Gemini CLI needs from it; None when it is."""
    expect = fixture["expect"]
    embedding = expect.startswith("embedding")
    if embedding and kind != "gemini":
        try:
            err = json.loads(text)["error"]
        except (ValueError, KeyError, TypeError):
            return "a refused embedding must be a Gemini error body, got %d %r" % (status, text[:200])
        if status != 400 or err.get("status") != "INVALID_ARGUMENT" or "gemini credential" not in err.get("message", ""):
            return "embeddings without a gemini credential: want 400 INVALID_ARGUMENT naming it, got %d %s" % (status, err)
        return None
    if status != 200:
        return "status %d: %s" % (status, text[:300])
    if expect == "embeddings:2":
        embs = json.loads(text).get("embeddings") or []
        return None if len(embs) == 2 and all(e.get("values") for e in embs) else "want 2 embeddings: " + text[:200]
    if expect == "embedding":
        return None if (json.loads(text).get("embedding") or {}).get("values") else "want an embedding: " + text[:200]
    if expect == "count":
        n = json.loads(text).get("totalTokens")
        return None if isinstance(n, int) and n > 0 else "want totalTokens > 0: " + text[:200]
    if expect == "text":
        r = json.loads(text)
        c = (r.get("candidates") or [{}])[0]
        got = "".join(p.get("text", "") for p in (c.get("content") or {}).get("parts") or [])
        if not got or c.get("finishReason") != "STOP" or not r.get("usageMetadata"):
            return "want text, finishReason STOP and usageMetadata: " + text[:300]
        return None
    # Streams (streamGenerateContent?alt=sse).
    if not headers.get("content-type", "").startswith("text/event-stream"):
        return "a stream must be text/event-stream, got " + headers.get("content-type", "")
    events = sse_events(text)
    if not events:
        return "no events"
    for e in events:
        for p in parts_of(e):
            if p.get("text") == "" and len(p) == 1:
                return "an empty text part (Gemini never sends one): %s" % json.dumps(e)[:300]
    last = events[-1]
    cand = (last.get("candidates") or [{}])[0]
    if not cand.get("finishReason") or not last.get("usageMetadata"):
        return "the last event must carry finishReason and usageMetadata: %s" % json.dumps(last)[:300]
    if expect == "function-call":
        calls = [p["functionCall"] for p in parts_of(last) if "functionCall" in p]
        if not calls or calls[0].get("name") != "run_shell_command" or not isinstance((calls[0].get("args") or {}).get("command"), str):
            return "the last event's content must hold the run_shell_command call: %s" % json.dumps(last)[:400]
        return None
    want = expect.split(":", 1)[1] if ":" in expect else ""
    got = "".join(p.get("text", "") for e in events for p in parts_of(e) if not p.get("thought"))
    return None if want in got and "FAKE-UPSTREAM-OK" in got else "want text with %s: %r" % (want, got[:300])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--fake-url", required=True)
    ap.add_argument("--ctl", required=True)
    ap.add_argument("--socket", required=True)
    a = ap.parse_args()

    def ctl(*args):
        p = subprocess.run([a.ctl, "--socket", a.socket, *args], capture_output=True, text=True, timeout=15)
        if p.returncode != 0:
            sys.exit("gemini-cli replay: proxypoolctl %s: %s%s" % (" ".join(args), p.stdout, p.stderr))
        return p.stdout

    def upstream(token):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(a.fake_url + "/__requests", timeout=10) as r:
            return [x for x in json.loads(r.read()) if token in json.dumps(x.get("body"))]

    fixtures = {os.path.basename(p)[:-5]: json.load(open(p)) for p in sorted(glob.glob(os.path.join(FIXTURES, "*.json")))}
    assert len(fixtures) >= 6, "fixtures missing in " + FIXTURES
    host = a.base_url.split("//", 1)[1]
    failures, sent = [], 0
    for kind, cred in KINDS.items():
        app = "gcli-" + kind
        ctl("assign", app, cred)
        key = json.loads(ctl("--json", "key", "create", "--app", app))["key"]
        time.sleep(0.3)   # the daemon reloads its routing table after a change
        for prefix in PREFIXES:
            for placement in ("x-goog-api-key", "bearer"):
                for name, fx in fixtures.items():
                    token = "g-" + uuid.uuid4().hex[:12]
                    target = fx["target"].replace("/v1beta", prefix, 1)
                    status, headers, text = exchange(a.base_url, request_bytes(fx, host, target, key, placement, token))
                    sent += 1
                    why = check(fx, kind, status, headers, text)
                    recs = upstream(token)
                    if why is None and recs and any(r.get("key_tag") != cred for r in recs):
                        why = "went to %s, not %s" % (sorted({r.get("key_tag") for r in recs}), cred)
                    if why is None and kind == "gemini" and fx["expect"] != "count":
                        want = target.split("?")[0] if prefix else "/v1beta" + target.split("?")[0]
                        if not any(r["path"] == want for r in recs):
                            why = "the Gemini upstream was not asked %s: %s" % (want, [r["path"] for r in recs])
                    if why is None and fx["expect"].startswith("embedding") and kind != "gemini" and recs:
                        why = "a refused embedding reached the upstream"
                    if why:
                        failures.append("%s %s%s %s → %s: %s" % (name, prefix or "(no version)", "", placement, kind, why))
    # No key at all: Gemini CLI without GEMINI_API_KEY sends an empty x-goog-api-key; its User-Agent names the app.
    ctl("require-key", "off")
    try:
        fx = fixtures["chat-stream-tools"]
        for kind, cred in KINDS.items():
            ctl("assign", "gemini-cli", cred)
            time.sleep(0.3)
            status, headers, text = exchange(a.base_url, request_bytes(fx, host, fx["target"], "", "x-goog-api-key", "g-" + uuid.uuid4().hex[:12]))
            sent += 1
            why = check(fx, kind, status, headers, text)
            if why is None and headers.get("x-proxypool-credential") != cred:
                why = "served by %s, not gemini-cli's %s" % (headers.get("x-proxypool-credential"), cred)
            if why:
                failures.append("chat-stream-tools, empty key, app from User-Agent → %s: %s" % (kind, why))
    finally:
        ctl("require-key", "on")
    for f in failures:
        print("gemini-cli replay: FAILED: " + f, file=sys.stderr)
    print("gemini-cli replay: %d requests from %d fixtures onto %d credential kinds, %d failed"
          % (sent, len(fixtures), len(KINDS), len(failures)), file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
