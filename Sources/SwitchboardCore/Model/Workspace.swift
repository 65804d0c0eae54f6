/// A tenant: it owns connections and API keys, and sees nothing of other workspaces.
public struct Workspace: Sendable, Equatable {
    public var id: WorkspaceID
    public var name: String
    public var createdAt: Timestamp

    public init(id: WorkspaceID, name: String, createdAt: Timestamp) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
    }
}

/// A stored API key: its public id, its workspace and the hash of the full secret (never the secret).
public struct APIKeyRecord: Sendable, Equatable {
    /// Public, non-secret part of the key (`sbk_<id>_...`); also how revocation names a key.
    public var id: String
    public var workspaceID: WorkspaceID
    public var secretHash: [UInt8]
    public var createdAt: Timestamp
    public var revokedAt: Timestamp?

    public init(
        id: String,
        workspaceID: WorkspaceID,
        secretHash: [UInt8],
        createdAt: Timestamp,
        revokedAt: Timestamp? = nil
    ) {
        self.id = id
        self.workspaceID = workspaceID
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// Who is calling: the workspace and key a request was authenticated as.
public struct Principal: Sendable, Equatable {
    public var workspaceID: WorkspaceID
    public var keyID: String

    public init(workspaceID: WorkspaceID, keyID: String) {
        self.workspaceID = workspaceID
        self.keyID = keyID
    }
}
