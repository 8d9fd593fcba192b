#!/usr/bin/env bash
# Builds the fuzz targets (see build.sh) and runs each for SECONDS, one after the other.
#   bash Tests/Fuzz/run.sh SECONDS [target...]
# Seeds come from the fixtures (seeds.py); what the fuzzer finds is kept in .build-fuzz/corpus/<target> for
# the next run. A crash, hang (-timeout) or failed invariant stops with exit 1 and leaves the input in
# .build-fuzz/artifacts/<target>/: replay it with `.build-fuzz/bin/fuzz-<target> <file>`, then keep it as a
# regression fixture in Tests/*/Fixtures/fuzz/ (see FuzzRegressionTests). FUZZ_SEED=N fixes libFuzzer's random
# seed (CI uses 1, so that a run explores the same inputs in the same order on every machine).
set -euo pipefail
seconds=${1:?usage: run.sh SECONDS [target...]}
shift
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${FUZZ_BUILD:-$root/.build-fuzz}
export FUZZ_BUILD=$out

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    for f in "$here"/Targets/*.swift; do targets+=("$(basename "$f" .swift)"); done
fi
start=$(date +%s)
bash "$here/build.sh" "${targets[@]}"
python3 "$here/seeds.py" "$out/seeds" 2>/dev/null
mkdir -p "$out/logs"

# libFuzzer prints a report itself; Swift's backtracer would leave a process behind per crash.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
failed=()
printf '%-26s %10s %10s %8s  %s\n' target runs exec/s cov result
for t in "${targets[@]}"; do
    corpus="$out/corpus/$t"; art="$out/artifacts/$t/"
    mkdir -p "$corpus" "$art" "$out/seeds/$t"
    log="$out/logs/$t.log"
    # Inputs a past run crashed on (regressions/<target>/, kept in the repository) are run with the corpus.
    regressions=(); [[ -d $here/regressions/$t ]] && regressions=("$here/regressions/$t")
    # The parsers are byte-at-a-time state machines: a 100 KB input finds nothing an 8 KB one does not (the SSE
    # parser: a 2 KB one), and costs 100 KB of parsing per split. libFuzzer's default max_len is the largest
    # corpus file, which only grows. The codec targets keep it: their seeds are whole answers and streams.
    max_len=(); case $t in http-request|http-response|websocket) max_len=(-max_len=8192) ;; sse) max_len=(-max_len=2048) ;; esac
    rc=0
    "$out/bin/fuzz-$t" -max_total_time="$seconds" ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "${max_len[@]}" -artifact_prefix="$art" "$corpus" "$out/seeds/$t" "${regressions[@]}" >"$log" 2>&1 || rc=$?
    # `|| true`: a crash while the corpus loads leaves no "cov:" line, and grep's status would end the script
    # (set -e, pipefail) before it says which target failed.
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
    if [[ $rc -eq 0 ]]; then result=ok; else result="FAILED (rc $rc, log $log)"; failed+=("$t"); fi
    printf '%-26s %10s %10s %8s  %s\n' "$t" "${runs:-?}" "${eps:-?}" "${cov:-?}" "$result"
    if [[ $rc -ne 0 ]]; then
        grep -m3 -E 'ERROR: |invariant failed|Fatal error|Swift runtime failure|deadly signal|timeout' "$log" | sed 's/^/    /' || true
        ls "$art" | sed 's/^/    artifact: /'
    fi
done
echo "fuzz: ${#targets[@]} targets, $(( $(date +%s) - start )) s"
if [[ ${#failed[@]} -gt 0 ]]; then echo "fuzz: FAILED: ${failed[*]}"; exit 1; fi
