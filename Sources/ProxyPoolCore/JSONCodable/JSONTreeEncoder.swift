/// Our `Encoder`: any `Encodable` → `JSONTree`, with JSONEncoder's rules (swift-foundation 6.3,
/// Sources/FoundationEssentials/JSON/JSONEncoder.swift, default strategies): integers as their decimal text,
/// floats as `JSONNumberText.format` prints them (NaN and infinities refused), `encodeIfPresent` of nil leaves
/// the key out (the protocol's default) while `encodeNil` writes null, a value that encodes nothing is `{}`,
/// a key encoded twice keeps the last value, and a nested container asked for twice at one key is the same one.
enum JSONTreeEncoder {
    static func encode<T: Encodable>(_ value: T) throws -> JSONTree {
        let encoder = TreeEncoder(codingPath: [])
        try value.encode(to: encoder)
        guard let tree = encoder.take() else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "Top-level \(T.self) did not encode any values."))
        }
        return tree
    }

    /// A value nested at `codingPath`.
    static func tree<T: Encodable>(_ value: T, at codingPath: [any CodingKey]) throws -> JSONTree {
        let encoder = TreeEncoder(codingPath: codingPath)
        try value.encode(to: encoder)
        return encoder.take() ?? .object([:])
    }
}

/// A container's storage, shared by reference: containers are values that the caller may copy and keep, and
/// all of them must write into the one object or array.
final class ObjectSlots { var fields: [String: Slot] = [:] }
final class ArraySlots { var items: [Slot] = [] }

/// What one key or element holds: a finished tree, or a nested container still being filled.
enum Slot {
    case tree(JSONTree)
    case object(ObjectSlots)
    case array(ArraySlots)

    var tree: JSONTree {
        switch self {
        case .tree(let t): return t
        case .object(let o): return .object(o.fields.mapValues(\.tree))
        case .array(let a): return .array(a.items.map(\.tree))
        }
    }

    /// The object a nested keyed container at this slot writes into: the one already there, or a finished object
    /// reopened (JSONEncoder allowed both); anything else here is a programming error, as it was there.
    func reopenObject(_ what: String) -> ObjectSlots {
        switch self {
        case .object(let o): return o
        case .tree(.object(let fields)):
            let o = ObjectSlots()
            o.fields = fields.mapValues { .tree($0) }
            return o
        default: preconditionFailure("Attempt to re-encode into a nested keyed container \(what): a non-keyed value is already encoded there")
        }
    }

    func reopenArray(_ what: String) -> ArraySlots {
        switch self {
        case .array(let a): return a
        case .tree(.array(let items)):
            let a = ArraySlots()
            a.items = items.map { .tree($0) }
            return a
        default: preconditionFailure("Attempt to re-encode into a nested unkeyed container \(what): a keyed or single value is already encoded there")
        }
    }
}

/// The encoder for one value. It is also that value's single-value container.
final class TreeEncoder: Encoder, SingleValueEncodingContainer {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    private var single: JSONTree?
    private var object: ObjectSlots?
    private var array: ArraySlots?
    /// superEncoder(): where the value goes once the caller lets the encoder go (JSONEncoder did the same).
    private let onRelease: ((JSONTree) -> Void)?

    init(codingPath: [any CodingKey], onRelease: ((JSONTree) -> Void)? = nil) {
        self.codingPath = codingPath
        self.onRelease = onRelease
    }

    deinit { onRelease?(take() ?? .object([:])) }

    /// What was encoded, or nil when nothing was.
    func take() -> JSONTree? {
        defer { single = nil; object = nil; array = nil }
        if let object { return Slot.object(object).tree }
        if let array { return Slot.array(array).tree }
        return single
    }

