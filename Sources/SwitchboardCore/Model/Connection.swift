/// A stored connection: a workspace's authorized link to one third-party integration.
///
/// Holds credentials only in sealed form; `ConnectionService` opens them when a caller may see them.
public struct Connection: Sendable, Equatable {
    public var id: ConnectionID
    public var workspaceID: WorkspaceID
    public var fields: ConnectionFields
    /// Sealed `auth` object; nil when the connection has no credentials stored here.
    public var sealedAuth: SealedSecret?
    public var isPaused: Bool
    public var health: ConnectionHealth
    /// OAuth token refresh bookkeeping; nil unless the token expires and Switchboard refreshes it.
    public var refresh: TokenRefreshState?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    /// Incremented on every update (a cheap change marker for clients and tools).
    public var version: Int64

    public init(
        id: ConnectionID,
        workspaceID: WorkspaceID,
        fields: ConnectionFields,
        sealedAuth: SealedSecret?,
        isPaused: Bool = false,
        health: ConnectionHealth = ConnectionHealth(),
        refresh: TokenRefreshState? = nil,
        createdAt: Timestamp,
        updatedAt: Timestamp,
        version: Int64 = 1
    ) {
        self.id = id
        self.workspaceID = workspaceID
        self.fields = fields
        self.sealedAuth = sealedAuth
        self.isPaused = isPaused
        self.health = health
        self.refresh = refresh
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.version = version
    }
}

/// The fields a client may write.
public struct ConnectionFields: Sendable, Equatable {
    public static let defaultEnvironment = "Production"

    public var integrationType: String
    public var integrationName: String?
    public var externalXref: String?
    public var permissions: [Permission]
    public var categories: [Category]
    public var environment: String
    public var authAwsArn: String?
    public var authAzureKeyvaultID: String?
    public var authGcpSecretName: String?
    public var authHashiVaultPath: String?
    public var secretsmanagerID: String?
    public var secretsmanagerKey: String?

    public init(
        integrationType: String,
        integrationName: String? = nil,
        externalXref: String? = nil,
        permissions: [Permission],
        categories: [Category],
        environment: String = defaultEnvironment,
        authAwsArn: String? = nil,
        authAzureKeyvaultID: String? = nil,
        authGcpSecretName: String? = nil,
        authHashiVaultPath: String? = nil,
        secretsmanagerID: String? = nil,
        secretsmanagerKey: String? = nil
    ) {
        self.integrationType = integrationType
        self.integrationName = integrationName
        self.externalXref = externalXref
        self.permissions = permissions
        self.categories = categories
        self.environment = environment
        self.authAwsArn = authAwsArn
        self.authAzureKeyvaultID = authAzureKeyvaultID
        self.authGcpSecretName = authGcpSecretName
        self.authHashiVaultPath = authHashiVaultPath
        self.secretsmanagerID = secretsmanagerID
        self.secretsmanagerKey = secretsmanagerKey
    }

    /// Sort key for `sort=name`: the integration name, then the type.
    public var nameSortKey: String { integrationName ?? "" }
}

/// Server-maintained health fields (read-only on the wire).
public struct ConnectionHealth: Sendable, Equatable {
    public var lastHealthyAt: Timestamp?
    public var lastUnhealthyAt: Timestamp?
    public var lastUnhealthyCode: String?

    public init(lastHealthyAt: Timestamp? = nil, lastUnhealthyAt: Timestamp? = nil, lastUnhealthyCode: String? = nil) {
        self.lastHealthyAt = lastHealthyAt
        self.lastUnhealthyAt = lastUnhealthyAt
        self.lastUnhealthyCode = lastUnhealthyCode
    }

    /// False when the last thing known is a failure (`last_unhealthy_at` after `last_healthy_at`).
    public var isHealthy: Bool {
        guard let unhealthy = lastUnhealthyAt else { return true }
        return (lastHealthyAt ?? Timestamp(millisecondsSinceEpoch: 0)) > unhealthy
    }
}

/// A connection as returned to a caller: with its credentials opened, when the caller may see them.
public struct RevealedConnection: Sendable, Equatable {
    public var connection: Connection
    public var auth: ConnectionAuth?

    public init(connection: Connection, auth: ConnectionAuth?) {
        self.connection = connection
        self.auth = auth
    }
}
