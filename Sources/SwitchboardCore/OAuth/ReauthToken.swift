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
