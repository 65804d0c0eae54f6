/// A secret Switchboard created in a registered manager, and the connection it belongs to.
/// Switchboard overwrites and deletes only secrets it holds such a record for: a connection that
/// names an existing secret (an adopted one) reads it and never changes it. A name is owned by
/// one connection at most.
public struct ExternalSecretRecord: Sendable, Equatable {
    public var secretsManagerID: SecretsManagerID
    public var name: String
    public var workspaceID: WorkspaceID
    public var connectionID: ConnectionID
    public var createdAt: Timestamp

    public init(
        secretsManagerID: SecretsManagerID,
        name: String,
        workspaceID: WorkspaceID,
        connectionID: ConnectionID,
        createdAt: Timestamp
    ) {
        self.secretsManagerID = secretsManagerID
        self.name = name
        self.workspaceID = workspaceID
        self.connectionID = connectionID
        self.createdAt = createdAt
    }
}
