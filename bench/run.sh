#!/usr/bin/env bash
# proxypool benchmark: proxypoold vs direct, a plain nginx reverse proxy and (if installable) LiteLLM, all in
# front of the same fast fake upstream (nginx + njs), over a plain-HTTP and an HTTPS upstream.
#
#   bench/run.sh                       # defaults: DURATION=3 s per wrk run, REPEATS=3 rounds; ~12 min
#   DURATION=5 REPEATS=5 bench/run.sh  # steadier numbers
#
# proxypoold runs in its default configuration (log level info: one request record per request, here on stderr
# to a file, since there is no journald). Rounds alternate between the targets; ratios are medians of per-round ratios.
#
# Env: DURATION, REPEATS, SCHEMES ("http https"), TARGETS ("direct proxypoold nginx litellm"), LITELLM (auto|off), LITELLM_REPEATS (1), SLOW_N (streams for
# the slow-stream latency test, 5), PROXY_CPU (0), LOAD_CPU (1), PROXYPOOL_BIN (dir with proxypoold/proxypoolctl,
# default .build/release), BASELINE_BIN (another build's dir, run in the same rounds as "baseline": before/after
# a change in one run), KEEP_TMP=1 keeps the work dir. Results: stdout and bench/results/latest.{md,json}.
# Loopback only. Proxy + upstream are pinned to PROXY_CPU, the load (wrk, python client) to LOAD_CPU.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
DURATION=${DURATION:-3}
REPEATS=${REPEATS:-3}
SCHEMES=${SCHEMES:-"http https"}
TARGETS=${TARGETS:-"direct proxypoold nginx litellm"}
LITELLM=${LITELLM:-auto}
LITELLM_REPEATS=${LITELLM_REPEATS:-1}
SLOW_N=${SLOW_N:-5}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
BIN=${PROXYPOOL_BIN:-$ROOT/.build/release}
VENV=$ROOT/.build-bench/litellm-venv
RESULTS=$HERE/results
CONCURRENCY="1 16 64"
SETTLE=0.3

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------- dependencies
need_apt=()
command -v nginx >/dev/null || need_apt+=(nginx)
command -v wrk >/dev/null || need_apt+=(wrk)
[ -e /usr/lib/nginx/modules/ngx_http_js_module.so ] || need_apt+=(libnginx-mod-http-js)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v taskset >/dev/null || need_apt+=(util-linux)
command -v python3 >/dev/null || need_apt+=(python3)
if [ ${#need_apt[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing ${need_apt[*]}; run: sudo apt-get install -y ${need_apt[*]}"
    log "installing ${need_apt[*]}"
    # Do not let the package start a system nginx on port 80.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.bench && chmod +x /usr/sbin/policy-rc.d.bench
    [ -e /usr/sbin/policy-rc.d ] || { cp /usr/sbin/policy-rc.d.bench /usr/sbin/policy-rc.d; rm_policy=1; }
    rm -f /usr/sbin/policy-rc.d.bench
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    [ -n "${rm_policy:-}" ] && rm -f /usr/sbin/policy-rc.d
fi
[ "$(nproc)" -ge 2 ] || log "warning: fewer than 2 CPUs; pinning load and proxy apart is impossible"

# The binaries may be missing for a moment while someone rebuilds: wait, then copy them so a rebuild during
# the run cannot swap them underneath us.
for _ in $(seq 1 60); do
    [ -x "$BIN/proxypoold" ] && [ -x "$BIN/proxypoolctl" ] && break
    log "waiting for $BIN/proxypoold and proxypoolctl (rebuild in progress?)"; sleep 5
done
[ -x "$BIN/proxypoold" ] || die "no $BIN/proxypoold; build with 'make release'"

W=$(mktemp -d /tmp/proxypool-bench.XXXXXX)
mkdir -p "$W/bin" "$W/logs" "$RESULTS"
rm -f "$RESULTS"/latest.* "$RESULTS"/proxypoold-*.log "$RESULTS"/proxypoold-*-metrics.txt "$RESULTS"/baseline-*.log "$RESULTS"/baseline-*-metrics.txt "$RESULTS"/litellm-*.log
cp "$BIN/proxypoold" "$BIN/proxypoolctl" "$W/bin/"
# BASELINE_BIN: another build (say, main before a change) measured in the same rounds as "baseline".
BASELINE=${BASELINE_BIN:-}
if [ -n "$BASELINE" ]; then
    mkdir -p "$W/baseline" && cp "$BASELINE/proxypoold" "$BASELINE/proxypoolctl" "$W/baseline/" || die "no proxypoold/proxypoolctl in BASELINE_BIN=$BASELINE"
fi
PPD=$W/bin/proxypoold
PPC=$W/bin/proxypoolctl
RES=$W/results.jsonl
: > "$RES"

PIDS=()
cleanup() {
    local rc=$?
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
    done
    if [ "${KEEP_TMP:-0}" = 1 ]; then log "work dir kept: $W"; else rm -rf "$W"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_pid() {   # stop one process we started (and forget it)
    local p=$1
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    local keep=()
    for q in "${PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
    PIDS=("${keep[@]}")
}

. "$HERE/common.sh"   # freeport, wait_port
children() {   # pid and all its descendants
    local p=$1 c
    echo "$p"
    for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do children "$c"; done
}
cpu_ticks() {   # utime+stime summed over pids (all threads)
    local t=0 p
    for p in "$@"; do
        [ -r /proc/"$p"/stat ] || continue
        t=$((t + $(awk '{sub(/^.*\) /, ""); print $12 + $13}' /proc/"$p"/stat)))
    done
    echo $t
}
mem_kib() {   # mem_kib FIELD pids… (VmRSS or VmHWM, summed)
    local f=$1 t=0 p v; shift
    for p in "$@"; do
        v=$(awk -v f="$f:" '$1 == f {print $2}' /proc/"$p"/status 2>/dev/null || true)
        t=$((t + ${v:-0}))
    done
    echo $t
}
CLK_TCK=$(getconf CLK_TCK)
want() { case " $TARGETS " in *" $1 "*) return 0;; esac; return 1; }

# ---------------------------------------------------------------- TLS material
log "work dir $W"
(
    cd "$W"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=proxypool bench CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout up.key -out up.csr -subj "/CN=localhost" 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > up.ext
    openssl x509 -req -in up.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out up.pem -days 2 -extfile up.ext 2>/dev/null
)
CA=$W/ca.pem

# ---------------------------------------------------------------- request bodies
python3 - "$W" <<'EOF'
import json, sys
w = sys.argv[1]
def body(model, size, stream):
    base = {"model": model, "messages": [{"role": "system", "content": "You are a helpful assistant.\tBe brief."},
                                         {"role": "user", "content": ""}], "temperature": 0.2, "max_tokens": 64}
    if stream: base["stream"] = True
    filler = 'Summarise the \"quarterly\" report, please — ünïcödé ok. '
    empty = len(json.dumps(base, ensure_ascii=False).encode())
    text = (filler * (size // len(filler) + 2))
    lo, hi = 0, len(text)
    while lo < hi:   # longest prefix that keeps the body within size bytes
        mid = (lo + hi + 1) // 2
        base["messages"][1]["content"] = text[:mid]
        if len(json.dumps(base, ensure_ascii=False).encode()) <= size: lo = mid
        else: hi = mid - 1
    base["messages"][1]["content"] = text[:lo]
    return json.dumps(base, ensure_ascii=False).encode()
for name, model, size, stream in [("json1k", "bench-json", 1024, False), ("json60k", "bench-json", 60 * 1024, False),
                                  ("sse", "bench-sse", 1024, True), ("slow", "bench-slow", 1024, True),
                                  ("check1k", "bench-check", 1024, False), ("check60k", "bench-check", 60 * 1024, False),
                                  ("check300k", "bench-check", 300 * 1024, False)]:
    open("%s/body-%s.json" % (w, name), "wb").write(body(model, size, stream))
EOF

# ---------------------------------------------------------------- fake upstream (nginx + njs) and slow upstream
UP_HTTP=$(freeport); UP_HTTPS=$(freeport); SLOW_HTTP=$(freeport); SLOW_HTTPS=$(freeport)
JSON_RESP='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench-json","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! This is a benchmark answer from the fake upstream."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":250,"completion_tokens":12,"total_tokens":262}}'
nginx_common() {   # nginx_common DIR: the shared top of an nginx config
    mkdir -p "$1"
    cat <<EOF
worker_processes 1;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log warn;
load_module /usr/lib/nginx/modules/ngx_http_js_module.so;
events { worker_connections 8192; multi_accept on; }
http {
    access_log off;
    client_body_temp_path $1/body; proxy_temp_path $1/proxy; fastcgi_temp_path $1/fcgi;
    uwsgi_temp_path $1/uwsgi; scgi_temp_path $1/scgi;
    keepalive_requests 10000000; keepalive_timeout 300s;
    client_max_body_size 64m; client_body_buffer_size 1m;
    tcp_nodelay on;
EOF
}
{
    nginx_common "$W/up"
    cat <<EOF
    js_import up from $HERE/fake_upstream.js;
    server {
        listen 127.0.0.1:$UP_HTTP;
        listen 127.0.0.1:$UP_HTTPS ssl;
        ssl_certificate $W/up.pem; ssl_certificate_key $W/up.key;
        ssl_session_cache shared:UPSSL:4m;
        location /json/  { default_type application/json; return 200 '$JSON_RESP'; }
        location /sse/   { js_content up.sse; }
        location /check/ { js_content up.check; }
    }
}
EOF
} > "$W/up.conf"
taskset -c "$PROXY_CPU" nginx -c "$W/up.conf" -p "$W/up" -e "$W/up/error.log" 2>>"$W/logs/up.log" &
UP_PID=$!; PIDS+=("$UP_PID")
taskset -c "$PROXY_CPU" python3 "$HERE/slow_upstream.py" --port "$SLOW_HTTP" --tls-port "$SLOW_HTTPS" \
    --cert "$W/up.pem" --key "$W/up.key" --events 20 --interval-ms 50 2>>"$W/logs/slow.log" &
PIDS+=($!)
wait_port "$UP_HTTP" && wait_port "$UP_HTTPS" && wait_port "$SLOW_HTTP" && wait_port "$SLOW_HTTPS" || die "fake upstream did not start: $(cat "$W/logs/up.log" "$W/up/error.log" 2>/dev/null)"
sleep 0.3
UP_PIDS=$(children "$UP_PID" | tr '\n' ' ')

# ---------------------------------------------------------------- measuring one target
# A target defines: T_NAME, T_PIDS (processes whose CPU/RSS we read), URL_JSON/URL_SSE/URL_SLOW/URL_CHECK,
# AUTH_JSON/AUTH_SSE/AUTH_SLOW/AUTH_CHECK (client keys), CHECK_AUTH (what the upstream must see; "" = skip check).
record() { echo "$1" >> "$RES"; }

run_wrk() {   # run_wrk TEST CONC URL BODY AUTH REP
    local test=$1 c=$2 url=$3 body=$4 auth=$5 rep=$6 out c0 u0 c1 u1 line
    out=$W/logs/wrk-$SCHEME-$T_NAME-$test-c$c-$rep.txt
    sleep "$SETTLE"   # let the previous run's abandoned requests drain
    c0=$(cpu_ticks $T_PIDS); u0=$(cpu_ticks $UP_PIDS)
    BENCH_BODY=$body BENCH_AUTH=$auth timeout $((DURATION + 30)) taskset -c "$LOAD_CPU" \
        wrk -t1 -c"$c" -d"${DURATION}s" --timeout 10s --latency -s "$HERE/post.lua" "$url" > "$out" 2>&1 || true
    c1=$(cpu_ticks $T_PIDS); u1=$(cpu_ticks $UP_PIDS)
    line=$(sed -n 's/^BENCHJSON //p' "$out")
    [ -n "$line" ] || { log "wrk failed: $(tail -3 "$out")"; line='{"requests":0,"failed":true}'; }
    record "{\"kind\":\"wrk\",\"scheme\":\"$SCHEME\",\"target\":\"$T_NAME\",\"test\":\"$test\",\"c\":$c,\"rep\":$rep,\"cpu_ms\":$(( (c1 - c0) * 1000 / CLK_TCK )),\"up_cpu_ms\":$(( (u1 - u0) * 1000 / CLK_TCK )),\"wrk\":$line}"
    python3 - "$line" "$test" "$c" <<'EOF' >&2
import json, sys
d = json.loads(sys.argv[1]); s = d.get("duration_us", 1) / 1e6
errs = sum(d.get(k, 0) for k in ("err_connect", "err_read", "err_write", "err_status", "err_timeout"))
print("    %-8s c=%-3s %9.0f req/s  p50 %7.3f ms  p99 %7.3f ms%s" % (sys.argv[2], sys.argv[3], d.get("requests", 0) / s,
      d.get("p50_us", 0) / 1000, d.get("p99_us", 0) / 1000, "  ERRORS %d (non-2xx %d)" % (errs, d.get("err_status", 0)) if errs else ""))
EOF
}

# A target's variables are saved by name, so that several targets can run side by side and rounds alternate.
TARGET_VARS="T_PIDS URL_JSON URL_SSE URL_SLOW URL_CHECK AUTH_JSON AUTH_SSE AUTH_SLOW AUTH_CHECK CHECK_AUTH"
declare -A TV
save_target() { local v; for v in $TARGET_VARS; do TV[$T_NAME.$v]=${!v}; done; }
use_target() { local v; T_NAME=$1; for v in $TARGET_VARS; do printf -v "$v" '%s' "${TV[$1.$v]}"; done; }

before_load() {   # idle memory, correctness checks, the fast-stream check, warm-up: for the current target
    log "$SCHEME upstream / $T_NAME: checks and warm-up"
    sleep 0.5
    record "{\"kind\":\"mem\",\"scheme\":\"$SCHEME\",\"target\":\"$T_NAME\",\"phase\":\"idle\",\"rss_kib\":$(mem_kib VmRSS $T_PIDS),\"hwm_kib\":$(mem_kib VmHWM $T_PIDS)}"
    # Correctness first: bodies intact, key swapped, every event of a fast stream forwarded.
    if [ -n "$CHECK_AUTH" ]; then
        for b in check1k check60k check300k; do
            record "{\"kind\":\"check\",\"scheme\":\"$SCHEME\",\"target\":\"$T_NAME\",\"body\":\"$b\",\"result\":$(timeout 60 taskset -c "$LOAD_CPU" python3 "$HERE/stream_client.py" check --url "$URL_CHECK" --body "$W/body-$b.json" --auth "$AUTH_CHECK" --expect-auth "$CHECK_AUTH" --cafile "$CA" || echo '{"ok":false,"problems":["client failed"]}')}"
        done
    fi
    record "{\"kind\":\"fastsse\",\"scheme\":\"$SCHEME\",\"target\":\"$T_NAME\",\"result\":$(timeout 120 taskset -c "$LOAD_CPU" python3 "$HERE/stream_client.py" stream --url "$URL_SSE" --body "$W/body-sse.json" --auth "$AUTH_SSE" --cafile "$CA" --n 50 --expect 21 || echo '{"n_errors":1}')}"
    # Warm-up (upstream connections, caches), not recorded.
    BENCH_BODY=$W/body-json1k.json BENCH_AUTH=$AUTH_JSON timeout 30 taskset -c "$LOAD_CPU" \
        wrk -t1 -c64 -d1s -s "$HERE/post.lua" "$URL_JSON" > "$W/logs/warmup-$SCHEME-$T_NAME.txt" 2>&1 || true
}

after_load() {   # memory after load, the slowly streaming upstream, memory at the end
    record "{\"kind\":\"mem\",\"scheme\":\"$SCHEME\",\"target\":\"$T_NAME\",\"phase\":\"after\",\"rss_kib\":$(mem_kib VmRSS $T_PIDS),\"hwm_kib\":$(mem_kib VmHWM $T_PIDS)}"
    # Slowly streaming upstream: is every event forwarded as it arrives?
    record "{\"kind\":\"slow\",\"scheme\":\"$SCHEME\",\"target\":\"$T_NAME\",\"result\":$(timeout 120 taskset -c "$LOAD_CPU" python3 "$HERE/stream_client.py" stream --url "$URL_SLOW" --body "$W/body-slow.json" --auth "$AUTH_SLOW" --cafile "$CA" --n "$SLOW_N" --expect 21 || echo '{"n_errors":1}')}"
    sleep 1   # let the proxy settle, then read RSS again
    record "{\"kind\":\"mem\",\"scheme\":\"$SCHEME\",\"target\":\"$T_NAME\",\"phase\":\"end\",\"rss_kib\":$(mem_kib VmRSS $T_PIDS),\"hwm_kib\":$(mem_kib VmHWM $T_PIDS)}"
}

# The load, in rounds: each round runs every test once on every target, back to back, and the order of the
# targets alternates from round to round. This machine has steal time that comes and goes over seconds to
# minutes; peers measured minutes apart would see different machines. The report takes per-round ratios and
# their median.
measure_rounds() {   # measure_rounds ROUNDS TARGET...
    local rounds=$1 round body c t order; shift
    for round in $(seq 1 "$rounds"); do
        order=("$@")
        if [ $((round % 2)) = 0 ]; then order=(); for t in "$@"; do order=("$t" "${order[@]}"); done; fi
        log "$SCHEME upstream: round $round of $rounds (${order[*]})"
        for body in json1k json60k; do
            for c in $CONCURRENCY; do
                for t in "${order[@]}"; do use_target "$t"; run_wrk "$body" "$c" "$URL_JSON" "$W/body-$body.json" "$AUTH_JSON" "$round"; done
            done
        done
        for t in "${order[@]}"; do use_target "$t"; run_wrk sse 16 "$URL_SSE" "$W/body-sse.json" "$AUTH_SSE" "$round"; done
    done
}

measure_target() {   # one target alone (LiteLLM: too slow to pair with the others round by round)
    before_load
    measure_rounds "$1" "$T_NAME"
    after_load
}

# ---------------------------------------------------------------- LiteLLM (optional)
LITELLM_OK=0; LITELLM_WHY=""
if [ "$LITELLM" = off ] || ! want litellm; then
    LITELLM_WHY="disabled (LITELLM=off)"
elif [ -x "$VENV/bin/litellm" ]; then
    LITELLM_OK=1
else
    log "installing LiteLLM into $VENV (pip install 'litellm[proxy]', up to 10 min, once)"
    if python3 -m venv "$VENV" > "$W/logs/litellm-install.log" 2>&1 &&
        timeout 600 "$VENV/bin/pip" install -q 'litellm[proxy]' >> "$W/logs/litellm-install.log" 2>&1; then
        LITELLM_OK=1
    else
        LITELLM_WHY="pip install 'litellm[proxy]' failed: $(tail -2 "$W/logs/litellm-install.log" | tr '\n"' ' ' | cut -c1-200)"
        rm -rf "$VENV"
    fi
fi
[ "$LITELLM_OK" = 1 ] && LITELLM_VERSION=$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))' 2>/dev/null || echo '?')

# proxypoold (and the baseline build, when BASELINE_BIN names one) in its default configuration, with one
# credential per fake-upstream path, an app per test and an access key each. start_proxypoold NAME PPD PPC
start_proxypoold() {
    local name=$1 ppd=$2 ppc=$3 port sock m
    port=$(freeport); sock=$W/$name-$SCHEME/control.sock; mkdir -p -m 700 "$W/$name-$SCHEME" "$W/$name-$SCHEME/state"
    taskset -c "$PROXY_CPU" "$ppd" --state-dir "$W/$name-$SCHEME/state" --control-socket "$sock" \
        --listen "127.0.0.1:$port" --config /dev/null 2>"$W/logs/$name-$SCHEME.log" &
    PP_PID=$!; PIDS+=("$PP_PID"); TV[$name.PID]=$PP_PID; TV[$name.PORT]=$port
    wait_port "$port" || die "$name did not start: $(tail -5 "$W/logs/$name-$SCHEME.log")"
    for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.1; done
    ca_opt=(); [ "$SCHEME" = https ] && ca_opt=(--ca-file "$CA")
    for m in json sse check; do
        printf '%s' "sk-upstream-$m" | "$ppc" --socket "$sock" credential add "up-$m" --provider openai \
            --base-url "$UPBASE/$m/v1" "${ca_opt[@]}" --key-stdin >/dev/null
    done
    printf '%s' sk-upstream-slow | "$ppc" --socket "$sock" credential add up-slow --provider openai \
        --base-url "$SLOWBASE/slow/v1" "${ca_opt[@]}" --key-stdin >/dev/null
    "$ppc" --socket "$sock" fallback off >/dev/null
    for m in json sse slow check; do
        "$ppc" --socket "$sock" assign "bench-$m" "up-$m" >/dev/null
        eval "AUTH_${m^^}=\$(\"\$ppc\" --socket \"\$sock\" key create --app bench-$m 2>/dev/null)"
    done
    T_NAME=$name; T_PIDS=$PP_PID; CHECK_AUTH="Bearer sk-upstream-check"
    URL_JSON=http://127.0.0.1:$port/v1/chat/completions; URL_SSE=$URL_JSON; URL_SLOW=$URL_JSON; URL_CHECK=$URL_JSON
    save_target
}

# ---------------------------------------------------------------- the runs
for SCHEME in $SCHEMES; do
    if [ "$SCHEME" = https ]; then UPBASE=https://127.0.0.1:$UP_HTTPS; SLOWBASE=https://127.0.0.1:$SLOW_HTTPS
    else UPBASE=http://127.0.0.1:$UP_HTTP; SLOWBASE=http://127.0.0.1:$SLOW_HTTP; fi

    # --- direct to the fake upstream
    if want direct; then
    T_NAME=direct; T_PIDS=""
    URL_JSON=$UPBASE/json/v1/chat/completions; URL_SSE=$UPBASE/sse/v1/chat/completions
    URL_SLOW=$SLOWBASE/slow/v1/chat/completions; URL_CHECK=$UPBASE/check/v1/chat/completions
    AUTH_JSON=sk-client; AUTH_SSE=sk-client; AUTH_SLOW=sk-client; AUTH_CHECK=sk-client; CHECK_AUTH="Bearer sk-client"
    save_target
    fi

    # --- proxypoold, and the baseline build beside it
    want proxypoold && start_proxypoold proxypoold "$PPD" "$PPC"
    [ -n "$BASELINE" ] && start_proxypoold baseline "$W/baseline/proxypoold" "$W/baseline/proxypoolctl"

    # --- nginx as a plain reverse proxy
    if want nginx; then
    NG_PORT=$(freeport)
    if [ "$SCHEME" = https ]; then
        UPS="server 127.0.0.1:$UP_HTTPS;"; SLOWUPS="server 127.0.0.1:$SLOW_HTTPS;"; PSCHEME=https
        TLSCONF="proxy_ssl_trusted_certificate $CA; proxy_ssl_verify on; proxy_ssl_name localhost; proxy_ssl_session_reuse on;"
    else
        UPS="server 127.0.0.1:$UP_HTTP;"; SLOWUPS="server 127.0.0.1:$SLOW_HTTP;"; PSCHEME=http; TLSCONF=""
    fi
    {
        nginx_common "$W/ng-$SCHEME"
        cat <<EOF
    upstream up   { $UPS keepalive 256; keepalive_requests 10000000; keepalive_timeout 300s; }
    upstream slow { $SLOWUPS keepalive 16; }
    server {
        listen 127.0.0.1:$NG_PORT;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_buffering off;
        $TLSCONF
        location /      { proxy_pass $PSCHEME://up; }
        location /slow/ { proxy_pass $PSCHEME://slow; }
    }
}
EOF
    } > "$W/ng-$SCHEME.conf"
    taskset -c "$PROXY_CPU" nginx -c "$W/ng-$SCHEME.conf" -p "$W/ng-$SCHEME" -e "$W/ng-$SCHEME/error.log" 2>>"$W/logs/nginx-$SCHEME.log" &
    NG_PID=$!; PIDS+=("$NG_PID")
    wait_port "$NG_PORT" || die "nginx proxy did not start: $(cat "$W/logs/nginx-$SCHEME.log" "$W/ng-$SCHEME/error.log" 2>/dev/null)"
    sleep 0.3
    T_NAME=nginx; T_PIDS=$(children "$NG_PID" | tr '\n' ' ')
    URL_JSON=http://127.0.0.1:$NG_PORT/json/v1/chat/completions; URL_SSE=http://127.0.0.1:$NG_PORT/sse/v1/chat/completions
    URL_SLOW=http://127.0.0.1:$NG_PORT/slow/v1/chat/completions; URL_CHECK=http://127.0.0.1:$NG_PORT/check/v1/chat/completions
    AUTH_JSON=sk-client; AUTH_SSE=sk-client; AUTH_SLOW=sk-client; AUTH_CHECK=sk-client; CHECK_AUTH="Bearer sk-client"
    save_target
    fi

    # --- checks, then the rounds, then the slow streams: every target of this scheme side by side
    paired=()
    for t in direct proxypoold nginx; do want "$t" && paired+=("$t"); done
    [ -n "$BASELINE" ] && paired+=(baseline)
    for t in "${paired[@]}"; do use_target "$t"; before_load; done
    measure_rounds "$REPEATS" "${paired[@]}"
    for t in "${paired[@]}"; do use_target "$t"; after_load; done
    for t in proxypoold baseline; do
        [ -n "${TV[$t.PID]:-}" ] || continue
        # The daemon's own view: requests by status code (with its access key: /metrics is not public).
        curl -s --max-time 5 -H "Authorization: Bearer ${TV[$t.AUTH_JSON]}" "http://127.0.0.1:${TV[$t.PORT]}/metrics" > "$W/logs/$t-$SCHEME-metrics.txt" || true
        kill -0 "${TV[$t.PID]}" 2>/dev/null || log "$t DIED during the run (see its log)"
        stop_pid "${TV[$t.PID]}"
        unset "TV[$t.PID]"
        cp "$W/logs/$t-$SCHEME.log" "$W/logs/$t-$SCHEME-metrics.txt" "$RESULTS/" 2>/dev/null || true
    done
    want nginx && stop_pid "$NG_PID"

    # --- LiteLLM as an OpenAI-compatible passthrough
    if [ "$LITELLM_OK" = 1 ] && want litellm; then
        LL_PORT=$(freeport); mkdir -p "$W/ll-$SCHEME"
        LL_KEY=sk-$(openssl rand -hex 24)   # LiteLLM refuses to start without a strong master key
        {
            echo "model_list:"
            for m in json sse; do
                printf '  - model_name: bench-%s\n    litellm_params: {model: openai/bench-%s, api_base: "%s/%s/v1", api_key: sk-upstream-%s}\n' "$m" "$m" "$UPBASE" "$m" "$m"
            done
            printf '  - model_name: bench-slow\n    litellm_params: {model: openai/bench-slow, api_base: "%s/slow/v1", api_key: sk-upstream-slow}\n' "$SLOWBASE"
            printf 'general_settings:\n  master_key: "%s"\n' "$LL_KEY"
            printf 'litellm_settings:\n  telemetry: false\n  ssl_verify: "%s"\n  set_verbose: false\n  drop_params: true\n' "$CA"
        } > "$W/ll-$SCHEME/config.yaml"
        (cd "$W/ll-$SCHEME" && LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOG=ERROR SSL_CERT_FILE=$CA \
            NO_PROXY='*' HTTP_PROXY= HTTPS_PROXY= http_proxy= https_proxy= \
            exec taskset -c "$PROXY_CPU" "$VENV/bin/litellm" --config "$W/ll-$SCHEME/config.yaml" --host 127.0.0.1 \
            --port "$LL_PORT" --num_workers 1 --telemetry False) > "$W/logs/litellm-$SCHEME.log" 2>&1 &
        LL_PID=$!; PIDS+=("$LL_PID")
        ok=0
        for _ in $(seq 1 240); do
            kill -0 "$LL_PID" 2>/dev/null || break
            curl -sf --max-time 2 "http://127.0.0.1:$LL_PORT/health/liveliness" >/dev/null 2>&1 && { ok=1; break; }
            sleep 0.5
        done
        if [ $ok = 1 ]; then
            T_NAME=litellm; T_PIDS=$(children "$LL_PID" | tr '\n' ' ')
            URL_JSON=http://127.0.0.1:$LL_PORT/v1/chat/completions; URL_SSE=$URL_JSON; URL_SLOW=$URL_JSON; URL_CHECK=""
            AUTH_JSON=$LL_KEY; AUTH_SSE=$LL_KEY; AUTH_SLOW=$LL_KEY; CHECK_AUTH=""   # LiteLLM re-encodes bodies
            SETTLE=2 measure_target "$LITELLM_REPEATS"
        else
            LITELLM_WHY="LiteLLM did not become ready in 120 s: $(tail -3 "$W/logs/litellm-$SCHEME.log" | tr '\n"' ' ' | cut -c1-300)"
            log "$LITELLM_WHY"
        fi
        stop_pid "$LL_PID"
        cp "$W/logs/litellm-$SCHEME.log" "$RESULTS/" 2>/dev/null || true
    fi
done

# ---------------------------------------------------------------- report
python3 "$HERE/report.py" "$RES" "$RESULTS" \
    --meta "duration=${DURATION}s repeats=$REPEATS (LiteLLM: $LITELLM_REPEATS) proxy+upstream on CPU $PROXY_CPU, load on CPU $LOAD_CPU; $(uname -r); nginx $(nginx -v 2>&1 | sed 's/.*\///'); $(curl --version | head -1 | cut -d' ' -f1-2)${LITELLM_VERSION:+; LiteLLM $LITELLM_VERSION}" \
    --litellm-why "$LITELLM_WHY"
cp "$RES" "$RESULTS/latest.jsonl"
