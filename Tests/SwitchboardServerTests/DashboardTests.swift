import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwitchboardCore
import SwitchboardDashboard
import Testing

@testable import SwitchboardServer

/// The dashboard and the hosted Connect page through the real application, on both backends:
/// sessions, their end, CSRF and same-origin refusals, the pages' headers and escaping, and a
/// Connect session from the API call to the connection it makes. (The browser suite,
/// e2e/dashboard, drives the same pages in Chromium.)
@Suite struct DashboardTests {
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    /// Signs in with `key` and returns the session cookie's value.
    static func signIn(_ api: TestAPI, key: String) async throws -> String {
        let response = try await api.send(
            .post,
            "/dashboard/sign-in",
            body: "api_key=" + URLEncoding.percentEncoded(key),
            key: .some(nil),
            headers: form
        )
        #expect(response.status == .seeOther)
        let cookie = try #require(response.headers[.setCookie])
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"))
        // The test server's public URL is http on loopback: no Secure there (it is set otherwise).
        #expect(!cookie.contains("Secure"))
        let value = cookie.split(separator: ";")[0].split(separator: "=", maxSplits: 1)[1]
        return String(value)
    }

    static func page(_ api: TestAPI, _ path: String, session: String) async throws -> TestResponse {
        try await api.send(.get, path, key: .some(nil), headers: [.cookie: "switchboard_session=\(session)"])
    }

    static func post(
        _ api: TestAPI,
        _ path: String,
        session: String?,
        body: String,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = form
        if let session { headers[.cookie] = "switchboard_session=\(session)" }
        for field in extra { headers[field.name] = field.value }
        return try await api.send(.post, path, body: body, key: .some(nil), headers: headers)
    }

    /// The CSRF token a signed-in page's forms carry.
    static func csrf(_ page: TestResponse) throws -> String {
        let text = page.text
        let marker = "name=\"csrf\" value=\""
        let start = try #require(text.range(of: marker)).upperBound
        return String(text[start...].prefix { $0 != "\"" })
    }

    @Test func aKeySignsInToASessionThatServesThePagesWithStrictHeaders() async throws {
        try await withApp { api in
            try await api.create(
                connectionBody(extra: #""external_xref":"<script>alert(1)</script>","auth":{"access_token":"at-1"}"#)
            )
            let session = try await Self.signIn(api, key: api.key)
            let page = try await Self.page(api, "/dashboard/connections", session: session)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let csp = try #require(page.headers[.contentSecurityPolicy])
            #expect(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"))
            #expect(!csp.contains("unsafe-inline") && !csp.contains("script-src"))
            #expect(page.headers[.xFrameOptions] == "DENY")
            #expect(page.headers[.referrerPolicy] == "no-referrer")
            #expect(page.headers[.cacheControl] == "no-store")
            // Stored text is shown as text, never as markup.
            #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(!page.text.contains("<script>alert(1)"))
            #expect(page.text.contains("id=\"chart-health\""))
            // No page opens credentials: a full-access session's views are no credential reads.
            var reads = AuditQuery(workspaceID: api.workspace)
            reads.action = .credentialsRead
            #expect(try await api.runtime.audit.records(reads, by: .cli(workspace: api.workspace)).isEmpty)
            // Every page needs a session: without one, the sign-in page.
            let anonymous = try await api.send(.get, "/dashboard/connections", key: .some(nil))
            #expect(anonymous.status == .seeOther)
            #expect(anonymous.headers[.location] == "/dashboard/sign-in")
            // Each page still needs its scope: a dashboard-only key sees none of the connections.
            let narrow = try await Self.signIn(api, key: try await api.makeKey(ScopeSet([.dashboard])))
            #expect(try await Self.page(api, "/dashboard/connections", session: narrow).status == .forbidden)
        }
    }

    @Test func wrongKeysAndKeysWithoutTheScopeAreRefused() async throws {
        try await withApp { api in
            let wrong = try await Self.post(
                api,
                "/dashboard/sign-in",
                session: nil,
                body: "api_key=sbk_0000000000000000_00"
            )
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text.contains("role=\"alert\""))
            #expect(wrong.headers[.setCookie] == nil)
            let reader = try await api.makeKey(ScopeSet([.connectionsRead]))
            let refused = try await Self.post(
                api,
                "/dashboard/sign-in",
                session: nil,
                body: "api_key=" + URLEncoding.percentEncoded(reader)
            )
            #expect(refused.status == .forbidden)
            #expect(refused.headers[.setCookie] == nil)
        }
    }

