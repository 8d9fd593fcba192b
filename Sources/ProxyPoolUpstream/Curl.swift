import CCurl

/// libcurl process setup. Upstream requests themselves come with the proxy (driven from the event loop).
public enum Curl {
    /// Must run once before any thread starts (curl_global_init is not thread-safe).
    public static func globalInit() { _ = curl_global_init(Int(CURL_GLOBAL_ALL)) }

    public static var version: String { String(cString: curl_version()) }
}
