// swift-tools-version:6.0
// proxypool: no Swift package dependencies. System C libraries only, through small C targets imported `internal`ly.
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]
// The shipped targets leave out the standard library's implicit _StringProcessing (Regex and the string algorithms
// built on it): with _RegexParser it is ~1.2 MiB of each binary, for a few substring searches that
// ProxyPoolCore/TextSearch.swift does on bytes. Tests keep it.
let shipped: [SwiftSetting] = strict + [.unsafeFlags(["-Xfrontend", "-disable-implicit-string-processing-module-import"])]

let package = Package(
    name: "proxypool",
    products: [
        .executable(name: "proxypoold", targets: ["proxypoold"]),
        .executable(name: "proxypoolctl", targets: ["proxypoolctl"]),
    ],
    targets: [
        // C libraries and the few shims Swift cannot express (variadics, macros, _GNU_SOURCE-only calls).
        // CCurl: curl's headers (libcurl4-openssl-dev) and the loader that opens libcurl on first use (dlopen): no link
        // dependency, so an idle daemon never maps it.
        .target(name: "CCurl"),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .target(name: "CShims"),
        // CCrypto: OpenSSL's headers (libssl-dev) and the loader that opens libcrypto on first use (dlopen), for the
        // RS256 signatures of Vertex AI service-account assertions: an idle daemon never maps it.
        .target(name: "CCrypto"),
        // CByteScan: byte scans vectorised with SSE2 (Swift's SIMD types compile to byte loops here), no I/O.
        .target(name: "CByteScan"),

        // No I/O: wire types, validation, argument parsing, config parsing, hashing.
        .target(name: "ProxyPoolCore", dependencies: ["CByteScan"], swiftSettings: shipped),
        // Protocol translation, no I/O: our JSON tree, SSE framing, the canonical conversation, one codec per protocol.
        .target(name: "ProxyPoolTranslation", dependencies: ["ProxyPoolCore"], swiftSettings: shipped),
        // No I/O: one file per provider kind (its wire protocols, URLs, options, tier defaults, probe, auth), and
        // token sources as state machines the daemon carries out.
        .target(name: "ProxyPoolProviders", dependencies: ["ProxyPoolCore", "CCrypto"], swiftSettings: shipped),
        // POSIX and systemd plumbing: the epoll event loop, sockets, peer credentials, sd_notify, journal, paths.
        .target(name: "ProxyPoolSystem", dependencies: ["ProxyPoolCore", "CSystemd", "CShims"], swiftSettings: shipped),
        // HTTP/1.1 on the wire, no I/O: the strict request parser, the upstream response parser, their shared framing
        // and header-byte rules.
        .target(name: "ProxyPoolHTTPWire", swiftSettings: shipped),
        // The SQLite store: schema, migrations, credentials, assignments, keys, tiers, settings, usage.
        .target(name: "ProxyPoolStore", dependencies: ["ProxyPoolCore", "ProxyPoolProviders", "ProxyPoolSystem", "ProxyPoolControl", "CSQLite"], swiftSettings: shipped),
        // Our HTTP/1.1 server on the event loop: connections, streamed responses.
        .target(name: "ProxyPoolHTTP", dependencies: ["ProxyPoolSystem", "ProxyPoolHTTPWire", "CShims"], swiftSettings: shipped),
        // Upstream HTTP on the event loop: our HTTP/1.1 client, and libcurl for the rest.
        .target(name: "ProxyPoolUpstream", dependencies: ["ProxyPoolCore", "ProxyPoolSystem", "ProxyPoolHTTPWire", "CCurl", "CShims"],
                swiftSettings: shipped),
        // JSON-RPC 2.0 over a Unix socket: line framing, server with SO_PEERCRED, typed client.
        .target(name: "ProxyPoolControl", dependencies: ["ProxyPoolCore", "ProxyPoolSystem", "CShims"], swiftSettings: shipped),
        // The daemon's wiring: config, listeners, control handlers, signals, lifecycle.
        .target(name: "ProxyPoolDaemon",
                dependencies: ["ProxyPoolCore", "ProxyPoolSystem", "ProxyPoolStore", "ProxyPoolControl", "ProxyPoolHTTP", "ProxyPoolHTTPWire", "CShims",
                               "ProxyPoolUpstream", "ProxyPoolTranslation", "ProxyPoolProviders"],
                swiftSettings: shipped),
        // The CLI's verbs: parse, call the typed client, print.
        .target(name: "ProxyPoolCtl", dependencies: ["ProxyPoolCore", "ProxyPoolProviders", "ProxyPoolSystem", "ProxyPoolControl", "ProxyPoolHTTPWire",
                                              "ProxyPoolUpstream"],
                swiftSettings: shipped),
        .executableTarget(name: "proxypoold", dependencies: ["ProxyPoolDaemon"], swiftSettings: shipped),
        .executableTarget(name: "proxypoolctl", dependencies: ["ProxyPoolCtl"], swiftSettings: shipped),

        .testTarget(name: "ProxyPoolCoreTests", dependencies: ["ProxyPoolCore", "CByteScan", "ProxyPoolCtl", "ProxyPoolControl", "ProxyPoolSystem"],
                    exclude: ["Fixtures"],
                    swiftSettings: strict),
        .testTarget(name: "ProxyPoolControlTests", dependencies: ["ProxyPoolControl", "ProxyPoolCore", "ProxyPoolSystem"],
                    swiftSettings: strict),
        .testTarget(name: "ProxyPoolTranslationTests", dependencies: ["ProxyPoolTranslation", "ProxyPoolCore"], exclude: ["Fixtures"],
                    swiftSettings: strict),
        .testTarget(name: "ProxyPoolProvidersTests", dependencies: ["ProxyPoolProviders", "ProxyPoolCore"],
                    swiftSettings: strict),
        .testTarget(name: "ProxyPoolHTTPTests", dependencies: ["ProxyPoolSystem", "ProxyPoolHTTPWire", "ProxyPoolHTTP", "ProxyPoolUpstream"], exclude: ["Fixtures"],
                    swiftSettings: strict),
        // The exchange's failover and cooldown decisions (ExchangeMachine), without sockets.
        .testTarget(name: "ProxyPoolDaemonTests", dependencies: ["ProxyPoolDaemon", "ProxyPoolCore", "ProxyPoolSystem", "ProxyPoolStore",
                                                                 "ProxyPoolUpstream", "ProxyPoolProviders"], swiftSettings: strict),
        .testTarget(name: "ProxyPoolStoreTests", dependencies: ["ProxyPoolStore", "ProxyPoolCore", "ProxyPoolControl", "ProxyPoolProviders"], swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: ["CShims", "ProxyPoolCore", "ProxyPoolStore", "ProxyPoolControl", "ProxyPoolDaemon"], exclude: ["Golden"],
                    swiftSettings: strict),
    ]
)
