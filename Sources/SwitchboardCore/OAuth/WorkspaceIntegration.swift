/// A workspace's own settings for one catalog integration: its OAuth client, and whether end users
/// may connect it. The client secret is sealed like connection credentials.
public struct WorkspaceIntegration: Sendable, Equatable {
    public var workspaceID: WorkspaceID
    public var integrationType: String
    public var clientID: String
    /// False keeps the settings but refuses new authorizations.
    public var isActive: Bool
    /// Provider scopes added to every authorization of this workspace, beyond the catalog's defaults.
    public var extraScopes: [String]
    /// The workspace's own base URL for passthrough (a self-hosted Jira or GitLab), replacing the
    /// definition's `api.base_url`; nil uses the definition's.
    public var apiBaseURL: String?
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(
        workspaceID: WorkspaceID,
        integrationType: String,
        clientID: String,
        isActive: Bool,
        extraScopes: [String] = [],
        apiBaseURL: String? = nil,
        createdAt: Timestamp,
        updatedAt: Timestamp
    ) {
        self.workspaceID = workspaceID
        self.integrationType = integrationType
        self.clientID = clientID
        self.isActive = isActive
        self.extraScopes = extraScopes
        self.apiBaseURL = apiBaseURL
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A workspace integration as stored: the client secret sealed, bound to the workspace and type.
public struct StoredWorkspaceIntegration: Sendable, Equatable {
    public var integration: WorkspaceIntegration
    public var sealedClientSecret: SealedSecret

    public init(integration: WorkspaceIntegration, sealedClientSecret: SealedSecret) {
        self.integration = integration
        self.sealedClientSecret = sealedClientSecret
    }
}
