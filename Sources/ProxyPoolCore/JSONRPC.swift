import FoundationEssentials

/// JSON-RPC 2.0 request id: a string, a number, or null.
public enum RPCID: Codable, Equatable, Sendable {
    case string(String)
    case number(Int64)
    case null

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let n = try? c.decode(Int64.self) { self = .number(n) }
        else { self = .string(try c.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .number(let n): try c.encode(n)
        case .null: try c.encodeNil()
        }
    }
}

/// A JSON-RPC error as it travels: code and message per the spec, plus `data.name`, our stable error name.
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
}

public struct RPCRequest: Codable, Sendable {
    public var jsonrpc: String = "2.0"
    public var id: RPCID?
    public var method: String
    public var params: JSONValue?
    public init(id: RPCID?, method: String, params: JSONValue?) { self.id = id; self.method = method; self.params = params }
}

public struct RPCResponse: Codable, Sendable {
    public var jsonrpc: String = "2.0"
    public var id: RPCID
    public var result: JSONValue?
    public var error: RPCError?
    public init(id: RPCID, result: JSONValue) { self.id = id; self.result = result; self.error = nil }
    public init(id: RPCID, error: RPCError) { self.id = id; self.result = nil; self.error = error }
}

public enum RPCEnvelope {
    /// Validate one received line as a JSON-RPC 2.0 request. Batches are not supported (named error).
    public static func parseRequest(_ line: some Collection<UInt8>) -> Result<RPCRequest, RPCErrorWithID> {
        let value: JSONValue
        do { value = try JSON.decode(JSONValue.self, from: line) } catch {
            return .failure(.init(id: .null, error: .parseError("request is not valid JSON")))
        }
        guard case .object(let o) = value else {
            if case .array = value {
                return .failure(.init(id: .null, error: .invalidRequest("batch requests are not supported; send one object per line")))
            }
            return .failure(.init(id: .null, error: .invalidRequest("request must be a JSON object, got \(value.typeName)")))
        }
        var id: RPCID = .null
        switch o["id"] {
        case nil, .null?: id = .null
        case .string(let s)?: id = .string(s)
        case .int(let n)?: id = .number(n)
        case let other?:
            return .failure(.init(id: .null, error: .invalidRequest("'id' must be a string, an integer or null, got \(other.typeName)")))
        }
        guard o["jsonrpc"] == .string("2.0") else {
            return .failure(.init(id: id, error: .invalidRequest("'jsonrpc' must be \"2.0\"")))
        }
        guard case .string(let method)? = o["method"] else {
            return .failure(.init(id: id, error: .invalidRequest("'method' must be a string")))
        }
        let params = o["params"]
        if let p = params, p != .null {
            guard case .object = p else {
                return .failure(.init(id: id, error: .invalidParams("'params' must be an object (by-name parameters), got \(p.typeName)")))
            }
        }
        let hasID = o["id"] != nil
        return .success(RPCRequest(id: hasID ? id : nil, method: method, params: params))
    }
}

public struct RPCErrorWithID: Error, Sendable {
    public var id: RPCID
    public var error: RPCError
    public init(id: RPCID, error: RPCError) { self.id = id; self.error = error }
}

/// Splits a byte stream into newline-terminated frames, refusing any frame longer than `maxLine`.
public struct LineFramer: Sendable {
    public enum Event: Equatable, Sendable { case line([UInt8]); case tooLong }
    public let maxLine: Int
    private var buffer: [UInt8] = []
    private var discarding = false

    public init(maxLine: Int) { self.maxLine = maxLine }

    /// Feed received bytes; returns the complete frames (without the newline; a trailing CR is dropped).
    public mutating func feed(_ bytes: some Collection<UInt8>) -> [Event] {
        var events: [Event] = []
        for b in bytes {
            if b == 0x0A {
                if discarding { discarding = false }
                else {
                    if buffer.last == 0x0D { buffer.removeLast() }
                    events.append(.line(buffer))
                }
                buffer.removeAll(keepingCapacity: true)
            } else if !discarding {
                buffer.append(b)
                if buffer.count > maxLine {
                    buffer.removeAll()
                    discarding = true
                    events.append(.tooLong)
                }
            }
        }
        return events
    }

    /// Bytes held that are not yet a full line.
    public var pending: Int { buffer.count }
}
