import Foundation

/// The OAuth 2 authorization code flow (RFC 6749 §4.1, PKCE per RFC 7636) that creates connections
/// and re-authorizes them in place.
///
/// The `state` handed to the provider is 256 random bits, stored only as a hash, single-use, and
/// expires; the PKCE verifier is derived from it. Redirects go only to origins on the workspace's
/// allowlist, so the flow cannot be used as an open redirect.
public struct AuthorizationService: Sendable {
    private let catalog: IntegrationCatalog
    private let integrations: IntegrationService
    private let connections: ConnectionService
    private let store: any AuthorizationStore & WorkspaceStore & ConnectionStore
    private let hasher: any TokenHasher
    private let tokenClient: any OAuthTokenClient
    /// Where providers send the end user back: `<public url>/switchboard/oauth/callback`.
    public let callbackURL: String
    private let stateLifetime: Int64
    private let now: @Sendable () -> Timestamp

    /// How long a re-authorization token stays usable.
    public static let reauthTokenLifetime: Int64 = 900
    static let actor = "oauth"

    public init(
        catalog: IntegrationCatalog,
        integrations: IntegrationService,
        connections: ConnectionService,
        store: any AuthorizationStore & WorkspaceStore & ConnectionStore,
        hasher: any TokenHasher,
        tokenClient: any OAuthTokenClient,
        callbackURL: String,
        stateLifetime: Int64,
        now: @escaping @Sendable () -> Timestamp
    ) {
        self.catalog = catalog
        self.integrations = integrations
        self.connections = connections
        self.store = store
        self.hasher = hasher
        self.tokenClient = tokenClient
        self.callbackURL = callbackURL
        self.stateLifetime = stateLifetime
        self.now = now
    }

    /// `GET /unified/integration/auth/{workspace_id}/{integration_type}`'s parameters.
    public struct Request: Sendable, Equatable {
        public var workspaceID: String
        public var integrationType: String
        public var successRedirect: String?
        public var failureRedirect: String?
        public var state: String?
        public var externalXref: String?
        public var scopes: [String]
        public var environment: String?
        public var subdomain: String?
        public var connectionID: String?
        public var reauthToken: String?
        /// A token from `POST /switchboard/authorize-token`; required when the workspace says so.
        public var token: String?

        public init(workspaceID: String, integrationType: String) {
            self.workspaceID = workspaceID
            self.integrationType = integrationType
            self.scopes = []
        }
    }

