/// A JSON-RPC error as it travels: code and message per the spec, plus `data.name`, our stable error name.
/// The one control-protocol type kept in Core, not in ProxyPoolControl: validation and the store throw it, and
/// they cannot depend on the control module.
public struct RPCError: Error, Codable, Equatable, Sendable, CustomStringConvertible {
    public struct Details: Codable, Equatable, Sendable {
        public var name: String
        public var hint: String?
        public init(name: String, hint: String? = nil) { self.name = name; self.hint = hint }
    }
    public var code: Int
    public var message: String
    public var data: Details?

    public init(code: Int, name: String, message: String, hint: String? = nil) {
        self.code = code; self.message = message; self.data = Details(name: name, hint: hint)
    }

    /// The stable name (`permission-denied`, `not-found`, …); scripts match on this, never on the message.
    public var name: String { data?.name ?? "internal-error" }
    public var description: String { message }

    // Spec-defined codes.
    public static func parseError(_ m: String) -> RPCError { .init(code: -32700, name: "parse-error", message: m) }
    public static func invalidRequest(_ m: String) -> RPCError { .init(code: -32600, name: "invalid-request", message: m) }
    public static func methodNotFound(_ method: String) -> RPCError {
        .init(code: -32601, name: "method-not-found", message: "unknown method '\(method)'")
    }
    public static func invalidParams(_ m: String) -> RPCError { .init(code: -32602, name: "invalid-params", message: m) }
    public static func internalError(_ m: String) -> RPCError { .init(code: -32603, name: "internal-error", message: m) }
    // Ours (-32000 … -32099, the spec's server-error range).
    public static func permissionDenied(_ m: String, hint: String? = nil) -> RPCError {
        .init(code: -32001, name: "permission-denied", message: m, hint: hint)
    }
    public static func notFound(_ m: String) -> RPCError { .init(code: -32002, name: "not-found", message: m) }
    public static func alreadyExists(_ m: String) -> RPCError { .init(code: -32003, name: "already-exists", message: m) }
    public static func inUse(_ m: String, hint: String? = nil) -> RPCError { .init(code: -32004, name: "in-use", message: m, hint: hint) }
    public static func tooLarge(_ m: String) -> RPCError { .init(code: -32005, name: "too-large", message: m) }
    public static func busy(_ m: String) -> RPCError { .init(code: -32006, name: "busy", message: m) }
    public static func storeFailure(_ m: String) -> RPCError { .init(code: -32007, name: "store-failure", message: m) }
    /// A file the daemon was asked to edit (a tool's settings) does not parse: it was left unchanged.
    public static func unparsableFile(_ m: String) -> RPCError { .init(code: -32009, name: "unparsable-file", message: m) }
    /// A caller allowed only to read called a method that changes state (`RPCMethod.mutates`).
    public static func readOnly(_ method: String) -> RPCError {
        .init(code: -32008, name: "read-only", message: "method '\(method)' changes state, and this caller may only read")
    }
}
