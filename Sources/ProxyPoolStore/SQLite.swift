import Glibc
internal import CSQLite
import ProxyPoolCore

/// One SQLite connection. Not thread-safe by itself: `Store` serializes access with its lock.
final class Database {
    private(set) var handle: OpaquePointer?

    init(path: String) throws(RPCError) {
        var h: OpaquePointer?
        let rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let h else {
            let msg = h.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(h)
            throw .storeFailure("cannot open database \(path): \(msg)")
        }
        handle = h
        sqlite3_extended_result_codes(h, 1)
    }

    deinit { sqlite3_close_v2(handle) }

    var lastError: String { String(cString: sqlite3_errmsg(handle)) }

    func execute(_ sql: String) throws(RPCError) {
        var err: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &err) == SQLITE_OK else {
            let msg = err.map { String(cString: $0) } ?? lastError
            sqlite3_free(err)
            throw .storeFailure("SQLite: \(msg)")
        }
    }

    func prepare(_ sql: String) throws(RPCError) -> Statement {
        var st: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &st, nil) == SQLITE_OK, let st else {
            throw .storeFailure("SQLite: \(lastError) in: \(sql)")
        }
        return Statement(st, db: self)
    }

    /// Run a statement for its effect.
    func run(_ sql: String, _ values: [SQLValue] = []) throws(RPCError) {
        let st = try prepare(sql)
        try st.bind(values)
        while try st.step() {}
    }

    /// Rows of a query, each mapped by `row`.
    func query<T>(_ sql: String, _ values: [SQLValue] = [], _ row: (Statement) throws(RPCError) -> T) throws(RPCError) -> [T] {
        let st = try prepare(sql)
        try st.bind(values)
        var out: [T] = []
        while try st.step() { out.append(try row(st)) }
        return out
    }

    var changes: Int { Int(sqlite3_changes(handle)) }
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
}

enum SQLValue {
    case text(String)
    case int(Int64)
    case null

    static func optional(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
}

final class Statement {
    private let st: OpaquePointer
    private let db: Database

    init(_ st: OpaquePointer, db: Database) { self.st = st; self.db = db }
    deinit { sqlite3_finalize(st) }

    func bind(_ values: [SQLValue]) throws(RPCError) {
        for (i, v) in values.enumerated() {
            let idx = Int32(i + 1)
            let rc: Int32
            switch v {
            case .text(let s): rc = csqlite_bind_text(st, idx, s, -1)
            case .int(let n): rc = sqlite3_bind_int64(st, idx, n)
            case .null: rc = sqlite3_bind_null(st, idx)
            }
            guard rc == SQLITE_OK else { throw .storeFailure("SQLite bind: \(db.lastError)") }
        }
    }

    /// true: a row is ready; false: done.
    func step() throws(RPCError) -> Bool {
        switch sqlite3_step(st) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let rc:
            if rc & 0xff == SQLITE_CONSTRAINT { throw RPCError(code: -32007, name: "constraint", message: db.lastError) }
            throw .storeFailure("SQLite: \(db.lastError)")
        }
    }

    func text(_ i: Int32) -> String? {
        guard sqlite3_column_type(st, i) != SQLITE_NULL, let p = sqlite3_column_text(st, i) else { return nil }
        return String(cString: p)
    }
    func int(_ i: Int32) -> Int64? {
        sqlite3_column_type(st, i) == SQLITE_NULL ? nil : sqlite3_column_int64(st, i)
    }
}
