import Foundation
import HTTPTypes
import HummingbirdTesting
import SwitchboardCore
import SwitchboardEgress
import Testing

@testable import SwitchboardServer

/// Regression tests for what a probe of the service as an attacker found (docs/security.md),
/// each run on SQLite and PostgreSQL. The hostile-input suite (e2e/robustness) covers the
/// wire-level ones: body framing, slow bodies, file descriptors, file modes.
@Suite struct SecurityHardeningTests {
    /// A manager's address is an outbound destination: internal ones are refused at registration
    /// in every spelling, naming the host and the rule, before anything is stored or sent.
    @Test func secretsManagerAddressesOutsideTheEgressPolicyAreRefused() async throws {
        try await withApp(egress: EgressPolicy()) { api in
            let refused: [(String, String)] = [
                ("http://127.0.0.1:8200", "loopback"), ("http://169.254.169.254", "link-local"),
                ("http://10.0.0.1:8200", "private"), ("http://[::1]:8200", "loopback"),
                ("http://[::ffff:169.254.169.254]", "link-local"), ("http://0:8200", "unspecified"),
                ("http://2130706433:8200", "loopback"), ("http://localhost:8200", "loopback"),
                ("http://100.64.0.1", "cgnat"),
            ]
            for (address, rule) in refused {
                let response = try await api.send(
                    .post,
                    "/unified/secretsmanager",
                    body: #"{"name":"v","type":"hashicorp","auth":{"address":"\#(address)","token":"t"}}"#
                )
                #expect(response.status == .badRequest, "\(address)")
                #expect(response.errorMessage.contains(rule), "\(address): \(response.errorMessage)")
                #expect(response.errorMessage.contains("--egress-allow"), "\(address)")
                let aws = try await api.send(
                    .post,
                    "/unified/secretsmanager",
                    body:
                        #"{"name":"a","type":"aws","auth":{"region":"us-east-1","access_key_id":"k","secret_access_key":"s","endpoint":"\#(address)"}}"#
                )
                #expect(aws.status == .badRequest, "\(address)")
                #expect(aws.errorMessage.contains(rule), "\(address): \(aws.errorMessage)")
            }
            // A query or fragment would turn every request path into a parameter; user information
            // hides the real host from a casual reader.
            for address in [
                "https://vault.example.com/v1/sys/raw?", "https://vault.example.com#", "https://u@vault.example.com",
            ] {
                let response = try await api.send(
                    .post,
                    "/unified/secretsmanager",
                    body: #"{"name":"v","type":"hashicorp","auth":{"address":"\#(address)","token":"t"}}"#
                )
                #expect(response.status == .badRequest, "\(address)")
            }
            #expect(try await api.send(.get, "/unified/secretsmanager").jsonArray().isEmpty)
        }
    }

