/// A parsed JSON document for translation: objects keep their key order (so re-encoded bodies read like the
/// originals) and numbers keep their literal text (so `1e400` or a 19-digit id survives a round trip).
public enum JSONNode: Sendable {
    case null
    case bool(Bool)
    /// The number exactly as written in the source, or as we formatted it.
    case number(String)
    case string(String)
    case array([JSONNode])
    case object([(key: String, value: JSONNode)])

    public static func int(_ v: Int) -> JSONNode { .number(String(v)) }

    public static func double(_ v: Double) -> JSONNode {
        guard v.isFinite else { return .null }
        if v == v.rounded(.towardZero), abs(v) < 1e15 { return .number(String(Int(v))) }
        return .number("\(v)")
    }

    // MARK: Reading

    /// The value of `key` in an object (the last one when a key repeats, as JSON parsers do); nil otherwise.
    public subscript(key: String) -> JSONNode? {
        guard case .object(let fields) = self else { return nil }
        for f in fields.reversed() where f.key == key { return f.value }
        return nil
    }

    public subscript(index: Int) -> JSONNode? {
        guard case .array(let a) = self, index >= 0, index < a.count else { return nil }
        return a[index]
    }

    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var array: [JSONNode]? { if case .array(let a) = self { return a }; return nil }
    public var fields: [(key: String, value: JSONNode)]? { if case .object(let o) = self { return o }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }
    public var isObject: Bool { if case .object = self { return true }; return false }

    public var int: Int? {
        guard case .number(let n) = self else { return nil }
        if let i = Int(n) { return i }
        if let d = Double(n), d == d.rounded(.towardZero), abs(d) < 9e15 { return Int(d) }
        return nil
    }

    public var double: Double? { if case .number(let n) = self { return Double(n) }; return nil }

    /// The object's keys, in order.
    public var keys: [String] { fields?.map(\.key) ?? [] }

    /// A short name of the value's JSON type, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    // MARK: Building

    /// Set `key` in an object: replaces an existing field in place, else appends. A nil value removes it.
    public mutating func set(_ key: String, _ value: JSONNode?) {
        guard case .object(var fields) = self else { return }
        self = .null   // release the payload so the array below is uniquely referenced
        if let i = fields.firstIndex(where: { $0.key == key }) {
            if let value { fields[i].value = value } else { fields.remove(at: i) }
        } else if let value {
            fields.append((key, value))
        }
        self = .object(fields)
    }

    /// An object from fields, skipping nil values: `JSONNode.make(("a", x), ("b", maybe))`.
    public static func make(_ fields: (String, JSONNode?)...) -> JSONNode {
        .object(fields.compactMap { f in f.1.map { (key: f.0, value: $0) } })
    }
}

extension JSONNode: Equatable {
    /// Structural equality: objects compare as key → value maps (order-insensitive; a repeated key means its last
    /// value, as the subscript reads it); numbers by value when both parse.
    public static func == (a: JSONNode, b: JSONNode) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y || (Double(x) != nil && Double(x) == Double(y))
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            // Maps, last value winning: `{"a":1,"a":2}` equals itself and `{"a":2}` (found by the fuzzer: comparing
            // each field with the other side's last value made an object with a repeated key unequal to itself).
            let mx = Dictionary(x.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
            let my = Dictionary(y.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
            guard mx.count == my.count else { return false }
            for (k, v) in mx { guard let w = my[k], w == v else { return false } }
            return true
        default: return false
        }
    }
}

extension JSONNode: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
                    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral {
    public init(stringLiteral v: String) { self = .string(v) }
    public init(integerLiteral v: Int) { self = .int(v) }
    public init(floatLiteral v: Double) { self = .double(v) }
    public init(booleanLiteral v: Bool) { self = .bool(v) }
    public init(arrayLiteral elements: JSONNode...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONNode)...) { self = .object(elements.map { (key: $0.0, value: $0.1) }) }
    public init(nilLiteral: ()) { self = .null }
}
