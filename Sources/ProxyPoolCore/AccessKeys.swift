/// Local access keys: `ppk_` and 43 base62 characters (256 bits of entropy), shown once, stored as SHA-256.
public enum AccessKeys {
    public static let prefix = "ppk_"
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    public static func generate<R: RandomNumberGenerator>(using rng: inout R) -> String {
        prefix + String(decoding: (0..<43).map { _ in alphabet[Int.random(in: 0..<62, using: &rng)] }, as: UTF8.self)
    }

    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()   // getrandom(2)
        return generate(using: &rng)
    }

    /// A short public id to revoke a key by: `k` and 8 hex digits.
    public static func newID() -> String {
        var rng = SystemRandomNumberGenerator()
        return "k" + Hex.encode((0..<4).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }

    public static func hash(_ key: String) -> String { SHA256.hex(Array(key.utf8)) }
}
