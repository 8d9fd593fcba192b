#!/usr/bin/env bash
# Release-build timing of RequestFields.scan: bash Tests/JSONCrossCheck/bench.sh [OLD_BodyScanner.swift]
# With an older BodyScanner.swift (e.g. from `git show REV:Sources/ProxyPoolCore/Proxy/BodyScanner.swift`),
# times that one too, on the same bodies.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$root/.build-crosscheck
swiftc=${SWIFTC:-/opt/swift/usr/bin/swiftc}
mkdir -p "$out"
# The string scan's C part (CByteScan), as the package builds it.
"$(dirname "$swiftc")/clang" -O2 -I "$root/Sources/CByteScan/include" -c "$root/Sources/CByteScan/scan.c" -o "$out/CByteScan.o"
"$swiftc" -O -parse-as-library -module-name ScanBench -I "$root/Sources/CByteScan/include" "$root/Sources/ProxyPoolCore/Proxy/BodyScanner.swift" \
    "$root/Sources/ProxyPoolCore/Proxy/StrictJSON.swift" "$here/bench.swift" "$out/CByteScan.o" -o "$out/scan-bench"
# Real clients' bodies from the shared captures, when they are there.
captures=${CAPTURES:-/work/shared/notes/captures}
files=()
for c in claude-code_tool-followup codex_tool-followup_gpt-5-codex anthropic-sdk_text; do
    [[ -f $captures/$c.json ]] || continue
    python3 -c 'import json,sys; sys.stdout.write(json.dumps(json.load(open(sys.argv[1]))["body"], ensure_ascii=False, separators=(",", ":")))' "$captures/$c.json" > "$out/$c.body"
    files+=("$out/$c.body")
done
if [[ $# -ge 1 ]]; then
    # The older scanner decoded escaped model names with the package's JSON helper: a stand-in is enough here.
    printf 'enum JSON { static func decode<T>(_: T.Type, from: [UInt8]) throws -> T? { nil } }\n' > "$out/json-stub.swift"
    "$swiftc" -O -parse-as-library -module-name ScanBenchOld "$1" "$out/json-stub.swift" "$here/bench.swift" -o "$out/scan-bench-old"
    echo "before:"; "$out/scan-bench-old" 1 "${files[@]}"
fi
echo "after:"; "$out/scan-bench" 1 "${files[@]}"
