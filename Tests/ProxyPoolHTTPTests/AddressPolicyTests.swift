import Testing
import ProxyPoolUpstream

/// URL fetches for inline-only upstreams must not reach this machine or private networks (SSRF).
@Suite struct AddressPolicyTests {
    @Test(arguments: [
        "127.0.0.1", "127.1.2.3", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
        "0.0.0.0", "224.0.0.1", "255.255.255.255", "192.0.2.1", "198.18.0.1", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1",
        "ff02::1", "::ffff:127.0.0.1", "::ffff:10.1.2.3", "64:ff9b::a9fe:a9fe", "2001:db8::1",
    ])
    func refusesNonPublicAddresses(_ address: String) {
        #expect(AddressPolicy.isPublic(address) == false)
    }

    @Test(arguments: ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:8.8.4.4", "151.101.1.69"])
    func allowsPublicAddresses(_ address: String) {
        #expect(AddressPolicy.isPublic(address) == true)
    }

    @Test func rejectsNonAddresses() {
        #expect(AddressPolicy.isPublic("localhost") == nil)
        #expect(AddressPolicy.isPublic("example.invalid") == nil)
    }
}
