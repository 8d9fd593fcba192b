#!/usr/bin/env bash
# Translation overhead (issue 5): what translating a request and its answer adds to going through proxypoold
# without translation, for an Anthropic client in front of an OpenAI Chat upstream and an OpenAI Chat client in
# front of an Anthropic upstream.
#
#   bench/translation.sh              # DURATION=3 s per wrk run, REPEATS=3 (medians); about 2 minutes
#
# For each direction and request size (1 KB, 100 KB: a long agent conversation with tools, tool calls and
# tool results), the translated request is sent once and the body the upstream received is kept; the baseline
# replays that exact upstream body as a same-protocol client through the same daemon (forwarded byte for
# byte). Same upstream, same answer: the difference of the two p50 latencies at c=1 is the translation.
# Streams: 500-event answers, (a) unpaced, time per stream, and (b) paced 2 ms apart, each event stamped by the
# upstream when written and read back by the client: the delay of every event, translated, passed through,
# and direct to the upstream.
# Env: DURATION, REPEATS, PROXY_CPU (0), LOAD_CPU (1), PROXYPOOL_BIN (default .build/release), KEEP_TMP=1.
# Results: stdout and bench/results/translation.{md,json}. Loopback only.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
DURATION=${DURATION:-3}
REPEATS=${REPEATS:-3}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
BIN=${PROXYPOOL_BIN:-$ROOT/.build/release}
RESULTS=$HERE/results
log() { printf '[bench-translation %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
command -v wrk >/dev/null || die "wrk missing: sudo apt-get install -y wrk"
[ -x "$BIN/proxypoold" ] || die "no $BIN/proxypoold; build with 'make release'"

W=$(mktemp -d /tmp/proxypool-bench-tr.XXXXXX)
mkdir -p "$W/logs" "$RESULTS"
PIDS=()
cleanup() {
    local rc=$?
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "${KEEP_TMP:-0}" = 1 ]; then log "work dir kept: $W"; else rm -rf "$W"; fi
    exit $rc
}
trap cleanup EXIT
. "$HERE/common.sh"   # freeport, wait_port

UP=$(freeport); PP=$(freeport)
taskset -c "$PROXY_CPU" python3 "$HERE/translation_upstream.py" --port "$UP" --events 500 --interval-ms 2 2>"$W/logs/up.log" &
PIDS+=($!)
mkdir -m 700 "$W/pp"
taskset -c "$PROXY_CPU" "$BIN/proxypoold" --state-dir "$W/pp/state" --control-socket "$W/pp/control.sock" \
    --listen "127.0.0.1:$PP" --config /dev/null --log-level warning 2>"$W/logs/proxypoold.log" &
PP_PID=$!; PIDS+=("$PP_PID")
wait_port "$UP" && wait_port "$PP" || die "upstream or daemon did not start"
for _ in $(seq 1 50); do [ -S "$W/pp/control.sock" ] && break; sleep 0.1; done
ctl() { "$BIN/proxypoolctl" --socket "$W/pp/control.sock" "$@" >/dev/null; }
printf 'sk-up-chat' | ctl credential add up-chat --provider openai-compatible --base-url "http://127.0.0.1:$UP/v1" --key-stdin
printf 'sk-up-anthropic' | ctl credential add up-anthropic --provider anthropic --base-url "http://127.0.0.1:$UP" --key-stdin
ctl tier set openai-compatible standard bench-model
ctl fallback off
ctl assign to-chat up-chat
ctl assign to-anthropic up-anthropic
KEY=$("$BIN/proxypoolctl" --socket "$W/pp/control.sock" key create 2>/dev/null)
BASE=http://127.0.0.1:$PP

# ---------------------------------------------------------------- request bodies
python3 - "$W" <<'PY'
import json, sys
w = sys.argv[1]
para = "The function parses the configuration file, validates every key and returns a typed struct; errors name the line. "
def schema(i):
    return {"type": "object", "properties": {"path": {"type": "string", "description": "file path %d" % i},
            "limit": {"type": "integer"}, "flags": {"type": "array", "items": {"type": "string"}}}, "required": ["path"]}
