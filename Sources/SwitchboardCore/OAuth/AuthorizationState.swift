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
