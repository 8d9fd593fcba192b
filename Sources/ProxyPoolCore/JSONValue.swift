/// Any JSON value. Used where the shape is only known later (JSON-RPC params) and for `--json` output.
public enum JSONValue: Codable, Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }

    /// A short name of the value's JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

/// Compact, key-sorted JSON, so output is stable for tests and diffs. Our own Codable encoder and decoder
/// (JSONCodable/): they replaced Foundation's JSONEncoder/JSONDecoder, whose library was a third of the
/// daemon's loaded bytes, and print and accept what those did (the differences are listed in
/// JSONTreeParser.swift and JSONTreeDecoder.swift).
public enum JSON {
    /// Compact, or with `pretty` the layout of JSONEncoder's `.prettyPrinted` (what `proxypoolctl --json` prints).
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> [UInt8] {
        var writer = JSONTreeWriter(pretty: pretty)
        do { try writer.write(try JSONTreeEncoder.encode(value)) } catch is JSONTreeWriter.TooDeep {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "Unable to encode the given top-level value to JSON."))
        }
        return writer.bytes
    }

    /// Bytes that are not one JSON text (RFC 8259, at most `JSONTreeParser.maxDepth` deep) throw dataCorrupted
    /// with an empty coding path ("not valid JSON" in `describe`); the parser's reason is its underlyingError.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        let tree: JSONTree
        do { tree = try JSONTreeParser.parse(bytes) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "The given data was not valid JSON.", underlyingError: error))
        }
        return try JSONTreeDecoding.decode(tree, as: T.self, at: [])
    }

    /// Re-decode an already parsed value as a typed struct (JSON-RPC params).
    public static func convert<T: Decodable>(_ value: JSONValue, to type: T.Type) throws -> T {
        try JSONTreeDecoding.decode(try JSONTree(value), as: T.self, at: [])
    }

    public static func value<T: Encodable>(_ value: T) throws -> JSONValue {
        try JSONTreeDecoding.decode(try JSONTreeEncoder.encode(value), as: JSONValue.self, at: [])
    }

    /// A readable sentence for a DecodingError, naming the field path instead of Swift's debug dump.
    public static func describe(_ error: any Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func path(_ keys: [any CodingKey]) -> String {
            let p = keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return p.isEmpty ? "value" : "'\(p)'"
        }
        switch e {
        case .keyNotFound(let key, let ctx): return "missing field \(path(ctx.codingPath + [key]))"
        case .typeMismatch(let t, let ctx): return "field \(path(ctx.codingPath)) must be of type \(jsonTypeName(t))"
        case .valueNotFound(let t, let ctx): return "field \(path(ctx.codingPath)) must be of type \(jsonTypeName(t)), not null"
        case .dataCorrupted(let ctx):
            return ctx.codingPath.isEmpty ? "not valid JSON" : "field \(path(ctx.codingPath)) is invalid: \(ctx.debugDescription)"
        @unknown default: return "\(e)"
        }
    }

    private static func jsonTypeName(_ t: Any.Type) -> String {
        switch t {
        case is String.Type: return "string"
        case is Bool.Type: return "boolean"
        case is Int.Type, is Int64.Type, is Double.Type: return "number"
        default:
            let n = "\(t)"
            if n.hasPrefix("Array") { return "array" }
            if n.hasPrefix("Dictionary") { return "object" }
            return "object"
        }
    }
}
