/// Pending authorizations and re-authorization tokens: short-lived, single-use.
public protocol AuthorizationStore: Sendable {
    /// Inserts the state and, in the same transaction, evicts the workspace's oldest pending
    /// states beyond `limit`: the anonymous authorize URL cannot grow the table without bound.
    func insert(_ state: AuthorizationState, keepingAtMost limit: Int) async throws

    /// Spends the state with this hash, atomically: of any number of concurrent callers (in any
    /// process), exactly one gets `.consumed`. Expiry is the caller's to check.
    func consumeAuthorizationState(hash: [UInt8], at time: Timestamp) async throws -> StateConsumption

    /// Stores a re-authorization token and its audit record in one transaction.
    func insert(_ token: ReauthToken, audit: AuditRecord) async throws

    /// Spends the token if it exists, belongs to this connection and workspace, is unspent and
    /// unexpired at `time`; true when this call spent it.
    func consumeReauthToken(
        hash: [UInt8],
        connection: ConnectionID,
        workspace: WorkspaceID,
        at time: Timestamp
    ) async throws -> Bool

    /// Stores an authorize token and its audit record in one transaction.
    func insert(_ token: AuthorizeToken, audit: AuditRecord) async throws

    /// Spends the token of this workspace if it is unspent and unexpired at `time`, atomically
    /// (of concurrent callers exactly one gets it); nil otherwise.
    func consumeAuthorizeToken(
        hash: [UInt8],
        workspace: WorkspaceID,
        at time: Timestamp
    ) async throws
        -> AuthorizeToken?

    /// Deletes states and tokens that expired before `time`; returns how many.
    func purgeExpiredAuthorizations(before time: Timestamp) async throws -> Int
}

extension AuthorizationStore {
    /// Inserts with the default per-workspace bound.
    public func insert(_ state: AuthorizationState) async throws {
        try await insert(state, keepingAtMost: AuthorizationState.pendingLimitPerWorkspace)
    }
}
