import Foundation
import SwitchboardCore
import Synchronization

/// How long dashboard sign-ins and hosted Connect sessions last.
public struct DashboardSettings: Sendable, Equatable {
    /// A session unused this long ends (seconds).
    public var idleTimeout: Int64
    /// A session ends this long after sign-in, however much it is used (seconds).
    public var absoluteTimeout: Int64
    /// `switchboard dashboard link`'s single-use link (seconds).
    public var linkLifetime: Int64
    /// A hosted Connect session's URL (seconds).
    public var connectLifetime: Int64

    public init(
        idleTimeout: Int64 = 1_800,
        absoluteTimeout: Int64 = 43_200,
        linkLifetime: Int64 = 600,
        connectLifetime: Int64 = 1_800
    ) {
        self.idleTimeout = idleTimeout
        self.absoluteTimeout = absoluteTimeout
        self.linkLifetime = linkLifetime
        self.connectLifetime = connectLifetime
    }

    /// `last_seen_at` is written at most this often per session, so a page view stays a read.
    static let touchResolutionMilliseconds: Int64 = 60_000
}

/// A signed-in dashboard request: who it acts as (every action is audited with the session's key
/// id) and the token its forms must carry.
public struct SignedIn: Sendable {
    public var principal: Principal
    public var csrfToken: String
    /// The cookie's token hash, to end this session.
    var tokenHash: [UInt8]
}

/// The dashboard's one seam: sign-in with an API key or a single-use link, server-side sessions
/// (in the database, so they survive restarts and work on every replica), CSRF tokens, and the
/// hosted Connect page's sessions. The pages themselves call the other services as the signed-in
/// principal, so each page and action needs the same scope as its API route.
public struct DashboardService: Sendable {
    private let store: any DashboardStore & WorkspaceStore
    private let workspaces: WorkspaceService
    private let connections: ConnectionService
    private let authorization: AuthorizationService
    private let catalog: IntegrationCatalog
    private let integrations: IntegrationService
    private let hasher: any TokenHasher
    public let settings: DashboardSettings
    private let now: @Sendable () -> Timestamp

    public init(
        store: any DashboardStore & WorkspaceStore,
        workspaces: WorkspaceService,
        connections: ConnectionService,
        authorization: AuthorizationService,
        integrations: IntegrationService,
        hasher: any TokenHasher,
        settings: DashboardSettings = DashboardSettings(),
        now: @escaping @Sendable () -> Timestamp = Timestamp.now
    ) {
        self.store = store
        self.workspaces = workspaces
        self.connections = connections
        self.authorization = authorization
        self.catalog = integrations.catalog
        self.integrations = integrations
        self.hasher = hasher
        self.settings = settings
        self.now = now
    }

    // MARK: - Sign-in and sessions

    /// Exchanges an API key holding `dashboard` for a new session; returns the cookie's token.
    /// A wrong key fails as `unauthenticated`, whatever was wrong with it.
    public func signIn(apiKey: String, clientAddress: String?) async throws -> String {
        let principal = try await workspaces.authenticate(apiKey, clientAddress: clientAddress)
        try principal.require(.dashboard)
        return try await openSession(
            workspace: principal.workspaceID,
            keyID: principal.keyID,
            scopes: principal.scopes,
            audit: { AuditRecord(.dashboardSignIn, by: principal, at: $0, target: "key") }
        )
    }

    /// `switchboard dashboard link`: a single-use sign-in link's token for an operator with shell
    /// access; the session it opens holds every scope and acts as `cli`.
    public func createSignInLink(workspace: WorkspaceID) async throws -> (token: String, expiresAt: Timestamp) {
        guard try await store.workspace(id: workspace) != nil else {
            throw ServiceError.workspaceNotFound(workspace.rawValue)
        }
        let token = OpaqueToken.generate()
        let time = now()
        let expiresAt = time.adding(seconds: settings.linkLifetime)
        try await store.insert(
            DashboardSession(
                tokenHash: hasher.hash(token),
                kind: .link,
                workspaceID: workspace,
                keyID: nil,
                scopes: .all,
                createdAt: time,
                lastSeenAt: time,
                expiresAt: expiresAt
            ),
            audit: AuditRecord(.dashboardLinkCreate, by: .cli(workspace: workspace), at: time)
        )
        return (token, expiresAt)
    }

    /// Throws `gone` unless the link can still sign in (its landing page, before the POST that
    /// spends it).
    public func checkSignInLink(_ token: String) async throws {
        guard OpaqueToken.isWellFormed(token), try await store.signInLink(hash: hasher.hash(token), at: now()) != nil
        else { throw Self.spentLink }
    }

