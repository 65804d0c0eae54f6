import Foundation

/// The integration catalog as a workspace sees it, the workspace's OAuth clients (client secrets
/// sealed), and where its authorizations may redirect.
public struct IntegrationService: Sendable {
    public let catalog: IntegrationCatalog
    private let store: any IntegrationStore & WorkspaceStore
    private let sealer: any SecretSealer
    private let now: @Sendable () -> Timestamp

    public init(
        catalog: IntegrationCatalog,
        store: any IntegrationStore & WorkspaceStore,
        sealer: any SecretSealer,
        now: @escaping @Sendable () -> Timestamp
    ) {
        self.catalog = catalog
        self.store = store
        self.sealer = sealer
        self.now = now
    }

    /// `GET /unified/integration` filters. `env` and `summary` are accepted and change nothing:
    /// the catalog is the same in every environment and always this short.
    public struct ListQuery: Sendable, Equatable {
        public var active: Bool?
        public var categories: [Category]
        public var type: String?
        /// `YYYY-MM-DD` or a date-time; compared with the definition's `updated_at` date.
        public var updatedGTE: String?
        public var limit: Int
        public var offset: Int

        public init(
            active: Bool? = nil,
            categories: [Category] = [],
            type: String? = nil,
            updatedGTE: String? = nil,
            limit: Int = 100,
            offset: Int = 0
        ) {
            self.active = active
            self.categories = categories
            self.type = type
            self.updatedGTE = updatedGTE
            self.limit = limit
            self.offset = offset
        }
    }

    /// A catalog entry and whether the workspace has it enabled.
    public struct Listing: Sendable, Equatable {
        public var definition: IntegrationDefinition
        public var isActive: Bool
    }

    /// The catalog for an authenticated caller's workspace.
    public func list(_ query: ListQuery, by principal: Principal) async throws -> [Listing] {
        try await list(query, workspace: principal.workspaceID)
    }

    /// The catalog for a front end that knows only the workspace id (no API key, as in Unified).
    /// An unknown id reads as a workspace that enabled nothing: anonymous callers do not learn
    /// which workspace ids exist.
    public func list(_ query: ListQuery, workspaceID: String) async throws -> [Listing] {
        try await list(query, workspace: WorkspaceID(rawValue: workspaceID))
    }

    private func list(_ query: ListQuery, workspace: WorkspaceID) async throws -> [Listing] {
        let enabled = Set(
            try await store.workspaceIntegrations(workspace: workspace).filter(\.integration.isActive)
                .map(\.integration.integrationType)
        )
        let since = query.updatedGTE.map { String($0.prefix(10)) }
        let matching = catalog.all.filter { definition in
            if definition.isHidden && !enabled.contains(definition.type) { return false }
            if let type = query.type, definition.type != type { return false }
            if let active = query.active, enabled.contains(definition.type) != active { return false }
            if !query.categories.isEmpty, !query.categories.contains(where: definition.categories.contains) {
                return false
            }
            if let since, (definition.updatedAt ?? "") < since { return false }
            return true
        }
        return matching.dropFirst(query.offset).prefix(query.limit).map {
            Listing(definition: $0, isActive: enabled.contains($0.type))
        }
    }

    // MARK: - The workspace's OAuth clients

    /// Enables (or re-configures) an integration with the workspace's own OAuth client. A nil
    /// `clientSecret` keeps the stored one (the dashboard's write-only field left empty).
    public func enable(
        type: String,
        clientID: String,
        clientSecret: String?,
        isActive: Bool,
        extraScopes: [String],
        apiBaseURL: String? = nil,
        by principal: Principal
    ) async throws -> WorkspaceIntegration {
        try principal.require(.integrationsAdmin)
        guard let definition = catalog.definition(type) else { throw ServiceError.integrationNotFound(type) }
        guard definition.authKind == .oauth2 else {
            throw ServiceError.conflict(
                "integration \"\(type)\" uses \(definition.authKind.rawValue) credentials, not OAuth 2: create its connections with POST /unified/connection"
            )
        }
        do throws(ValidationError) {
            try Limits.checkRequiredLabel(clientID, field: "client_id", maximum: Limits.indexedLabelLength)
            if let clientSecret {
                try Limits.checkRequiredLabel(clientSecret, field: "client_secret", maximum: Limits.identifierLength)
            }
            for (i, scope) in extraScopes.enumerated() {
                try Limits.checkRequiredLabel(scope, field: "extra_scopes[\(i)]", maximum: Limits.indexedLabelLength)
                guard !scope.unicodeScalars.contains(where: Self.isSpace) else {
                    throw ValidationError(field: "extra_scopes[\(i)]", message: "a scope must not contain spaces")
                }
            }
            if let apiBaseURL {
                guard definition.api != nil else {
                    throw ValidationError(
                        field: "api_base_url",
                        message:
                            "integration \"\(type)\" has no api section, so api_base_url would never be used; an operator adds one with --integrations-dir"
                    )
                }
                try Limits.checkRequiredLabel(apiBaseURL, field: "api_base_url", maximum: Limits.identifierLength)
                try APITemplate.checkBaseURL(apiBaseURL, field: "api_base_url", wholeURLAllowed: false)
            }
        } catch { throw ServiceError.invalid(error) }
        let time = now()
        let existing = try await store.workspaceIntegration(type: type, workspace: principal.workspaceID)
        let integration = WorkspaceIntegration(
            workspaceID: principal.workspaceID,
            integrationType: type,
            clientID: clientID,
            isActive: isActive,
            extraScopes: extraScopes,
            apiBaseURL: apiBaseURL,
            createdAt: existing?.integration.createdAt ?? time,
            updatedAt: time
        )
        let sealed: SealedSecret
        if let clientSecret {
            sealed = try sealer.seal(
                Array(clientSecret.utf8),
                context: SealContext(workspaceID: principal.workspaceID, integrationType: type)
            )
        } else if let existing {
            sealed = existing.sealedClientSecret
        } else {
            throw ServiceError.invalid(
                ValidationError(field: "client_secret", message: "client_secret is required to enable an integration")
            )
        }
        try await store.upsert(
            StoredWorkspaceIntegration(integration: integration, sealedClientSecret: sealed),
            audit: AuditRecord(.integrationEnable, by: principal, at: time, target: type)
        )
        return integration
    }