    @Test func instantsPastTheYear9999AreRefusedNamingTheField() async throws {
        try await withApp { api in
            let response = try await api.send(
                .post,
                "/unified/connection",
                body: connectionBody(extra: #""auth":{"access_token":"a","expiry_date":"9999-12-31T23:59:59-23:59"}"#)
            )
            #expect(response.status == .badRequest)
            #expect(response.errorMessage.contains("auth.expiry_date"), "\(response.errorMessage)")
            let last = try await api.create(
                connectionBody(extra: #""auth":{"access_token":"a","expiry_date":"9999-12-31T23:59:59+01:00"}"#)
            )
            let id = try #require(last["id"] as? String)
            // What the server wrote it accepts back.
            let read = try await api.send(.get, "/unified/connection/\(id)")
            let put = try await api.send(.put, "/unified/connection/\(id)", body: read.text)
            #expect(put.status == .ok, "\(put.text)")
        }
    }

    @Test func aKeyRevokesOnlyKeysWhoseScopesItHoldsAndNeverTakesASecretInTheURL() async throws {
        try await withApp { api in
            let keysAdmin = try await api.makeKey(ScopeSet([.keysAdmin]))
            let reader = try await api.makeKey(ScopeSet([.connectionsRead]))
            let fullID = try #require(APIKey.id(inKey: api.key))
            let escalation = try await api.send(.delete, "/switchboard/apikey/\(fullID)", key: .some(keysAdmin))
            #expect(escalation.status == .forbidden, "\(escalation.text)")
            #expect(try await api.send(.get, "/unified/connection").status == .ok)

            // The whole key in a URL lands in access logs: refused, and never repeated back.
            let whole = try await api.send(.delete, "/switchboard/apikey/\(reader)")
            #expect(whole.status == .badRequest)
            #expect(!whole.text.contains(String(reader.suffix(64))))
            #expect(!whole.text.contains(String(reader.suffix(64).prefix(12))))
            let garbage = try await api.send(.delete, "/switchboard/apikey/sbk_not-a-key-\(reader.suffix(20))")
            #expect(garbage.status == .notFound)
            #expect(!garbage.text.contains(String(reader.suffix(20))))
            // A key holding connections:read is out of a keys:admin-only key's reach too; a key
            // within its scopes is not.
            let readerID = try #require(APIKey.id(inKey: reader))
            #expect(
                try await api.send(.delete, "/switchboard/apikey/\(readerID)", key: .some(keysAdmin)).status
                    == .forbidden
            )
            let peer = try #require(APIKey.id(inKey: try await api.makeKey(ScopeSet([.keysAdmin]))))
            #expect(try await api.send(.delete, "/switchboard/apikey/\(peer)", key: .some(keysAdmin)).status == .ok)
        }
    }

    /// A body route checks the scope before it reads the body: a read-only key's create is a 403,
    /// whatever it sent (e2e/robustness times it on a socket that never sends the body).
    @Test func aKeyWithoutTheScopeIsRefusedBeforeItsBodyIsRead() async throws {
        try await withApp { api in
            let reader = try await api.makeKey(ScopeSet([.connectionsRead]))
            let response = try await api.send(
                .post,
                "/unified/connection",
                body: String(repeating: "x", count: 900_000),
                key: .some(reader)
            )
            #expect(response.status == .forbidden)
            #expect(response.errorMessage.contains("connections:write"))
        }
    }

    /// NUL or any control character in an id or filter never reaches SQL (PostgreSQL text cannot
    /// hold NUL; SQLite bound it as a C string and matched the prefix).
    @Test func controlCharactersInIdsAndFiltersAre400sBeforeAnySQL() async throws {
        try await withApp { api in
            let created = try await api.create(connectionBody())
            let id = try #require(created["id"] as? String)
            for path in [
                "/unified/connection/%00", "/unified/connection/\(id)%00", "/unified/connection/\(id)%0A",
                "/switchboard/audit?connection_id=%00", "/switchboard/audit?actor=a%00",
                "/unified/connection?external_xref=a%00", "/unified/connection?env=%00",
            ] {
                for method in [HTTPRequest.Method.get, .patch, .delete]
                where method == .get || path.hasPrefix("/unified/connection/") {
                    let response = try await api.send(method, path, body: method == .patch ? "{}" : nil)
                    #expect(response.status == .badRequest, "\(method) \(path): \(response.status)")
                    #expect(
                        response.errorMessage.contains("control character") || response.errorMessage.contains("NUL"),
                        "\(path)"
                    )
                }
            }
            let anonymous = try await api.send(
                .get,
                "/unified/integration/auth/\(api.workspace.rawValue)/hubspot?connection_id=%00&reauth_token=\(String(repeating: "A", count: 43))",
                key: .some(nil)
            )
            #expect(anonymous.status == .badRequest)
            #expect(try await api.send(.get, "/unified/connection/\(id)").status == .ok)
        }
    }

    /// Only failing attempts are throttled: a valid key from a locked-out address still works,
    /// so bad keys from a shared address (a proxy, a NAT) cannot deny the API to everyone behind it.
    @Test func aValidKeyIsNeverRefusedByTheLockout() async throws {
        try await withApp { api in
            let wrong = "sbk_0000000000000000_" + String(repeating: "0", count: 64)
            for _ in 0...ServerConfiguration.defaultAuthenticationFailureLimit {
                _ = try await api.send(.get, "/unified/connection", key: .some(wrong))
            }
            #expect(try await api.send(.get, "/unified/connection", key: .some(wrong)).status == .tooManyRequests)
            #expect(try await api.send(.get, "/unified/connection", key: .some(nil)).status == .tooManyRequests)
            #expect(try await api.send(.get, "/unified/connection").status == .ok)
            #expect(try await api.send(.post, "/unified/connection", body: connectionBody()).status == .ok)
        }
    }

