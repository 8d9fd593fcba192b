#!/usr/bin/env bash
# The whole Swift test suite under AddressSanitizer (with LeakSanitizer) or ThreadSanitizer:
#   bash Tests/sanitize/run.sh address|thread [extra swift test args, e.g. --filter ProxyTests]
# Each sanitizer builds into its own scratch directory (.build-asan, .build-tsan), and the integration tests
# start the SANITIZED proxypoold/proxypoolctl from it (PROXYPOOL_BIN_DIR). Every process, the test runner and
# each daemon and ctl it starts, writes its sanitizer reports to files under one report directory
# (log_path=...; the harness passes *SAN_OPTIONS through to its children); the run fails if any report was
# written, even when the test that caused it passed. Exit: 0 clean, 1 tests failed or a report was written.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mode="${1:?usage: run.sh address|thread [swift test args]}"; shift
case "$mode" in
    address) scratch=.build-asan; tag=asan ;;
    thread)  scratch=.build-tsan; tag=tsan ;;
    *) echo "sanitize: unknown sanitizer '$mode' (address or thread)" >&2; exit 2 ;;
esac
SWIFT="${SWIFT:-swift}"
REPORTS="$(mktemp -d "/tmp/proxypool-$tag-XXXXXX")"
cd "$ROOT"
# Swift backtraces would add a swift-backtrace helper per crash; the sanitizer's own report is what we want.
export SWIFT_BACKTRACE=enable=no
# LeakSanitizer: XCTest and Foundation keep a few allocations alive to exit (seen in the stack recipes);
# Tests/sanitize/lsan.supp names only those libraries, never ours.
export ASAN_OPTIONS="log_path=$REPORTS/asan:detect_leaks=1"
export LSAN_OPTIONS="suppressions=$ROOT/Tests/sanitize/lsan.supp:print_suppressions=0"
export TSAN_OPTIONS="log_path=$REPORTS/tsan:halt_on_error=0:second_deadlock_stack=1:suppressions=$ROOT/Tests/sanitize/tsan.supp"
export PROXYPOOL_BIN_DIR="$ROOT/$scratch/debug"
start=$(date +%s)
echo "sanitize ($mode): building into $scratch" >&2
"$SWIFT" build --build-tests --sanitize="$mode" --scratch-path "$scratch" || { echo "sanitize ($mode): build FAILED" >&2; exit 1; }
echo "sanitize ($mode): testing with the binaries in $PROXYPOOL_BIN_DIR, reports in $REPORTS" >&2
status=0
"$SWIFT" test --skip-build --sanitize="$mode" --scratch-path "$scratch" "$@" || status=$?
reports=("$REPORTS"/*)
if [ -e "${reports[0]}" ]; then
    for r in "${reports[@]}"; do echo "===== $r" >&2; cat "$r" >&2; done
    echo "sanitize ($mode): FAILED: ${#reports[@]} report file(s) in $REPORTS" >&2
    status=1
fi
echo "sanitize ($mode): swift test exit $status, $(( $(date +%s) - start )) s" >&2
[ "$status" -eq 0 ] && echo "sanitize ($mode): clean" >&2
exit "$status"
