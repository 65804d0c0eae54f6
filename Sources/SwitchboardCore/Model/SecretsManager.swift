/// The kinds of secrets manager Unified's model names. Switchboard has clients for `aws` (AWS
/// Secrets Manager) and `hashicorp` (Vault or OpenBao, KV v2); the others are refused with a 400.
public enum SecretsManagerType: String, Sendable, CaseIterable {
    case aws, azure, gcp, hashicorp, composio
    case onePassword = "1password"
    case bitwarden, doppler, akeyless, pipedream, alibabacloud

    public static let supported: [SecretsManagerType] = [.aws, .hashicorp]
}

/// A workspace's registered secrets manager. `auth` holds the manager's own credentials (an AWS
/// access key, a Vault token) and is stored sealed like connection credentials; answers show only
/// its non-secret settings.
public struct SecretsManager: Sendable, Equatable {
    public var id: SecretsManagerID
    public var workspaceID: WorkspaceID
    public var name: String
    public var type: SecretsManagerType
    public var dcs: [String]
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(
        id: SecretsManagerID,
        workspaceID: WorkspaceID,
        name: String,
        type: SecretsManagerType,
        dcs: [String],
        createdAt: Timestamp,
        updatedAt: Timestamp
    ) {
        self.id = id
        self.workspaceID = workspaceID
        self.name = name
        self.type = type
        self.dcs = dcs
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A secrets manager as stored: its record plus its sealed settings.
public struct StoredSecretsManager: Sendable, Equatable {
    public var manager: SecretsManager
    /// The sealed JSON object of its `auth` settings.
    public var sealedAuth: SealedSecret

    public init(manager: SecretsManager, sealedAuth: SealedSecret) {
        self.manager = manager
        self.sealedAuth = sealedAuth
    }
}

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

/// Makes a client for a registered manager from its type and `auth` settings. Implemented where
/// the HTTP client lives; a bad setting is a `ValidationError` naming it.
public protocol SecretsManagerClientFactory: Sendable {
    /// The `auth` keys whose values are not secret and may be shown back (region, address...).
    func publicSettings(for type: SecretsManagerType) -> Set<String>
    func client(
        type: SecretsManagerType,
        auth: [String: String],
        name: String
    ) throws(ValidationError)
        -> any SecretsManagerClient
    /// Checks, before a manager is registered, that the egress policy lets Switchboard call the
    /// address its settings name (a `ValidationError` naming the host and the rule otherwise).
    func checkDestination(type: SecretsManagerType, auth: [String: String]) async throws(ValidationError)
}
