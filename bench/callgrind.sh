#!/usr/bin/env bash
# Instructions per 1 KB JSON request through proxypoold (a release build dir, default .build/release) to an nginx
# `return` upstream, counted by callgrind from after a 3 s warm-up for DUR seconds (default 6) of wrk -c4; machine-
# independent, so two builds can be compared on a busy box. Loopback only. Needs nginx, wrk, valgrind (test tools).
#   bash bench/callgrind.sh [BIN_DIR]
set -euo pipefail
BIN=${1:-$(cd "$(dirname "$0")/.." && pwd)/.build/release}
W=$(mktemp -d /tmp/cg.XXXX)
# A copy without debug info: valgrind 3.19 gives up on the release build's ("possibly corrupted debuginfo").
cp $BIN/proxypoold $BIN/proxypoolctl $W/ && strip -g $W/proxypoold 2>/dev/null || true
JSON='{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench-json","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! This is a benchmark answer from the fake upstream."},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":250,"completion_tokens":12,"total_tokens":262}}'
UP=${UP_PORT:-18591}; PP=${PROXY_PORT:-18592}
mkdir -p $W/up
cat > $W/up.conf <<C
worker_processes 1; daemon off; pid $W/up/nginx.pid; error_log $W/up/error.log warn;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path $W/up/b; proxy_temp_path $W/up/p; fastcgi_temp_path $W/up/f; uwsgi_temp_path $W/up/u; scgi_temp_path $W/up/s;
 keepalive_requests 10000000; keepalive_timeout 300s;
 server { listen 127.0.0.1:$UP; location /json/ { default_type application/json; return 200 '$JSON'; } } }
C
nginx -c $W/up.conf -p $W/up -e $W/up/error.log & NG=$!
mkdir -m 700 $W/st
valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$W/cg.out $W/proxypoold --state-dir $W/st --control-socket $W/ctl.sock --listen 127.0.0.1:$PP --config /dev/null 2>$W/pp.log &
PD=$!
for i in $(seq 1 100); do [ -S $W/ctl.sock ] && break; sleep 0.2; done
printf sk-up | $W/proxypoolctl --socket $W/ctl.sock credential add up --provider openai --base-url http://127.0.0.1:$UP/json/v1 --key-stdin >/dev/null
$W/proxypoolctl --socket $W/ctl.sock fallback off >/dev/null
$W/proxypoolctl --socket $W/ctl.sock assign bench up >/dev/null
KEY=$($W/proxypoolctl --socket $W/ctl.sock key create --app bench)
python3 - > $W/body.json <<P
import json
b={"model":"bench-json","messages":[{"role":"user","content":"x"*900}]}
print(json.dumps(b),end="")
P
BODY=$W/body.json
cat > $W/post.lua <<L
local f = io.open("$BODY", "rb"); wrk.body = f:read("*a"); f:close()
wrk.method = "POST"; wrk.headers["Content-Type"] = "application/json"; wrk.headers["Authorization"] = "Bearer $KEY"
L
wrk -t1 -c4 -d3s -s $W/post.lua http://127.0.0.1:$PP/v1/chat/completions > $W/warm.txt
callgrind_control -i on $PD >/dev/null
wrk -t1 -c4 -d${DUR:-6}s -s $W/post.lua http://127.0.0.1:$PP/v1/chat/completions > $W/wrk.txt
callgrind_control -i off $PD >/dev/null
callgrind_control -d $PD >/dev/null
sleep 1
kill $PD $NG; wait 2>/dev/null || true
REQ=$(awk '/requests in/{print $1}' $W/wrk.txt)
OUT=$(ls -S $W/cg.out* | head -1)
TOT=$(callgrind_annotate $OUT 2>/dev/null | awk "/PROGRAM TOTALS/{gsub(\",\",\"\",\$1); print \$1}")
echo "requests=$REQ instructions=$TOT per_request=$((TOT / REQ))"
echo "callgrind output: $OUT (callgrind_annotate it)"