    public func workspaceIntegrations(by principal: Principal) async throws -> [WorkspaceIntegration] {
        try principal.require(.integrationsAdmin)
        return try await store.workspaceIntegrations(workspace: principal.workspaceID).map(\.integration)
    }

    /// Removes the workspace's client. Existing connections keep their tokens but can no longer be
    /// refreshed (they report `not_configured`) until the integration is enabled again.
    public func disable(type: String, by principal: Principal) async throws {
        try principal.require(.integrationsAdmin)
        let record = AuditRecord(.integrationDisable, by: principal, at: now(), target: type)
        guard try await store.deleteWorkspaceIntegration(type: type, workspace: principal.workspaceID, audit: record)
        else { throw ServiceError.integrationNotFound(type) }
    }

    /// The workspace's own passthrough base URL for `type`, when it set one.
    public func apiBaseURL(type: String, workspace: WorkspaceID) async throws -> String? {
        try await store.workspaceIntegration(type: type, workspace: workspace)?.integration.apiBaseURL
    }

    /// The enabled client of `type` in `workspace`, its secret opened; nil if none is enabled.
    func client(
        type: String,
        workspace: WorkspaceID,
        requireActive: Bool
    ) async throws -> (
        integration: WorkspaceIntegration, secret: String
    )? {
        guard let stored = try await store.workspaceIntegration(type: type, workspace: workspace),
            stored.integration.isActive || !requireActive
        else { return nil }
        let secret = try sealer.open(
            stored.sealedClientSecret,
            context: SealContext(workspaceID: workspace, integrationType: type)
        )
        return (stored.integration, String(decoding: secret, as: UTF8.self))
    }

    // MARK: - Redirect allowlist

    public func workspace(by principal: Principal) async throws -> Workspace {
        try principal.require(.integrationsAdmin)
        guard let workspace = try await store.workspace(id: principal.workspaceID) else {
            throw ServiceError.workspaceNotFound(principal.workspaceID.rawValue)
        }
        return workspace
    }

    public func setRedirectOrigins(_ origins: [String], by principal: Principal) async throws -> Workspace {
        try principal.require(.integrationsAdmin)
        var normalized: [String] = []
        for (i, origin) in origins.enumerated() {
            guard let value = RedirectOrigin.normalize(origin),
                value == RedirectOrigin.normalize(origin, allowPath: false)
            else {
                throw ServiceError.invalid(
                    ValidationError(
                        field: "redirect_origins[\(i)]",
                        message:
                            "redirect_origins[\(i)] must be an origin such as https://app.example.com (https, or http for loopback hosts; no path, query or fragment)"
                    )
                )
            }
            if !normalized.contains(value) { normalized.append(value) }
        }
        guard normalized.count <= 100 else {
            throw ServiceError.invalid(
                ValidationError(field: "redirect_origins", message: "at most 100 redirect origins")
            )
        }
        let record = AuditRecord(.redirectOriginsUpdate, by: principal, at: now())
        guard try await store.setRedirectOrigins(normalized, workspace: principal.workspaceID, audit: record) else {
            throw ServiceError.workspaceNotFound(principal.workspaceID.rawValue)
        }
        return try await workspace(by: principal)
    }

    /// Turns the authorize URL's token requirement on or off (`authorize_requires_token`).
    public func setAuthorizeRequiresToken(_ required: Bool, by principal: Principal) async throws -> Workspace {
        try principal.require(.integrationsAdmin)
        let record = AuditRecord(
            .authorizeTokenSettingUpdate,
            by: principal,
            at: now(),
            target: required ? "required" : "open"
        )
        guard try await store.setAuthorizeRequiresToken(required, workspace: principal.workspaceID, audit: record)
        else {
            throw ServiceError.workspaceNotFound(principal.workspaceID.rawValue)
        }
        return try await workspace(by: principal)
    }

    /// Whitespace as openapi.yaml's `\\s` (ECMAScript) means it, so the document and the server agree.
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x20, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF: true
        default: false
        }
    }
}
