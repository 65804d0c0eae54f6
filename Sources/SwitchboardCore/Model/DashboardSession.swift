/// A dashboard sign-in, stored only as the hash of the cookie's token: a server-side session
/// (every replica reads the same row, so no process holds session state), or a single-use
/// sign-in link that `switchboard dashboard link` printed and that becomes a session when used.
public struct DashboardSession: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case session, link
    }

    public var tokenHash: [UInt8]
    public var kind: Kind
    public var workspaceID: WorkspaceID
    /// The API key the session was opened with; nil for one opened with a sign-in link (the
    /// operator's, as `cli`). A session of a revoked key is not found.
    public var keyID: String?
    public var scopes: ScopeSet
    public var createdAt: Timestamp
    /// Written at most once a minute (`DashboardSettings.touchResolution`).
    public var lastSeenAt: Timestamp
    /// The absolute end: a session ends then even if used every minute.
    public var expiresAt: Timestamp
    /// When a link was used; links only.
    public var usedAt: Timestamp?

    public init(
        tokenHash: [UInt8],
        kind: Kind,
        workspaceID: WorkspaceID,
        keyID: String?,
        scopes: ScopeSet,
        createdAt: Timestamp,
        lastSeenAt: Timestamp,
        expiresAt: Timestamp,
        usedAt: Timestamp? = nil
    ) {
        self.tokenHash = tokenHash
        self.kind = kind
        self.workspaceID = workspaceID
        self.keyID = keyID
        self.scopes = scopes
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
    }
}

/// A hosted Connect page opened for one end user by the application's backend
/// (`POST /switchboard/connect-session`), stored only as the hash of its URL's token. Single-use:
/// making a connection, or starting an OAuth flow, spends it.
public struct ConnectSession: Sendable, Equatable {
    public var tokenHash: [UInt8]
    public var id: String
    public var workspaceID: WorkspaceID
    public var externalXref: String
    /// Integration types the page offers; empty means every one the categories allow.
    public var integrations: [String]
    /// Categories the page offers; empty means no category filter.
    public var categories: [Category]
    public var environment: String
    public var successRedirect: String?
    public var failureRedirect: String?
    /// The API key that created it.
    public var createdBy: String
    public var createdAt: Timestamp
    public var expiresAt: Timestamp
    public var usedAt: Timestamp?

    public init(
        tokenHash: [UInt8],
        id: String,
        workspaceID: WorkspaceID,
        externalXref: String,
        integrations: [String],
        categories: [Category],
        environment: String,
        successRedirect: String?,
        failureRedirect: String?,
        createdBy: String,
        createdAt: Timestamp,
        expiresAt: Timestamp,
        usedAt: Timestamp? = nil
    ) {
        self.tokenHash = tokenHash
        self.id = id
        self.workspaceID = workspaceID
        self.externalXref = externalXref
        self.integrations = integrations
        self.categories = categories
        self.environment = environment
        self.successRedirect = successRedirect
        self.failureRedirect = failureRedirect
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
    }
}

/// How many connections of one integration are in each health state (the dashboard's charts).
public struct ConnectionCounts: Sendable, Equatable {
    public var integrationType: String
    public var healthy: Int
    public var unhealthy: Int
    public var paused: Int

    public init(integrationType: String, healthy: Int, unhealthy: Int, paused: Int) {
        self.integrationType = integrationType
        self.healthy = healthy
        self.unhealthy = unhealthy
        self.paused = paused
    }

    public var total: Int { healthy + unhealthy + paused }
}
