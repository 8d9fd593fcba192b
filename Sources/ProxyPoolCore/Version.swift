/// The one version of proxypool: both binaries' --version, the daemon's status and its ready line; the man
/// pages' headers are checked against it (PackagingTests).
public enum ProxyPoolVersion {
    public static let string = "0.1.0"
}
