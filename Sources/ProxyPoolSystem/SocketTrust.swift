import Glibc
import ProxyPoolCore

/// Whom a control socket may belong to. proxypoolctl sends secrets over it (`credential.add`), and a socket in
/// a directory someone else made (`/tmp/proxypool-UID` without XDG_RUNTIME_DIR) can be anyone's: the directory
/// must belong to a trusted user and be closed to the others' writes, and the process that listens must be
/// a trusted user's too (SO_PEERCRED). The daemon holds its own runtime directory to the same rule.
public enum SocketTrust {
    /// The name of the system unit's user (packaging/sysusers.d).
    public static let systemUser = "proxypool"

    /// Users whose daemon the caller may talk to: the caller, root, and the system daemon's user.
    public static func trustedOwners(euid: uid_t = geteuid()) -> [uid_t] {
        var owners: [uid_t] = [euid, 0]
        if let pw = getpwnam(systemUser), !owners.contains(pw.pointee.pw_uid) { owners.append(pw.pointee.pw_uid) }
        return owners
    }

    /// The directory a socket path lives in ("." for a bare name).
    public static func directory(of socketPath: String) -> String {
        guard let slash = socketPath.lastIndex(of: "/") else { return "." }
        return slash == socketPath.startIndex ? "/" : String(socketPath[..<slash])
    }

    /// Why `directory` cannot be trusted with a control socket, or nil when it can: it must belong to one of
    /// `owners` and be writable by no one else (neither group nor others). Nil too when it cannot be looked at
    /// (missing, or no search permission): connecting then fails on its own, with its own reason.
    public static func directoryProblem(_ directory: String, owners: [uid_t]) -> String? {
        var st = stat()
        guard stat(directory, &st) == 0 else { return nil }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { return "\(directory) is not a directory" }
        if !owners.contains(st.st_uid) {
            return "\(directory) belongs to \(userName(st.st_uid)), not to \(owners.map(userName).joined(separator: " or "))"
        }
        if st.st_mode & 0o022 != 0 {
            return "\(directory) is writable by \(st.st_mode & 0o002 != 0 ? "every user" : "its group") (mode \(String(st.st_mode & 0o7777, radix: 8)))"
        }
        return nil
    }

    /// "uid 65534 (nobody)"
    public static func userName(_ uid: uid_t) -> String {
        if let pw = getpwuid(uid), let name = pw.pointee.pw_name { return "uid \(uid) (\(String(cString: name)))" }
        return "uid \(uid)"
    }
}
