import HTTPTypes
import Hummingbird
import SwitchboardCore
import SwitchboardEvents

/// `/unified/integration`: the catalog, for a workspace's API key or, by workspace id alone, for
/// a front end (as in Unified). `/switchboard/integration` and `/switchboard/workspace`: the
/// workspace's OAuth clients, redirect allowlist and event webhook (scope `integrations:admin`).
struct IntegrationRoutes: Sendable {
    let integrations: IntegrationService
    let events: EventService
    let bodyLimits: BodyLimits

    static let parameterNames: Set<String> = [
        "active", "categories", "env", "limit", "offset", "summary", "type", "updated_gte",
    ]

    var routes: [Route] {
        let common = Route.authenticatedStatuses
        return [
            Route(
                method: .get,
                path: "/unified/integration",
                operationID: "listUnifiedIntegrations",
                statuses: common.union([200, 400]),
                requiresAPIKey: true,
                handler: list
            ),
            Route(
                method: .get,
                path: "/unified/integration/workspace/{workspace_id}",
                operationID: "listUnifiedIntegrationWorkspaces",
                statuses: [200, 400, 414, 500, 503],
                requiresAPIKey: false,
                handler: listForWorkspace
            ),
            Route(
                method: .get,
                path: "/switchboard/integration",
                operationID: "listWorkspaceIntegrations",
                statuses: common.union([200]),
                requiresAPIKey: true,
                handler: listEnabled
            ),
            Route(
                method: .put,
                path: "/switchboard/integration/{integration_type}",
                operationID: "enableWorkspaceIntegration",
                statuses: common.union([200, 400, 404, 408, 409, 413, 415]),
                requiresAPIKey: true,
                scope: .integrationsAdmin,
                handler: enable
            ),
            Route(
                method: .delete,
                path: "/switchboard/integration/{integration_type}",
                operationID: "disableWorkspaceIntegration",
                statuses: common.union([200, 404]),
                requiresAPIKey: true,
                handler: disable
            ),
            Route(
                method: .get,
                path: "/switchboard/workspace",
                operationID: "getWorkspace",
                statuses: common.union([200]),
                requiresAPIKey: true,
                handler: workspace
            ),
            Route(
                method: .patch,
                path: "/switchboard/workspace",
                operationID: "patchWorkspace",
                statuses: common.union([200, 400, 408, 409, 413, 415]),
                requiresAPIKey: true,
                scope: .integrationsAdmin,
                handler: patchWorkspace
            ),
        ]
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let query = try Self.query(request.uri.query, allowType: true)
        return Self.respond(try await integrations.list(query, by: try context.requirePrincipal()))
    }

    @Sendable func listForWorkspace(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let query = try Self.query(request.uri.query, allowType: false)
        let workspaceID = context.parameters.get("workspace_id") ?? ""
        return Self.respond(try await integrations.list(query, workspaceID: workspaceID))
    }

    @Sendable func listEnabled(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let enabled = try await integrations.workspaceIntegrations(by: try context.requirePrincipal())
        var writer = JSONWriter(reservingCapacity: 64 + enabled.count * 200)
        writer.beginArray()
        for integration in enabled { Self.write(integration, to: &writer) }
        writer.endArray()
        return .json(writer.bytes)
    }

    @Sendable func enable(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try JSONBody(try await request.jsonBody(bodyLimits))
        let type = context.parameters.get("integration_type") ?? ""
        let integration = try await integrations.enable(
            type: type,
            clientID: try body.string("client_id"),
            clientSecret: try body.string("client_secret"),
            isActive: try body.bool("is_active") ?? true,
            extraScopes: try body.strings("extra_scopes") ?? [],
            apiBaseURL: try body.optionalString("api_base_url"),
            by: principal
        )
        var writer = JSONWriter(reservingCapacity: 256)
        Self.write(integration, to: &writer)
        return .json(writer.bytes)
    }

    @Sendable func disable(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let type = context.parameters.get("integration_type") ?? ""
        try await integrations.disable(type: type, by: try context.requirePrincipal())
        return Response(status: .ok)
    }

