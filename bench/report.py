#!/usr/bin/env python3
"""Turn bench/run.sh's results.jsonl into the Markdown report (stdout and RESULTS/latest.md, latest.json)."""
import argparse, collections, json, os, re, statistics, sys, time

TARGETS = ["direct", "proxypoold", "baseline", "nginx", "litellm"]
NAMES = {"direct": "direct", "proxypoold": "proxypoold", "baseline": "baseline", "nginx": "nginx", "litellm": "LiteLLM"}


def load(path):
    rows = []
    for line in open(path):
        line = line.strip()
        if line:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                print("bad result line: " + line[:200], file=sys.stderr)
    return rows


def aggregate(rows):
    wrk = collections.defaultdict(list)
    other = {}
    for r in rows:
        if r["kind"] == "wrk":
            wrk[(r["scheme"], r["target"], r["test"], r["c"])].append(r)
        elif r["kind"] == "mem":
            other[(r["scheme"], r["target"], "mem", r["phase"])] = r
        elif r["kind"] == "check":
            other[(r["scheme"], r["target"], "check", r["body"])] = r["result"]
        else:
            other[(r["scheme"], r["target"], r["kind"])] = r["result"]
    agg = {}
    rounds = {}
    for k, runs in wrk.items():
        rounds[k] = {x["rep"]: x["wrk"]["requests"] / (x["wrk"]["duration_us"] / 1e6) for x in runs if x["wrk"].get("requests", 0) > 0}
        ok = [x for x in runs if x["wrk"].get("requests", 0) > 0]
        errs = sum(x["wrk"].get(e, 0) for x in runs for e in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
        non2xx = sum(x["wrk"].get("err_status", 0) for x in runs)
        reqs = sum(x["wrk"].get("requests", 0) for x in runs)
        if not ok:
            agg[k] = {"rps": 0, "p50": None, "p99": None, "errors": errs, "non2xx": non2xx, "requests": 0, "failed": True}
            continue
        agg[k] = {
            "rps": statistics.median(x["wrk"]["requests"] / (x["wrk"]["duration_us"] / 1e6) for x in ok),
            "p50": statistics.median(x["wrk"]["p50_us"] for x in ok) / 1000,
            "p99": statistics.median(x["wrk"]["p99_us"] for x in ok) / 1000,
            "errors": errs, "non2xx": non2xx, "requests": reqs,
            "cpu_us_per_req": (sum(x["cpu_ms"] for x in runs) * 1000 / reqs) if reqs else None,
            "up_cpu_us_per_req": (sum(x["up_cpu_ms"] for x in runs) * 1000 / reqs) if reqs else None,
        }
    return agg, other, rounds


def round_ratios(rounds, s, test, c, peer="nginx"):
    """proxypoold / peer for each round both ran in (they ran back to back in it)."""
    p, n = rounds.get((s, "proxypoold", test, c), {}), rounds.get((s, peer, test, c), {})
    return [p[r] / n[r] for r in sorted(set(p) & set(n)) if n[r]]


def fmt(v, nd=0):
    if v is None:
        return "–"
    return ("{:,.%df}" % nd).format(v).replace(",", " ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("outdir")
    ap.add_argument("--meta", default="")
    ap.add_argument("--litellm-why", default="")
    a = ap.parse_args()
    rows = load(a.results)
    agg, other, rounds = aggregate(rows)
    schemes = [s for s in ["http", "https"] if any(k[0] == s for k in agg)]
    present = [t for t in TARGETS if any(k[1] == t for k in agg)]
    out = []
    w = out.append
    w("# proxypool benchmark — %s" % time.strftime("%Y-%m-%d %H:%M:%S %Z"))
    w("")
    w(a.meta)
    w("")
    w("Fake upstream: nginx `return` (JSON, ~330 B) and njs (SSE: 20 chunks + `[DONE]` = 21 events); slow stream: "
      "Python asyncio, 20 events 50 ms apart + `[DONE]`. Client→proxy is always plain HTTP/1.1 keep-alive; "
      "\"https\" means proxy→upstream is TLS (self-signed CA, verified). req/s and p50/p99 from wrk (medians of rounds); "
      "the targets run back to back in each round, in alternating order, and proxypoold / nginx is the median of the "
      "per-round ratios.")
    w("")
    problems = []
    notes = []
    ratio_rows = []
    for s in schemes:
        w("## %s upstream" % s.upper())
        w("")
        cols = [t for t in present if any(k[0] == s and k[1] == t for k in agg)]
        w("| metric | " + " | ".join(NAMES[t] for t in cols) + " | proxypoold / nginx |")
        w("|---" * (len(cols) + 2) + "|")

        def g(t, test, c):
            return agg.get((s, t, test, c))

        def ratio(test, c):
            rs = round_ratios(rounds, s, test, c)
            return statistics.median(rs) if rs else None

        def spread(test, c):
            rs = round_ratios(rounds, s, test, c)
            return " (rounds: %s)" % ", ".join("%.2f" % r for r in rs) if len(rs) > 1 else ""

        for test, label in [("json1k", "JSON 1 KB"), ("json60k", "JSON 60 KB")]:
            for c in (1, 16, 64):
                if not any(g(t, test, c) for t in cols):
                    continue
                cells = []
                for t in cols:
                    x = g(t, test, c)
                    cells.append("–" if not x else (fmt(x["rps"]) + (" ⚠%d err" % x["errors"] if x["errors"] else "")))
                r = ratio(test, c)
                w("| %s c=%d req/s | %s | %s |" % (label, c, " | ".join(cells), ("**%.2f×**%s" % (r, spread(test, c))) if r else "–"))
                w("| %s c=%d p50 / p99 ms | %s | |" % (label, c, " | ".join(
                    "–" if not g(t, test, c) or g(t, test, c)["p50"] is None else "%.3f / %.3f" % (g(t, test, c)["p50"], g(t, test, c)["p99"]) for t in cols)))
                ratio_rows.append((s, "%s c=%d req/s" % (label, c), r))
        x = [g(t, "sse", 16) for t in cols]
        if any(x):
            r = ratio("sse", 16)
            w("| fast SSE c=16 streams/s | %s | %s |" % (" | ".join(
                "–" if not v else fmt(v["rps"]) + (" ⚠%d err" % v["errors"] if v["errors"] else "") for v in x), ("**%.2f×**%s" % (r, spread("sse", 16))) if r else "–"))
            w("| fast SSE c=16 p50 / p99 ms | %s | |" % " | ".join(
                "–" if not v or v["p50"] is None else "%.3f / %.3f" % (v["p50"], v["p99"]) for v in x))
            ratio_rows.append((s, "fast SSE c=16 streams/s", r))
        # added latency at c=1 vs direct
        for test, label in [("json1k", "1 KB"), ("json60k", "60 KB")]:
            d = g("direct", test, 1)
            if d:
                w("| added p50 at c=1 vs direct, %s (ms) | %s | |" % (label, " | ".join(
                    "(%.3f)" % d["p50"] if t == "direct" else ("–" if not g(t, test, 1) else "%+.3f" % (g(t, test, 1)["p50"] - d["p50"])) for t in cols)))
        # streams
        def sres(t, kind):
            return other.get((s, t, kind)) or {}
        w("| fast SSE c=1: TTFB p50 ms; events/stream (50 streams) | %s | |" % " | ".join(
            "%s; %s/%s%s" % (fmt(sres(t, "fastsse").get("ttfb_p50_ms"), 3), sres(t, "fastsse").get("events_min", "?"),
                             sres(t, "fastsse").get("events_expected", 21), "" if sres(t, "fastsse").get("all_events") else " ⚠") for t in cols))
        w("| slow stream c=1: TTFB p50 / max ms | %s | |" % " | ".join(
            "%s / %s" % (fmt(sres(t, "slow").get("ttfb_p50_ms"), 3), fmt(sres(t, "slow").get("ttfb_max_ms"), 3)) for t in cols))
        w("| slow stream c=1: largest inter-event gap ms (upstream: 50) | %s | |" % " | ".join(
            fmt(sres(t, "slow").get("gap_max_ms"), 1) for t in cols))
        w("| slow stream c=1: events out / in | %s | |" % " | ".join(
            "%s–%s / %s%s" % (sres(t, "slow").get("events_min", "?"), sres(t, "slow").get("events_max", "?"), sres(t, "slow").get("events_expected", 21),
                             "" if sres(t, "slow").get("all_events") else " ⚠") for t in cols))
        # CPU
        for test, c, label in [("json1k", 16, "CPU µs per JSON request (1 KB, c=16)"), ("sse", 16, "CPU µs per SSE stream (c=16)")]:
            w("| %s | %s | |" % (label, " | ".join(
                ("upstream %s" % fmt(g(t, test, c).get("up_cpu_us_per_req"), 1) if t == "direct" else fmt(g(t, test, c).get("cpu_us_per_req"), 1))
                if g(t, test, c) else "–" for t in cols)))
        # memory
        def mem(t, phase, key):
            m = other.get((s, t, "mem", phase))
            return m[key] / 1024 if m and m.get(key) else None
        w("| RSS MiB: idle / after load / peak (VmHWM) | %s | |" % " | ".join(
            "–" if t == "direct" else "%s / %s / %s" % (fmt(mem(t, "idle", "rss_kib"), 1), fmt(mem(t, "end", "rss_kib"), 1),
                                                      fmt(mem(t, "end", "hwm_kib"), 1)) for t in cols))
        # correctness checks
        cells = []
        for t in cols:
            res = [other.get((s, t, "check", b)) for b in ("check1k", "check60k", "check300k")]
            if not any(res):
                cells.append("n/a")
            elif all(r and r.get("ok") for r in res):
                cells.append("ok")
            else:
                bad = [p for r in res if r for p in r.get("problems", [])]
                cells.append("⚠ " + "; ".join(bad)[:120])
                problems.append("%s/%s: body/key check failed: %s" % (s, t, "; ".join(bad)))
        w("| bodies 1 K/60 K/300 K intact, key swapped | %s | |" % " | ".join(cells))
        errs = []
        for t in cols:
            e = sum(v["errors"] for k, v in agg.items() if k[0] == s and k[1] == t)
            n2 = sum(v["non2xx"] for k, v in agg.items() if k[0] == s and k[1] == t)
            n = sum(v["requests"] for k, v in agg.items() if k[0] == s and k[1] == t)
            errs.append("%d (non-2xx %d) of %s" % (e, n2, fmt(n)))
            if e and t in ("proxypoold",):
                bad = ["%s c=%d: %d" % (k[2], k[3], v["errors"]) for k, v in agg.items() if k[0] == s and k[1] == t and v["errors"]]
                problems.append("%s/%s: wrk errors: %s" % (s, t, ", ".join(bad)))
        w("| wrk errors over all runs | %s | |" % " | ".join(errs))
        w("")
        for t in cols:
            for kind in ("fastsse", "slow"):
                r = other.get((s, t, kind)) or {}
                if t in ("proxypoold", "nginx") and (not r.get("all_events") or r.get("n_errors")):
                    problems.append("%s/%s %s stream: events %s–%s of %s, statuses %s, errors %s" % (
                        s, t, kind, r.get("events_min"), r.get("events_max"), r.get("events_expected"), r.get("statuses"), r.get("errors")))
                if t == "proxypoold" and kind == "slow" and r.get("gap_max_ms") and r["gap_max_ms"] > 60:
                    problems.append("%s/proxypoold: largest inter-event gap %.1f ms (upstream paces 50 ms)" % (s, r["gap_max_ms"]))
        logf = os.path.join(a.outdir, "proxypoold-%s.log" % s)
        if os.path.exists(logf):
            # 499 lines are wrk closing its connections mid-request when a run ends: expected.
            # The default log level writes one info record per request: only warnings and worse are problems.
            levels = (": emergency: ", ": alert: ", ": critical: ", ": error: ", ": warning: ")
            lines = [l.rstrip() for l in open(logf, errors="replace")
                     if any(v in l for v in levels) and "status=499" not in l]
            if lines:
                problems.append("%s/proxypoold logged %d lines at warning or above (499s not counted), e.g.: %s" % (s, len(lines), lines[0][:200]))
        mf = os.path.join(a.outdir, "proxypoold-%s-metrics.txt" % s)
        if os.path.exists(mf):
            codes = collections.Counter()
            for l in open(mf):
                m = re.match(r'proxypool_requests_total\{.*code="(\d+)".*\} (\d+)', l)
                if m:
                    codes[m.group(1)] += int(m.group(2))
            bad = {k: v for k, v in codes.items() if not k.startswith("2") and k != "499"}
            notes.append("%s/proxypoold /metrics: answers by status %s (499 = wrk closing connections mid-request at the end of each run, "
                         "at most the sum of its concurrencies)" % (s, dict(sorted(codes.items()))))
            if bad:
                problems.append("%s/proxypoold /metrics counted non-2xx answers: %s" % (s, dict(sorted(bad.items()))))
    # the final ratio table
    w("## proxypoold / nginx (same run)")
    w("")
    w("| metric | " + " | ".join("%s upstream" % s.upper() for s in schemes) + " |")
    w("|---" * (len(schemes) + 1) + "|")
    labels = []
    for s, l, r in ratio_rows:
        if l not in labels:
            labels.append(l)
    for l in labels:
        w("| %s | %s |" % (l, " | ".join(
            next(("%.2f×" % r if r else "–") for s2, l2, r in ratio_rows if s2 == s and l2 == l) if any(s2 == s and l2 == l for s2, l2, _ in ratio_rows) else "–"
            for s in schemes)))
    w("")
    if "litellm" not in present:
        w("LiteLLM: skipped — %s" % (a.litellm_why or "not run"))
        w("")
    for n in notes:
        w("Note: " + n)
        w("")
    if "baseline" in present:
        # BASELINE_BIN: the same rounds with another build, for a before/after in one run.
        w("## proxypoold / baseline (same run: 1.00× = no change)")
        w("")
        w("| metric | " + " | ".join("%s upstream" % s.upper() for s in schemes) + " |")
        w("|---" * (len(schemes) + 1) + "|")
        for test, label in [("json1k", "JSON 1 KB"), ("json60k", "JSON 60 KB"), ("sse", "fast SSE")]:
            for c in ((16,) if test == "sse" else (1, 16, 64)):
                cells = []
                for s in schemes:
                    rs = round_ratios(rounds, s, test, c, peer="baseline")
                    cpu = [agg.get((s, t, test, c), {}).get("cpu_us_per_req") for t in ("proxypoold", "baseline")]
                    cells.append(("%.2f× (rounds: %s)" % (statistics.median(rs), ", ".join("%.2f" % r for r in rs)) if rs else "–")
                                 + ("; CPU µs/req %.1f vs %.1f" % tuple(cpu) if all(cpu) else ""))
                w("| %s c=%d | %s |" % (label, c, " | ".join(cells)))
        w("")
    w("## Problems seen")
    w("")
    if problems:
        for p in problems:
            w("- " + p)
    else:
        w("- none: every check passed, no wrk errors, no non-2xx answers, every event forwarded")
    w("")
    text = "\n".join(out)
    print(text)
    with open(os.path.join(a.outdir, "latest.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(a.outdir, "latest.json"), "w") as f:
        json.dump({"meta": a.meta, "wrk": {"/".join(map(str, k)): v for k, v in agg.items()},
                   "other": {"/".join(map(str, k)): v for k, v in other.items()}, "problems": problems}, f, indent=1)


if __name__ == "__main__":
    main()