    func container<Key: CodingKey>(keyedBy: Key.Type) -> KeyedEncodingContainer<Key> {
        if object == nil {
            if let single {
                object = Slot.tree(single).reopenObject("at this path")
                self.single = nil
            } else {
                precondition(array == nil, "Attempt to push new keyed encoding container when already previously encoded at this path.")
                object = ObjectSlots()
            }
        }
        return KeyedEncodingContainer(TreeKeyedEncoding<Key>(slots: object!, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if array == nil {
            if let single {
                array = Slot.tree(single).reopenArray("at this path")
                self.single = nil
            } else {
                precondition(object == nil, "Attempt to push new unkeyed encoding container when already previously encoded at this path.")
                array = ArraySlots()
            }
        }
        return TreeUnkeyedEncoding(slots: array!, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    // MARK: SingleValueEncodingContainer

    private func set(_ tree: JSONTree) {
        precondition(single == nil, "Attempt to encode value through single value container when previously value already encoded.")
        single = tree
    }

    func encodeNil() throws { set(.null) }
    func encode(_ value: Bool) throws { set(.bool(value)) }
    func encode(_ value: String) throws { set(.string(value)) }
    func encode(_ value: Double) throws { set(.number(try JSONNumberText.format(value, codingPath: codingPath))) }
    func encode(_ value: Float) throws { set(.number(try JSONNumberText.format(value, codingPath: codingPath))) }
    func encode(_ value: Int) throws { set(.number(String(value))) }
    func encode(_ value: Int8) throws { set(.number(String(value))) }
    func encode(_ value: Int16) throws { set(.number(String(value))) }
    func encode(_ value: Int32) throws { set(.number(String(value))) }
    func encode(_ value: Int64) throws { set(.number(String(value))) }
    func encode(_ value: Int128) throws { set(.number(String(value))) }
    func encode(_ value: UInt) throws { set(.number(String(value))) }
    func encode(_ value: UInt8) throws { set(.number(String(value))) }
    func encode(_ value: UInt16) throws { set(.number(String(value))) }
    func encode(_ value: UInt32) throws { set(.number(String(value))) }
    func encode(_ value: UInt64) throws { set(.number(String(value))) }
    func encode(_ value: UInt128) throws { set(.number(String(value))) }
    func encode<T: Encodable>(_ value: T) throws { set(try JSONTreeEncoder.tree(value, at: codingPath)) }
}

struct TreeKeyedEncoding<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slots: ObjectSlots
    let codingPath: [any CodingKey]

    private func set(_ tree: JSONTree, _ key: Key) { slots.fields[key.stringValue] = .tree(tree) }
    private func number(_ f: some BinaryFloatingPoint & CustomStringConvertible, _ key: Key) throws -> JSONTree {
        .number(try JSONNumberText.format(f, codingPath: codingPath + [key]))
    }

    mutating func encodeNil(forKey key: Key) throws { set(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(try number(value, key), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(try number(value, key), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(.number(String(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(.number(String(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(.number(String(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(.number(String(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(.number(String(value)), key) }
    mutating func encode(_ value: Int128, forKey key: Key) throws { set(.number(String(value)), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(.number(String(value)), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(.number(String(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(.number(String(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(.number(String(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(.number(String(value)), key) }
    mutating func encode(_ value: UInt128, forKey key: Key) throws { set(.number(String(value)), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        set(try JSONTreeEncoder.tree(value, at: codingPath + [key]), key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let nested = slots.fields[key.stringValue]?.reopenObject("for key \"\(key.stringValue)\"") ?? ObjectSlots()
        slots.fields[key.stringValue] = .object(nested)
        return KeyedEncodingContainer(TreeKeyedEncoding<NestedKey>(slots: nested, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = slots.fields[key.stringValue]?.reopenArray("for key \"\(key.stringValue)\"") ?? ArraySlots()
        slots.fields[key.stringValue] = .array(nested)
        return TreeUnkeyedEncoding(slots: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { superEncoder(JSONIndexKey.super) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(key) }

    private func superEncoder(_ key: some CodingKey) -> any Encoder {
        let slots = slots, name = key.stringValue
        return TreeEncoder(codingPath: codingPath + [key]) { slots.fields[name] = .tree($0) }
    }
}

struct TreeUnkeyedEncoding: UnkeyedEncodingContainer {
    let slots: ArraySlots
    let codingPath: [any CodingKey]
    var count: Int { slots.items.count }

    private func append(_ tree: JSONTree) { slots.items.append(.tree(tree)) }
    private var nextPath: [any CodingKey] { codingPath + [JSONIndexKey(count)] }

    mutating func encodeNil() throws { append(.null) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Double) throws { append(.number(try JSONNumberText.format(value, codingPath: nextPath))) }
    mutating func encode(_ value: Float) throws { append(.number(try JSONNumberText.format(value, codingPath: nextPath))) }
    mutating func encode(_ value: Int) throws { append(.number(String(value))) }
    mutating func encode(_ value: Int8) throws { append(.number(String(value))) }
    mutating func encode(_ value: Int16) throws { append(.number(String(value))) }
    mutating func encode(_ value: Int32) throws { append(.number(String(value))) }
    mutating func encode(_ value: Int64) throws { append(.number(String(value))) }
    mutating func encode(_ value: Int128) throws { append(.number(String(value))) }
    mutating func encode(_ value: UInt) throws { append(.number(String(value))) }
    mutating func encode(_ value: UInt8) throws { append(.number(String(value))) }
    mutating func encode(_ value: UInt16) throws { append(.number(String(value))) }
    mutating func encode(_ value: UInt32) throws { append(.number(String(value))) }
    mutating func encode(_ value: UInt64) throws { append(.number(String(value))) }
    mutating func encode(_ value: UInt128) throws { append(.number(String(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws { append(try JSONTreeEncoder.tree(value, at: nextPath)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = ObjectSlots(), path = nextPath
        slots.items.append(.object(nested))
        return KeyedEncodingContainer(TreeKeyedEncoding<NestedKey>(slots: nested, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = ArraySlots(), path = nextPath
        slots.items.append(.array(nested))
        return TreeUnkeyedEncoding(slots: nested, codingPath: path)
    }

    /// The element goes in at today's index when the encoder is let go, however many were appended since.
    mutating func superEncoder() -> any Encoder {
        let slots = slots, index = count
        return TreeEncoder(codingPath: nextPath) { slots.items.insert(.tree($0), at: min(index, slots.items.count)) }
    }
}
