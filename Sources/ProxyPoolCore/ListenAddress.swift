#if canImport(Glibc)
import Glibc
#endif

/// A TCP listen address given as HOST:PORT or [IPv6]:PORT. Hosts are numeric, or `localhost` (= 127.0.0.1),
/// so that what we bind is exactly what the user wrote and no resolver is consulted at start.
public struct ListenAddress: Equatable, Sendable, CustomStringConvertible {
    public enum Family: Sendable { case ipv4, ipv6 }
    public var host: String
    public var port: UInt16
    public var family: Family

    public init(parsing text: String) throws(ConfigError) {
        var hostPart: Substring
        var portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw ConfigError("listen address '\(text)': missing ']'") }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            guard after.hasPrefix(":") else { throw ConfigError("listen address '\(text)' must be [IPV6]:PORT") }
            portPart = after.dropFirst()
            family = .ipv6
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw ConfigError("listen address '\(text)' must be HOST:PORT") }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            guard !hostPart.contains(":") else { throw ConfigError("listen address '\(text)': write IPv6 hosts in brackets, [::1]:PORT") }
            family = .ipv4
        }
        guard let p = UInt16(portPart) else { throw ConfigError("listen address '\(text)': port must be 0-65535 (0: any free port)") }
        if hostPart == "localhost" { hostPart = "127.0.0.1" }
        let h = String(hostPart)
        var probe = [UInt8](repeating: 0, count: 16)
        guard inet_pton(family == .ipv4 ? AF_INET : AF_INET6, h, &probe) == 1 else {
            throw ConfigError("listen address '\(text)': '\(h)' is not a numeric IP address (or 'localhost')")
        }
        host = h
        port = p
    }

    public var isLoopback: Bool {
        var b = [UInt8](repeating: 0, count: 16)
        switch family {
        case .ipv4:
            _ = inet_pton(AF_INET, host, &b)
            return b[0] == 127
        case .ipv6:
            _ = inet_pton(AF_INET6, host, &b)
            if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return true }                 // ::1
            let mapped = b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff  // ::ffff:127.x
            return mapped && b[12] == 127
        }
    }

    /// Where a client on this machine reaches a daemon listening here: a wildcard address through loopback.
    public var reachable: ListenAddress {
        var a = self
        if host == "0.0.0.0" { a.host = "127.0.0.1" }
        if host == "::" { a.host = "::1" }
        return a
    }

    public var description: String { family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
