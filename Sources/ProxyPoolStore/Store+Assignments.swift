import Glibc
internal import CSQLite
import ProxyPoolCore
import ProxyPoolControl
import ProxyPoolSystem

// Assignments: which credentials an app uses, in order.
extension Store {
    public func assign(_ a: Assignment) throws(RPCError) -> Assignment {
        try Validation.name(a.app, what: "app name")
        guard !a.credentials.isEmpty else { throw .invalidParams("an assignment needs at least one credential") }
        var seen = Set<String>()
        for c in a.credentials where !seen.insert(c).inserted {
            throw .invalidParams("credential '\(c)' appears twice in the chain")
        }
        return try transaction { () throws(RPCError) -> Assignment in
            var ids: [Int64] = []
            for name in a.credentials {
                guard let id = try db.query("SELECT id FROM credentials WHERE name = ?", [.text(name)], { st in st.int(0) ?? 0 }).first else {
                    throw Store.noCredential(name)
                }
                ids.append(id)
            }
            try db.run("DELETE FROM assignments WHERE app = ?", [.text(a.app)])
            for (pos, id) in ids.enumerated() {
                try db.run("INSERT INTO assignments(app, position, credential_id) VALUES (?, ?, ?)", [.text(a.app), .int(Int64(pos)), .int(id)])
            }
            return a
        }
    }

    public func unassign(_ app: String) throws(RPCError) {
        try transaction { () throws(RPCError) in
            try db.run("DELETE FROM assignments WHERE app = ?", [.text(app)])
            guard db.changes > 0 else { throw .notFound("app '\(app)' has no assignment") }
        }
    }

    public func assignments() throws(RPCError) -> [Assignment] {
        try locked { () throws(RPCError) in
            var order: [String] = []
            var map: [String: [String]] = [:]
            for (app, cred) in try db.query("""
                SELECT a.app, c.name FROM assignments a JOIN credentials c ON c.id = a.credential_id ORDER BY a.app, a.position
                """, [], { st in (st.text(0) ?? "", st.text(1) ?? "") }) {
                if map[app] == nil { order.append(app) }
                map[app, default: []].append(cred)
            }
            return order.map { Assignment(app: $0, credentials: map[$0]!) }
        }
    }

    func renumber(_ app: String) throws(RPCError) {
        let ids = try db.query("SELECT credential_id FROM assignments WHERE app = ? ORDER BY position", [.text(app)]) { st in st.int(0) ?? 0 }
        try db.run("DELETE FROM assignments WHERE app = ?", [.text(app)])
        for (pos, id) in ids.enumerated() {
            try db.run("INSERT INTO assignments(app, position, credential_id) VALUES (?, ?, ?)", [.text(app), .int(Int64(pos)), .int(id)])
        }
    }
}
