internal import CCrypto
import ProxyPoolCore

/// RSASSA-PKCS1-v1_5 with SHA-256 (JWS "RS256", RFC 7518 §3.3) through OpenSSL's libcrypto, for the JWT
/// assertions of Vertex AI service accounts. Blocking CPU work (a 2048-bit signature is about a millisecond):
/// called only from a token source's own thread, never from the event loop (`TokenGrant.requestBlocks`).
enum RS256 {
    struct Failure: Error { let message: String }

    /// The signature of `message` with the PEM private key `pem` (PKCS#8 "BEGIN PRIVATE KEY", as Google's key
    /// files hold it, or PKCS#1 "BEGIN RSA PRIVATE KEY").
    static func sign(_ message: [UInt8], pem: String) throws(Failure) -> [UInt8] {
        let pemBytes = Array(pem.utf8)
        guard pemBytes.count < 64 * 1024 else { throw Failure(message: "the private key is longer than 64 KiB") }
        let key: OpaquePointer? = pemBytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            // No passphrase callback: a key file's key is never encrypted, and nothing may prompt.
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else { ERR_clear_error(); throw Failure(message: "the private_key is not a PEM private key OpenSSL can read") }
        defer { EVP_PKEY_free(key) }
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else { throw Failure(message: "the private_key is not an RSA key (RS256 needs one)") }
        guard let ctx = EVP_MD_CTX_new() else { throw Failure(message: "out of memory") }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestSignInit(ctx, nil, EVP_sha256(), nil, key) == 1 else {
            ERR_clear_error(); throw Failure(message: "the key cannot sign with SHA-256")
        }
        var length = 0
        let ok = message.withUnsafeBufferPointer { m in EVP_DigestSign(ctx, nil, &length, m.baseAddress, m.count) } == 1
        guard ok, length > 0, length <= 2048 else { ERR_clear_error(); throw Failure(message: "the signature's length is unknown") }
        var signature = [UInt8](repeating: 0, count: length)
        let signed = message.withUnsafeBufferPointer { m in
            signature.withUnsafeMutableBufferPointer { s in EVP_DigestSign(ctx, s.baseAddress, &length, m.baseAddress, m.count) }
        }
        guard signed == 1 else { ERR_clear_error(); throw Failure(message: "signing failed") }
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
