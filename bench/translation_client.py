#!/usr/bin/env python3
"""Stream client for the translation benchmark: reads event streams in the OpenAI Chat or Anthropic format.

    translation_client.py --url URL --body FILE --protocol chat|messages [--header 'K: V']... --n N

For each of N sequential streams it counts the text deltas and, when their text is "ts=<ns> " (a paced
upstream of bench/translation_upstream.py), the delay from the upstream writing each event to this client
reading it (CLOCK_REALTIME on both sides, same machine). Prints one JSON object: streams, events per stream,
total seconds per stream (p50), and the per-event delay p50 / p99 / max in ms.
"""
import argparse, http.client, json, time, urllib.parse


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def one(url, body, headers, protocol):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    t0 = time.monotonic()
    conn.request("POST", u.path + ("?" + u.query if u.query else ""), body=body, headers=headers)
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError("status %d: %s" % (resp.status, resp.read()[:300]))
    delays, texts, ended = [], 0, False
    while True:
        line = resp.readline()
        if not line:
            break
        now = time.time_ns()
        if not line.startswith(b"data: "):
            continue
        data = line[6:].strip()
        if data == b"[DONE]":
            ended = True
            continue
        ev = json.loads(data)
        if protocol == "chat":
            text = ((ev.get("choices") or [{}])[0].get("delta") or {}).get("content")
        else:
            text = (ev.get("delta") or {}).get("text") if ev.get("type") == "content_block_delta" else None
            ended = ended or ev.get("type") == "message_stop"
        if text:
            texts += 1
            if text.startswith("ts="):
                delays.append((now - int(text[3:].split()[0])) / 1e6)
    conn.close()
    return time.monotonic() - t0, texts, delays, ended


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--body", required=True)
    ap.add_argument("--protocol", choices=["chat", "messages"], required=True)
    ap.add_argument("--header", action="append", default=[])
    ap.add_argument("--n", type=int, default=5)
    a = ap.parse_args()
    body = open(a.body, "rb").read()
    headers = {"Content-Type": "application/json"}
    for h in a.header:
        k, _, v = h.partition(":")
        headers[k.strip()] = v.strip()
    seconds, events, delays, errors = [], [], [], []
    for _ in range(a.n):
        try:
            s, n, d, ended = one(a.url, body, headers, a.protocol)
            seconds.append(s); events.append(n); delays += d
            if not ended:
                errors.append("stream without its end event")
        except Exception as e:  # reported, not raised: the harness prints what went wrong
            errors.append(str(e))
    print(json.dumps({"streams": len(seconds), "events": events, "seconds_p50": pct(seconds, 50),
                      "delay_ms_p50": pct(delays, 50), "delay_ms_p99": pct(delays, 99),
                      "delay_ms_max": max(delays) if delays else None, "errors": errors[:3]}))


if __name__ == "__main__":
    main()