    @Test func formsNeedTheirCSRFTokenAndThisOrigin() async throws {
        try await withApp { api in
            let session = try await Self.signIn(api, key: api.key)
            let token = try Self.csrf(try await Self.page(api, "/dashboard/keys", session: session))
            let keysBefore = try await api.runtime.workspaces.listKeys(by: .cli(workspace: api.workspace)).count
            let missing = try await Self.post(api, "/dashboard/keys", session: session, body: "scopes=audit%3Aread")
            #expect(missing.status == .forbidden)
            let other = try await Self.signIn(api, key: api.key)
            let otherToken = try Self.csrf(try await Self.page(api, "/dashboard/keys", session: other))
            let foreign = try await Self.post(
                api,
                "/dashboard/keys",
                session: session,
                body: "scopes=audit%3Aread&csrf=\(otherToken)"
            )
            #expect(foreign.status == .forbidden)
            let crossSite = try await Self.post(
                api,
                "/dashboard/keys",
                session: session,
                body: "scopes=audit%3Aread&csrf=\(token)",
                headers: [.origin: "http://127.0.0.1:9999", .secFetchSite: "cross-site"]
            )
            #expect(crossSite.status == .forbidden)
            let otherOrigin = try await Self.post(
                api,
                "/dashboard/keys",
                session: session,
                body: "scopes=audit%3Aread&csrf=\(token)",
                headers: [.origin: "https://evil.example"]
            )
            #expect(otherOrigin.status == .forbidden)
            // Another port of this host shares the cookie: same-site is not same-origin.
            let sameSite = try await Self.post(
                api,
                "/dashboard/keys",
                session: session,
                body: "scopes=audit%3Aread&csrf=\(token)",
                headers: [.origin: "http://127.0.0.1:9999", .secFetchSite: "same-site"]
            )
            #expect(sameSite.status == .forbidden)
            #expect(try await api.runtime.workspaces.listKeys(by: .cli(workspace: api.workspace)).count == keysBefore)
            // What Chromium sends on this page's own form under Referrer-Policy: no-referrer.
            let created = try await Self.post(
                api,
                "/dashboard/keys",
                session: session,
                body: "scopes=audit%3Aread&csrf=\(token)",
                headers: [.origin: "null", .secFetchSite: "same-origin"]
            )
            #expect(created.status == .ok)
            #expect(created.text.contains("id=\"new-key\" class=\"secret\">sbk_"))
            let keys = try await api.runtime.workspaces.listKeys(by: .cli(workspace: api.workspace))
            #expect(keys.count == keysBefore + 1)
            // Audited with the session's key id.
            var query = AuditQuery(workspaceID: api.workspace)
            query.action = .apiKeyCreate
            let records = try await api.runtime.audit.records(query, by: .cli(workspace: api.workspace))
            #expect(records.first?.actor == APIKey.id(inKey: api.key))
        }
    }

