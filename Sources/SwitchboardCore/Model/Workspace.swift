/// A tenant: it owns connections and API keys, and sees nothing of other workspaces.
public struct Workspace: Sendable, Equatable {
    public var id: WorkspaceID
    public var name: String
    public var createdAt: Timestamp
    /// Origins (`https://app.example.com`) that OAuth authorizations may redirect end users to.
    public var redirectOrigins: [String]
    /// When true, the anonymous authorize URL needs a single-use token the application's backend
    /// minted (`POST /switchboard/authorize-token`), so nobody who merely knows the workspace id
    /// can plant a connection for any `external_xref`.
    public var authorizeRequiresToken: Bool
    /// The environments declared besides `Production` (which always exists), oldest first
    /// (`/unified/environment`).
    public var environments: [String]

    public init(
        id: WorkspaceID,
        name: String,
        createdAt: Timestamp,
        redirectOrigins: [String] = [],
        authorizeRequiresToken: Bool = false,
        environments: [String] = []
    ) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
        self.redirectOrigins = redirectOrigins
        self.authorizeRequiresToken = authorizeRequiresToken
        self.environments = environments
    }
}