def anthropic(turns, stream=False, paced=False):
    msgs = []
    for t in range(turns):
        msgs.append({"role": "user", "content": [{"type": "text", "text": para * 2}]} if t == 0 else
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_%03d" % (t - 1), "content": para * 6}]})
        msgs.append({"role": "assistant", "content": [{"type": "text", "text": "Looking at it."},
                     {"type": "tool_use", "id": "toolu_%03d" % t, "name": "Read", "input": {"path": "src/file%d.swift" % t, "limit": 200}}]})
    msgs.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_%03d" % (turns - 1), "content": para}]
                 + ([{"type": "text", "text": "BENCH-PACED"}] if paced else [])})
    b = {"model": "claude-sonnet-4-5", "max_tokens": 1024, "system": [{"type": "text", "text": para * 3}],
         "tools": [{"name": "Read" if i == 0 else "Tool%d" % i, "description": para, "input_schema": schema(i)} for i in range(4 if turns < 5 else 12)],
         "messages": msgs}
    if stream: b["stream"] = True
    return b
def chat(turns, stream=False, paced=False):
    msgs = [{"role": "system", "content": para * 3}]
    for t in range(turns):
        msgs.append({"role": "user", "content": para * 2} if t == 0 else
                    {"role": "tool", "tool_call_id": "call_%03d" % (t - 1), "content": para * 6})
        msgs.append({"role": "assistant", "content": "Looking at it.", "tool_calls": [{"id": "call_%03d" % t, "type": "function",
                     "function": {"name": "Read", "arguments": json.dumps({"path": "src/file%d.swift" % t, "limit": 200})}}]})
    msgs.append({"role": "tool", "tool_call_id": "call_%03d" % (turns - 1), "content": para})
    if paced: msgs.append({"role": "user", "content": "BENCH-PACED"})
    b = {"model": "gpt-4o", "max_tokens": 1024, "messages": msgs,
         "tools": [{"type": "function", "function": {"name": "Read" if i == 0 else "Tool%d" % i, "description": para, "parameters": schema(i)}}
                   for i in range(4 if turns < 5 else 12)]}
    if stream: b["stream"] = True
    return b
def size_for(f, target):   # the number of turns whose body is closest to target bytes
    return min(range(1, 200), key=lambda t: abs(len(json.dumps(f(t)).encode()) - target))
def write(name, obj):
    open("%s/%s.json" % (w, name), "w").write(json.dumps(obj, separators=(",", ":")))
for proto, f in (("anthropic", anthropic), ("chat", chat)):
    small = {"anthropic": {"model": "claude-sonnet-4-5", "max_tokens": 256, "system": para * 2, "messages": [{"role": "user", "content": para * 5}]},
             "chat": {"model": "gpt-4o", "max_tokens": 256, "messages": [{"role": "system", "content": para * 2}, {"role": "user", "content": para * 5}]}}[proto]
    write(proto + "-1k", small)
    write(proto + "-100k", f(size_for(f, 100 * 1024)))
    write(proto + "-stream", f(1, stream=True))
    write(proto + "-paced", f(1, stream=True, paced=True))
