/// The media type of fetched bytes: the server's Content-Type when it names one we can pass on, else the
/// format's magic number.
public enum MediaType {
    public static func sniff(_ b: [UInt8]) -> String? {
        func starts(_ p: [UInt8]) -> Bool { b.count >= p.count && Array(b.prefix(p.count)) == p }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return "image/gif" }
        if starts(Array("RIFF".utf8)), b.count >= 12, Array(b[8..<12]) == Array("WEBP".utf8) { return "image/webp" }
        if starts(Array("%PDF-".utf8)) { return "application/pdf" }
        return nil
    }

    /// `image/png; charset=…` → `image/png`, when it is an image or a PDF.
    public static func fromHeader(_ contentType: String?) -> String? {
        guard let ct = contentType else { return nil }
        let t = ct.split(separator: ";").first.map { $0.trimming(" ").lowercased() } ?? ""
        return t.hasPrefix("image/") || t == "application/pdf" ? t : nil
    }
}
