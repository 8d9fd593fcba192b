internal import CCrypto
import ProxyPoolCore

/// RSASSA-PKCS1-v1_5 with SHA-256 (JWS "RS256", RFC 7518 §3.3) through OpenSSL's libcrypto, for the JWT
/// assertions of Vertex AI service accounts. Blocking CPU work (a 2048-bit signature is about a millisecond):
/// called only from a token source's own thread, never from the event loop (`TokenGrant.requestBlocks`).
enum RS256 {
    struct Failure: Error { let message: String }

    /// The signature of `message` with the PEM private key `pem` (PKCS#8 "BEGIN PRIVATE KEY", as Google's key
    /// files hold it, or PKCS#1 "BEGIN RSA PRIVATE KEY"). libcrypto is opened the first time (CCrypto).
    static func sign(_ message: [UInt8], pem: String) throws(Failure) -> [UInt8] {
        if let why = ccrypto_load() { throw Failure(message: "libcrypto could not be loaded (\(String(cString: why))); install libssl3") }
        let pemBytes = Array(pem.utf8)
        var signature = [UInt8](repeating: 0, count: 2048)   // room for a 16384-bit key's signature
        var length = 0
        let why = pemBytes.withUnsafeBufferPointer { p in
            message.withUnsafeBufferPointer { m in
                signature.withUnsafeMutableBufferPointer { s in
                    p.withMemoryRebound(to: CChar.self) { pc in
                        ccrypto_rs256_sign(pc.baseAddress, pc.count, m.baseAddress, m.count, s.baseAddress, s.count, &length)
                    }
                }
            }
        }
        if let why { throw Failure(message: String(cString: why)) }
        return Array(signature.prefix(length))
    }
}

/// Base64url without padding (RFC 7515 §2), the encoding of a JWT's three parts.
enum Base64URL {
    static func encode(_ bytes: some Collection<UInt8>) -> String {
        var s = Base64.encode(bytes)
        while s.hasSuffix("=") { s.removeLast() }
        return String(s.map { $0 == "+" ? "-" : ($0 == "/" ? "_" : $0) })
    }
}
