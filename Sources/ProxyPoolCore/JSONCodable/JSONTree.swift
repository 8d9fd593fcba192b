/// The JSON tree our Codable encoder builds and our decoder reads (`JSON.encode` / `decode` / `convert` /
/// `value`). Unlike `JSONValue`, a number keeps its text: a UInt64 above Int64.max, or "1.0" read as an Int,
/// must come out exactly as JSONEncoder/JSONDecoder made them (the behaviour these replace, see JSONValue.swift),
/// and the decoder converts the text only once it knows the Swift type asked for.
enum JSONTree {
    case null
    case bool(Bool)
    /// RFC 8259 number text, as parsed or as `JSONNumberText` formatted it.
    case number(String)
    case string(String)
    case array([JSONTree])
    /// Keys are unordered here; the writer sorts them. A parsed object keeps the first of repeated keys, as
    /// Foundation's decoder did.
    case object([String: JSONTree])

    /// The words Foundation's decoder used for each type in its typeMismatch messages ("found a string instead").
    var foundDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .number: return "number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "a dictionary"
        }
    }
}

extension JSONTree {
    /// The tree `JSONValue`'s own `encode(to:)` would build, without running the encoder.
    init(_ value: JSONValue, codingPath: [any CodingKey] = []) throws {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .number(String(i))
        case .double(let d): self = .number(try JSONNumberText.format(d, codingPath: codingPath))
        case .string(let s): self = .string(s)
        case .array(let a):
            var items: [JSONTree] = []
            items.reserveCapacity(a.count)
            for (k, v) in a.enumerated() { items.append(try JSONTree(v, codingPath: codingPath + [JSONIndexKey(k)])) }
            self = .array(items)
        case .object(let o):
            var fields: [String: JSONTree] = [:]
            fields.reserveCapacity(o.count)
            for (k, v) in o { fields[k] = try JSONTree(v, codingPath: codingPath + [JSONIndexKey(k)]) }
            self = .object(fields)
        }
    }

    /// The `JSONValue` that `JSONValue.init(from:)` would decode from this tree (null, bool, Int64, else Double,
    /// string, array, object), or nil when some number in it fits neither Int64 nor Double: then the caller runs
    /// the real `init(from:)`, which throws the error JSONDecoder threw. A shortcut, because that init tries the
    /// types one after another and builds a thrown error for each miss: per scalar of an upstream's model list.
    var jsonValue: JSONValue? {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let text):
            if let i: Int64 = JSONNumberText.integer(text) { return .int(i) }
            if let d: Double = JSONNumberText.floatingPoint(text) { return .double(d) }
            return nil
        case .string(let s): return .string(s)
        case .array(let a):
            var items: [JSONValue] = []
            items.reserveCapacity(a.count)
            for v in a { guard let j = v.jsonValue else { return nil }; items.append(j) }
            return .array(items)
        case .object(let o):
            var fields: [String: JSONValue] = [:]
            fields.reserveCapacity(o.count)
            for (k, v) in o { guard let j = v.jsonValue else { return nil }; fields[k] = j }
            return .object(fields)
        }
    }
}

/// The coding key of an array element or a dictionary entry in a coding path (Foundation's `_CodingKey`).
struct JSONIndexKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ index: Int) { stringValue = "Index \(index)"; intValue = index }
    init(_ key: String) { stringValue = key; intValue = nil }
    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { self.init(intValue) }
    /// The key superEncoder()/superDecoder() use, as in Foundation.
    static let `super` = JSONIndexKey("super")
}

/// Numbers between text and Swift types, as JSONEncoder/JSONDecoder (swift-foundation 6.3,
/// Sources/FoundationEssentials/JSON/JSONEncoder.swift and JSONDecoder.swift) converted them.
enum JSONNumberText {
    /// A finite float as JSONEncoder printed it: Swift's shortest round-trip `description`, without a trailing
    /// ".0" (1.0 → "1", 1e20 → "1e+20", 1.5e-7 → "1.5e-07"). NaN and infinities have no JSON form: thrown, as
    /// JSONEncoder's default nonConformingFloatEncodingStrategy did.
    static func format<F: BinaryFloatingPoint & CustomStringConvertible>(_ f: F, codingPath: [any CodingKey]) throws -> String {
        guard f.isFinite else {
            throw EncodingError.invalidValue(f, .init(codingPath: codingPath, debugDescription: "Unable to encode \(F.self).\(f) directly in JSON."))
        }
        var s = f.description
        if s.hasSuffix(".0") { s.removeLast(2) }
        return s
    }

    /// The integer `text` names exactly, or nil. Plain digits are read directly; otherwise ("1.0", "1e2") the
    /// value is read as a Double and must be an integer of T; from 2^53 on, where Doubles skip integers, the
    /// digits decide (the fraction dropped), as JSONDecoder's Decimal step did: "9007199254740993.0" is
    /// 9007199254740993, "1.5" and "1e19" (into Int64) are nil.
    static func integer<T: FixedWidthInteger>(_ text: String) -> T? {
        if let plain = T(text, radix: 10) { return plain }
        guard let d = Double(text), let value = T(exactly: d) else { return nil }
        if d.magnitude < 9_007_199_254_740_992 { return value }
        return exactInteger(text)
    }

    /// A float of type F, or nil when `text` overflows to infinity or underflows to zero from non-zero digits
    /// ("1e400", "1e-400": JSONDecoder refused both rather than return inf or 0).
    static func floatingPoint<F: BinaryFloatingPoint & LosslessStringConvertible>(_ text: String) -> F? {
        guard let f = F(text), f.isFinite else { return nil }
        if f == 0 {
            for c in text.utf8 {
                if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { break }
                if c >= UInt8(ascii: "1") && c <= UInt8(ascii: "9") { return nil }
            }
        }
        return f
    }

    /// The integer part of a number in JSON grammar, from its digits alone, or nil when it does not fit T.
    private static func exactInteger<T: FixedWidthInteger>(_ text: String) -> T? {
        var u = Substring(text).utf8[...]
        let negative = u.first == UInt8(ascii: "-")
        if negative { u = u.dropFirst() }
        var digits: [UInt8] = []
        var exponent = 0
        var inFraction = false
        while let c = u.first, c != UInt8(ascii: "e"), c != UInt8(ascii: "E") {
            u = u.dropFirst()
            if c == UInt8(ascii: ".") { inFraction = true; continue }
            if digits.isEmpty && c == UInt8(ascii: "0") { if inFraction { exponent -= 1 }; continue }
            digits.append(c)
            if inFraction { exponent -= 1 }
        }
        if !u.isEmpty {
            u = u.dropFirst()
            let e = Int(String(decoding: u, as: UTF8.self)) ?? 0   // the grammar was checked: only huge values fail
            exponent = exponent.addingReportingOverflow(e).partialValue
        }
        // Past 40 digits nothing fits even a UInt128; the check also keeps a "1e999999999" from being spelled out.
        if exponent >= 0 {
            guard digits.count + exponent <= 40 else { return nil }
            digits.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: exponent))
        } else {
            digits.removeLast(Int(min(exponent.magnitude, UInt(digits.count))))
            guard digits.count <= 40 else { return nil }
        }
        if digits.isEmpty { return 0 }
        return T((negative ? "-" : "") + String(decoding: digits, as: UTF8.self), radix: 10)
    }
}
