import HTTPTypes
import Hummingbird
import SwitchboardCore

/// The authorization flow: the authorize URL (no API key, as in Unified: a front end calls it),
/// the provider's callback, and re-authorization tokens.
struct OAuthRoutes: Sendable {
    let authorization: AuthorizationService
    let bodyLimits: BodyLimits
    /// Anonymous authorize calls per client address and per workspace (each call stores a row).
    let limiter: RateLimiter

    static let authorizeParameterNames: Set<String> = [
        "success_redirect", "failure_redirect", "state", "external_xref", "scopes", "redirect", "env", "lang",
        "subdomain", "region", "connection_id", "reauth_token", "token",
    ]

    var routes: [Route] {
        [
            Route(
                method: .get,
                path: "/unified/integration/auth/{workspace_id}/{integration_type}",
                operationID: "getUnifiedIntegrationAuth",
                statuses: [200, 302, 400, 403, 404, 414, 429, 500, 503],
                requiresAPIKey: false,
                handler: authorize
            ),
            Route(
                method: .get,
                path: OAuthSettings.callbackPath,
                operationID: "completeOAuthAuthorization",
                statuses: [200, 302, 400, 414, 500, 503],
                requiresAPIKey: false,
                handler: callback
            ),
            Route(
                method: .post,
                path: "/switchboard/authorize-token",
                operationID: "createAuthorizeToken",
                statuses: Route.authenticatedStatuses.union([200, 400, 408, 413, 415]),
                requiresAPIKey: true,
                scope: .connectionsWrite,
                handler: createToken
            ),
            Route(
                method: .post,
                path: "/unified/connection/{id}/reauth",
                operationID: "createUnifiedConnectionReauth",
                statuses: Route.authenticatedStatuses.union([200, 404]),
                requiresAPIKey: true,
                handler: reauth
            ),
        ]
    }

    @Sendable func authorize(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let workspace = context.parameters.get("workspace_id") ?? ""
        for (key, subject) in [
            ("address " + (context.clientAddress ?? "unknown"), "this address"),
            ("workspace " + workspace, "this workspace"),
        ] {
            if let seconds = limiter.admit(key) {
                throw APIError(
                    status: .tooManyRequests,
                    code: "too_many_authorizations",
                    message: "too many authorizations started from \(subject); retry in \(seconds) s",
                    headers: [.retryAfter: String(seconds)]
                )
            }
        }
        let parameters = try QueryParameters(query: request.uri.query)
        var authorize = AuthorizationService.Request(
            workspaceID: context.parameters.get("workspace_id") ?? "",
            integrationType: context.parameters.get("integration_type") ?? ""
        )
        authorize.successRedirect = try parameters.single("success_redirect")
        authorize.failureRedirect = try parameters.single("failure_redirect")
        authorize.state = try parameters.single("state")
        authorize.externalXref = try parameters.single("external_xref")
        authorize.environment = try parameters.single("env")
        authorize.subdomain = try parameters.single("subdomain")
        authorize.connectionID = try parameters.single("connection_id")
        authorize.reauthToken = try parameters.single("reauth_token")
        authorize.token = try parameters.single("token")
        // `lang` and `region` are accepted for compatibility; providers here have one UI and one region.
        _ = try parameters.single("lang")
        _ = try parameters.single("region")
        // The SDK repeats `scopes`; a comma-separated list is accepted too.
        authorize.scopes = parameters.all("scopes").flatMap { $0.split(separator: ",").map(String.init) }
        guard authorize.scopes.count <= 500 else {
            throw APIError.invalidParameter("scopes names more than 500 permissions")
        }
        var redirect = false
        if let text = try parameters.single("redirect") {
            guard text == "true" || text == "false" else {
                throw APIError.invalidParameter("redirect must be true or false; got \"\(text.prefix(64))\"")
            }
            redirect = text == "true"
        }
        let url = try await authorization.authorizeURL(authorize)
        return redirect ? Self.redirect(to: url) : Self.text(.ok, url)
    }

    @Sendable func callback(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let parameters = try QueryParameters(query: request.uri.query)
        let result = try await authorization.complete(
            code: try parameters.single("code"),
            state: try parameters.single("state"),
            error: try parameters.single("error"),
            // Values a definition keeps from the callback (QuickBooks' realmId); one each.
            callbackParameters: parameters.values.compactMapValues { $0.count == 1 ? $0[0] : nil },
            clientAddress: context.clientAddress
        )
        switch result {
        case .redirect(let url): return Self.redirect(to: url)
        case .completed(let id):
            return Self.text(.ok, "Connected: connection \(id.rawValue) was authorized. You may close this window.")
        case .refused(let reason): return Self.text(.badRequest, "Authorization refused: \(reason)")
        }
    }

    /// `{"external_xref", "integration_type", "env"}`, each optional: what the token binds.
    @Sendable func createToken(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try JSONBody(try await request.jsonBody(bodyLimits))
        let (token, expiresAt) = try await authorization.createAuthorizeToken(
            externalXref: try body.optionalString("external_xref"),
            integrationType: try body.optionalString("integration_type"),
            environment: try body.optionalString("env"),
            by: principal
        )
        var w = JSONWriter(reservingCapacity: 128)
        w.beginObject()
        w.member("token", token)
        w.member("expires_at", expiresAt.rfc3339)
        w.endObject()
        var response = Response.json(w.bytes)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    @Sendable func reauth(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let id = ConnectionID(rawValue: context.parameters.get("id") ?? "")
        let (token, expiresAt) = try await authorization.createReauthToken(for: id, by: try context.requirePrincipal())
        var w = JSONWriter(reservingCapacity: 128)
        w.beginObject()
        w.member("reauth_token", token)
        w.member("expires_at", expiresAt.rfc3339)
        w.endObject()
        var response = Response.json(w.bytes)
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// Pages and redirects of the flow carry codes and states in URLs: never cached, never sent
    /// on as a referrer.
    private static let flowHeaders: HTTPFields = [
        .cacheControl: "no-store",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
    ]

    static func redirect(to url: String) -> Response {
        var headers = flowHeaders
        headers[.location] = url
        return Response(status: .found, headers: headers)
    }

    static func text(_ status: HTTPResponse.Status, _ body: String) -> Response {
        var headers = flowHeaders
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
