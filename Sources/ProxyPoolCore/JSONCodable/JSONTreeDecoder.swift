/// Our `Decoder`: `JSONTree` → any `Decodable`, throwing the DecodingErrors JSONDecoder threw (swift-foundation
/// 6.3, Sources/FoundationEssentials/JSON/JSONDecoder.swift), with the same coding paths, so `JSON.describe`
/// says what it said: keyNotFound carries the container's path, typeMismatch and valueNotFound the value's
/// (a Bool read from null is a typeMismatch there, other types a valueNotFound). `decodeIfPresent` is the
/// protocol's default: a missing key or null is nil, any other value must decode.
///
/// One difference, on purpose: a number that does not fit the type asked for (1.5 or 1e19 into an Int64, 1e400
/// into a Double) is a dataCorrupted error at the field ("field 'port' is invalid: 70000 does not fit in
/// UInt16") where JSONDecoder reported "The given data was not valid JSON." with no path at all.
enum JSONTreeDecoding {
    /// `shortcut`: JSONValue.init(from:) tries each type in turn; the direct conversion gives what it would,
    /// faster. When it cannot (a number fits neither Int64 nor Double), the init runs, and everything under it
    /// without the shortcut: trying it again at each level below would walk the subtree once per level.
    static func decode<T: Decodable>(_ tree: JSONTree, as type: T.Type, at codingPath: [any CodingKey], shortcut: Bool = true) throws -> T {
        if T.self == JSONValue.self, shortcut {
            if let v = tree.jsonValue { return v as! T }
            return try T(from: TreeDecoder(tree: tree, codingPath: codingPath, shortcut: false))
        }
        return try T(from: TreeDecoder(tree: tree, codingPath: codingPath, shortcut: shortcut))
    }

    static func bool(_ tree: JSONTree, at path: [any CodingKey]) throws -> Bool {
        guard case .bool(let b) = tree else { throw mismatch(Bool.self, tree, path) }
        return b
    }

    static func string(_ tree: JSONTree, at path: [any CodingKey]) throws -> String {
        try notNull(tree, String.self, path)
        guard case .string(let s) = tree else { throw mismatch(String.self, tree, path) }
        return s
    }

    static func integer<T: FixedWidthInteger>(_ tree: JSONTree, at path: [any CodingKey]) throws -> T {
        try notNull(tree, T.self, path)
        guard case .number(let text) = tree else { throw mismatch(T.self, tree, path) }
        if let v: T = JSONNumberText.integer(text) { return v }
        let whole = Double(text).map { $0 == $0.rounded(.towardZero) } ?? true
        throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(shown(text)) " + (whole ? "does not fit in \(T.self)" : "is not a whole number")))
    }

    static func floatingPoint<T: BinaryFloatingPoint & LosslessStringConvertible>(_ tree: JSONTree, at path: [any CodingKey]) throws -> T {
        try notNull(tree, T.self, path)
        guard case .number(let text) = tree else { throw mismatch(T.self, tree, path) }
        guard let v: T = JSONNumberText.floatingPoint(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(shown(text)) does not fit in \(T.self)"))
        }
        return v
    }

    /// A number from outside, cut short for a message.
    private static func shown(_ text: String) -> String { text.utf8.count <= 40 ? text : String(text.prefix(40)) + "…" }

    static func notNull(_ tree: JSONTree, _ type: Any.Type, _ path: [any CodingKey]) throws {
        if case .null = tree {
            throw DecodingError.valueNotFound(type, .init(codingPath: path, debugDescription: "Cannot get value of type \(type) -- found null value instead"))
        }
    }

    static func mismatch(_ type: Any.Type, _ tree: JSONTree, _ path: [any CodingKey]) -> DecodingError {
        .typeMismatch(type, .init(codingPath: path, debugDescription: "Expected to decode \(type) but found \(tree.foundDescription) instead."))
    }
}

