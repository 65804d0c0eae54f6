/// A single-use token the application's backend mints for one end user's authorization
/// (`POST /switchboard/authorize-token`), stored only as its hash. The authorize URL that presents
/// it takes its `external_xref` (and, when bound, its integration and environment) from it.
public struct AuthorizeToken: Sendable, Equatable {
    public var tokenHash: [UInt8]
    public var workspaceID: WorkspaceID
    public var externalXref: String?
    /// When set, the token opens only this integration's flow.
    public var integrationType: String?
    /// When set, the connection is created in this environment.
    public var environment: String?
    public var createdAt: Timestamp
    public var expiresAt: Timestamp

    public init(
        tokenHash: [UInt8],
        workspaceID: WorkspaceID,
        externalXref: String?,
        integrationType: String?,
        environment: String?,
        createdAt: Timestamp,
        expiresAt: Timestamp
    ) {
        self.tokenHash = tokenHash
        self.workspaceID = workspaceID
        self.externalXref = externalXref
        self.integrationType = integrationType
        self.environment = environment
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}