    /// Records a pending authorization and returns the provider's authorize URL for it.
    public func authorizeURL(_ request: Request) async throws -> String {
        let workspaceID = WorkspaceID(rawValue: request.workspaceID)
        let type = request.integrationType
        // An unknown workspace, an integration outside the catalog, one without an OAuth flow and
        // one the workspace has not enabled all read the same to an anonymous caller.
        guard let workspace = try await store.workspace(id: workspaceID), let definition = catalog.definition(type),
            let oauth = definition.oauth2,
            let client = try await integrations.client(type: type, workspace: workspaceID, requireActive: true)
        else {
            throw ServiceError.notFound(
                "no OAuth integration \"\(type.prefix(64))\" is enabled for workspace \"\(request.workspaceID.prefix(64))\" (API-key integrations are created with POST /unified/connection)"
            )
        }
        let environment = request.environment ?? ConnectionFields.defaultEnvironment
        let permissions: [Permission]
        do throws(ValidationError) {
            try Limits.checkRequiredLabel(environment, field: "env", maximum: Limits.shortLabelLength)
            if let state = request.state {
                try Limits.checkLabel(state, field: "state", maximum: Limits.identifierLength)
            }
            if let xref = request.externalXref {
                try Limits.checkLabel(xref, field: "external_xref", maximum: Limits.indexedLabelLength)
            }
            for (field, url) in [
                ("success_redirect", request.successRedirect), ("failure_redirect", request.failureRedirect),
            ] {
                guard let url else { continue }
                try Self.checkRedirect(url, field: field, allowed: workspace.redirectOrigins)
            }
            permissions = try Self.permissions(request.scopes, supported: oauth.permissionScopes, type: type)
            if oauth.needsSubdomain {
                guard let subdomain = request.subdomain, Self.fill(oauth.authorizeURL, subdomain: subdomain) != nil
                else {
                    throw ValidationError(
                        field: "subdomain",
                        message:
                            "integration \"\(type)\" needs the end user's subdomain: letters, digits and hyphens, at most 63"
                    )
                }
            }
        } catch { throw ServiceError.invalid(error) }

        let connectionID = try await checkReauthorization(request, workspace: workspaceID)
        let minted = try await spendAuthorizeToken(request, workspace: workspace)
        let externalXref = minted?.externalXref ?? request.externalXref
        let chosenEnvironment = minted?.environment ?? environment
        let state = OpaqueToken.generate()
        let time = now()
        try await store.insert(
            AuthorizationState(
                stateHash: hasher.hash(state),
                workspaceID: workspaceID,
                integrationType: type,
                environment: chosenEnvironment,
                externalXref: externalXref,
                callerState: request.state,
                successRedirect: request.successRedirect,
                failureRedirect: request.failureRedirect,
                permissions: permissions,
                subdomain: oauth.needsSubdomain ? request.subdomain : nil,
                connectionID: connectionID,
                createdAt: time,
                expiresAt: time.adding(seconds: stateLifetime)
            )
        )
        var scopes: [String] = []
        for scope in oauth.defaultScopes + permissions.flatMap({ oauth.permissionScopes[$0.name] ?? [] })
            + client.integration.extraScopes where !scopes.contains(scope)
        {
            scopes.append(scope)
        }
        var query: [(String, String)] = [
            ("response_type", "code"), ("client_id", client.integration.clientID), ("redirect_uri", callbackURL),
        ]
        if !scopes.isEmpty { query.append(("scope", scopes.joined(separator: oauth.scopeSeparator))) }
        query.append(("state", state))
        if oauth.pkce {
            let verifier = OpaqueToken.pkceVerifier(state: state, hasher: hasher)
            query.append(("code_challenge", OpaqueToken.pkceChallenge(verifier: verifier, hasher: hasher)))
            query.append(("code_challenge_method", "S256"))
        }
        for (name, value) in oauth.authorizeParameters.sorted(by: { $0.key < $1.key }) { query.append((name, value)) }
        let base = Self.fill(oauth.authorizeURL, subdomain: request.subdomain) ?? oauth.authorizeURL
        return FormEncoding.appending(query, to: base)
    }

    /// Where the provider's redirect leads.
    public enum CallbackResult: Sendable, Equatable {
        /// Send the browser here (the caller's success or failure URL).
        case redirect(String)
        /// Done, and the caller gave no success URL: show that the connection exists.
        case completed(ConnectionID)
        /// Refused, with nowhere trusted to send the browser: a 400 page saying why.
        case refused(String)
    }

