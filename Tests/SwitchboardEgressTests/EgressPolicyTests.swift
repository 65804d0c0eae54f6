import Testing

@testable import SwitchboardEgress

@Suite("Egress policy")
struct EgressPolicyTests {
    @Test(
        arguments: [
            ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("10.0.0.1", "private"),
            ("172.16.5.4", "private"), ("172.31.255.255", "private"), ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"), ("100.64.0.1", "cgnat"), ("100.127.255.255", "cgnat"),
            ("0.0.0.0", "unspecified"), ("0.1.2.3", "unspecified"), ("224.0.0.1", "multicast"),
            ("255.255.255.255", "reserved"), ("::1", "loopback"), ("::", "unspecified"),
            ("fc00::1", "private"), ("fd00:ec2::254", "private"), ("fe80::1", "link-local"),
            ("ff02::1", "multicast"), ("::ffff:127.0.0.1", "loopback"), ("::ffff:a9fe:a9fe", "link-local"),
            ("::ffff:10.0.0.1", "private"), ("64:ff9b::a9fe:a9fe", "link-local"), ("2002:7f00:1::", "loopback"),
            ("::127.0.0.1", "loopback"),
        ]
    )
    func internalAddressesAreRestricted(_ text: String, _ expected: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.restrictedClass == expected, "\(text)")
        #expect(throws: EgressRefusal.self) { try EgressPolicy().check(address, host: "example.com") }
    }

    @Test(arguments: ["93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111", "1.1.1.1"])
    func publicAddressesPass(_ text: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.restrictedClass == nil, "\(text)")
        try EgressPolicy().check(address, host: "example.com")
    }

    /// Only canonical spellings parse as addresses; decimal, octal and short forms are names,
    /// which the client resolves before checking (getaddrinfo reads them as the IP they denote).
    @Test(arguments: ["2130706433", "0177.0.0.1", "0x7f.0.0.1", "127.1", "127.0.0.01", "1.2.3.256", ":::1", "1::2::3"])
    func nonCanonicalSpellingsAreNotAddresses(_ text: String) {
        #expect(IPAddress(text) == nil, "\(text)")
    }

    @Test func addressesPrintCanonically() throws {
        #expect(try #require(IPAddress("0:0:0:0:0:0:0:1")).description == "::1")
        #expect(try #require(IPAddress("[fd00::ec2:0:0:254]")).description == "fd00::ec2:0:0:254")
        #expect(try #require(IPAddress("10.1.2.3")).description == "10.1.2.3")
    }

    @Test func allowListAdmitsByBlockOrName() throws {
        let policy = try EgressPolicy(parsing: " 127.0.0.1 , 10.1.0.0/16,vault.internal, *.corp.example ,fd00::/8")
        try policy.check(#require(IPAddress("127.0.0.1")), host: "127.0.0.1")
        try policy.check(#require(IPAddress("::ffff:127.0.0.1")), host: "x")
        try policy.check(#require(IPAddress("10.1.200.3")), host: "x")
        try policy.check(#require(IPAddress("10.9.0.1")), host: "vault.internal")
        try policy.check(#require(IPAddress("192.168.0.9")), host: "db.corp.example")
        try policy.check(#require(IPAddress("fd12::1")), host: "x")
        #expect(throws: EgressRefusal.self) { try policy.check(#require(IPAddress("127.0.0.2")), host: "x") }
        #expect(throws: EgressRefusal.self) { try policy.check(#require(IPAddress("10.2.0.1")), host: "x") }
        #expect(throws: EgressRefusal.self) { try policy.check(#require(IPAddress("10.9.0.1")), host: "corp.example") }
    }

    @Test(arguments: ["10.0.0.0/33", "::/129", "not a host!", "1.2.3/8", "*.", "a..b"])
    func badAllowListsAreRefusedWithTheEntry(_ text: String) {
        #expect(throws: EgressPolicyError.self) { try EgressPolicy(parsing: text) }
    }

    @Test func refusalsNameTheHostAndTheRule() throws {
        let address = try #require(IPAddress("169.254.169.254"))
        do {
            try EgressPolicy().check(address, host: "metadata.example")
            Issue.record("not refused")
        } catch {
            #expect(error.description.contains("metadata.example"))
            #expect(error.description.contains("link-local"))
            #expect(error.description.contains("--egress-allow"))
        }
    }

    @Test func destinationsAreParsedAsAnHTTPClientReadsThem() throws {
        let plain = try #require(Destination("https://Vault.Example.com./v1/x?y#z"))
        #expect(plain.host == "vault.example.com" && plain.port == 443 && !plain.hasUserInfo)
        let v6 = try #require(Destination("http://[::1]:8200/x"))
        #expect(v6.host == "::1" && v6.port == 8200)
        #expect(try #require(Destination("http://user:pw@10.0.0.1/")).hasUserInfo)
        #expect(try #require(Destination("http://a@b@c/")).host == "c")
        #expect(Destination("gopher://x/") == nil)
        #expect(Destination("http:/x") == nil)
        #expect(Destination("http://x:0/") == nil)
        #expect(Destination("http://x y/") == nil)
        // Read differently by other parsers: a backslash anywhere, an escape in the authority.
        #expect(Destination("http://a.example.com\\@169.254.169.254/") == nil)
        #expect(Destination("https://a.example.com/x\\y") == nil)
        #expect(Destination("https://evil.test%00.example.com/") == nil)
        #expect(Destination("https://evil.test/%2e") != nil, "escapes in the path are the path's business")
        #expect(throws: EgressRefusal.self) { try EgressPolicy().checkURL("http://user@example.com/") }
    }
}
