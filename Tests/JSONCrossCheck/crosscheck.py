#!/usr/bin/env python3
"""Cross-checks RequestFields.scan (the proxy's strict body validator) against Python's json module.

    python3 Tests/JSONCrossCheck/crosscheck.py [--count N] [--seed S]

Builds a small harness from the scanner's own sources (swiftc -O, into .build-crosscheck/), generates valid
JSON objects (random trees, plus the codec fixtures) and mutations of them (byte edits, inserted tokens, bad
UTF-8), and compares verdicts. The reference is Python's json with everything the proxy adds spelled out:
strict UTF-8 decoding (json.loads on bytes would let encoded surrogates through), NaN/Infinity refused
(parse_constant), a top-level object, depth <= 128, top-level "model"/"stream" at most once each, model a
string or null, stream a boolean or null. Exit status 1 on any disagreement (each is printed).
Standard library only.
"""
import argparse, glob, json, os, random, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, ".build-crosscheck")
MAX_DEPTH = 128


class Obj(list):
    """An object's members in order (object_pairs_hook), so duplicates stay visible."""


def depth(v):
    d, stack = 0, [(v, 1)]
    while stack:
        x, k = stack.pop()
        if isinstance(x, (Obj, list)):
            d = max(d, k)
            items = [val for _, val in x] if isinstance(x, Obj) else x
            stack.extend((i, k + 1) for i in items)
    return d


def reference(b):
    """('ok', model, stream) or ('err',) for the body `b` (bytes)."""
    try:
        s = b.decode("utf-8")          # strict: no overlong forms, surrogates or > U+10FFFF
    except UnicodeDecodeError:
        return ("err",)

    def no_constants(name):
        raise ValueError(name)
    try:
        v = json.loads(s, parse_constant=no_constants, object_pairs_hook=Obj,
                       parse_int=lambda x: 0, parse_float=lambda x: 0.0)
    except (ValueError, RecursionError):
        return ("err",)
    if not isinstance(v, Obj) or depth(v) > MAX_DEPTH:
        return ("err",)
    keys = [k for k, _ in v]
    if keys.count("model") > 1 or keys.count("stream") > 1:
        return ("err",)
    top = dict(v)
    model, stream = top.get("model"), top.get("stream")
    if model is not None and not isinstance(model, str):
        return ("err",)
    if stream is not None and not isinstance(stream, bool):
        return ("err",)
    if model is not None:
        # A lone surrogate escape has no UTF-8 form: the scanner gives U+FFFD for it.
        model = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in model)
    return ("ok", model, stream)


def parse_harness(line):
    parts = line.split()
    if parts[0] == "err":
        return ("err",)
    model = None if parts[1] == "-" else ("" if parts[1] == "=" else bytes.fromhex(parts[1]).decode("utf-8"))
    stream = {"t": True, "f": False, "-": None}[parts[2]]
    return ("ok", model, stream)


# --- generation -----------------------------------------------------------------------------------------

STRING_PIECES = ["a", "model", "stream", " ", "\\n", "\\\"", "\\\\", "\\/", "\\b\\f\\r\\t", "\\u0041", "\\u00e9", "\\ud83d\\ude00",
                 "\\ud800", "\\udc00x", "é", "中文", "😀", "\x7f", "\\u0000", "tab\\t", "mod\\u0065l"]


def rand_string(r):
    return '"' + "".join(r.choice(STRING_PIECES) for _ in range(r.randint(0, 4))) + '"'


def rand_number(r):
    s = r.choice(["", "-"]) + r.choice(["0", str(r.randint(1, 10**r.randint(1, 25)))])
    if r.random() < 0.3:
        s += "." + str(r.randint(0, 999999))
    if r.random() < 0.3:
        s += r.choice("eE") + r.choice(["", "+", "-"]) + str(r.randint(0, 400))
    return s


def ws(r):
    return r.choice(["", "", "", " ", "\n  ", "\t", "\r\n"])


def rand_value(r, d):
    k = r.random()
    if d > 6 or k < 0.45:
        return r.choice([rand_string, rand_number, lambda r: r.choice(["true", "false", "null"])])(r)
    if k < 0.7:
        return "[" + ws(r) + ("," + ws(r)).join(rand_value(r, d + 1) for _ in range(r.randint(0, 4))) + ws(r) + "]"
    return rand_object(r, d + 1)


