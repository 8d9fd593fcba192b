import Foundation
import Glibc
import Testing

/// libcurl is opened on first use, not linked: an idle daemon maps none of it (nor its ~30 libraries).
@Suite struct LazyCurlTests {
    /// /proc/PID/maps, read to its end (Foundation's file reading stops short on /proc files, which have no size).
    func mapped(_ pid: pid_t) -> String {
        let fd = open("/proc/\(pid)/maps", O_RDONLY)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var out: [UInt8] = [], buf = [UInt8](repeating: 0, count: 65536)
        while case let n = read(fd, &buf, buf.count), n > 0 { out += buf[0..<n] }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func libcurlIsMappedOnlyOnceATransferNeedsIt() throws {
        let s = try ProxySetup(credentials: [("o", "openai", "fake-ok")])
        #expect(try http(port: s.port, "GET", "/healthz").status == 200)
        let idle = mapped(s.daemon.pid)
        #expect(idle.contains("proxypoold"), "maps readable")
        let curlIdle = idle.contains("/libcurl.so")
        #expect(!curlIdle, "libcurl is mapped while idle")
        // A plain-HTTP upstream at a literal address goes through our own client: still no libcurl.
        #expect(try s.messages().status == 200)
        #expect(!mapped(s.daemon.pid).contains("/libcurl.so"), "libcurl is mapped after a plain-HTTP request")

        // `credential test` runs a blocking curl transfer on a control thread (Probe).
        let r = s.daemon.ctl(["credential", "test", "o"])
        #expect(r.status == 0 && r.stdout.contains("Credential o: ok, HTTP 200"), Comment(rawValue: r.stdout + r.stderr))
        let curlUsed = mapped(s.daemon.pid).contains("/libcurl.so")
        #expect(curlUsed, "libcurl is mapped after a transfer")
        // And the proxy's loop thread uses the same loaded library.
        #expect(try s.messages().status == 200)
    }

    @Test func aMissingLibcurlFailsTransfersClearlyAndTheDaemonKeepsServing() throws {
        // A shared library that is not libcurl, found first as libcurl.so.4: dlopen works, dlsym does not.
        let dir = makeTempDir("nocurl")
        _ = dlopen("libsqlite3.so.0", RTLD_NOW)
        let sqlite = mapped(getpid()).split(separator: "\n").compactMap { $0.split(separator: " ", omittingEmptySubsequences: true).last }
            .first { $0.contains("/libsqlite3.so") }
        let lib = try #require(sqlite.map(String.init), "libsqlite3 is mapped in the test process")
        try FileManager.default.copyItem(atPath: lib, toPath: dir + "/libcurl.so.4")
        let d = try DaemonProcess(env: ["LD_LIBRARY_PATH": dir])
        let s = try ProxySetup(credentials: [("o", "openai", "fake-ok")], keyApp: "probe", daemon: d)

        let t = s.daemon.ctl(["credential", "test", "o"])
        #expect(t.status == 1 && t.stdout.contains("no answer: libcurl could not be loaded (") && t.stdout.contains("install libcurl4"),
                Comment(rawValue: t.stdout + t.stderr))
        // A plain-HTTP upstream needs no curl.
        #expect(try s.messages().status == 200)
        #expect(try s.fake.requests().count == 1)
        // A TLS upstream does: curl opens TLS connections.
        let tls = s.fake.url.replacingOccurrences(of: "http://", with: "https://")
        #expect(s.daemon.ctl(["credential", "add", "t", "--provider", "anthropic", "--base-url", tls, "--key-stdin"], stdin: "fake-ok").status == 0)
        _ = s.daemon.ctl(["fallback", "off"])
        _ = s.daemon.ctl(["assign", "probe", "t"])
        usleep(150_000)
        let m = try s.messages()
        #expect(m.status == 502 && m.body.contains("libcurl could not be loaded"), Comment(rawValue: m.body))
        #expect(try http(port: s.port, "GET", "/healthz").status == 200, "the daemon keeps serving")
        #expect(try s.fake.requests().count == 1)
    }
}
