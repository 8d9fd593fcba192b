import Glibc
import ProxyPoolCore

/// The tool-configuration plans carried out on disk, by whoever owns the files (proxypoolctl as the user, or a
/// user's own daemon for the dashboard): read with a cap, back up, write atomically, undo.
///
/// `--write` keeps the previous bytes beside the file as `<name>.proxypool-<UTC time>-<n>.bak` (mode 0600, the
/// file's owner), or an empty `<name>.proxypool-<UTC time>-<n>.none` when there was no file; `--undo` restores the
/// newest of these byte for byte (or removes the file it created) and deletes that backup, so a second undo
/// goes one step further back.
public enum ToolConfigFiles {
    public struct Written: Equatable, Sendable {
        public var path: String
        /// The backup made, nil when the file was unchanged.
        public var backup: String?
    }

    public struct Restored: Equatable, Sendable {
        public var path: String
        public var from: String
        /// The backup said there was no file: it was removed.
        public var removed: Bool
    }

    public static let maxBytes = TOMLDocument.maxBytes

    /// A file's bytes, nil when it does not exist. Symbolic links are followed (dotfile managers link these).
    public static func read(_ path: String) throws -> [UInt8]? {
        var st = stat()
        if stat(path, &st) != 0 {
            if errno == ENOENT { return nil }
            throw SystemError("stat \(path)")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw ToolConfigError("\(path) is not a regular file; it was left unchanged") }
        return try Posix.readFile(path, limit: maxBytes)
    }

    /// Write the plan's changed files, each after its backup. A file that changed on disk since the plan read it
    /// stops the write before that file (nothing half-written: each file is replaced by rename).
    public static func write(_ plan: ToolConfigPlan, now: Int64 = Timestamp.now()) throws -> [Written] {
        var out: [Written] = []
        for f in plan.files {
            guard f.changed else { out.append(Written(path: f.path, backup: nil)); continue }
            let path = resolved(f.path)
            guard try read(path) == f.before else {
                throw ToolConfigError("\(f.path) changed while it was being configured; nothing more was written, run it again")
            }
            let dir = directory(of: path)
            if Posix.fileMode(dir) == nil { try Posix.makeDirectories(dir, mode: 0o700) }
            let owner = Posix.fileMode(path)
            let backup = try makeBackup(path, before: f.before, owner: owner, now: now)
            try replace(path, with: f.after, mode: owner.map { $0.mode & 0o777 } ?? 0o600, owner: owner?.uid)
            out.append(Written(path: f.path, backup: backup))
        }
        return out
    }

    /// Restore each path's newest backup (paths without one are skipped).
    public static func undo(_ paths: [String]) throws -> [Restored] {
        var out: [Restored] = []
        for p in paths {
            let path = resolved(p)
            guard let backup = backups(of: path).last else { continue }
            if backup.hasSuffix(".none") {
                if unlink(path) != 0 && errno != ENOENT { throw SystemError("unlink \(path)") }
                unlink(backup)
                out.append(Restored(path: p, from: backup, removed: true))
            } else {
                let bytes = try Posix.readFile(backup, limit: maxBytes)
                let owner = Posix.fileMode(path)
                try replace(path, with: bytes, mode: owner.map { $0.mode & 0o777 } ?? 0o600, owner: owner?.uid)
                unlink(backup)
                out.append(Restored(path: p, from: backup, removed: false))
            }
        }
        return out
    }

    /// A path's backups, oldest first.
    public static func backups(of path: String) -> [String] {
        let dir = directory(of: path), name = String(path.split(separator: "/").last ?? "")
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var found: [String] = []
        while let e = readdir(d) {
            let n = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if n.hasPrefix(name + ".proxypool-") && (n.hasSuffix(".bak") || n.hasSuffix(".none")) { found.append(n) }
        }
        // The names sort by time, then by sequence (zero-padded).
        return found.sorted().map { dir + "/" + $0 }
    }