def rand_object(r, d=1, top=False):
    members = []
    for _ in range(r.randint(0, 5)):
        key = r.choice(['"model"', '"stream"', '"messages"', '"x"', '""', '"mod\\u0065l"', rand_string(r)]) if top else rand_string(r)
        if key == '"model"' and top:
            val = r.choice(['"gpt-5"', '"claude-sonnet-4-5"', rand_string(r), "null", "5", "[]"])
        elif key == '"stream"' and top:
            val = r.choice(["true", "false", "null", '"true"', "1"])
        else:
            val = rand_value(r, d)
        members.append(ws(r) + key + ws(r) + ":" + ws(r) + val + ws(r))
    return "{" + ",".join(members) + "}"


TOKENS = [b"NaN", b"Infinity", b"-Infinity", b"\\", b"\\u", b"\\ud800", b"\\x", b'"', b"'", b",", b":", b"[", b"]", b"{", b"}",
          b'"model":"m",', b'"stream":true,', b'"model":1,', b"01", b"1.", b".5", b"1e", b"-", b"+1", b"true", b"nul", b"\x00",
          b"\n", b"\t", b"\x1f", b"\x7f", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xf5", b"\xff",
          b"\x80", b"\xc3", b"\xef\xbb\xbf", b" ", b"[" * 130, b"]" * 130, b"/*", b"//"]


def mutate(r, b):
    b = bytearray(b)
    for _ in range(r.randint(1, 3)):
        op = r.random()
        i = r.randint(0, len(b))
        if op < 0.35:
            b[i:i] = r.choice(TOKENS)
        elif op < 0.55 and b:
            del b[min(i, len(b) - 1)]
        elif op < 0.75 and b:
            b[min(i, len(b) - 1)] = r.randint(0, 255)
        elif op < 0.85 and b:
            j = r.randint(i, len(b))
            b[i:i] = b[i:j]
        else:
            b = b[:i]
    return bytes(b)


def corpus(r, n):
    seeds = []
    for path in sorted(glob.glob(os.path.join(ROOT, "Tests/ProxyPoolTranslationTests/Fixtures/*/*.request.json"))):
        with open(path, "rb") as f:
            seeds.append(f.read())
    while len(seeds) < 200:
        seeds.append(rand_object(r, top=True).encode())
    deep = b'{"a":' + b"[" * 127 + b"]" * 127 + b"}"
    out = [deep, deep.replace(b"[", b"[[", 1).replace(b"]", b"]]", 1)]
    while len(out) < n:
        base = r.choice(seeds) if r.random() < 0.3 else rand_object(r, top=True).encode()
        out.append(base if r.random() < 0.3 else mutate(r, base))
    return out


def build():
    os.makedirs(OUT, exist_ok=True)
    exe = os.path.join(OUT, "scan-harness")
    srcs = [os.path.join(ROOT, "Sources/ProxyPoolCore/Proxy", f) for f in ("BodyScanner.swift", "StrictJSON.swift")]
    srcs.append(os.path.join(HERE, "harness.swift"))
    # The string scan's C part (CByteScan), as the package builds it.
    inc = os.path.join(ROOT, "Sources/CByteScan/include")
    csrc = os.path.join(ROOT, "Sources/CByteScan/scan.c")
    if not os.path.exists(exe) or any(os.path.getmtime(s) > os.path.getmtime(exe) for s in srcs + [csrc]):
        swiftc = os.environ.get("SWIFTC", "/opt/swift/usr/bin/swiftc")
        obj = os.path.join(OUT, "CByteScan.o")
        subprocess.run([os.path.join(os.path.dirname(swiftc), "clang"), "-O2", "-I", inc, "-c", csrc, "-o", obj], check=True)
        subprocess.run([swiftc, "-O", "-parse-as-library", "-module-name", "ScanHarness", "-I", inc, *srcs, obj, "-o", exe], check=True)
    return exe


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    r = random.Random(args.seed)
    inputs = corpus(r, args.count)
    exe = build()
    res = subprocess.run([exe], input="".join(b.hex() + "\n" for b in inputs), capture_output=True, text=True, check=True)
    got = [parse_harness(l) for l in res.stdout.splitlines()]
    assert len(got) == len(inputs), (len(got), len(inputs))
    disagree = 0
    accepted = 0
    for b, g in zip(inputs, got):
        want = reference(b)
        accepted += want[0] == "ok"
        if g != want:
            disagree += 1
            if disagree <= 20:
                print(f"DISAGREE python={want} scan={g} input={b[:200]!r}")
    print(f"{len(inputs)} inputs ({accepted} valid per Python, {len(inputs) - accepted} invalid): "
          f"{len(inputs) - disagree} agree, {disagree} disagree")
    sys.exit(1 if disagree else 0)


if __name__ == "__main__":
    main()
