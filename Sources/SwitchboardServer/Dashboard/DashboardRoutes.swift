import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardDashboard
import SwitchboardEvents

/// The operators' dashboard (`/dashboard/...`): server-rendered pages over the same services as
/// the API, acting as the signed-in session's principal, so each page and action needs the scope
/// its API route needs and is audited with the session's key id. Plain forms, no script.
struct DashboardRoutes: Sendable {
    let runtime: Runtime
    let pages: DashboardPages
    let web: WebPolicy
    /// Failed sign-ins, per client address: the same limiter as failed API keys.
    let limiter: RateLimiter

    static let cookieName = "switchboard_session"
    static let formLimits = BodyLimits(maximumSize: 64 * 1024)
    /// Rows per page of the lists.
    static let pageSize = 50

    var dashboard: DashboardService { runtime.dashboard }

    func register(on router: Router<AppRequestContext>) {
        let group = router.group("dashboard").add(middleware: HTMLErrorMiddleware(pages: pages))
        group.get { _, _ in Self.redirect("/dashboard/connections") }
        group.get("static/dashboard.css") { _, _ in
            Response(
                status: .ok,
                headers: [
                    .contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600",
                    .xContentTypeOptions: "nosniff",
                ],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: pages.stylesheet))
            )
        }
        group.get("sign-in") { request, context in
            if try await session(request, context) != nil { return Self.redirect("/dashboard/connections") }
            return web.page(pages.signIn(.init(signedIn: nil)))
        }
        group.post("sign-in", use: signIn)
        group.get("link/:token") { _, context in
            let token = context.parameters.get("token") ?? ""
            try await dashboard.checkSignInLink(token)
            return web.page(pages.linkSignIn(token: token, .init(signedIn: nil)))
        }
        group.post("link/:token", use: linkSignIn)
        group.post("sign-out") { request, context in try await signOut(request, context, everywhere: false) }
        group.post("sign-out-everywhere") { request, context in
            try await signOut(request, context, everywhere: true)
        }

        page(group, "connections", use: connections)
        page(group, "connections/:id", use: connection)
        page(group, "connections/:id/delete") { _, context, signedIn in
            let id = ConnectionID(rawValue: context.parameters.get("id") ?? "")
            let found = try await runtime.connections.get(id, by: signedIn.reader)
            return pages.confirmDelete(found.connection, signedIn.chrome(.connections))
        }
        action(group, "connections/:id/delete") { _, context, signedIn, _ in
            try await runtime.connections.delete(
                ConnectionID(rawValue: context.parameters.get("id") ?? ""),
                by: signedIn.principal
            )
            return Self.redirect("/dashboard/connections?notice=deleted")
        }
        action(group, "connections/:id/reauth") { _, context, signedIn, _ in
            let id = ConnectionID(rawValue: context.parameters.get("id") ?? "")
            let found = try await runtime.connections.get(id, by: signedIn.reader)
            let (token, expiresAt) = try await runtime.authorization.createReauthToken(for: id, by: signedIn.principal)
            let url = FormEncoding.appending(
                [("connection_id", id.rawValue), ("reauth_token", token), ("redirect", "true")],
                to: web.publicURL
                    + "/unified/integration/auth/\(signedIn.principal.workspaceID.rawValue)/\(found.connection.fields.integrationType)"
            )
            return web.page(pages.reauthLink(url, connection: id, expiresAt: expiresAt, signedIn.chrome(.connections)))
        }

        page(group, "integrations") { _, _, signedIn in
            let listings = try await runtime.integrations.list(.init(limit: 1000), by: signedIn.principal)
            let clients = try await runtime.integrations.workspaceIntegrations(by: signedIn.principal)
            let workspace = try await runtime.integrations.workspace(by: signedIn.principal)
            return pages.integrations(
                listings,
                clients: clients,
                redirectOrigins: workspace.redirectOrigins,
                signedIn.chrome(.integrations)
            )
        }
        page(group, "integrations/:type") { _, context, signedIn in
            try await integrationPage(context.parameters.get("type") ?? "", signedIn)
        }
        action(group, "integrations/:type") { _, context, signedIn, form in
            let type = context.parameters.get("type") ?? ""
            let existing = try await runtime.integrations.workspaceIntegrations(by: signedIn.principal)
                .first { $0.integrationType == type }
            // Write-only: an empty field keeps the stored secret.
            let secret = (try form.single("client_secret")).flatMap { $0.isEmpty && existing != nil ? nil : $0 }
            let scopes = (try form.single("scopes") ?? "").split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let baseURL = (try form.single("api_base_url") ?? "").trimmingCharacters(in: .whitespaces)
            _ = try await runtime.integrations.enable(
                type: type,
                clientID: (try form.single("client_id") ?? "").trimmingCharacters(in: .whitespaces),
                clientSecret: secret,
                isActive: true,
                extraScopes: scopes,
                apiBaseURL: baseURL.isEmpty ? nil : baseURL,
                by: signedIn.principal
            )
            return Self.redirect("/dashboard/integrations/\(type)?notice=saved")
        }
        action(group, "integrations/:type/disable") { _, context, signedIn, _ in
            let type = context.parameters.get("type") ?? ""
            try await runtime.integrations.disable(type: type, by: signedIn.principal)
            return Self.redirect("/dashboard/integrations/\(type)?notice=disabled")
        }
        action(group, "redirect-origins") { _, _, signedIn, form in
            let origins = (try form.single("redirect_origins") ?? "").split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            _ = try await runtime.integrations.setRedirectOrigins(origins, by: signedIn.principal)
            return Self.redirect("/dashboard/integrations?notice=saved")
        }

        page(group, "keys") { _, _, signedIn in
            pages.keys(
                try await runtime.workspaces.listKeys(by: signedIn.principal),
                holder: signedIn.principal.scopes,
                signedIn.chrome(.keys)
            )
        }
        action(group, "keys") { _, _, signedIn, form in
            let names = form.all("scopes")
            guard !names.isEmpty else {
                throw ServiceError.invalid(ValidationError(field: "scopes", message: "choose at least one scope"))
            }
            let scopes = try ScopeSet(parsing: names.joined(separator: ","))
            let (record, key) = try await runtime.workspaces.createKey(scopes: scopes, by: signedIn.principal)
            return web.page(
                pages.keys(
                    [],
                    holder: signedIn.principal.scopes,
                    created: (record.id, key),
                    signedIn.chrome(.keys)
                )
            )
        }
        action(group, "keys/:id/revoke") { _, context, signedIn, _ in
            _ = try await runtime.workspaces.revokeKey(context.parameters.get("id") ?? "", by: signedIn.principal)
            return Self.redirect("/dashboard/keys?notice=revoked")
        }

        page(group, "audit") { request, _, signedIn in
            let parameters = try QueryParameters(query: request.uri.query)
            var query = try AuditRoutes.query(Self.withoutEmpty(parameters), workspace: signedIn.principal.workspaceID)
            query.limit = Self.pageSize
            let records = try await runtime.audit.records(query, by: signedIn.principal)
            var next: String?
            if records.count == query.limit, let last = records.last?.sequence {
                var following = parameters
                following.values["before"] = [String(last)]
                next = "/dashboard/audit?" + following.encoded
            }
            return pages.audit(
                records,
                filters: parameters.values.compactMapValues(\.first),
                next: next,
                signedIn.chrome(.audit)
            )
        }
        page(group, "secrets-managers") { _, _, signedIn in
            pages.secretsManagers(
                try await runtime.secretsManagers.list(limit: 100, offset: 0, by: signedIn.principal),
                signedIn.chrome(.secretsManagers)
            )
        }
        page(group, "api-calls") { request, _, signedIn in
            let parameters = try QueryParameters(query: request.uri.query)
            var calls: [APICall] = []
            var query: APICallQuery? = nil
            if var parsed = try APICallRoutes.query(
                Self.withoutEmpty(parameters),
                workspace: signedIn.principal.workspaceID
            ) {
                parsed.limit = Self.pageSize
                calls = try await runtime.apiCalls.list(parsed, by: signedIn.principal)
                query = parsed
            }
            return pages.apiCalls(
                calls,
                filters: parameters.values.compactMapValues(\.first),
                next: Self.nextOffsetPage("/dashboard/api-calls", parameters, query?.offset ?? 0, count: calls.count),
                signedIn.chrome(.apiCalls)
            )
        }
        page(group, "events") { request, _, signedIn in
            let parameters = try QueryParameters(query: request.uri.query)
            var query = try EventRoutes.query(Self.withoutEmpty(parameters), workspace: signedIn.principal.workspaceID)
            query.limit = Self.pageSize
            let events = try await runtime.events.list(query, by: signedIn.principal)
            let webhook = try await runtime.events.webhook(by: signedIn.principal)
            return pages.events(
                events,
                webhook: webhook,
                filters: parameters.values.compactMapValues(\.first),
                next: Self.nextOffsetPage("/dashboard/events", parameters, query.offset, count: events.count),
                signedIn.chrome(.events)
            )
        }
        page(group, "events/:id") { _, context, signedIn in
            let id = context.parameters.get("id") ?? ""
            let event = try await runtime.events.get(id, by: signedIn.principal)
            let deliveries = try await runtime.events.deliveries(of: id, by: signedIn.principal)
            let webhook = try await runtime.events.webhook(by: signedIn.principal)
            return pages.event(event, deliveries: deliveries, canRedeliver: webhook != nil, signedIn.chrome(.events))
        }
        action(group, "events/:id/redeliver") { _, context, signedIn, _ in
            let id = context.parameters.get("id") ?? ""
            _ = try await runtime.events.redeliver(id, by: signedIn.principal)
            return Self.redirect("/dashboard/events/\(id)?notice=queued")
        }
        action(group, "event-webhook/resume") { _, _, signedIn, _ in
            _ = try await runtime.events.resume(by: signedIn.principal)
            return Self.redirect("/dashboard/events?notice=resumed")
        }
    }

    // MARK: - Sign-in

    @Sendable func signIn(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try web.checkSameOrigin(request)
        let form = try await Self.form(request)
        let address = context.clientAddress ?? "unknown"
        let lockedOut = limiter.retryAfter(address)
        do {
            let token = try await dashboard.signIn(
                apiKey: try form.single("api_key") ?? "",
                clientAddress: context.clientAddress
            )
            return web.signedIn(token: token)
        } catch ServiceError.unauthenticated {
            limiter.record(address)
            if let seconds = lockedOut {
                var response = web.page(
                    pages.signIn(
                        .init(
                            signedIn: nil,
                            error: "Too many failed sign-ins from this address; retry in \(seconds) s."
                        )
                    ),
                    status: .tooManyRequests
                )
                response.headers[.retryAfter] = String(seconds)
                return response
            }
            return web.page(
                pages.signIn(.init(signedIn: nil, error: "That API key is not valid.")),
                status: .unauthorized
            )
        } catch ServiceError.missingScope {
            return web.page(
                pages.signIn(
                    .init(
                        signedIn: nil,
                        error:
                            "This API key may not sign in to the dashboard: it needs the dashboard scope, or full access."
                    )
                ),
                status: .forbidden
            )
        }
    }

    @Sendable func linkSignIn(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try web.checkSameOrigin(request)
        let token = try await dashboard.signIn(
            link: context.parameters.get("token") ?? "",
            clientAddress: context.clientAddress
        )
        return web.signedIn(token: token)
    }

    func signOut(_ request: Request, _ context: AppRequestContext, everywhere: Bool) async throws -> Response {
        try web.checkSameOrigin(request)
        guard let signedIn = try await session(request, context) else { return Self.redirect("/dashboard/sign-in") }
        try checkCSRF(try await Self.form(request), signedIn)
        try await dashboard.signOut(signedIn, everywhere: everywhere)
        var response = Self.redirect("/dashboard/sign-in")
        response.headers[.setCookie] = web.cookie(Self.cookieName, value: "", maxAge: 0)
        return response
    }

    // MARK: - Pages

    @Sendable func connections(
        _ request: Request,
        _ context: AppRequestContext,
        _ signedIn: Visit
    ) async throws -> String {
        let principal = signedIn.principal
        var parameters = Self.withoutEmpty(try QueryParameters(query: request.uri.query))
        parameters.values["notice"] = nil
        var query = try ConnectionQuery(parameters: parameters, workspaceID: principal.workspaceID)
        if let text = try parameters.single("integration") { query.integrationType = text }
        if let text = try parameters.single("health") {
            guard let health = ConnectionQuery.Health(rawValue: text) else {
                throw APIError.invalidParameter(
                    "health must be one of healthy, unhealthy, paused; got \"\(text.prefix(64))\""
                )
            }
            query.health = health
        }
        if try parameters.single("limit") == nil { query.limit = Self.pageSize }
        let page = try await runtime.connections.list(query, by: signedIn.reader).map(\.connection)
        var next: String?
        if page.count == query.limit, let last = page.last {
            var following = parameters
            following.values["cursor"] = [
                ConnectionCursor(query: query, after: ConnectionQuery.Position(of: last, in: query.sort)).token
            ]
            following.values["offset"] = nil
            next = "/dashboard/connections?" + following.encoded
        }
        let environments = runtime.environments
        let overview = try await dashboard.overview(by: principal, environment: query.environment) {
            try await environments.list(by: principal)
        }
        return pages.connections(
            page,
            filters: .init(
                environment: query.environment,
                categories: query.categories.map(\.name),
                externalXref: query.externalXref ?? "",
                updatedGTE: try parameters.single("updated_gte") ?? "",
                sort: try parameters.single("sort") ?? "",
                order: try parameters.single("order") ?? "",
                integration: query.integrationType ?? "",
                health: query.health?.rawValue ?? ""
            ),
            environments: overview.environments,
            catalog: runtime.integrations.catalog,
            counts: overview.counts,
            next: next,
            signedIn.chrome(.connections)
        )
    }

    @Sendable func connection(
        _ request: Request,
        _ context: AppRequestContext,
        _ signedIn: Visit
    ) async throws -> String {
        let principal = signedIn.principal
        let id = ConnectionID(rawValue: context.parameters.get("id") ?? "")
        let found = try await runtime.connections.get(id, by: signedIn.reader)
        // The related records each need their own scope: a session without it sees that table empty.
        var auditQuery = AuditQuery(workspaceID: principal.workspaceID)
        auditQuery.connectionID = id
        auditQuery.limit = 20
        let audit =
            principal.scopes.contains(.auditRead) ? try await runtime.audit.records(auditQuery, by: principal) : []
        var callQuery = APICallQuery(workspaceID: principal.workspaceID)
        callQuery.connectionID = id
        callQuery.limit = 20
        let calls =
            principal.scopes.contains(.connectionsRead) ? try await runtime.apiCalls.list(callQuery, by: principal) : []
        var eventQuery = EventQuery(workspaceID: principal.workspaceID)
        eventQuery.connectionID = id
        eventQuery.limit = 20
        eventQuery.descending = true
        let events =
            principal.scopes.contains(.connectionsRead) ? try await runtime.events.list(eventQuery, by: principal) : []
        return pages.connection(
            found.connection,
            catalog: runtime.integrations.catalog,
            audit: audit,
            calls: calls,
            events: events,
            signedIn.chrome(.connections)
        )
    }

    func integrationPage(_ type: String, _ signedIn: Visit) async throws -> String {
        guard let definition = runtime.integrations.catalog.definition(type) else {
            throw ServiceError.integrationNotFound(type)
        }
        let client = try await runtime.integrations.workspaceIntegrations(by: signedIn.principal)
            .first { $0.integrationType == type }
        return pages.integration(definition, client: client, signedIn.chrome(.integrations))
    }

    // MARK: - Plumbing

    /// A signed-in GET page; without a session, a redirect to sign in.
    func page(
        _ group: RouterGroup<AppRequestContext>,
        _ path: RouterPath,
        use handler: @escaping @Sendable (Request, AppRequestContext, Visit) async throws -> String
    ) {
        group.get(path) { request, context in
            guard let signedIn = try await session(request, context) else { return Self.redirect("/dashboard/sign-in") }
            context.caller.set(workspace: signedIn.principal.workspaceID.rawValue, key: signedIn.principal.keyID)
            let notice = try QueryParameters(query: request.uri.query).values["notice"]?.first.map(Self.noticeText)
            return web.page(try await handler(request, context, Visit(signedIn: signedIn, notice: notice)))
        }
    }

    /// A signed-in POST action: same origin, the session's CSRF token, then the handler.
    func action(
        _ group: RouterGroup<AppRequestContext>,
        _ path: RouterPath,
        use handler: @escaping @Sendable (Request, AppRequestContext, Visit, QueryParameters) async throws -> Response
    ) {
        group.post(path) { request, context in
            try web.checkSameOrigin(request)
            guard let signedIn = try await session(request, context) else { return Self.redirect("/dashboard/sign-in") }
            context.caller.set(workspace: signedIn.principal.workspaceID.rawValue, key: signedIn.principal.keyID)
            let form = try await Self.form(request)
            try checkCSRF(form, signedIn)
            return try await handler(request, context, Visit(signedIn: signedIn, notice: nil), form)
        }
    }

    func session(_ request: Request, _ context: AppRequestContext) async throws -> SignedIn? {
        guard let token = Self.cookie(Self.cookieName, in: request.headers) else { return nil }
        return try await dashboard.session(token: token, clientAddress: context.clientAddress)
    }

    func checkCSRF(_ form: QueryParameters, _ signedIn: SignedIn) throws {
        guard dashboard.checkCSRF(try form.single("csrf"), for: signedIn) else {
            throw APIError(
                status: .forbidden,
                code: "csrf",
                message:
                    "this form is missing its CSRF token or carries another session's; reload the page and try again"
            )
        }
    }

    static func form(_ request: Request) async throws -> QueryParameters {
        let bytes = try await request.body(formLimits, mediaType: "application/x-www-form-urlencoded")
        return try QueryParameters(query: String(decoding: bytes, as: UTF8.self))
    }

    /// The value of one cookie, if the request sent it once.
    static func cookie(_ name: String, in headers: HTTPFields) -> String? {
        for header in headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name else { continue }
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// A form's empty fields mean "no filter", not an empty filter value.
    static func withoutEmpty(_ parameters: QueryParameters) -> QueryParameters {
        var copy = parameters
        copy.values = parameters.values.mapValues { $0.filter { !$0.isEmpty } }.filter { !$0.value.isEmpty }
        return copy
    }

    static func nextOffsetPage(_ path: String, _ parameters: QueryParameters, _ offset: Int, count: Int) -> String? {
        guard count == pageSize else { return nil }
        var following = withoutEmpty(parameters)
        following.values["offset"] = [String(offset + count)]
        following.values["notice"] = nil
        return path + "?" + following.encoded
    }

    static func noticeText(_ code: String) -> String {
        switch code {
        case "deleted": "The connection was deleted."
        case "revoked": "The key was revoked."
        case "saved": "Saved."
        case "disabled": "The integration was disabled."
        case "queued": "The event was queued for delivery again."
        case "resumed": "Deliveries resumed; held events are on their way."
        default: "Done."
        }
    }

    /// One signed-in request: its session and the notice a redirect asked the page to show.
    struct Visit: Sendable {
        let signedIn: SignedIn
        let notice: String?

        var principal: Principal { signedIn.principal }

        /// Who reads connections for a page: the session without `connections:credentials`. No
        /// page shows credentials, so none are opened, and no page view is audited as a
        /// credential read.
        var reader: Principal {
            var reader = signedIn.principal
            reader.scopes = ScopeSet(reader.scopes.scopes.subtracting([.connectionsCredentials]))
            return reader
        }

        func chrome(_ section: DashboardPages.Section) -> DashboardPages.Chrome {
            .init(signedIn: signedIn, section: section, notice: notice)
        }
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }
}