/// The decoder for one value; also its single-value container.
struct TreeDecoder: Decoder, SingleValueDecodingContainer {
    let tree: JSONTree
    let codingPath: [any CodingKey]
    /// See JSONTreeDecoding.decode; carried into the containers.
    var shortcut = true
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy: Key.Type) throws -> KeyedDecodingContainer<Key> {
        switch tree {
        case .object(let fields): return KeyedDecodingContainer(TreeKeyedDecoding<Key>(fields: fields, codingPath: codingPath, shortcut: shortcut))
        case .null:
            throw DecodingError.valueNotFound([String: Any].self, .init(codingPath: codingPath, debugDescription: "Cannot get keyed decoding container -- found null value instead"))
        default: throw JSONTreeDecoding.mismatch([String: Any].self, tree, codingPath)
        }
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch tree {
        case .array(let items): return TreeUnkeyedDecoding(items: items, codingPath: codingPath, shortcut: shortcut)
        case .null:
            throw DecodingError.valueNotFound([Any].self, .init(codingPath: codingPath, debugDescription: "Cannot get unkeyed decoding container -- found null value instead"))
        default: throw JSONTreeDecoding.mismatch([Any].self, tree, codingPath)
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    // MARK: SingleValueDecodingContainer

    func decodeNil() -> Bool { if case .null = tree { return true }; return false }
    func decode(_: Bool.Type) throws -> Bool { try JSONTreeDecoding.bool(tree, at: codingPath) }
    func decode(_: String.Type) throws -> String { try JSONTreeDecoding.string(tree, at: codingPath) }
    func decode(_: Double.Type) throws -> Double { try JSONTreeDecoding.floatingPoint(tree, at: codingPath) }
    func decode(_: Float.Type) throws -> Float { try JSONTreeDecoding.floatingPoint(tree, at: codingPath) }
    func decode(_: Int.Type) throws -> Int { try JSONTreeDecoding.integer(tree, at: codingPath) }
    func decode(_: Int8.Type) throws -> Int8 { try JSONTreeDecoding.integer(tree, at: codingPath) }
    func decode(_: Int16.Type) throws -> Int16 { try JSONTreeDecoding.integer(tree, at: codingPath) }
    func decode(_: Int32.Type) throws -> Int32 { try JSONTreeDecoding.integer(tree, at: codingPath) }
    func decode(_: Int64.Type) throws -> Int64 { try JSONTreeDecoding.integer(tree, at: codingPath) }
    func decode(_: Int128.Type) throws -> Int128 { try JSONTreeDecoding.integer(tree, at: codingPath) }
    func decode(_: UInt.Type) throws -> UInt { try JSONTreeDecoding.integer(tree, at: codingPath) }
    func decode(_: UInt8.Type) throws -> UInt8 { try JSONTreeDecoding.integer(tree, at: codingPath) }
    func decode(_: UInt16.Type) throws -> UInt16 { try JSONTreeDecoding.integer(tree, at: codingPath) }
    func decode(_: UInt32.Type) throws -> UInt32 { try JSONTreeDecoding.integer(tree, at: codingPath) }
    func decode(_: UInt64.Type) throws -> UInt64 { try JSONTreeDecoding.integer(tree, at: codingPath) }
    func decode(_: UInt128.Type) throws -> UInt128 { try JSONTreeDecoding.integer(tree, at: codingPath) }
    func decode<T: Decodable>(_: T.Type) throws -> T { try JSONTreeDecoding.decode(tree, as: T.self, at: codingPath, shortcut: shortcut) }
}

struct TreeKeyedDecoding<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let fields: [String: JSONTree]
    let codingPath: [any CodingKey]
    let shortcut: Bool

    var allKeys: [Key] { fields.keys.compactMap { Key(stringValue: $0) } }
    func contains(_ key: Key) -> Bool { fields[key.stringValue] != nil }

    private func value(_ key: some CodingKey) throws -> JSONTree {
        guard let v = fields[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."))
        }
        return v
    }

    private func int<T: FixedWidthInteger>(_ key: Key) throws -> T { try JSONTreeDecoding.integer(try value(key), at: codingPath + [key]) }
    private func float<T: BinaryFloatingPoint & LosslessStringConvertible>(_ key: Key) throws -> T {
        try JSONTreeDecoding.floatingPoint(try value(key), at: codingPath + [key])
    }

    func decodeNil(forKey key: Key) throws -> Bool { if case .null = try value(key) { return true }; return false }
    func decode(_: Bool.Type, forKey key: Key) throws -> Bool { try JSONTreeDecoding.bool(try value(key), at: codingPath + [key]) }
    func decode(_: String.Type, forKey key: Key) throws -> String { try JSONTreeDecoding.string(try value(key), at: codingPath + [key]) }
    func decode(_: Double.Type, forKey key: Key) throws -> Double { try float(key) }
    func decode(_: Float.Type, forKey key: Key) throws -> Float { try float(key) }
    func decode(_: Int.Type, forKey key: Key) throws -> Int { try int(key) }
    func decode(_: Int8.Type, forKey key: Key) throws -> Int8 { try int(key) }
    func decode(_: Int16.Type, forKey key: Key) throws -> Int16 { try int(key) }
    func decode(_: Int32.Type, forKey key: Key) throws -> Int32 { try int(key) }
    func decode(_: Int64.Type, forKey key: Key) throws -> Int64 { try int(key) }
    func decode(_: Int128.Type, forKey key: Key) throws -> Int128 { try int(key) }
    func decode(_: UInt.Type, forKey key: Key) throws -> UInt { try int(key) }
    func decode(_: UInt8.Type, forKey key: Key) throws -> UInt8 { try int(key) }
    func decode(_: UInt16.Type, forKey key: Key) throws -> UInt16 { try int(key) }
    func decode(_: UInt32.Type, forKey key: Key) throws -> UInt32 { try int(key) }
    func decode(_: UInt64.Type, forKey key: Key) throws -> UInt64 { try int(key) }
    func decode(_: UInt128.Type, forKey key: Key) throws -> UInt128 { try int(key) }
    func decode<T: Decodable>(_: T.Type, forKey key: Key) throws -> T {
        try JSONTreeDecoding.decode(try value(key), as: T.self, at: codingPath + [key], shortcut: shortcut)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try TreeDecoder(tree: try value(key), codingPath: codingPath + [key], shortcut: shortcut).container(keyedBy: NestedKey.self)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TreeDecoder(tree: try value(key), codingPath: codingPath + [key], shortcut: shortcut).unkeyedContainer()
    }

    /// A missing key gives a decoder of null, as in JSONDecoder.
    func superDecoder() throws -> any Decoder { try superDecoder(JSONIndexKey.super) }
    func superDecoder(forKey key: Key) throws -> any Decoder { try superDecoder(key) }
    private func superDecoder(_ key: some CodingKey) throws -> any Decoder {
        TreeDecoder(tree: fields[key.stringValue] ?? .null, codingPath: codingPath + [key], shortcut: shortcut)
    }
}

