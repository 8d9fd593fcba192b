#!/usr/bin/env bash
# Builds the libFuzzer targets into $FUZZ_BUILD (default <repo>/.build-fuzz), apart from SwiftPM's .build.
# ProxyPoolCore and ProxyPoolTranslation are compiled from Sources/ as modules with coverage and ASan;
# each target is one file of Targets/ plus Support.swift (and TranslationSupport.swift, or for http-request and
# http-response the sources of ProxyPoolHTTPWire, the parsers; upstream-response takes both and the daemon's
# ExchangeMachine.swift; websocket takes both and the daemon's ResponsesWebSocketProtocol.swift), linked with libFuzzer.
#   bash Tests/Fuzz/build.sh [target...]     (default: every target in Targets/)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${FUZZ_BUILD:-$root/.build-fuzz}
swiftc=${SWIFTC:-$(command -v swiftc || echo /opt/swift/usr/bin/swiftc)}
# -O keeps Swift's own run-time checks (overflow, bounds, unwrap, exclusivity); swiftc has no -sanitize=undefined,
# and those checks are what UBSan would add for C. -wmo: one compile per module, so the generic parsers are
# specialized for the types the target feeds them (without it, e.g. HTTPRequestParser.feed runs unspecialized).
flags=(-O -wmo -swift-version 6 -parse-as-library -sanitize=fuzzer,address -g)
# The modules' generics (SSEParser.feed, StreamTranscoder.feed: `some Sequence<UInt8>`) are specialized in the
# target only with cross-module optimization; unspecialized, every byte went through a witness-table call and a
# heap-allocated coroutine frame (ArraySlice's subscript): ~16 mallocs per input byte, over 5x the run time.
module_flags=(-cross-module-optimization)
mkdir -p "$out/modules" "$out/bin" "$out/targets"

# Rebuild a module only when one of its sources is newer than its object.
module() {  # name dir [deps-as-flags...]
    local name=$1 dir=$2; shift 2
    local obj="$out/modules/$name.o"
    local srcs; mapfile -t srcs < <(find "$root/$dir" -name '*.swift' | sort)
    # Core imports CByteScan: its header changes Core's module too.
    if [[ -f $obj ]] && [[ -z $(find "$root/$dir" -name '*.swift' -newer "$obj" | head -1) ]] && [[ $obj -nt $here/build.sh ]] \
        && [[ $obj -nt $root/Sources/CByteScan/include/CByteScan.h ]]; then return; fi
    echo "fuzz build: module $name (${#srcs[@]} files)"
    "$swiftc" "${flags[@]}" "${module_flags[@]}" -module-name "$name" -I "$out/modules" "$@" \
        -emit-module -emit-module-path "$out/modules/$name.swiftmodule" -c "${srcs[@]}" -o "$obj"
    # swiftc leaves an object alone when its code did not change (only build.sh did): without the touch, every
    # later run would compile the module again.
    touch "$obj"
}
# ProxyPoolCore's C part (CByteScan, the SSE2 string scan): compiled with the same instrumentation, imported
# through its module map, linked into every target that links the Core module.
cscan_inc=$root/Sources/CByteScan/include
cscan=$out/modules/CByteScan.o
if [[ ! -f $cscan || $root/Sources/CByteScan/scan.c -nt $cscan || $cscan_inc/CByteScan.h -nt $cscan || $here/build.sh -nt $cscan ]]; then
    echo "fuzz build: CByteScan"
    "${CLANG:-$(dirname "$swiftc")/clang}" -O2 -g -fsanitize=fuzzer-no-link,address -I "$cscan_inc" -c "$root/Sources/CByteScan/scan.c" -o "$cscan"
fi
module ProxyPoolCore Sources/ProxyPoolCore -I "$cscan_inc"
module ProxyPoolTranslation Sources/ProxyPoolTranslation -I "$cscan_inc"

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    for f in "$here"/Targets/*.swift; do targets+=("$(basename "$f" .swift)"); done
fi
for t in "${targets[@]}"; do
    src="$here/Targets/$t.swift"
    [[ -f $src ]] || { echo "no such fuzz target: $t" >&2; exit 2; }
    extra=("$here/Support.swift")
    objs=()
    # The parsers' module is compiled into the target (no I/O, no dependency): wire[] holds its sources.
    mapfile -t wire < <(find "$root/Sources/ProxyPoolHTTPWire" -name '*.swift' | sort)
    if [[ $t == http-request || $t == http-response ]]; then
        extra+=("${wire[@]}")
    elif [[ $t == body-scan ]]; then
        # The body check's two sources (they need nothing else of Core) and the C string scan.
        extra+=("$root/Sources/ProxyPoolCore/Proxy/BodyScanner.swift" "$root/Sources/ProxyPoolCore/Proxy/StrictJSON.swift")
        objs=("$cscan")
    elif [[ $t == websocket ]]; then
        # The frame parser's sources and the daemon's Responses WebSocket messages (Core and Translation only).
        extra+=("$here/TranslationSupport.swift" "${wire[@]}" "$root/Sources/ProxyPoolDaemon/Proxy/ResponsesWebSocketProtocol.swift")
        objs=("$out/modules/ProxyPoolCore.o" "$out/modules/ProxyPoolTranslation.o" "$cscan")
    elif [[ $t == upstream-response ]]; then
        # The parsers' sources (ProxyPoolUpstream needs libcurl) and the exchange's decisions (the daemon's
        # ExchangeMachine, which imports only Core and Translation), then the daemon's Core and Translation.
        extra+=("$here/TranslationSupport.swift" "${wire[@]}" "$root/Sources/ProxyPoolDaemon/Proxy/ExchangeMachine.swift")
        objs=("$out/modules/ProxyPoolCore.o" "$out/modules/ProxyPoolTranslation.o" "$cscan")
    else
        extra+=("$here/TranslationSupport.swift")
        objs=("$out/modules/ProxyPoolCore.o" "$out/modules/ProxyPoolTranslation.o" "$cscan")
    fi
    bin="$out/bin/fuzz-$t"
    newest=$(ls -t "$src" "${extra[@]}" "${objs[@]}" "$here/build.sh" | head -1)
    if [[ -x $bin && $bin -nt $newest ]]; then continue; fi
    echo "fuzz build: $t"
    # From $out/targets: with -wmo -g the compiler leaves the target's .swiftmodule in the working directory.
    (cd "$out/targets" && "$swiftc" "${flags[@]}" -module-name "Fuzz_${t//-/_}" -I "$out/modules" -I "$cscan_inc" -use-ld=lld \
        "$src" "${extra[@]}" "${objs[@]}" -o "$bin") 2> >(grep -v "Cannot export local symbol" >&2)
done
