#!/usr/bin/env python3
"""Summarises bench/translation.sh: translation_report.py RESULTS.jsonl WORKDIR OUT.md OUT.json"""
import json, os, statistics, sys

res, work, out_md, out_json = sys.argv[1:5]
rows = [json.loads(l) for l in open(res) if l.strip()]
wrk = {}
for r in rows:
    if r["kind"] == "wrk":
        wrk.setdefault(r["name"], []).append(r["wrk"])
streams = {r["name"]: r["result"] for r in rows if r["kind"] == "stream"}


def p50(name):
    runs = wrk.get(name, [])
    return statistics.median(x["p50_us"] for x in runs) / 1000 if runs else None


def errors(name):
    return sum(x.get(k, 0) for x in wrk.get(name, []) for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))


size = lambda f: os.path.getsize(os.path.join(work, f)) if os.path.exists(os.path.join(work, f)) else 0
directions = [("a2c", "Anthropic client → OpenAI Chat upstream", "anthropic", "up-chat"),
              ("c2a", "OpenAI Chat client → Anthropic upstream", "chat", "up-anthropic")]
targets = {"1k": 0.5, "100k": 3.0}
summary = {"latency": [], "streams": [], "ok": True}
md = ["# Translation overhead (bench/translation.sh)", "",
      "p50 latency at c=1 through proxypoold (wrk, median of runs); the baseline replays the exact body the "
      "translated request became upstream, as a same-protocol client (forwarded byte for byte).", "",
      "| direction | size (client / upstream body) | translated p50 | baseline p50 | added by translation | target | errors |",
      "|---|---|---|---|---|---|---|"]
for key, title, client, up in directions:
    for s in ("1k", "100k"):
        t, b = p50("%s-translated-%s" % (key, s)), p50("%s-baseline-%s" % (key, s))
        if t is None or b is None:
            continue
        added = t - b
        ok = added < targets[s] and errors("%s-translated-%s" % (key, s)) == 0
        summary["ok"] &= ok
        summary["latency"].append({"direction": key, "size": s, "translated_ms": t, "baseline_ms": b, "added_ms": added, "ok": ok})
        md.append("| %s | %s (%d / %d B) | %.3f ms | %.3f ms | **%+.3f ms** | < %.1f ms %s | %d |" % (
            title, s, size("%s-%s.json" % (client, s)), size("%s-%s.json" % (up, s)), t, b, added, targets[s],
            "✔" if ok else "✘", errors("%s-translated-%s" % (key, s)) + errors("%s-baseline-%s" % (key, s))))
md += ["", "Streams of 500 text events. Unpaced: seconds per stream (median of 20) and the difference per event. "
       "Paced 2 ms apart: delay from the upstream writing each event to the client reading it (3 streams, 1500 events).", "",
       "| direction | unpaced: translated / baseline per stream | per event | paced delay p50 / p99 / max: translated | baseline | direct | events | errors |",
       "|---|---|---|---|---|---|---|---|"]
for key, title, _, _ in directions:
    ft, fb = streams.get(key + "-translated-fast", {}), streams.get(key + "-baseline-fast", {})
    pt, pb, pd = (streams.get("%s-%s-paced" % (key, k), {}) for k in ("translated", "baseline", "direct"))
    if not ft or not pt:
        continue
    per_event_us = ((ft["seconds_p50"] or 0) - (fb.get("seconds_p50") or 0)) / 500 * 1e6
    fmt = lambda d: "%.2f / %.2f / %.2f ms" % (d["delay_ms_p50"], d["delay_ms_p99"], d["delay_ms_max"]) if d.get("delay_ms_p50") is not None else "n/a"
    complete = all(n == 500 for n in ft["events"] + pt["events"])
    errs = ft["errors"] + fb.get("errors", []) + pt["errors"] + pb.get("errors", [])
    # The target: each event translated and flushed within 1 ms of its arrival at the daemon. The client sees
    # the upstream's write → daemon → client; the direct path's delay is the part the daemon does not add.
    added_p99 = pt["delay_ms_p99"] - (pd.get("delay_ms_p99") or 0)
    ok = complete and not errs and added_p99 < 1.0
    summary["ok"] &= ok
    summary["streams"].append({"direction": key, "unpaced_translated_s": ft["seconds_p50"], "unpaced_baseline_s": fb.get("seconds_p50"),
                               "per_event_us": per_event_us, "paced_translated": pt, "paced_baseline": pb, "paced_direct": pd,
                               "added_p99_ms": added_p99, "complete": complete, "errors": errs[:3], "ok": ok})
    md.append("| %s | %.1f / %.1f ms | %+.1f µs | %s | %s | %s | %s | %s |" % (
        title, ft["seconds_p50"] * 1000, (fb.get("seconds_p50") or 0) * 1000, per_event_us, fmt(pt), fmt(pb), fmt(pd),
        "all 500" if complete else "MISSING: %s" % (ft["events"] + pt["events"]), "; ".join(errs[:2]) or "none"))
md += ["", "Targets (issue 5): added p50 < 0.5 ms at 1 KB and < 3 ms at 100 KB; every event translated and flushed within "
       "1 ms of arrival (paced p99 delay, translated minus direct, < 1 ms). Overall: **%s**." % ("met" if summary["ok"] else "NOT met")]
text = "\n".join(md) + "\n"
open(out_md, "w").write(text)
json.dump(summary, open(out_json, "w"), indent=1)
print(text)
