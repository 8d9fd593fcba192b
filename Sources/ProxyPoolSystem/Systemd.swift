import Glibc
internal import CSystemd
import ProxyPoolCore

/// sd_notify and socket activation. Both are no-ops outside systemd (no NOTIFY_SOCKET / LISTEN_FDS).
public enum Systemd {
    @discardableResult
    public static func notify(_ state: String) -> Int32 { sd_notify(0, state) }

    /// The watchdog interval systemd asked for, in microseconds, if any.
    public static func watchdogInterval() -> UInt64? {
        var usec: UInt64 = 0
        return sd_watchdog_enabled(0, &usec) > 0 ? usec : nil
    }

    /// Sockets passed by systemd (LISTEN_FDS), with their FileDescriptorName=. Clears the variables so children
    /// do not inherit them.
    public static func listenFDs() -> [(fd: Int32, name: String)] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let n = sd_listen_fds_with_names(1, &names)
        guard n > 0 else { return [] }
        defer {
            if let names { for i in 0..<Int(n) { free(names[i]) }; free(names) }
        }
        return (0..<n).map { i in
            let name = names?[Int(i)].map { String(cString: $0) } ?? "unknown"
            return (SD_LISTEN_FDS_START + i, name)
        }
    }

    public static func isSocket(_ fd: Int32, unix: Bool) -> Bool {
        sd_is_socket(fd, unix ? AF_UNIX : AF_UNSPEC, Int32(SOCK_STREAM.rawValue), 1) > 0
    }
}
