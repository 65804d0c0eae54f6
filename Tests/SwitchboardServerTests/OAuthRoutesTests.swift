import Foundation
import HTTPTypes
import HummingbirdTesting
import SwitchboardCore
import Testing

@testable import SwitchboardServer

/// The authorization flow's HTTP edge through the real application: enabling an integration,
/// the redirect allowlist, every refusal of the authorize URL and the callback, and
/// re-authorization tokens. (The full flow against a real OAuth provider is e2e/oauth.)
@Suite struct OAuthRoutesTests {
    static let app = "http://127.0.0.1:5555"

    /// Enables `mock` with a client and allows `app`'s origin.
    func enableMock(_ api: TestAPI) async throws {
        let enabled = try await api.send(
            .put,
            "/switchboard/integration/mock",
            body: #"{"client_id":"client-1","client_secret":"s3cret-value"}"#
        )
        #expect(enabled.status == .ok)
        #expect(!enabled.text.contains("s3cret-value"))
        let patched = try await api.send(
            .patch,
            "/switchboard/workspace",
            body: #"{"redirect_origins":["\#(Self.app)"]}"#
        )
        #expect(patched.status == .ok)
        #expect(try patched.jsonObject()["redirect_origins"] as? [String] == [Self.app])
    }

    func authURL(
        _ api: TestAPI,
        _ query: String,
        type: String = "mock",
        workspace: String? = nil
    ) async throws
        -> TestResponse
    {
        try await api.send(
            .get,
            "/unified/integration/auth/\(workspace ?? api.workspace.rawValue)/\(type)?\(query)",
            key: .some(nil)
        )
    }

    @Test func enablingNeedsTheScopeAKnownOAuthIntegrationAndNeverReturnsTheSecret() async throws {
        try await withApp { api in
            let reader = try await api.makeKey(ScopeSet([.connectionsRead]))
            let body = #"{"client_id":"c","client_secret":"s"}"#
            #expect(
                try await api.send(.put, "/switchboard/integration/mock", body: body, key: .some(reader)).status
                    == .forbidden
            )
            let unknown = try await api.send(.put, "/switchboard/integration/nope", body: body)
            #expect(unknown.status == .notFound)
            #expect(unknown.errorMessage.contains("nope"))
            #expect(try await api.send(.put, "/switchboard/integration/bamboohr", body: body).status == .conflict)
            let missing = try await api.send(.put, "/switchboard/integration/mock", body: #"{"client_id":"c"}"#)
            #expect(missing.status == .badRequest)
            #expect(missing.errorMessage.contains("client_secret"))
            try await enableMock(api)
            let listed = try await api.send(.get, "/switchboard/integration")
            #expect(try listed.jsonArray().map { $0["integration_type"] as? String } == ["mock"])
            #expect(!listed.text.contains("s3cret-value"))
            // The catalog marks it active for this workspace only.
            let catalog = try await api.send(.get, "/unified/integration?active=true")
            #expect(try catalog.jsonArray().map { $0["type"] as? String } == ["mock"])
            let other = try await api.send(.get, "/unified/integration?active=true", key: .some(api.otherKey))
            #expect(try other.jsonArray().isEmpty)
        }
    }

    @Test func theCatalogFiltersAndServesFrontEndsByWorkspaceID() async throws {
        try await withApp { api in
            let all = try await api.send(.get, "/unified/integration?limit=100")
            #expect(all.status == .ok)
            let types = try all.jsonArray().compactMap { $0["type"] as? String }
            #expect(types.count >= 12)
            #expect(types.contains("hubspot"))
            let hris = try await api.send(.get, "/unified/integration?categories=hris")
            #expect(try hris.jsonArray().allSatisfy { ($0["categories"] as? [String])?.contains("hris") == true })
            let one = try await api.send(.get, "/unified/integration?type=slack")
            #expect(try one.jsonArray().count == 1)
            #expect(try await api.send(.get, "/unified/integration?categories=nope").status == .badRequest)
            let front = try await api.send(
                .get,
                "/unified/integration/workspace/\(api.workspace.rawValue)",
                key: .some(nil)
            )
            #expect(front.status == .ok)
            #expect(try front.jsonArray().count == types.count)
            // An unknown workspace id reads as a workspace that enabled nothing: anonymous callers
            // do not learn which ids exist.
            let missing = try await api.send(.get, "/unified/integration/workspace/nope", key: .some(nil))
            #expect(missing.status == .ok)
            #expect(try missing.jsonArray().allSatisfy { $0["is_active"] as? Bool == false })
        }
    }

