import NIOHTTP1
import SwitchboardCore
import Testing

@testable import SwitchboardPassthrough

/// Where a passthrough call goes and what it carries: base URL templates, the caller's path, the
/// credential's placement, and which headers cross in each direction.
@Suite struct PassthroughTargetTests {
    typealias API = IntegrationDefinition.API

    static func auth(_ json: String) throws -> JSONValue {
        try ConnectionAuth(validating: try JSONParser.parse(Array(json.utf8))).parsed()
    }

    func target(
        _ api: API,
        auth json: String = #"{"access_token":"tok","meta":{"subdomain":"acme"}}"#,
        path: String = "v1/items",
        query: String? = nil
    ) throws -> PassthroughTarget {
        try PassthroughTarget(api: api, integrationType: "example", auth: try Self.auth(json), path: path, query: query)
    }

    @Test func theBaseURLIsFilledAndThePathAppended() throws {
        let api = API(baseURL: "https://{subdomain}.example.com/api/v2/", credential: .bearer(value: "{access_token}"))
        let t = try target(api, path: "/users/a%2Fb", query: "limit=5&ids=%5B1%5D")
        #expect(t.url == "https://acme.example.com/api/v2/users/a%2Fb?limit=5&ids=%5B1%5D")
        #expect(t.host == "acme.example.com")
        #expect(t.headers.map(\.name) == ["authorization"])
        #expect(t.headers.first?.value == "Bearer tok")
        #expect(!t.description.contains("tok"), "a target never prints its credential")
    }