    @Sendable func workspace(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let workspace = try await integrations.workspace(by: principal)
        // The webhook's URL and secret are settings of `integrations:admin` keys only.
        guard principal.scopes.contains(.integrationsAdmin) else { return Self.respond(workspace, webhook: nil) }
        return Self.respond(workspace, webhook: try await events.webhook(by: principal))
    }

    @Sendable func patchWorkspace(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let body = try JSONBody(try await request.jsonBody(bodyLimits))
        for name in ["redirect_origins", "authorize_requires_token"] where body[name] == .null {
            throw APIError.invalidBody("\(name) may be left out but not null")
        }
        let origins = try body.strings("redirect_origins")
        let requiresToken = try body.bool("authorize_requires_token")
        let url: EventService.Change<String> =
            switch body["event_webhook_url"] {
            case nil: .keep
            case .null?: .remove
            case .string(let text)?: .set(text)
            case let other?:
                throw APIError.invalidBody("event_webhook_url must be a string or null, got \(other.typeName)")
            }
        var types: EventService.Change<[EventType]> = .keep
        if body["event_webhook_events"] == .null {
            types = .remove
        } else if let names = try body.strings("event_webhook_events", maximumCount: EventType.allCases.count) {
            do { types = .set(try EventType.parseList(names, field: "event_webhook_events")) } catch {
                throw APIError.invalidBody(error.message)
            }
        }
        let changesWebhook: Bool =
            switch (url, types) {
            case (.keep, .keep): false
            default: true
            }
        guard origins != nil || requiresToken != nil || changesWebhook else {
            throw APIError.invalidBody(
                "send redirect_origins (an array of origins such as https://app.example.com), authorize_requires_token (a boolean), event_webhook_url (a URL, or null to remove the webhook), event_webhook_events (an array of event names, or null for all), or several"
            )
        }
        var workspace = try await integrations.workspace(by: principal)
        var webhook: EventService.WebhookSettings?
        if changesWebhook {
            webhook = try await events.configure(url: url, types: types, by: principal)
        } else {
            webhook = try await events.webhook(by: principal)
        }
        if let origins { workspace = try await integrations.setRedirectOrigins(origins, by: principal) }
        if let requiresToken {
            workspace = try await integrations.setAuthorizeRequiresToken(requiresToken, by: principal)
        }
        return Self.respond(workspace, webhook: webhook)
    }

    // MARK: - Query and body

    static func query(_ text: String?, allowType: Bool) throws(APIError) -> IntegrationService.ListQuery {
        let parameters = try QueryParameters(query: text)
        var query = IntegrationService.ListQuery()
        for name in ["active", "summary"] {
            if let value = try parameters.single(name), value != "true", value != "false" {
                throw .invalidParameter("\(name) must be true or false; got \"\(value.prefix(64))\"")
            }
        }
        if let active = try parameters.single("active") { query.active = active == "true" }
        if let text = try parameters.single("limit") {
            query.limit = try ConnectionQuery.wholeNumber(text, name: "limit", range: 1...100)
        }
        if let text = try parameters.single("offset") {
            query.offset = try ConnectionQuery.wholeNumber(text, name: "offset", range: 0...1_000_000)
        }
        if allowType, let type = try parameters.single("type") {
            guard type.unicodeScalars.count <= Limits.shortLabelLength else {
                throw .invalidParameter("type must be at most \(Limits.shortLabelLength) characters")
            }
            query.type = type
        }
        if let text = try parameters.single("updated_gte") {
            guard Timestamp(rfc3339: text) != nil || Self.isDate(text) else {
                throw .invalidParameter("updated_gte must be a date (YYYY-MM-DD) or an RFC 3339 date-time")
            }
            query.updatedGTE = text
        }
        if let env = try parameters.single("env"), env.isEmpty || env.unicodeScalars.count > Limits.shortLabelLength {
            throw .invalidParameter("env must be 1 to \(Limits.shortLabelLength) characters")
        }
        for value in parameters.all("categories") {
            for name in value.split(separator: ",", omittingEmptySubsequences: false) {
                guard let category = Category(String(name)) else {
                    throw .invalidParameter("categories has an unknown category \"\(name.prefix(64))\"")
                }
                if !query.categories.contains(category) { query.categories.append(category) }
            }
        }
        return query
    }

