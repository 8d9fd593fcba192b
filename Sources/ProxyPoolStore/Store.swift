import Glibc
internal import CSQLite
import ProxyPoolCore
import ProxyPoolControl
import ProxyPoolSystem

/// The daemon's persistent state: one SQLite file, 0600 in a 0700 directory, WAL, foreign keys, versioned
/// migrations, one transaction per change. Safe to call from any thread; calls are serialized.
public final class Store: @unchecked Sendable {
    public static let fileName = "proxypool.db"

    public let path: String
    /// Mode repairs and other notes from opening, for the daemon to log as warnings.
    public private(set) var openingNotes: [String] = []
    let db: Database
    private var lock = pthread_mutex_t()

    /// Open (creating if needed) the store in `directory`.
    public init(directory: String) throws(RPCError) {
        var notes: [String] = []
        try Store.prepareDirectory(directory, notes: &notes)
        path = directory + "/" + Store.fileName
        try Store.prepareFile(path, notes: &notes)
        db = try Database(path: path)
        pthread_mutex_init(&lock, nil)
        try db.execute("PRAGMA journal_mode=WAL")
        try db.execute("PRAGMA foreign_keys=ON")
        // FULL: a commit is on disk before the control call returns; the store is written rarely.
        try db.execute("PRAGMA synchronous=FULL")
        try db.execute("PRAGMA busy_timeout=5000")
        try db.execute("PRAGMA cache_size=-512")   // 512 KiB: the store is small, and idle memory counts
        try Migrations.apply(db)
        for suffix in ["-wal", "-shm"] { try Store.prepareFile(path + suffix, notes: &notes, create: false) }
        openingNotes = notes
    }

    deinit { pthread_mutex_destroy(&lock) }

    public var schemaVersion: Int { (try? locked { () throws(RPCError) in try Migrations.version(db) }) ?? 0 }

    // MARK: Modes

    static func prepareDirectory(_ dir: String, notes: inout [String]) throws(RPCError) {
        if let st = Posix.fileMode(dir) {
            guard st.isDirectory else { throw .storeFailure("\(dir) exists and is not a directory") }
            if st.mode & 0o077 != 0 {
                guard chmod(dir, 0o700) == 0 else { throw .storeFailure("cannot tighten mode of \(dir): \(errnoString())") }
                notes.append("state directory \(dir) had mode \(octal(st.mode)); set it to 0700")
            }
        } else {
            // Parents are created with 0755 like mkdir -p; only the state directory itself is private.
            var current = ""
            let parts = dir.split(separator: "/")
            for (i, part) in parts.enumerated() {
                current += "/" + part
                if mkdir(current, i == parts.count - 1 ? 0o700 : 0o755) != 0 && errno != EEXIST {
                    throw .storeFailure("cannot create \(current): \(errnoString())")
                }
            }
            chmod(dir, 0o700)   // mkdir applies the umask; make the mode exact
        }
    }

    static func prepareFile(_ file: String, notes: inout [String], create: Bool = true) throws(RPCError) {
        if let st = Posix.fileMode(file) {
            if st.mode & 0o177 != 0 {
                guard chmod(file, 0o600) == 0 else { throw .storeFailure("cannot tighten mode of \(file): \(errnoString())") }
                notes.append("\(file) had mode \(octal(st.mode)); set it to 0600")
            }
        } else if create {
            let fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw .storeFailure("cannot create \(file): \(errnoString())") }
            fchmod(fd, 0o600)
            close(fd)
        }
    }

    // MARK: Locking and transactions

    func locked<T>(_ body: () throws(RPCError) -> T) throws(RPCError) -> T {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        return try body()
    }

    /// One change, one transaction. BEGIN IMMEDIATE takes the write lock up front, so a second writer process
    /// waits (busy_timeout) instead of failing halfway.
    func transaction<T>(_ body: () throws(RPCError) -> T) throws(RPCError) -> T {
        try locked { () throws(RPCError) -> T in
            try db.execute("BEGIN IMMEDIATE")
            do throws(RPCError) {
                let r = try body()
                try db.execute("COMMIT")
                return r
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }

    // MARK: Status and checks

    public struct Counts: Sendable { public var credentials, enabled, apps, keys: Int }

    public func counts() throws(RPCError) -> Counts {
        try locked { () throws(RPCError) in
            func one(_ sql: String) throws(RPCError) -> Int { Int(try db.query(sql, [], { st in st.int(0) ?? 0 }).first ?? 0) }
            return Counts(credentials: try one("SELECT count(*) FROM credentials"),
                          enabled: try one("SELECT count(*) FROM credentials WHERE enabled = 1"),
                          apps: try one("SELECT count(DISTINCT app) FROM assignments"),
                          keys: try one("SELECT count(*) FROM access_keys"))
        }
    }

    /// `PRAGMA integrity_check`: "ok" on a sound database.
    public func integrityCheck() throws(RPCError) -> String {
        try locked { () throws(RPCError) in
            try db.query("PRAGMA integrity_check", [], { st in st.text(0) ?? "" }).joined(separator: "; ")
        }
    }
}

private func errnoString() -> String { String(cString: strerror(errno)) }
private func octal(_ m: mode_t) -> String { "0" + String(m, radix: 8) }

extension Store {
    /// The connection, for tests that inspect pragmas and tables (call inside `locked`).
    var dbForTests: Database { db }
}