    @Test func trustedProxiesNameTheClientAndOthersCannot() throws {
        let proxies = try TrustedProxies(parsing: "10.0.0.0/8, 127.0.0.1")
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: ["203.0.113.7, 10.9.9.9"]) == "203.0.113.7")
        #expect(proxies.clientAddress(peer: "127.0.0.1", forwardedFor: ["1.1.1.1", "203.0.113.8"]) == "203.0.113.8")
        // A client cannot choose its address by prepending to the header a proxy appends to.
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: ["6.6.6.6, 203.0.113.9"]) == "203.0.113.9")
        #expect(proxies.clientAddress(peer: "198.51.100.1", forwardedFor: ["203.0.113.7"]) == "198.51.100.1")
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: ["garbage"]) == "10.1.2.3")
        #expect(TrustedProxies().clientAddress(peer: "10.1.2.3", forwardedFor: ["203.0.113.7"]) == "10.1.2.3")
        #expect(throws: TrustedProxiesError.self) { try TrustedProxies(parsing: "10.0.0.0/40") }
    }

    /// Redirect URLs are printable ASCII only, and their origin is checked again when the
    /// provider sends the browser back: an origin removed meanwhile gets neither the browser nor
    /// the connection id.
    @Test func redirectsWithRawControlOrSpaceCharactersAndRemovedOriginsAreRefused() async throws {
        let oauth = OAuthRoutesTests()
        try await withApp { api in
            try await oauth.enableMock(api)
            for bad in ["%0D%0ASet-Cookie:x", "%20x", "%E2%80%A8x", "%5C@evil.example"] {
                let response = try await oauth.authURL(api, "success_redirect=\(OAuthRoutesTests.app)/ok\(bad)")
                #expect(response.status == .badRequest, "\(bad): \(response.text)")
            }
            for bad in [
                #"https://app.example.com\r\n"#, #"https://app.example.com\u2028"#, "https://app.example.com x",
            ] {
                let response = try await api.send(
                    .patch,
                    "/switchboard/workspace",
                    body: #"{"redirect_origins":["\#(bad)"]}"#
                )
                #expect(response.status == .badRequest, "\(bad)")
            }
            let url = try await oauth.authURL(api, "success_redirect=\(OAuthRoutesTests.app)/ok").text
            let state = try #require(URLComponents(string: url)?.queryItems?.first { $0.name == "state" }?.value)
            let removed = try await api.send(
                .patch,
                "/switchboard/workspace",
                body: #"{"redirect_origins":["https://other.example.com"]}"#
            )
            #expect(removed.status == .ok)
            let callback = try await api.send(
                .get,
                "/switchboard/oauth/callback?code=x&state=\(state)",
                key: .some(nil)
            )
            #expect(callback.status == .badRequest)
            #expect(callback.headers[.location] == nil)
            #expect(callback.text.contains("redirect_origins"))
        }
    }

    /// Changing `integration_type` would send the stored refresh token (and the other
    /// integration's client secret) to the other integration's token endpoint: refused while
    /// credentials are held, unless `auth` is replaced in the same request. A subdomain that picks
    /// a token host must be a plain DNS label.
    @Test func theIntegrationTypeCannotMoveStoredCredentialsAndSubdomainsAreLabels() async throws {
        try await withApp { api in
            let held = try await api.create(connectionBody(extra: #""auth":{"access_token":"a","refresh_token":"r"}"#))
            let id = try #require(held["id"] as? String)
            let moved = try await api.send(
                .patch,
                "/unified/connection/\(id)",
                body: #"{"integration_type":"zendesk"}"#
            )
            #expect(moved.status == .conflict, "\(moved.text)")
            #expect(moved.errorMessage.contains("integration_type"))
            let replaced = try await api.send(
                .patch,
                "/unified/connection/\(id)",
                body: #"{"integration_type":"zendesk","auth":{"access_token":"z","meta":{"subdomain":"acme"}}}"#
            )
            #expect(replaced.status == .ok, "\(replaced.text)")
            let bare = try #require(try await api.create(connectionBody())["id"] as? String)
            let retyped = try await api.send(
                .patch,
                "/unified/connection/\(bare)",
                body: #"{"integration_type":"salesforce"}"#
            )
            #expect(retyped.status == .ok)
            for subdomain in ["evil.com/x", "a.b", "-a", "", String(repeating: "a", count: 64)] {
                let response = try await api.send(
                    .post,
                    "/unified/connection",
                    body: connectionBody(extra: #""auth":{"access_token":"a","meta":{"subdomain":"\#(subdomain)"}}"#)
                )
                #expect(response.status == .badRequest, "\(subdomain)")
                #expect(response.errorMessage.contains("auth.meta.subdomain"))
            }
        }
    }

    /// A workspace can require a single-use token minted by its backend on the anonymous
    /// authorize URL, so knowing the workspace id no longer lets anyone plant a connection.
    @Test func theAuthorizeURLCanRequireATokenMintedByTheBackend() async throws {
        let oauth = OAuthRoutesTests()
        try await withApp { api in
            try await oauth.enableMock(api)
            #expect(try await oauth.authURL(api, "external_xref=anyone").status == .ok)
            let required = try await api.send(
                .patch,
                "/switchboard/workspace",
                body: #"{"authorize_requires_token":true}"#
            )
            #expect(try required.jsonObject()["authorize_requires_token"] as? Bool == true)
            #expect(try required.jsonObject()["redirect_origins"] as? [String] == [OAuthRoutesTests.app])
            let open = try await oauth.authURL(api, "external_xref=anyone")
            #expect(open.status == .forbidden && open.errorMessage.contains("requires a token"))

            func mint(_ body: String, key: String? = nil) async throws -> TestResponse {
                try await api.send(.post, "/switchboard/authorize-token", body: body, key: .some(key ?? api.key))
            }
            let reader = try await api.makeKey(ScopeSet([.connectionsRead]))
            #expect(try await mint(#"{"external_xref":"user-7"}"#, key: reader).status == .forbidden)
            #expect(try await mint(#"{"integration_type":"bamboohr"}"#).status == .badRequest)
            let minted = try await mint(#"{"external_xref":"user-7","integration_type":"mock"}"#)
            #expect(minted.status == .ok && minted.headers[.cacheControl] == "no-store")
            let token = try #require(try minted.jsonObject()["token"] as? String)
            #expect(try await oauth.authURL(api, "token=\(token)").status == .ok)
            let reused = try await oauth.authURL(api, "token=\(token)")
            #expect(reused.status == .forbidden && reused.errorMessage.contains("already used"))

            // A token is bound to its external_xref and integration.
            for query in ["external_xref=someone-else", ""] {
                let other = try #require(
                    try await mint(#"{"external_xref":"user-8","integration_type":"hubspot"}"#).jsonObject()["token"]
                        as? String
                )
                let refused = try await oauth.authURL(api, "token=\(other)" + (query.isEmpty ? "" : "&" + query))
                #expect(refused.status == .forbidden, "\(refused.status)")
            }
            let mismatched = try #require(
                try await mint(#"{"external_xref":"user-9"}"#).jsonObject()["token"] as? String
            )
            #expect(try await oauth.authURL(api, "token=\(mismatched)&external_xref=someone-else").status == .forbidden)
            // Another workspace's token opens nothing here.
            let foreign = try #require(
                try await api.send(
                    .post,
                    "/switchboard/authorize-token",
                    body: #"{"external_xref":"user-7"}"#,
                    key: .some(api.otherKey)
                ).jsonObject()["token"] as? String
            )
            #expect(try await oauth.authURL(api, "token=\(foreign)").status == .forbidden)
            let actions = try await api.send(.get, "/switchboard/audit?limit=100").jsonArray().compactMap {
                $0["action"] as? String
            }
            #expect(actions.contains("authorize_token.create"))
            #expect(actions.contains("workspace.authorize_requires_token.update"))
        }
    }
}