    static func isDate(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == 0x2D, bytes[7] == 0x2D else { return false }
        return Timestamp(rfc3339: text + "T00:00:00Z") != nil
    }

    // MARK: - Writing

    static func respond(_ listings: [IntegrationService.Listing]) -> Response {
        var writer = JSONWriter(reservingCapacity: 64 + listings.count * 512)
        writer.beginArray()
        for listing in listings { write(listing, to: &writer) }
        writer.endArray()
        return .json(writer.bytes)
    }

    /// The Unified `Integration` object, plus Switchboard's `auth_type` and `permissions`.
    static func write(_ listing: IntegrationService.Listing, to w: inout JSONWriter) {
        let d = listing.definition
        w.beginObject()
        w.member("type", d.type)
        w.member("name", d.name)
        w.key("categories")
        w.stringArray(d.categories.map(\.name))
        w.member("description", ifPresent: d.description)
        w.member("web_url", ifPresent: d.webURL)
        w.member("api_docs_url", ifPresent: d.apiDocsURL)
        w.member("logo_url", ifPresent: d.logoURL)
        w.member("color", ifPresent: d.color)
        w.member("text_color", ifPresent: d.textColor)
        w.member("updated_at", ifPresent: d.updatedAt)
        w.key("is_active")
        w.bool(listing.isActive)
        w.key("is_hidden")
        w.bool(d.isHidden)
        w.key("beta")
        w.bool(d.beta)
        if !d.tokenNames.isEmpty {
            w.key("token_names")
            w.stringArray(d.tokenNames)
        }
        w.member("auth_type", d.authKind.rawValue)
        w.key("permissions")
        w.stringArray(d.supportedPermissions)
        w.endObject()
    }

    static func write(_ integration: WorkspaceIntegration, to w: inout JSONWriter) {
        w.beginObject()
        w.member("integration_type", integration.integrationType)
        w.member("client_id", integration.clientID)
        w.key("is_active")
        w.bool(integration.isActive)
        w.key("extra_scopes")
        w.stringArray(integration.extraScopes)
        w.member("api_base_url", ifPresent: integration.apiBaseURL)
        w.member("created_at", integration.createdAt.rfc3339)
        w.member("updated_at", integration.updatedAt.rfc3339)
        w.endObject()
    }

    /// The workspace; with its event webhook's settings when the caller may see them.
    static func respond(_ workspace: Workspace, webhook: EventService.WebhookSettings?) -> Response {
        var w = JSONWriter(reservingCapacity: 512)
        w.beginObject()
        w.member("id", workspace.id.rawValue)
        w.member("name", workspace.name)
        w.member("created_at", workspace.createdAt.rfc3339)
        w.key("redirect_origins")
        w.stringArray(workspace.redirectOrigins)
        w.key("authorize_requires_token")
        w.bool(workspace.authorizeRequiresToken)
        if let webhook { write(webhook, to: &w) }
        w.endObject()
        return .json(w.bytes)
    }

    /// The event webhook's settings alone (rotate-secret, resume).
    static func respond(webhook: EventService.WebhookSettings) -> Response {
        var w = JSONWriter(reservingCapacity: 384)
        w.beginObject()
        write(webhook, to: &w)
        w.endObject()
        return .json(w.bytes)
    }

    /// The `event_webhook_*` members (Unified's workspace field names, then Switchboard's).
    static func write(_ webhook: EventService.WebhookSettings, to w: inout JSONWriter) {
        w.member("event_webhook_url", webhook.url)
        // null: every type, as set (no list, or null).
        w.key("event_webhook_events")
        if webhook.types.isEmpty { w.null() } else { w.stringArray(webhook.types.map(\.rawValue)) }
        w.member("event_webhook_secret", webhook.secret)
        if let expiry = webhook.previousSecretExpiresAt {
            w.member("event_webhook_previous_secret_expires_at", expiry.rfc3339)
        }
        w.key("event_webhook_is_healthy")
        w.bool(webhook.isHealthy)
        w.member("event_webhook_disabled_reason", ifPresent: webhook.disabledReason)
        if let at = webhook.disabledAt { w.member("event_webhook_disabled_at", at.rfc3339) }
    }
}