    /// Handles the provider's redirect back: spends the state, exchanges the code, stores the
    /// connection, and says where the browser goes next.
    /// `clientAddress` (the browser's) is recorded on the audit record of the connection made.
    public func complete(
        code: String?,
        state: String?,
        error providerError: String?,
        callbackParameters: [String: String] = [:],
        clientAddress: String? = nil
    ) async throws -> CallbackResult {
        guard let state, OpaqueToken.isWellFormed(state) else {
            return .refused("the state parameter is missing or malformed")
        }
        let time = now()
        let pending: AuthorizationState
        switch try await store.consumeAuthorizationState(hash: hasher.hash(state), at: time) {
        case .unknown: return .refused("unknown state: this authorization was not started here, or has been purged")
        case .alreadyUsed: return .refused("this authorization was already completed; start a new one")
        case .consumed(let found): pending = found
        }
        // The redirects were checked when the flow started; the allowlist may have lost their
        // origin since, and a removed origin must not receive the browser (or its connection id).
        let allowed = try await store.workspace(id: pending.workspaceID)?.redirectOrigins ?? []
        func stillAllowed(_ url: String?) -> Bool {
            guard let url else { return true }
            return RedirectOrigin.normalize(url).map(allowed.contains) ?? false
        }
        guard stillAllowed(pending.successRedirect), stillAllowed(pending.failureRedirect) else {
            return .refused(
                "the redirect's origin was removed from the workspace's redirect_origins; start a new authorization"
            )
        }
        func fail(_ error: String) -> CallbackResult {
            guard let url = pending.failureRedirect else { return .refused("authorization failed: \(error)") }
            return .redirect(FormEncoding.appending([("error", error)], to: url))
        }
        guard pending.expiresAt > time else { return fail("state_expired") }
        if let providerError { return fail(Self.sanitized(providerError)) }
        guard let code, !code.isEmpty, code.utf8.count <= Limits.identifierLength else {
            return fail("invalid_request")
        }
        guard let definition = catalog.definition(pending.integrationType), let oauth = definition.oauth2,
            let client = try await integrations.client(
                type: pending.integrationType,
                workspace: pending.workspaceID,
                requireActive: true
            ),
            let tokenURL = Self.fill(oauth.tokenURL, subdomain: pending.subdomain)
        else { return fail("integration_disabled") }

        var parameters = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", callbackURL)]
        if oauth.pkce { parameters.append(("code_verifier", OpaqueToken.pkceVerifier(state: state, hasher: hasher))) }
        let response: TokenResponse
        do {
            response = try await tokenClient.requestToken(
                TokenRequest(
                    tokenURL: tokenURL,
                    clientID: client.integration.clientID,
                    clientSecret: client.secret,
                    clientAuthentication: oauth.tokenEndpointAuth,
                    parameters: parameters,
                    context: TokenCallContext(
                        name: "oauth.token",
                        workspaceID: pending.workspaceID,
                        connectionID: pending.connectionID,
                        integrationType: pending.integrationType,
                        environment: pending.environment,
                        externalXref: pending.externalXref,
                        clientAddress: clientAddress
                    )
                )
            )
        } catch is TokenEndpointError {
            return fail("token_exchange_failed")
        }
        let auth = Self.auth(
            from: response,
            subdomain: pending.subdomain,
            kept: Self.keptMeta(oauth.metaFrom, response: response, callback: callbackParameters),
            at: now()
        )
        let connection: Connection
        if let id = pending.connectionID {
            do {
                connection = try await connections.reauthorize(
                    id,
                    workspace: pending.workspaceID,
                    integrationType: pending.integrationType,
                    auth: auth,
                    permissions: pending.permissions,
                    actor: Self.actor,
                    clientAddress: clientAddress
                )
            } catch ServiceError.connectionNotFound {
                return fail("connection_not_found")
            } catch ServiceError.conflict {
                return fail("connection_changed")
            }
        } else {
            connection = try await connections.createAuthorized(
                fields: ConnectionFields(
                    integrationType: pending.integrationType,
                    integrationName: definition.name,
                    externalXref: pending.externalXref,
                    permissions: pending.permissions,
                    categories: definition.categories,
                    environment: pending.environment
                ),
                auth: auth,
                workspace: pending.workspaceID,
                actor: Self.actor,
                clientAddress: clientAddress
            )
        }
        guard let success = pending.successRedirect else { return .completed(connection.id) }
        var appended = [("id", connection.id.rawValue)]
        if let callerState = pending.callerState { appended.append(("state", callerState)) }
        return .redirect(FormEncoding.appending(appended, to: success))
    }

    /// `POST /unified/connection/{id}/reauth`: a single-use token for re-authorizing in place.
    public func createReauthToken(
        for id: ConnectionID,
        by principal: Principal
    ) async throws -> (token: String, expiresAt: Timestamp) {
        try principal.require(.connectionsWrite)
        guard try await store.connection(id: id, workspace: principal.workspaceID) != nil else {
            throw ServiceError.connectionNotFound(id)
        }
        let token = OpaqueToken.generate()
        let time = now()
        let expiresAt = time.adding(seconds: Self.reauthTokenLifetime)
        try await store.insert(
            ReauthToken(
                tokenHash: hasher.hash(token),
                workspaceID: principal.workspaceID,
                connectionID: id,
                createdAt: time,
                expiresAt: expiresAt
            ),
            audit: AuditRecord(.reauthTokenCreate, by: principal, at: time, connection: id)
        )
        return (token, expiresAt)
    }

    /// How long a minted authorize token stays usable.
    public static let authorizeTokenLifetime: Int64 = 600