    @Test func redirectOriginsMustBeOrigins() async throws {
        try await withApp { api in
            for bad in ["http://example.com", "https://example.com/path", "ftp://x", "https://u:p@example.com", "nope"]
            {
                let response = try await api.send(
                    .patch,
                    "/switchboard/workspace",
                    body: #"{"redirect_origins":["\#(bad)"]}"#
                )
                #expect(response.status == .badRequest, "\(bad)")
                #expect(response.errorMessage.contains("redirect_origins[0]"))
            }
            let ok = try await api.send(
                .patch,
                "/switchboard/workspace",
                body: #"{"redirect_origins":["HTTPS://App.Example.com:443","http://localhost:3000"]}"#
            )
            #expect(
                try ok.jsonObject()["redirect_origins"] as? [String] == [
                    "https://app.example.com", "http://localhost:3000",
                ]
            )
        }
    }

    @Test func theAuthorizeURLCarriesClientPKCEAndMappedScopes() async throws {
        try await withApp { api in
            try await enableMock(api)
            let response = try await authURL(
                api,
                "success_redirect=\(Self.app)/done&state=abc&scopes=crm_contact_read&scopes=hris_employee_read&external_xref=u1"
            )
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let url = try #require(URLComponents(string: response.text))
            #expect(url.host == "127.0.0.1" && url.port == 31410 && url.path == "/oauth/authorize")
            let items = Dictionary(uniqueKeysWithValues: (url.queryItems ?? []).map { ($0.name, $0.value ?? "") })
            #expect(items["response_type"] == "code")
            #expect(items["client_id"] == "client-1")
            #expect(items["redirect_uri"] == "http://127.0.0.1:8080/switchboard/oauth/callback")
            #expect(items["scope"] == "openid offline_access contacts.read employees.read")
            #expect(items["code_challenge_method"] == "S256")
            #expect(items["code_challenge"]?.count == 43)
            // The caller's state stays on the server; the provider sees an opaque one.
            #expect(items["state"]?.count == 43 && items["state"] != "abc")

            let redirected = try await authURL(api, "redirect=true")
            #expect(redirected.status == .found)
            #expect(redirected.headers[.location]?.hasPrefix("http://127.0.0.1:31410/oauth/authorize?") == true)
        }
    }

    @Test func theAuthorizeURLRefusesWhatItCannotHonour() async throws {
        try await withApp { api in
            // An unknown workspace, an unknown integration and one not enabled read the same to an
            // anonymous caller.
            let unknownWorkspace = try await authURL(api, "", workspace: "nope")
            let unknownType = try await authURL(api, "", type: "nope")
            let disabled = try await authURL(api, "")
            for response in [unknownWorkspace, unknownType, disabled] {
                #expect(response.status == .notFound)
                #expect(response.errorMessage.contains("no OAuth integration"))
            }
            try await enableMock(api)
            let open = try await authURL(api, "success_redirect=https://evil.example.com/x")
            #expect(open.status == .badRequest)
            #expect(open.errorMessage.contains("https://evil.example.com"))
            let failure = try await authURL(api, "failure_redirect=javascript:alert(1)")
            #expect(failure.status == .badRequest)
            #expect(failure.errorMessage.contains("failure_redirect"))
            let permission = try await authURL(api, "scopes=accounting_invoice_read")
            #expect(permission.status == .badRequest)
            #expect(permission.errorMessage.contains("accounting_invoice_read"))
            #expect(try await authURL(api, "scopes=no_such_permission").status == .badRequest)
            #expect(try await authURL(api, "connection_id=x").status == .badRequest)
            #expect(try await authURL(api, "redirect=maybe").status == .badRequest)
            // An API-key integration has no authorization flow.
            #expect(try await authURL(api, "", type: "bamboohr").status == .notFound)
        }
    }

    @Test func theCallbackRefusesUnknownTamperedAndReplayedStates() async throws {
        try await withApp { api in
            try await enableMock(api)
            func callback(_ query: String) async throws -> TestResponse {
                try await api.send(.get, "/switchboard/oauth/callback?\(query)", key: .some(nil))
            }
            #expect(try await callback("code=x").status == .badRequest)
            let tampered = try await callback("code=x&state=\(String(repeating: "A", count: 43))")
            #expect(tampered.status == .badRequest)
            #expect(tampered.text.contains("unknown state"))

            let url = try await authURL(api, "failure_redirect=\(Self.app)/failed").text
            let state = try #require(URLComponents(string: url)?.queryItems?.first { $0.name == "state" }?.value)
            let denied = try await callback("error=access_denied&state=\(state)")
            #expect(denied.status == .found)
            #expect(denied.headers[.location] == "\(Self.app)/failed?error=access_denied")
            #expect(denied.headers[.cacheControl] == "no-store")
            let replayed = try await callback("code=x&state=\(state)")
            #expect(replayed.status == .badRequest)
            #expect(replayed.text.contains("already completed"))
            #expect(try await api.list().isEmpty)
        }
    }

    @Test func reauthTokensAreSingleUseAndBoundToTheirConnection() async throws {
        try await withApp { api in
            try await enableMock(api)
            let connection = try await api.create(
                #"{"integration_type":"mock","permissions":["crm_contact_read"],"categories":["crm"]}"#
            )
            let id = try #require(connection["id"] as? String)
            let reader = try await api.makeKey(ScopeSet([.connectionsRead]))
            #expect(
                try await api.send(.post, "/unified/connection/\(id)/reauth", key: .some(reader)).status == .forbidden
            )
            #expect(try await api.send(.post, "/unified/connection/nope/reauth").status == .notFound)
            let issued = try await api.send(.post, "/unified/connection/\(id)/reauth")
            #expect(issued.status == .ok)
            let token = try #require(try issued.jsonObject()["reauth_token"] as? String)
            #expect(Timestamp(rfc3339: try #require(try issued.jsonObject()["expires_at"] as? String)) != nil)

            // Another integration type, or another connection, cannot spend it.
            try await api.send(
                .put,
                "/switchboard/integration/hubspot",
                body: #"{"client_id":"c","client_secret":"s"}"#
            )
            #expect(
                try await authURL(api, "connection_id=\(id)&reauth_token=\(token)", type: "hubspot").status
                    == .badRequest
            )
            #expect(
                try await authURL(api, "connection_id=\(id)&reauth_token=\(String(repeating: "B", count: 43))").status
                    == .badRequest
            )
            #expect(try await authURL(api, "connection_id=\(id)&reauth_token=\(token)").status == .ok)
            let again = try await authURL(api, "connection_id=\(id)&reauth_token=\(token)")
            #expect(again.status == .badRequest)
            #expect(again.errorMessage.contains("already used"))
            // A key of another workspace sees no such connection.
            #expect(
                try await api.send(.post, "/unified/connection/\(id)/reauth", key: .some(api.otherKey)).status
                    == .notFound
            )
        }
    }
}
