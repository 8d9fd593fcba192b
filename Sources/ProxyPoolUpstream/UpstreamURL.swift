/// An upstream URL as our HTTP/1.1 client takes it: `http` or `https`, a host, a port, and the request target.
public struct UpstreamURL: Equatable, Sendable {
    public let isTLS: Bool
    /// The host as written (no brackets for IPv6).
    public let host: String
    /// Literal addresses to connect to without DNS (a literal IP, or localhost: IPv4 then IPv6); empty when
    /// the host is a name that needs a lookup.
    public let addresses: [String]
    public let port: Int
    /// The Host header: the URL's host and port as written.
    public let hostHeader: String
    /// The request target: path and query.
    public let target: String

    /// Nil for what our client leaves to curl: other schemes, user info, bytes a request line cannot carry.
    public init?(_ url: String) {
        let u = Array(url.utf8)
        let lower = u.prefix(8).map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        var i: Int
        if lower.starts(with: Array("https://".utf8)) { isTLS = true; i = 8 }
        else if lower.starts(with: Array("http://".utf8)) { isTLS = false; i = 7 }
        else { return nil }
        let authorityStart = i
        while i < u.count && u[i] != 47 && u[i] != 63 && u[i] != 35 { i += 1 }   // '/', '?', '#'
        let authority = u[authorityStart..<i]
        var rest = Array(u[i...])
        if let hash = rest.firstIndex(of: 35) { rest = Array(rest[..<hash]) }
        guard !authority.isEmpty, !authority.contains(64), rest.allSatisfy({ $0 > 32 && $0 < 127 }) else { return nil }
        var hostBytes: ArraySlice<UInt8>
        var portPart: ArraySlice<UInt8>?
        if authority.first == 91 {   // "[v6]" or "[v6]:port"
            guard let close = authority.firstIndex(of: 93) else { return nil }
            hostBytes = authority[(authority.startIndex + 1)..<close]
            let after = authority[(close + 1)...]
            if !after.isEmpty {
                guard after.first == 58 else { return nil }
                portPart = after.dropFirst()
            }
            guard hostBytes.allSatisfy({ Self.isHex($0) || $0 == 58 || $0 == 46 }), hostBytes.contains(58) else { return nil }
            host = String(decoding: hostBytes, as: UTF8.self)
            addresses = [host]
        } else {
            if let colon = authority.firstIndex(of: 58) {
                hostBytes = authority[authority.startIndex..<colon]
                portPart = authority[(colon + 1)...]
            } else {
                hostBytes = authority
            }
            guard !hostBytes.isEmpty, hostBytes.allSatisfy({ Self.isHostByte($0) }) else { return nil }
            host = String(decoding: hostBytes, as: UTF8.self)
            if host.lowercased() == "localhost" {
                addresses = ["127.0.0.1", "::1"]
            } else if Self.isIPv4(hostBytes) {
                addresses = [host]
            } else {
                // All digits and dots but not an address ("1.2.3"): curl would read it its own way; leave it.
                if hostBytes.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 }) { return nil }
                addresses = []
            }
        }
        if let p = portPart {
            guard !p.isEmpty, p.count <= 5, p.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int(String(decoding: p, as: UTF8.self)), n > 0, n < 65536 else { return nil }
            port = n
        } else {
            port = isTLS ? 443 : 80
        }
        hostHeader = String(decoding: authority, as: UTF8.self)
        origin = (isTLS ? "https://" : "http://") + hostHeader.lowercased() + "/"
        target = rest.isEmpty ? "/" : (rest.first == 63 ? "/" : "") + String(decoding: rest, as: UTF8.self)
    }

    /// Scheme, host and port: where curl connects for us, and what pooled connections are shared by.
    public let origin: String

    static func isHex(_ b: UInt8) -> Bool { (b >= 48 && b <= 57) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102) }

    /// Letters, digits, '-', '.', '_' (host names; anything else is left to curl).
    static func isHostByte(_ b: UInt8) -> Bool { (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 45 || b == 46 || b == 95 }

    static func isIPv4(_ s: ArraySlice<UInt8>) -> Bool {
        let parts = s.split(separator: 46, omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in
            !p.isEmpty && p.count <= 3 && p.allSatisfy { $0 >= 48 && $0 <= 57 } && Int(String(decoding: p, as: UTF8.self))! <= 255
        }
    }
}
