import ProxyPoolCore

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