PY
for f in "$W"/*.json; do log "$(basename "$f"): $(wc -c < "$f") bytes"; done

# The upstream body a translated request becomes (sent once, then kept for the baseline).
capture() {   # capture CLIENT_BODY PATH APP UPSTREAM_KIND OUT
    local code
    code=$(curl -s -o "$W/logs/capture.out" -w '%{http_code}' -H "Authorization: Bearer $KEY" -H "X-Proxypool-App: $3" \
        -H 'Content-Type: application/json' -H 'anthropic-version: 2023-06-01' --data-binary "@$1" "$BASE$2")
    [ "$code" = 200 ] || die "translated request $1 → $2 failed with $code: $(head -c 400 "$W/logs/capture.out")"
    curl -s "http://127.0.0.1:$UP/__last/$4" > "$5"
}
a2c() { capture "$W/anthropic-$1.json" /v1/messages to-chat chat "$W/up-chat-$1.json"; }
c2a() { capture "$W/chat-$1.json" /v1/chat/completions to-anthropic messages "$W/up-anthropic-$1.json"; }
for s in 1k 100k stream paced; do a2c $s; c2a $s; done

RES=$W/results.jsonl; : > "$RES"
wrk_p50() {   # wrk_p50 NAME PATH APP BODY → records a line, prints p50
    local out=$W/logs/wrk-$1.txt line
    BENCH_BODY=$4 BENCH_AUTH=$KEY BENCH_HEADERS="X-Proxypool-App: $3;anthropic-version: 2023-06-01" timeout $((DURATION + 30)) \
        taskset -c "$LOAD_CPU" wrk -t1 -c1 -d"${DURATION}s" --timeout 10s --latency -s "$HERE/post.lua" "$BASE$2" > "$out" 2>&1 || true
    line=$(sed -n 's/^BENCHJSON //p' "$out")
    [ -n "$line" ] || die "wrk failed: $(tail -3 "$out")"
    echo "{\"kind\":\"wrk\",\"name\":\"$1\",\"wrk\":$line}" >> "$RES"
}
# Warm up both paths.
BENCH_BODY=$W/anthropic-1k.json BENCH_AUTH=$KEY BENCH_HEADERS="X-Proxypool-App: to-chat" wrk -t1 -c2 -d1s -s "$HERE/post.lua" "$BASE/v1/messages" >/dev/null 2>&1 || true
BENCH_BODY=$W/up-chat-1k.json BENCH_AUTH=$KEY BENCH_HEADERS="X-Proxypool-App: to-chat" wrk -t1 -c2 -d1s -s "$HERE/post.lua" "$BASE/v1/chat/completions" >/dev/null 2>&1 || true
for rep in $(seq 1 "$REPEATS"); do
    for s in 1k 100k; do
        log "latency at c=1, $s, run $rep"
        wrk_p50 "a2c-translated-$s" /v1/messages to-chat "$W/anthropic-$s.json"
        wrk_p50 "a2c-baseline-$s" /v1/chat/completions to-chat "$W/up-chat-$s.json"
        wrk_p50 "c2a-translated-$s" /v1/chat/completions to-anthropic "$W/chat-$s.json"
        wrk_p50 "c2a-baseline-$s" /v1/messages to-anthropic "$W/up-anthropic-$s.json"
    done
done

stream() {   # stream NAME URL BODY PROTOCOL APP N
    local r
    r=$(taskset -c "$LOAD_CPU" python3 "$HERE/translation_client.py" --url "$2" --body "$3" --protocol "$4" --n "$6" \
        --header "Authorization: Bearer $KEY" --header "X-Proxypool-App: $5" --header "anthropic-version: 2023-06-01")
    echo "{\"kind\":\"stream\",\"name\":\"$1\",\"result\":$r}" >> "$RES"
}
log "streams: 500 events, unpaced"
stream a2c-translated-fast "$BASE/v1/messages" "$W/anthropic-stream.json" messages to-chat 20
stream a2c-baseline-fast "$BASE/v1/chat/completions" "$W/up-chat-stream.json" chat to-chat 20
stream c2a-translated-fast "$BASE/v1/chat/completions" "$W/chat-stream.json" chat to-anthropic 20
stream c2a-baseline-fast "$BASE/v1/messages" "$W/up-anthropic-stream.json" messages to-anthropic 20
log "streams: 500 events paced 2 ms apart, delay of each event"
stream a2c-translated-paced "$BASE/v1/messages" "$W/anthropic-paced.json" messages to-chat 3
stream a2c-baseline-paced "$BASE/v1/chat/completions" "$W/up-chat-paced.json" chat to-chat 3
stream a2c-direct-paced "http://127.0.0.1:$UP/v1/chat/completions" "$W/up-chat-paced.json" chat - 3
stream c2a-translated-paced "$BASE/v1/chat/completions" "$W/chat-paced.json" chat to-anthropic 3
stream c2a-baseline-paced "$BASE/v1/messages" "$W/up-anthropic-paced.json" messages to-anthropic 3
stream c2a-direct-paced "http://127.0.0.1:$UP/v1/messages" "$W/up-anthropic-paced.json" messages - 3
kill -0 "$PP_PID" 2>/dev/null || die "proxypoold died during the run: $(tail -5 "$W/logs/proxypoold.log")"
cp "$RES" "$RESULTS/translation.jsonl"
python3 "$HERE/translation_report.py" "$RES" "$W" "$RESULTS/translation.md" "$RESULTS/translation.json"