    private static let spentLink = ServiceError.gone(
        "this sign-in link has expired or was already used; print a new one"
    )

    /// Spends a sign-in link and opens a session; a spent, expired or unknown link is `gone`.
    public func signIn(link token: String, clientAddress: String?) async throws -> String {
        guard OpaqueToken.isWellFormed(token),
            let link = try await store.spendSignInLink(hash: hasher.hash(token), at: now())
        else { throw Self.spentLink }
        var actor = Principal.cli(workspace: link.workspaceID)
        actor.clientAddress = clientAddress
        return try await openSession(
            workspace: link.workspaceID,
            keyID: nil,
            scopes: link.scopes,
            audit: { [actor] in AuditRecord(.dashboardSignIn, by: actor, at: $0, target: "link") }
        )
    }

    private func openSession(
        workspace: WorkspaceID,
        keyID: String?,
        scopes: ScopeSet,
        audit: (Timestamp) -> AuditRecord
    ) async throws -> String {
        let token = OpaqueToken.generate()
        let time = now()
        try await store.insert(
            DashboardSession(
                tokenHash: hasher.hash(token),
                kind: .session,
                workspaceID: workspace,
                keyID: keyID,
                scopes: scopes,
                createdAt: time,
                lastSeenAt: time,
                expiresAt: time.adding(seconds: settings.absoluteTimeout)
            ),
            audit: audit(time)
        )
        return token
    }

    /// The session a cookie names, or nil when it is unknown, ended, idle too long, past its
    /// absolute end, or its key was revoked.
    public func session(token: String, clientAddress: String?) async throws -> SignedIn? {
        guard OpaqueToken.isWellFormed(token) else { return nil }
        let hash = hasher.hash(token)
        let time = now()
        guard let session = try await store.dashboardSession(hash: hash, at: time),
            session.lastSeenAt.adding(seconds: settings.idleTimeout) > time
        else { return nil }
        if time.millisecondsSinceEpoch - session.lastSeenAt.millisecondsSinceEpoch
            >= DashboardSettings.touchResolutionMilliseconds
        {
            try await store.touchDashboardSession(hash: hash, at: time)
        }
        return SignedIn(
            principal: Principal(
                workspaceID: session.workspaceID,
                keyID: session.keyID ?? "cli",
                scopes: session.scopes,
                clientAddress: clientAddress
            ),
            csrfToken: csrfToken(sessionToken: token),
            tokenHash: hash
        )
    }

    /// Ends this session, or every session of the workspace.
    public func signOut(_ signedIn: SignedIn, everywhere: Bool) async throws {
        let time = now()
        _ = try await store.deleteDashboardSessions(
            workspace: signedIn.principal.workspaceID,
            hash: everywhere ? nil : signedIn.tokenHash,
            audit: AuditRecord(
                .dashboardSignOut,
                by: signedIn.principal,
                at: time,
                target: everywhere ? "everywhere" : "session"
            )
        )
    }

    /// The token a session's forms carry: derived from the cookie's secret, so a page on another
    /// origin (which cannot read the cookie) cannot know it, and nothing more is stored.
    func csrfToken(sessionToken: String) -> String {
        OpaqueToken.base64URL(hasher.hash("switchboard/dashboard-csrf/v1\u{0}\(sessionToken)"))
    }