    /// `POST /switchboard/authorize-token`: a single-use token for one end user's authorization,
    /// binding the connection's `external_xref` and optionally its integration and environment.
    public func createAuthorizeToken(
        externalXref: String?,
        integrationType: String?,
        environment: String?,
        by principal: Principal
    ) async throws -> (token: String, expiresAt: Timestamp) {
        try principal.require(.connectionsWrite)
        do throws(ValidationError) {
            if let externalXref {
                try Limits.checkLabel(externalXref, field: "external_xref", maximum: Limits.indexedLabelLength)
            }
            if let environment {
                try Limits.checkRequiredLabel(environment, field: "env", maximum: Limits.shortLabelLength)
            }
        } catch { throw ServiceError.invalid(error) }
        if let integrationType, catalog.definition(integrationType)?.oauth2 == nil {
            throw ServiceError.invalid(
                ValidationError(
                    field: "integration_type",
                    message:
                        "integration_type \"\(integrationType.prefix(64))\" is not an OAuth 2 integration of the catalog"
                )
            )
        }
        let token = OpaqueToken.generate()
        let time = now()
        let expiresAt = time.adding(seconds: Self.authorizeTokenLifetime)
        try await store.insert(
            AuthorizeToken(
                tokenHash: hasher.hash(token),
                workspaceID: principal.workspaceID,
                externalXref: externalXref,
                integrationType: integrationType,
                environment: environment,
                createdAt: time,
                expiresAt: expiresAt
            ),
            audit: AuditRecord(.authorizeTokenCreate, by: principal, at: time, target: externalXref)
        )
        return (token, expiresAt)
    }

    /// Spends the request's authorize token, if any; refuses a request without one when the
    /// workspace requires it, and one whose bindings the request contradicts. Every refusal reads
    /// the same, so a caller learns nothing about tokens it does not hold.
    private func spendAuthorizeToken(_ request: Request, workspace: Workspace) async throws -> AuthorizeToken? {
        guard let presented = request.token else {
            guard !workspace.authorizeRequiresToken else {
                throw ServiceError.forbidden(
                    "this workspace requires a token from POST /switchboard/authorize-token on its authorize URL"
                )
            }
            return nil
        }
        let refused = ServiceError.forbidden(
            "the token is unknown, expired, already used or made for another authorization"
        )
        guard OpaqueToken.isWellFormed(presented),
            let minted = try await store.consumeAuthorizeToken(
                hash: hasher.hash(presented),
                workspace: workspace.id,
                at: now()
            )
        else { throw refused }
        if let bound = minted.integrationType, bound != request.integrationType { throw refused }
        if let xref = request.externalXref, xref != minted.externalXref { throw refused }
        if let environment = request.environment, let bound = minted.environment, environment != bound { throw refused }
        return minted
    }

    /// The connection to re-authorize, after spending its token; nil for a new connection.
    private func checkReauthorization(_ request: Request, workspace: WorkspaceID) async throws -> ConnectionID? {
        switch (request.connectionID, request.reauthToken) {
        case (nil, nil): return nil
        case (nil, _?), (_?, nil):
            throw ServiceError.invalid(
                ValidationError(field: "connection_id", message: "connection_id and reauth_token go together")
            )
        case (let raw?, let token?):
            // Every way this can fail reads the same: an anonymous caller learns nothing of the
            // connection (its existence, its integration, where its credentials live).
            let refused = ServiceError.invalid(
                ValidationError(
                    field: "reauth_token",
                    message:
                        "reauth_token is unknown, expired or already used, or was not issued for this connection_id and integration"
                )
            )
            let id = ConnectionID(rawValue: raw)
            guard OpaqueToken.isWellFormed(token),
                let connection = try await store.connection(id: id, workspace: workspace),
                connection.fields.integrationType == request.integrationType,
                connection.fields.secretsmanagerID == nil,
                try await store.consumeReauthToken(
                    hash: hasher.hash(token),
                    connection: id,
                    workspace: workspace,
                    at: now()
                )
            else { throw refused }
            return id
        }
    }

    // MARK: - Helpers

    public static func checkRedirect(_ url: String, field: String, allowed: [String]) throws(ValidationError) {
        guard let origin = RedirectOrigin.normalize(url) else {
            throw ValidationError(
                field: field,
                message: "\(field) must be an absolute https URL (http only for loopback hosts)"
            )
        }
        guard allowed.contains(origin) else {
            throw ValidationError(
                field: field,
                message:
                    "\(field)'s origin \(origin) is not in the workspace's redirect_origins (PATCH /switchboard/workspace)"
            )
        }
    }