    @Test func revokingTheKeyOrSigningOutEndsSessionsOnEveryRequest() async throws {
        try await withApp { api in
            let key = try await api.makeKey(.all)
            let session = try await Self.signIn(api, key: key)
            #expect(try await Self.page(api, "/dashboard/audit", session: session).status == .ok)
            _ = try await api.runtime.workspaces.revokeKey(try #require(APIKey.id(inKey: key)), by: nil)
            #expect(try await Self.page(api, "/dashboard/audit", session: session).status == .seeOther)

            let first = try await Self.signIn(api, key: api.key)
            let second = try await Self.signIn(api, key: api.key)
            let token = try Self.csrf(try await Self.page(api, "/dashboard/audit", session: first))
            let out = try await Self.post(api, "/dashboard/sign-out", session: first, body: "csrf=\(token)")
            #expect(out.status == .seeOther)
            #expect(try await Self.page(api, "/dashboard/audit", session: first).status == .seeOther)
            #expect(try await Self.page(api, "/dashboard/audit", session: second).status == .ok)
            let secondToken = try Self.csrf(try await Self.page(api, "/dashboard/audit", session: second))
            let third = try await Self.signIn(api, key: api.key)
            _ = try await Self.post(api, "/dashboard/sign-out-everywhere", session: second, body: "csrf=\(secondToken)")
            #expect(try await Self.page(api, "/dashboard/audit", session: second).status == .seeOther)
            #expect(try await Self.page(api, "/dashboard/audit", session: third).status == .seeOther)
        }
    }

    @Test func aSignInLinkWorksOnce() async throws {
        try await withApp { api in
            let (token, _) = try await api.runtime.dashboard.createSignInLink(workspace: api.workspace)
            let landing = try await api.send(.get, "/dashboard/link/\(token)", key: .some(nil))
            #expect(landing.status == .ok)
            #expect(landing.text.contains("id=\"link-sign-in\""))
            let used = try await Self.post(api, "/dashboard/link/\(token)", session: nil, body: "")
            #expect(used.status == .seeOther)
            let cookie = try #require(used.headers[.setCookie])
            let session = String(cookie.split(separator: ";")[0].split(separator: "=", maxSplits: 1)[1])
            #expect(try await Self.page(api, "/dashboard/keys", session: session).status == .ok)
            #expect(try await api.send(.get, "/dashboard/link/\(token)", key: .some(nil)).status == .gone)
            let again = try await Self.post(api, "/dashboard/link/\(token)", session: nil, body: "")
            #expect(again.status == .gone)
            #expect(again.headers[.setCookie] == nil)
            let unknown = try await Self.post(
                api,
                "/dashboard/link/\(String(repeating: "A", count: 43))",
                session: nil,
                body: ""
            )
            #expect(unknown.status == .gone)
        }
    }

    @Test func theConnectionsPageFiltersByIntegrationAndHealthAndPages() async throws {
        try await withApp { api in
            var ids: [String] = []
            for i in 0..<3 {
                let created = try await api.create(connectionBody(extra: #""external_xref":"hub-\#(i)""#))
                ids.append(try #require(created["id"] as? String))
            }
            try await api.create(
                connectionBody(type: "salesforce", extra: #""external_xref":"sf-1""#)
            )
            let broken = try await api.runtime.connections.get(
                ConnectionID(rawValue: ids[1]),
                by: .cli(workspace: api.workspace)
            )
            try await api.runtime.connections.recordProxyHealth(of: broken.connection, healthy: false, code: "401")
            let session = try await Self.signIn(api, key: api.key)
            let salesforce = try await Self.page(api, "/dashboard/connections?integration=salesforce", session: session)
            #expect(salesforce.text.contains("sf-1") && !salesforce.text.contains("hub-0"))
            let unhealthy = try await Self.page(
                api,
                "/dashboard/connections?health=unhealthy&env=&sort=",
                session: session
            )
            #expect(unhealthy.text.contains("data-connection-id=\"\(ids[1])\""))
            #expect(!unhealthy.text.contains("data-connection-id=\"\(ids[0])\""))
            let healthy = try await Self.page(api, "/dashboard/connections?health=healthy", session: session)
            #expect(!healthy.text.contains("data-connection-id=\"\(ids[1])\""))
            #expect(healthy.text.contains("data-connection-id=\"\(ids[2])\""))
            let bad = try await Self.page(api, "/dashboard/connections?health=sick", session: session)
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("health must be one of"))
            // Paged by the keyset cursor.
            let first = try await Self.page(api, "/dashboard/connections?limit=2", session: session)
            let next = try #require(first.text.range(of: "id=\"next-page\" href=\"")).upperBound
            let href = String(first.text[next...].prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
            #expect(href.contains("cursor="))
            let second = try await Self.page(api, href, session: session)
            #expect(second.status == .ok)
            #expect(second.text.contains("data-connection-id=\"\(ids[2])\""))
            #expect(!second.text.contains("data-connection-id=\"\(ids[0])\""))
            let detail = try await Self.page(api, "/dashboard/connections/\(ids[1])", session: session)
            #expect(detail.text.contains("unhealthy") && detail.text.contains("401"))
            #expect(try await Self.page(api, "/dashboard/connections/nope", session: session).status == .notFound)
        }
    }

    @Test func aConnectSessionMakesOneAPIKeyConnection() async throws {
        try await withApp { api in
            _ = try await api.send(
                .patch,
                "/switchboard/workspace",
                body: #"{"redirect_origins":["https://app.example"]}"#
            )
            for (body, fragment) in [
                (#"{}"#, "external_xref is required"),
                (#"{"external_xref":"u1","integrations":["nope"]}"#, "no integration of type"),
                (#"{"external_xref":"u1","categories":["nope"]}"#, "unknown category"),
                (#"{"external_xref":"u1","success_redirect":"https://evil.example/done"}"#, "success_redirect"),
            ] {
                let refused = try await api.send(.post, "/switchboard/connect-session", body: body)
                #expect(refused.status == .badRequest, "\(body)")
                #expect(refused.errorMessage.contains(fragment), "\(refused.errorMessage)")
            }
            let reader = try await api.makeKey(ScopeSet([.connectionsRead]))
            let noScope = try await api.send(
                .post,
                "/switchboard/connect-session",
                body: #"{"external_xref":"u1"}"#,
                key: .some(reader)
            )
            #expect(noScope.status == .forbidden)
            let created = try await api.send(
                .post,
                "/switchboard/connect-session",
                body:
                    #"{"external_xref":"user-42","integrations":["greenhouse","hubspot"],"success_redirect":"https://app.example/done"}"#
            )
            #expect(created.status == .created)
            let url = try #require(try created.jsonObject()["url"] as? String)
            #expect(url.hasPrefix("http://127.0.0.1:8080/connect/"))
            let path = String(url.dropFirst("http://127.0.0.1:8080".count))
            let page = try await api.send(.get, path, key: .some(nil))
            #expect(page.status == .ok)
            // greenhouse takes an API key; hubspot is OAuth and this workspace has not enabled it.
            #expect(page.text.contains("data-integration-type=\"greenhouse\""))
            #expect(!page.text.contains("data-integration-type=\"hubspot\""))
            #expect(
                try #require(page.headers[.contentSecurityPolicy]).contains("form-action 'self' https://app.example")
            )
            let empty = try await Self.post(api, path + "/api-key/greenhouse", session: nil, body: "api_key=")
            #expect(empty.status == .badRequest)
            #expect(empty.text.contains("api_key is required"))
            let done = try await Self.post(
                api,
                path + "/api-key/greenhouse",
                session: nil,
                body: "api_key=gh-secret-value"
            )
            #expect(done.status == .seeOther)
            let location = try #require(done.headers[.location])
            #expect(location.hasPrefix("https://app.example/done?id="))
            let id = String(location.dropFirst("https://app.example/done?id=".count))
            let connection = try await api.send(.get, "/unified/connection/\(id)")
            let object = try connection.jsonObject()
            #expect(object["external_xref"] as? String == "user-42")
            #expect(object["integration_type"] as? String == "greenhouse")
            #expect(
                ((object["auth"] as? [String: Any])?["meta"] as? [String: Any])?["api_key"] as? String
                    == "gh-secret-value"
            )
            // Single-use: the page and its form are gone now.
            #expect(try await api.send(.get, path, key: .some(nil)).status == .gone)
            let reused = try await Self.post(api, path + "/api-key/greenhouse", session: nil, body: "api_key=again")
            #expect(reused.status == .gone)
            #expect(
                try await api.send(.get, "/connect/\(String(repeating: "B", count: 43))", key: .some(nil)).status
                    == .notFound
            )
        }
    }
}