    /// The uid owning `path`, or its nearest existing parent directory.
    public static func owner(of path: String) -> uid_t? {
        var p = path
        while true {
            if let m = Posix.fileMode(p) { return m.uid }
            guard let slash = p.lastIndex(of: "/"), slash != p.startIndex else { return Posix.fileMode("/")?.uid }
            p = String(p[..<slash])
        }
    }

    static func makeBackup(_ path: String, before: [UInt8]?, owner: (mode: mode_t, uid: uid_t, isDirectory: Bool)?, now: Int64) throws -> String {
        let stamp = Timestamp.iso8601(now).filter { $0 != "-" && $0 != ":" }
        for n in 1...999 {
            let seq = String(repeating: "0", count: 3 - String(n).count) + String(n)
            let b = "\(path).proxypool-\(stamp)-\(seq).\(before == nil ? "none" : "bak")"
            let fd = open(b, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
            if fd < 0 {
                if errno == EEXIST { continue }
                throw SystemError("create \(b)")
            }
            defer { close(fd) }
            if let before { try Posix.writeAll(fd, before) }
            if let uid = owner?.uid, geteuid() == 0 { _ = fchown(fd, uid, gid_t.max) }
            guard fsync(fd) == 0 else { throw SystemError("fsync \(b)") }
            return b
        }
        throw ToolConfigError("too many backups of \(path) this second")
    }

    /// Replace a file by writing a temporary one beside it and renaming it over.
    static func replace(_ path: String, with bytes: [UInt8], mode: mode_t, owner: uid_t?) throws {
        let tmp = "\(path).proxypool-tmp-\(getpid())"
        unlink(tmp)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw SystemError("create \(tmp)") }
        do {
            defer { close(fd) }
            try Posix.writeAll(fd, bytes)
            _ = fchmod(fd, mode)
            if let owner, geteuid() == 0 { _ = fchown(fd, owner, gid_t.max) }
            guard fsync(fd) == 0 else { throw SystemError("fsync \(tmp)") }
        } catch {
            unlink(tmp)
            throw error
        }
        guard rename(tmp, path) == 0 else {
            let e = SystemError("rename \(tmp)")
            unlink(tmp)
            throw e
        }
    }

    /// A symbolic link's target (the file edited is the one it points to); the path itself otherwise.
    static func resolved(_ path: String) -> String {
        guard let r = realpath(path, nil) else { return path }
        defer { free(r) }
        return String(cString: r)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

/// `configure` from start to end, for proxypoolctl and the daemon alike: plan with a placeholder key (so a file
/// that does not parse is refused before any key exists), and when writing, create the key, plan again with it
/// and write.
public enum ToolConfigurator {
    public struct Outcome: Sendable {
        public var plan: ToolConfigPlan
        /// Path → backup, after a write.
        public var backups: [String: String]?
        public var keyID: String?
    }

    public static func run(_ request: ToolConfigRequest, home: ToolHome, write: Bool,
                           createKey: (String) throws -> (id: String, key: String), revokeKey: (String) -> Void) throws -> Outcome {
        var r = request
        r.key = ToolConfigPlanner.keyPlaceholder
        let preview = try ToolConfigPlanner.plan(r, home: home, read: ToolConfigFiles.read)
        guard write else { return Outcome(plan: preview, backups: nil, keyID: nil) }
        let k = try createKey(request.tool.app)
        r.key = k.key
        let plan: ToolConfigPlan, written: [ToolConfigFiles.Written]
        do {
            plan = try ToolConfigPlanner.plan(r, home: home, read: ToolConfigFiles.read)
            written = try ToolConfigFiles.write(plan)
        } catch {
            // A key no file holds is of no use to anyone.
            revokeKey(k.id)
            throw error
        }
        var backups: [String: String] = [:]
        for w in written { if let b = w.backup { backups[w.path] = b } }
        return Outcome(plan: plan, backups: backups, keyID: k.id)
    }
}
