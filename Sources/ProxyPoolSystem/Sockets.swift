import Glibc
internal import CShims
import ProxyPoolCore

/// The peer of a Unix socket connection, read with SO_PEERCRED.
public struct PeerCredentials: Equatable, Sendable {
    public var uid: uid_t
    public var gid: gid_t
    public var pid: pid_t

    public static func of(_ fd: Int32) throws(SystemError) -> PeerCredentials {
        var uid: UInt32 = 0, gid: UInt32 = 0, pid: Int32 = 0
        guard cshims_peer_credentials(fd, &uid, &gid, &pid) == 0 else { throw SystemError("getsockopt SO_PEERCRED") }
        return PeerCredentials(uid: uid, gid: gid, pid: pid)
    }

    /// Whether the peer's user is in the group, as primary or supplementary member.
    public func isMember(ofGroup gid: gid_t) -> Bool {
        if self.gid == gid { return true }
        guard let pw = getpwuid(uid), let name = pw.pointee.pw_name else { return false }
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(name, pw.pointee.pw_gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            guard getgrouplist(name, pw.pointee.pw_gid, &groups, &count) >= 0 else { return false }
        }
        return groups.prefix(Int(count)).contains(gid)
    }
}

public enum UnixSocket {
    static func address(_ path: String) throws(SystemError) -> sockaddr_un {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { throw SystemError("socket path too long", errno: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in raw.copyBytes(from: bytes); raw[bytes.count] = 0 }
        return addr
    }

    /// Connect a stream socket to `path`. Throws the connect errno (ENOENT, ECONNREFUSED, EACCES…).
    public static func connect(_ path: String, timeoutSeconds: Int = 30) throws(SystemError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        var addr = try address(path)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 { let e = SystemError("connect \(path)"); close(fd); throw e }
        setTimeouts(fd, seconds: timeoutSeconds)
        return fd
    }

    /// Bind and listen on `path` with `mode`. A socket file left by a dead daemon is removed, but only after a
    /// connect to it failed: a live daemon's socket is never taken over.
    public static func listen(_ path: String, mode: mode_t) throws(SystemError) -> Int32 {
        if Posix.fileMode(path) != nil {
            if let probe = try? connect(path, timeoutSeconds: 1) {
                close(probe)
                throw SystemError("another daemon is already listening on \(path)", errno: EADDRINUSE)
            }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        var addr = try address(path)
        // Create the node with no access, then set the mode: no window where it is looser than asked.
        let old = umask(0o777)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(old)
        if rc != 0 { let e = SystemError("bind \(path)"); close(fd); throw e }
        guard chmod(path, mode) == 0 else { let e = SystemError("chmod \(path)"); close(fd); throw e }
        guard Glibc.listen(fd, 64) == 0 else { let e = SystemError("listen \(path)"); close(fd); throw e }
        return fd
    }

    public static func setTimeouts(_ fd: Int32, seconds: Int) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }
}

public enum TCPSocket {
    /// Bind and listen on a TCP address (SO_REUSEADDR, close-on-exec).
    public static func listen(_ address: ListenAddress, backlog: Int32 = 511) throws(SystemError) -> Int32 {
        let family = address.family == .ipv4 ? AF_INET : AF_INET6
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var rc: Int32
        if address.family == .ipv4 {
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = address.port.bigEndian
            _ = inet_pton(AF_INET, address.host, &sin.sin_addr)
            rc = withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        } else {
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = address.port.bigEndian
            _ = inet_pton(AF_INET6, address.host, &sin6.sin6_addr)
            rc = withUnsafePointer(to: &sin6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        }
        if rc != 0 { let e = SystemError("bind \(address)"); close(fd); throw e }
        guard Glibc.listen(fd, backlog) == 0 else { let e = SystemError("listen \(address)"); close(fd); throw e }
        return fd
    }

    /// The port a bound socket got (for `--listen 127.0.0.1:0` style tests, and for status).
    public static func localPort(_ fd: Int32) -> UInt16? {
        var ss = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &ss) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        guard rc == 0 else { return nil }
        return withUnsafePointer(to: &ss) { p -> UInt16? in
            switch Int32(p.pointee.ss_family) {
            case AF_INET: return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
            case AF_INET6: return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            default: return nil
            }
        }
    }
}