struct TreeUnkeyedDecoding: UnkeyedDecodingContainer {
    let items: [JSONTree]
    let codingPath: [any CodingKey]
    let shortcut: Bool
    private(set) var currentIndex = 0

    init(items: [JSONTree], codingPath: [any CodingKey], shortcut: Bool) { self.items = items; self.codingPath = codingPath; self.shortcut = shortcut }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }
    private var path: [any CodingKey] { codingPath + [JSONIndexKey(currentIndex)] }

    /// The next element, not yet consumed.
    private func next(_ type: Any.Type, _ message: String = "Unkeyed container is at end.") throws -> JSONTree {
        guard !isAtEnd else { throw DecodingError.valueNotFound(type, .init(codingPath: path, debugDescription: message)) }
        return items[currentIndex]
    }

    private mutating func take<T>(_ read: (JSONTree, [any CodingKey]) throws -> T) throws -> T {
        let v = try read(try next(T.self), path)
        currentIndex += 1
        return v
    }

    mutating func decodeNil() throws -> Bool {
        guard case .null = try next(Never.self) else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_: Bool.Type) throws -> Bool { try take(JSONTreeDecoding.bool) }
    mutating func decode(_: String.Type) throws -> String { try take(JSONTreeDecoding.string) }
    mutating func decode(_: Double.Type) throws -> Double { try take(JSONTreeDecoding.floatingPoint) }
    mutating func decode(_: Float.Type) throws -> Float { try take(JSONTreeDecoding.floatingPoint) }
    mutating func decode(_: Int.Type) throws -> Int { try take(JSONTreeDecoding.integer) }
    mutating func decode(_: Int8.Type) throws -> Int8 { try take(JSONTreeDecoding.integer) }
    mutating func decode(_: Int16.Type) throws -> Int16 { try take(JSONTreeDecoding.integer) }
    mutating func decode(_: Int32.Type) throws -> Int32 { try take(JSONTreeDecoding.integer) }
    mutating func decode(_: Int64.Type) throws -> Int64 { try take(JSONTreeDecoding.integer) }
    mutating func decode(_: Int128.Type) throws -> Int128 { try take(JSONTreeDecoding.integer) }
    mutating func decode(_: UInt.Type) throws -> UInt { try take(JSONTreeDecoding.integer) }
    mutating func decode(_: UInt8.Type) throws -> UInt8 { try take(JSONTreeDecoding.integer) }
    mutating func decode(_: UInt16.Type) throws -> UInt16 { try take(JSONTreeDecoding.integer) }
    mutating func decode(_: UInt32.Type) throws -> UInt32 { try take(JSONTreeDecoding.integer) }
    mutating func decode(_: UInt64.Type) throws -> UInt64 { try take(JSONTreeDecoding.integer) }
    mutating func decode(_: UInt128.Type) throws -> UInt128 { try take(JSONTreeDecoding.integer) }
    mutating func decode<T: Decodable>(_: T.Type) throws -> T {
        let shortcut = shortcut
        return try take { tree, path in try JSONTreeDecoding.decode(tree, as: T.self, at: path, shortcut: shortcut) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let c = try TreeDecoder(tree: try next(KeyedDecodingContainer<NestedKey>.self), codingPath: path, shortcut: shortcut).container(keyedBy: NestedKey.self)
        currentIndex += 1
        return c
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let c = try TreeDecoder(tree: try next((any UnkeyedDecodingContainer).self), codingPath: path, shortcut: shortcut).unkeyedContainer()
        currentIndex += 1
        return c
    }

    mutating func superDecoder() throws -> any Decoder {
        let d = TreeDecoder(tree: try next((any Decoder).self, "Cannot get superDecoder() -- unkeyed container is at end."), codingPath: path, shortcut: shortcut)
        currentIndex += 1
        return d
    }
}