    /// True when `presented` is this session's CSRF token (compared in constant time).
    public func checkCSRF(_ presented: String?, for signedIn: SignedIn) -> Bool {
        guard let presented else { return false }
        let a = Array(presented.utf8)
        let b = Array(signedIn.csrfToken.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    /// What the connections page shows beside its rows: the workspace's environments and the
    /// environment's connections counted by integration and health (the charts). Cached per
    /// workspace and environment for 30 s: at a million connections counting them costs far more
    /// than a page.
    public struct Overview: Sendable {
        public var environments: [String]
        public var counts: [ConnectionCounts]
    }

    public func overview(
        by principal: Principal,
        environment: String,
        environments: @Sendable () async throws -> [String]
    ) async throws -> Overview {
        try principal.require(.connectionsRead)
        return try await overviewCache.value(for: "\(principal.workspaceID.rawValue)\u{0}\(environment)", now: now()) {
            Overview(
                environments: try await environments(),
                counts: try await store.connectionCounts(workspace: principal.workspaceID, environment: environment)
            )
        }
    }

    private let overviewCache = OverviewCache(lifetimeMilliseconds: 30_000)

    // MARK: - Hosted Connect sessions

    /// `POST /switchboard/connect-session`'s fields.
    public struct ConnectRequest: Sendable, Equatable {
        public var externalXref: String
        public var integrations: [String] = []
        public var categories: [String] = []
        public var environment: String?
        public var successRedirect: String?
        public var failureRedirect: String?

        public init(externalXref: String) { self.externalXref = externalXref }
    }

    /// Opens a Connect session for one end user; returns it and its URL's token (shown once).
    public func createConnectSession(
        _ request: ConnectRequest,
        by principal: Principal
    ) async throws -> (session: ConnectSession, token: String) {
        try principal.require(.connectionsWrite)
        guard let workspace = try await store.workspace(id: principal.workspaceID) else {
            throw ServiceError.workspaceNotFound(principal.workspaceID.rawValue)
        }
        let environment = request.environment ?? ConnectionFields.defaultEnvironment
        var categories: [Category] = []
        do throws(ValidationError) {
            try Limits.checkRequiredLabel(
                request.externalXref,
                field: "external_xref",
                maximum: Limits.indexedLabelLength
            )
            try Limits.checkRequiredLabel(environment, field: "env", maximum: Limits.shortLabelLength)
            guard request.integrations.count <= 100, request.categories.count <= 100 else {
                throw ValidationError(
                    field: "integrations",
                    message: "integrations and categories take at most 100 each"
                )
            }
            for type in request.integrations where catalog.definition(type) == nil {
                throw ValidationError(
                    field: "integrations",
                    message: "no integration of type \"\(type.prefix(64))\" in the catalog"
                )
            }
            for name in request.categories {
                guard let category = Category(name) else {
                    throw ValidationError(field: "categories", message: "unknown category \"\(name.prefix(64))\"")
                }
                categories.append(category)
            }
            for (field, url) in [
                ("success_redirect", request.successRedirect), ("failure_redirect", request.failureRedirect),
            ] {
                guard let url else { continue }
                try AuthorizationService.checkRedirect(url, field: field, allowed: workspace.redirectOrigins)
            }
        } catch { throw ServiceError.invalid(error) }
        let token = OpaqueToken.generate()
        let time = now()
        let session = ConnectSession(
            tokenHash: hasher.hash(token),
            id: "cs_" + String(OpaqueToken.generate().prefix(22)),
            workspaceID: principal.workspaceID,
            externalXref: request.externalXref,
            integrations: request.integrations,
            categories: categories,
            environment: environment,
            successRedirect: request.successRedirect,
            failureRedirect: request.failureRedirect,
            createdBy: principal.keyID,
            createdAt: time,
            expiresAt: time.adding(seconds: settings.connectLifetime)
        )
        try await store.insert(
            session,
            audit: AuditRecord(.connectSessionCreate, by: principal, at: time, target: session.id)
        )
        return (session, token)
    }

    /// What a Connect page shows: its session and the integrations it offers, OAuth ones only
    /// when the workspace enabled them with its client.
    public struct ConnectPage: Sendable {
        public var session: ConnectSession
        public var integrations: [IntegrationDefinition]
    }

    /// The page behind a Connect URL; spent or expired is `gone`, unknown is `notFound`.
    public func connectPage(token: String) async throws -> ConnectPage {
        let session = try await liveConnectSession(token: token)
        return ConnectPage(session: session, integrations: try await offered(by: session))
    }

    /// Spends the session and returns the provider's authorize URL for `type`; the OAuth flow then
    /// creates the connection and redirects as the session says.
    public func startOAuth(token: String, type: String, clientAddress: String?) async throws -> String {
        let session = try await liveConnectSession(token: token)
        guard let definition = try await offered(by: session).first(where: { $0.type == type }),
            definition.oauth2 != nil
        else { throw ServiceError.notFound("this page does not offer an OAuth integration \"\(type.prefix(64))\"") }
        let spent = try await spend(token: token)
        let principal = connectPrincipal(spent, clientAddress: clientAddress)
        let (authorizeToken, _) = try await authorization.createAuthorizeToken(
            externalXref: spent.externalXref,
            integrationType: type,
            environment: spent.environment,
            by: principal
        )
        var request = AuthorizationService.Request(workspaceID: spent.workspaceID.rawValue, integrationType: type)
        request.token = authorizeToken
        request.externalXref = spent.externalXref
        request.environment = spent.environment
        request.successRedirect = spent.successRedirect
        request.failureRedirect = spent.failureRedirect
        return try await authorization.authorizeURL(request)
    }

    /// Creates an API-key connection from the page's form (one value per catalog `token_names`),
    /// sealed like any credentials; spends the session. Returns the connection and where the
    /// browser goes next (the success redirect with `id`), if anywhere.
    public func connectWithKeys(
        token: String,
        type: String,
        values: [String: String],
        clientAddress: String?
    ) async throws -> (id: ConnectionID, redirect: String?) {
        let session = try await liveConnectSession(token: token)
        guard let definition = try await offered(by: session).first(where: { $0.type == type }),
            definition.oauth2 == nil
        else { throw ServiceError.notFound("this page does not offer an API-key integration \"\(type.prefix(64))\"") }
        // Names Unified's auth object has go there; the rest (`api_key`, `subdomain`) into
        // `auth.meta`, where passthrough's templates find them too.
        let known = Set(ConnectionAuth.fields.map(\.name))
        var members: [(key: String, value: JSONValue)] = []
        var meta: [(key: String, value: JSONValue)] = []
        let auth: ConnectionAuth
        do throws(ValidationError) {
            for name in definition.tokenNames {
                let value = (values[name] ?? "").trimmingCharacters(in: .whitespaces)
                guard !value.isEmpty else { throw ValidationError(field: name, message: "\(name) is required") }
                if known.contains(name), name != "meta" {
                    members.append((name, .string(value)))
                } else {
                    meta.append((name, .string(value)))
                }
            }
            if !meta.isEmpty { members.append(("meta", .object(meta))) }
            auth = try ConnectionAuth(validating: .object(members))
        } catch { throw ServiceError.invalid(error) }
        let spent = try await spend(token: token)
        var input = ConnectionInput()
        input.integrationType = .value(type)
        input.externalXref = .value(spent.externalXref)
        input.environment = .value(spent.environment)
        input.categories = .value(definition.categories)
        input.permissions = .value([])
        input.auth = .value(auth)
        let created = try await connections.create(input, by: connectPrincipal(spent, clientAddress: clientAddress))
        let id = created.connection.id
        return (id, spent.successRedirect.map { FormEncoding.appending([("id", id.rawValue)], to: $0) })
    }

    private func liveConnectSession(token: String) async throws -> ConnectSession {
        guard OpaqueToken.isWellFormed(token), let session = try await store.connectSession(hash: hasher.hash(token))
        else { throw ServiceError.notFound("no such Connect page; ask the application for a new link") }
        guard session.usedAt == nil, session.expiresAt > now() else { throw Self.spentConnect }
        return session
    }

    private func spend(token: String) async throws -> ConnectSession {
        guard let session = try await store.spendConnectSession(hash: hasher.hash(token), at: now()) else {
            throw Self.spentConnect
        }
        return session
    }

    private static let spentConnect = ServiceError.gone(
        "this Connect link has expired or was already used; ask the application for a new one"
    )

    private func offered(by session: ConnectSession) async throws -> [IntegrationDefinition] {
        let enabled = Set(
            try await integrations.list(
                IntegrationService.ListQuery(active: true, limit: 1000),
                workspaceID: session.workspaceID.rawValue
            )
            .map(\.definition.type)
        )
        return catalog.all.filter { definition in
            if !session.integrations.isEmpty, !session.integrations.contains(definition.type) { return false }
            if !session.categories.isEmpty, !session.categories.contains(where: definition.categories.contains) {
                return false
            }
            if definition.oauth2 != nil { return enabled.contains(definition.type) }
            return !definition.isHidden && !definition.tokenNames.isEmpty
        }
    }

    /// Who acts for a Connect page: the session itself, with only `connections:write`.
    private func connectPrincipal(_ session: ConnectSession, clientAddress: String?) -> Principal {
        Principal(
            workspaceID: session.workspaceID,
            keyID: "connect:" + session.id,
            scopes: ScopeSet([.connectionsWrite]),
            clientAddress: clientAddress
        )
    }
}

/// A small time-bounded cache of the connections page's overview.
final class OverviewCache: Sendable {
    private let entries = Mutex<[String: (at: Int64, overview: DashboardService.Overview)]>([:])
    private let lifetime: Int64

    init(lifetimeMilliseconds: Int64) { lifetime = lifetimeMilliseconds }

    func value(
        for key: String,
        now: Timestamp,
        compute: () async throws -> DashboardService.Overview
    ) async throws -> DashboardService.Overview {
        let time = now.millisecondsSinceEpoch
        if let hit = entries.withLock({ $0[key] }), time - hit.at < lifetime { return hit.overview }
        let overview = try await compute()
        entries.withLock {
            if $0.count > 1_000 { $0.removeAll() }
            $0[key] = (time, overview)
        }
        return overview
    }
}
