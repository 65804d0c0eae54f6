/// A pending authorization: created when the authorize URL is handed out, consumed exactly once by
/// the provider's callback. Only a hash of the `state` sent to the provider is stored, and the PKCE
/// verifier is derived from that `state`, so the table holds nothing that completes a flow.
public struct AuthorizationState: Sendable, Equatable {
    /// Pending authorizations a workspace keeps at most; a new one evicts the oldest.
    public static let pendingLimitPerWorkspace = 10_000

    /// SHA-256 of the opaque `state` value.
    public var stateHash: [UInt8]
    public var workspaceID: WorkspaceID
    public var integrationType: String
    public var environment: String
    public var externalXref: String?
    /// The caller's own `state`, handed back on success.
    public var callerState: String?
    public var successRedirect: String?
    public var failureRedirect: String?
    /// Unified permissions requested (and stored on the connection).
    public var permissions: [Permission]
    public var subdomain: String?
    /// Set when re-authorizing an existing connection in place.
    public var connectionID: ConnectionID?
    public var createdAt: Timestamp
    public var expiresAt: Timestamp

    public init(
        stateHash: [UInt8],
        workspaceID: WorkspaceID,
        integrationType: String,
        environment: String,
        externalXref: String?,
        callerState: String?,
        successRedirect: String?,
        failureRedirect: String?,
        permissions: [Permission],
        subdomain: String?,
        connectionID: ConnectionID?,
        createdAt: Timestamp,
        expiresAt: Timestamp
    ) {
        self.stateHash = stateHash
        self.workspaceID = workspaceID
        self.integrationType = integrationType
        self.environment = environment
        self.externalXref = externalXref
        self.callerState = callerState
        self.successRedirect = successRedirect
        self.failureRedirect = failureRedirect
        self.permissions = permissions
        self.subdomain = subdomain
        self.connectionID = connectionID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// What consuming a `state` found.
public enum StateConsumption: Sendable, Equatable {
    /// First use: the state is now spent.
    case consumed(AuthorizationState)
    /// Spent earlier (a replayed callback).
    case alreadyUsed(AuthorizationState)
    /// No such state: never issued, tampered with, or purged after expiry.
    case unknown
}

/// A single-use token that lets an end user re-authorize one existing connection in place.
/// Stored as a hash only.
public struct ReauthToken: Sendable, Equatable {
    public var tokenHash: [UInt8]
    public var workspaceID: WorkspaceID
    public var connectionID: ConnectionID
    public var createdAt: Timestamp
    public var expiresAt: Timestamp

    public init(
        tokenHash: [UInt8],
        workspaceID: WorkspaceID,
        connectionID: ConnectionID,
        createdAt: Timestamp,
        expiresAt: Timestamp
    ) {
        self.tokenHash = tokenHash
        self.workspaceID = workspaceID
        self.connectionID = connectionID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// A single-use token the application's backend mints for one end user's authorization
/// (`POST /switchboard/authorize-token`), stored only as its hash. The authorize URL that presents
/// it takes its `external_xref` (and, when bound, its integration and environment) from it.
public struct AuthorizeToken: Sendable, Equatable {
    public var tokenHash: [UInt8]
    public var workspaceID: WorkspaceID
    public var externalXref: String?
    /// When set, the token opens only this integration's flow.
    public var integrationType: String?
    /// When set, the connection is created in this environment.
    public var environment: String?
    public var createdAt: Timestamp
    public var expiresAt: Timestamp

    public init(
        tokenHash: [UInt8],
        workspaceID: WorkspaceID,
        externalXref: String?,
        integrationType: String?,
        environment: String?,
        createdAt: Timestamp,
        expiresAt: Timestamp
    ) {
        self.tokenHash = tokenHash
        self.workspaceID = workspaceID
        self.externalXref = externalXref
        self.integrationType = integrationType
        self.environment = environment
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}