    static func permissions(
        _ names: [String],
        supported: [String: [String]],
        type: String
    ) throws(ValidationError) -> [Permission] {
        // None named: every permission the integration can grant (as Unified does).
        guard !names.isEmpty else { return supported.keys.sorted().compactMap(Permission.init) }
        var permissions: [Permission] = []
        for name in names {
            guard let permission = Permission(name) else {
                throw ValidationError(field: "scopes", message: "unknown permission \"\(name.prefix(64))\"")
            }
            guard supported[name] != nil else {
                throw ValidationError(
                    field: "scopes",
                    message: "integration \"\(type)\" cannot grant \"\(name)\"; it supports: "
                        + supported.keys.sorted().joined(separator: ", ")
                )
            }
            if !permissions.contains(permission) { permissions.append(permission) }
        }
        return permissions
    }

    /// `template` with `{subdomain}` filled in; nil when it needs a subdomain that is missing or
    /// not a plain DNS label (which could otherwise steer requests to another host).
    static func fill(_ template: String, subdomain: String?) -> String? {
        guard template.contains("{subdomain}") else { return template }
        guard let subdomain, isDNSLabel(subdomain) else { return nil }
        return template.replacingOccurrences(of: "{subdomain}", with: subdomain)
    }

    /// 1 to 63 letters, digits and hyphens, not starting or ending with a hyphen.
    public static func isDNSLabel(_ text: String) -> Bool {
        (1...63).contains(text.utf8.count)
            && text.utf8.allSatisfy({ b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D
            }) && !text.hasPrefix("-") && !text.hasSuffix("-")
    }

    /// A provider's error code as safe to put in the caller's URL: `[a-z0-9_]`, at most 64.
    static func sanitized(_ error: String) -> String {
        let cleaned = String(
            error.lowercased().unicodeScalars.filter {
                ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "_"
            }.prefix(64)
        )
        return cleaned.isEmpty ? "access_denied" : cleaned
    }

    /// The `auth` object stored for a token response.
    /// The values a definition's `meta_from` keeps, from the token answer and the callback: plain
    /// text only (no control characters), at most 2,048 bytes each; a missing one is left out.
    static func keptMeta(
        _ metaFrom: [String: IntegrationDefinition.OAuth2.MetaSource],
        response: TokenResponse,
        callback: [String: String]
    ) -> [(key: String, value: JSONValue)] {
        metaFrom.sorted { $0.key < $1.key }.compactMap { name, source in
            let value: String? =
                switch source {
                case .token(let field): response.otherStrings[field]
                case .callback(let parameter): callback[parameter]
                }
            guard let value, !value.isEmpty, value.utf8.count <= 2048,
                !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
            else { return nil }
            return (name, .string(value))
        }
    }

    static func auth(
        from response: TokenResponse,
        subdomain: String?,
        kept: [(key: String, value: JSONValue)] = [],
        at time: Timestamp
    ) -> ConnectionAuth {
        var members: [(key: String, value: JSONValue)] = [("access_token", .string(response.accessToken))]
        if let refreshToken = response.refreshToken { members.append(("refresh_token", .string(refreshToken))) }
        if let expiresIn = response.expiresIn {
            members.append(("expires_in", .number(String(expiresIn))))
            members.append(("expiry_date", .string(time.adding(seconds: expiresIn).rfc3339)))
        }
        if let seconds = response.refreshTokenExpiresIn {
            members.append(("refresh_token_expires_in", .number(String(seconds))))
            members.append(("refresh_token_expires_date", .string(time.adding(seconds: seconds).rfc3339)))
        }
        var meta: [(key: String, value: JSONValue)] = []
        if let tokenType = response.tokenType { meta.append(("token_type", .string(tokenType))) }
        if let scope = response.scope { meta.append(("scope", .string(scope))) }
        if let subdomain { meta.append(("subdomain", .string(subdomain))) }
        for item in kept where !meta.contains(where: { $0.key == item.key }) { meta.append(item) }
        if !meta.isEmpty { members.append(("meta", .object(meta))) }
        return ConnectionAuth(trustedJSON: ConnectionAuth.canonical(members))
    }
}