    @Test func escapedSlashesAndParametersStayWhenTheyDoNotClimb() throws {
        let api = API(baseURL: "https://gitlab.example.com/api/v4", credential: .bearer(value: "{access_token}"))
        #expect(
            try target(api, path: "projects/group%2Fproject/issues;x=1").url
                == "https://gitlab.example.com/api/v4/projects/group%2Fproject/issues;x=1"
        )
    }

    @Test func charactersAQueryOrPathMayNotHoldAreEscapedAndEscapesKept() throws {
        let api = API(baseURL: "https://api.example.com", credential: .bearer(value: "{access_token}"))
        let t = try target(api, path: "v1/a|b{c}", query: "filter[name]=a%20b&q=x+y&ids=%5B1%5D")
        #expect(t.url == "https://api.example.com/v1/a%7Cb%7Bc%7D?filter%5Bname%5D=a%20b&q=x+y&ids=%5B1%5D")
        #expect(throws: PassthroughError.self) { try target(api, query: "a=%zz") }
    }

    @Test func leadingSlashesCollapse() throws {
        let api = API(baseURL: "https://api.example.com", credential: .bearer(value: "{access_token}"))
        #expect(try target(api, path: "//crm/v3/x").url == "https://api.example.com/crm/v3/x")
        #expect(try target(api, path: "").url == "https://api.example.com/")
    }

    @Test(arguments: [
        "../admin", "v1/../../x", "v1/%2e%2E/x", "./x", "v1/.", "a\\b", "a b", "caf\u{e9}", "v1/..%2f..%2fadmin",
        "..%2F", "%2e%2e%5cadmin", "v1/..;/admin", "v1/.%2e;x=1/y", "a%zz", "a%2", "a%00b",
    ])
    func unsafePathsAreRefused(path: String) throws {
        let api = API(baseURL: "https://api.example.com/v1", credential: .bearer(value: "{access_token}"))
        #expect(throws: PassthroughError.self) { try target(api, path: path) }
    }

    @Test func aPlaceholderInTheHostMustBeOneLabel() throws {
        let api = API(baseURL: "https://{subdomain}.example.com", credential: .bearer(value: "{access_token}"))
        for subdomain in ["evil.com/x", "a.b", "a@b", "-a"] {
            #expect(throws: PassthroughError.self) {
                try target(api, auth: #"{"access_token":"t","meta":{"other":"x"},"api_url":"\#(subdomain)"}"#)
            }
        }
        let byField = API(baseURL: "https://{api_url}.example.com", credential: .bearer(value: "{access_token}"))
        #expect(throws: PassthroughError.self) { try target(byField, auth: #"{"access_token":"t","api_url":"a.b"}"#) }
    }

    @Test func aPlaceholderInThePathIsPercentEncoded() throws {
        let api = API(
            baseURL: "https://api.example.com/company/{realm_id}",
            credential: .bearer(value: "{access_token}")
        )
        let t = try target(api, auth: #"{"access_token":"t","meta":{"realm_id":"1/../2?x"}}"#, path: "q")
        #expect(t.url == "https://api.example.com/company/1%2F..%2F2%3Fx/q")
    }

    @Test func aWholeURLPlaceholderMustNameAListedHost() throws {
        let api = API(
            baseURL: "{instance_url}/services",
            credential: .bearer(value: "{access_token}"),
            hosts: ["*.my.salesforce.com"]
        )
        let ok = try target(
            api,
            auth: #"{"access_token":"t","meta":{"instance_url":"https://acme.my.salesforce.com"}}"#
        )
        #expect(ok.url == "https://acme.my.salesforce.com/services/v1/items")
        let port = try target(
            api,
            auth: #"{"access_token":"t","meta":{"instance_url":"https://A.My.Salesforce.com:8443/"}}"#
        )
        #expect(port.url == "https://a.my.salesforce.com:8443/services/v1/items")
        for url in [
            "https://evil.test", "https://my.salesforce.com.evil.test", "https://a@acme.my.salesforce.com",
            "https://acme.my.salesforce.com?x=1", "ftp://acme.my.salesforce.com", "acme.my.salesforce.com",
            "https://acme.my.salesforce.com\\\\@169.254.169.254", "https://evil.test%00.my.salesforce.com",
            "http://acme.my.salesforce.com", "https://acme.my.salesforce.com/x%2f..", "https://10.0.0.1",
        ] {
            #expect(throws: PassthroughError.self, "\(url)") {
                try target(api, auth: #"{"access_token":"t","meta":{"instance_url":"\#(url)"}}"#)
            }
        }
    }

    @Test func aMissingValueNamesThePlaceholder() throws {
        let api = API(baseURL: "https://{subdomain}.example.com", credential: .bearer(value: "{key|token}"))
        #expect(
            throws: PassthroughError.missingValue(
                placeholder: "auth.subdomain",
                field: "api.base_url",
                integrationType: "example"
            )
        ) { try target(api, auth: #"{"key":"k"}"#) }
        let noKey = API(baseURL: "https://api.example.com", credential: .bearer(value: "{key|token}"))
        #expect(
            throws: PassthroughError.missingValue(
                placeholder: "auth.key or auth.token",
                field: "api.credential.value",
                integrationType: "example"
            )
        ) { try target(noKey, auth: #"{"access_token":"t"}"#) }
        // The first present alternative wins.
        #expect(try target(noKey, auth: #"{"token":"second"}"#).headers.first?.value == "Bearer second")
    }

    @Test func credentialPlacements() throws {
        let base = "https://api.example.com"
        let basic = try target(
            API(baseURL: base, credential: .basic(username: "{key}", password: "x")),
            auth: #"{"key":"k"}"#
        )
        #expect(basic.headers.first?.name == "authorization")
        #expect(basic.headers.first?.value == "Basic azp4")  // base64("k:x")
        let header = try target(
            API(baseURL: base, credential: .header(name: "X-Api-Key", value: "{key}")),
            auth: #"{"key":"k"}"#
        )
        #expect(header.headers.map(\.name) == ["X-Api-Key"])
        let query = try target(
            API(baseURL: base, credential: .query(name: "api_token", value: "{key}")),
            auth: #"{"key":"a b&c"}"#,
            query: "page=2&api_token=callers&api%5Ftoken=again"
        )
        #expect(query.url == "https://api.example.com/v1/items?page=2&api_token=a%20b%26c")
        #expect(query.headers.isEmpty)
    }

    @Test func aValueThatWouldBreakAHeaderIsRefused() throws {
        let api = API(baseURL: "https://api.example.com", credential: .header(name: "X-Key", value: "{key}"))
        #expect(throws: PassthroughError.self) { try target(api, auth: #"{"key":"a\r\nX-Injected: 1"}"#) }
    }

    @Test func fixedHeadersAreFilledToo() throws {
        let api = API(
            baseURL: "https://api.example.com",
            credential: .bearer(value: "{access_token}"),
            headers: ["Tenant": "{tenant_id}", "Api-Version": "2"]
        )
        let t = try target(api, auth: #"{"access_token":"t","meta":{"tenant_id":"T1"}}"#)
        #expect(t.headers.map(\.name) == ["authorization", "Api-Version", "Tenant"])
        #expect(t.headers.last?.value == "T1")
    }
}

@Suite struct PassthroughHeadersTests {
    @Test func callerHeadersAreFilteredAndTheCredentialWins() {
        let forwarded = PassthroughHeaders.forwarded(
            [
                ("Authorization", "sbk_key"), ("Cookie", "a=1"), ("Host", "switchboard"), ("Content-Length", "3"),
                ("Connection", "keep-alive, X-Hop"), ("X-Hop", "1"), ("Keep-Alive", "5"), ("TE", "trailers"),
                ("Transfer-Encoding", "chunked"), ("Upgrade", "h2c"), ("Proxy-Authorization", "p"),
                ("X-Switchboard-Debug", "1"), ("Expect", "100-continue"), ("X-Api-Key", "callers"),
                ("X-Custom", "1"), ("Accept", "application/json"), ("Content-Type", "application/xml"),
                ("X-Forwarded-For", "10.1.2.3"), ("Forwarded", "for=10.1.2.3"), ("X-Real-IP", "10.1.2.3"),
            ],
            setting: [("X-Api-Key", "connection's"), ("authorization", "Bearer t")]
        )
        #expect(forwarded["X-Custom"] == ["1"])
        #expect(forwarded["Accept"] == ["application/json"])
        #expect(forwarded["Content-Type"] == ["application/xml"])
        #expect(forwarded["X-Api-Key"] == ["connection's"])
        #expect(forwarded["Authorization"] == ["Bearer t"])
        for dropped in [
            "Cookie", "Host", "Content-Length", "Connection", "X-Hop", "Keep-Alive", "TE", "Transfer-Encoding",
            "Upgrade", "Proxy-Authorization", "X-Switchboard-Debug", "Expect", "X-Forwarded-For", "Forwarded",
            "X-Real-IP",
        ] {
            #expect(forwarded[dropped].isEmpty, "\(dropped) was forwarded")
        }
    }

    @Test func providerHeadersLoseHopByHopAndCORS() {
        let relayed = PassthroughHeaders.relayed(
            HTTPHeaders([
                ("Content-Type", "application/json"), ("Content-Length", "10"), ("Transfer-Encoding", "chunked"),
                ("Connection", "close, X-Internal"), ("X-Internal", "1"), ("Keep-Alive", "timeout=5"),
                ("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Credentials", "true"),
                ("X-RateLimit-Remaining", "42"), ("Set-Cookie", "s=1"), ("Location", "https://x"),
                ("X-Switchboard-Origin", "forged"), ("Proxy-Authenticate", "Basic"),
            ])
        )
        #expect(relayed.map(\.name) == ["Content-Type", "Content-Length", "X-RateLimit-Remaining", "Location"])
    }
}
