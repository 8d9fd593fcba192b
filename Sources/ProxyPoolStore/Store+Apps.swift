import Glibc
internal import CSQLite
import ProxyPoolCore
import ProxyPoolControl
import ProxyPoolSystem

// Apps: the ones seen, and the rules that detect them from request headers.
extension Store {
    public func apps() throws(RPCError) -> [AppInfo] {
        try locked { () throws(RPCError) in
            try db.query("""
                SELECT a.app, a.first_seen, a.last_seen, a.requests,
                       (SELECT group_concat(name, ',') FROM (SELECT c.name FROM assignments s JOIN credentials c ON c.id = s.credential_id
                        WHERE s.app = a.app ORDER BY s.position))
                FROM apps a ORDER BY a.last_seen DESC
                """) { st in
                AppInfo(app: st.text(0) ?? "", firstSeen: Timestamp.iso8601(st.int(1) ?? 0), lastSeen: Timestamp.iso8601(st.int(2) ?? 0),
                        requests: st.int(3) ?? 0, assignment: (st.text(4) ?? "").split(separator: ",").map(String.init))
            }
        }
    }

    // MARK: App rules

    public func appRules() throws(RPCError) -> [AppRuleInfo] {
        try locked { () throws(RPCError) in
            try db.query("SELECT id, header, match, value, app FROM app_rules ORDER BY id") { st in
                AppRuleInfo(id: st.int(0) ?? 0, rule: AppRule(header: st.text(1) ?? "", match: AppRule.Match(rawValue: st.text(2) ?? "") ?? .equals,
                                                              value: st.text(3) ?? "", app: st.text(4) ?? ""))
            }
        }
    }

    public func addAppRule(_ r: AppRule) throws(RPCError) -> AppRuleInfo {
        try Validation.name(r.app, what: "app name")
        guard !r.header.isEmpty, r.header.utf8.allSatisfy({ Validation.isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }) else {
            throw .invalidParams("header name '\(r.header)' is not a valid HTTP header name")
        }
        guard !r.value.isEmpty, r.value.utf8.count <= 256 else { throw .invalidParams("the value to match must be 1 to 256 characters") }
        return try transaction { () throws(RPCError) -> AppRuleInfo in
            try db.run("INSERT INTO app_rules(header, match, value, app) VALUES (?, ?, ?, ?)",
                       [.text(r.header), .text(r.match.rawValue), .text(r.value), .text(r.app)])
            return AppRuleInfo(id: db.lastInsertRowID, rule: r)
        }
    }

    public func removeAppRule(_ id: Int64) throws(RPCError) {
        try transaction { () throws(RPCError) in
            try db.run("DELETE FROM app_rules WHERE id = ?", [.int(id)])
            guard db.changes == 1 else { throw .notFound("no app rule with id \(id); 'proxypoolctl app rule list' shows them") }
        }
    }
}
