/// The kinds of secrets manager Unified's model names. Switchboard has clients for `aws` (AWS
/// Secrets Manager), `hashicorp` (Vault or OpenBao, KV v2), `azure` (Azure Key Vault) and `gcp`
/// (Google Cloud Secret Manager); the others are refused with a 400.
public enum SecretsManagerType: String, Sendable, CaseIterable {
    case aws, azure, gcp, hashicorp, composio
    case onePassword = "1password"
    case bitwarden, doppler, akeyless, pipedream, alibabacloud

    public static let supported: [SecretsManagerType] = [.aws, .hashicorp, .azure, .gcp]

    /// What separates the parts of the names Switchboard derives and reserves
    /// (`switchboard/<workspace id>/<connection id>`): `/` where names are paths, `-` where a name
    /// holds only letters, digits and hyphens (Key Vault's rule, within Secret Manager's).
    public var nameSeparator: String {
        switch self {
        case .azure, .gcp: "-"
        default: "/"
        }
    }

    /// `name` as the manager compares names: Key Vault's names are case-insensitive
    /// (`SWITCHBOARD-...` is the secret `switchboard-...`), the others' are not.
    public func comparable(_ name: String) -> String {
        self == .azure ? name.lowercased() : name
    }
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
