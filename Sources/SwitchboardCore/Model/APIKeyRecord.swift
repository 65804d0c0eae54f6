/// A stored API key: its public id, its workspace and the hash of the full secret (never the secret).
public struct APIKeyRecord: Sendable, Equatable {
    /// Public, non-secret part of the key (`sbk_<id>_...`); also how revocation names a key.
    public var id: String
    public var workspaceID: WorkspaceID
    public var secretHash: [UInt8]
    public var scopes: ScopeSet
    public var createdAt: Timestamp
    public var revokedAt: Timestamp?
    /// When the key last authenticated a request, to the minute (see `WorkspaceService`).
    public var lastUsedAt: Timestamp?

    public init(
        id: String,
        workspaceID: WorkspaceID,
        secretHash: [UInt8],
        scopes: ScopeSet = .all,
        createdAt: Timestamp,
        revokedAt: Timestamp? = nil,
        lastUsedAt: Timestamp? = nil
    ) {
        self.id = id
        self.workspaceID = workspaceID
        self.secretHash = secretHash
        self.scopes = scopes
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
    }
}
