/// Workspaces' settings for catalog integrations, and their redirect allowlists.
public protocol IntegrationStore: Sendable {
    /// Inserts or replaces the workspace's settings for one integration, with its audit record,
    /// in one transaction.
    func upsert(_ integration: StoredWorkspaceIntegration, audit: AuditRecord) async throws

    func workspaceIntegration(type: String, workspace: WorkspaceID) async throws -> StoredWorkspaceIntegration?

    /// The workspace's integrations, ordered by type.
    func workspaceIntegrations(workspace: WorkspaceID) async throws -> [StoredWorkspaceIntegration]

    /// Deletes them and appends `audit` in one transaction; false (nothing appended) if there were none.
    func deleteWorkspaceIntegration(type: String, workspace: WorkspaceID, audit: AuditRecord) async throws -> Bool

    /// Replaces the workspace's `redirectOrigins` and appends `audit` in one transaction; false if there is no such workspace.
    func setRedirectOrigins(_ origins: [String], workspace: WorkspaceID, audit: AuditRecord) async throws -> Bool

    /// Sets the workspace's `authorizeRequiresToken` and appends `audit` in one transaction; false
    /// if there is no such workspace.
    func setAuthorizeRequiresToken(_ required: Bool, workspace: WorkspaceID, audit: AuditRecord) async throws -> Bool

    /// Up to `limit` workspace integrations (any workspace) after `after` in (workspace, type) order,
    /// whose client secret is sealed under a key other than `keyID`: key rotation's work list.
    func workspaceIntegrationsSealed(
        notWith keyID: String,
        after: (workspace: WorkspaceID, type: String)?,
        limit: Int
    ) async throws -> [StoredWorkspaceIntegration]

    /// Replaces a client secret only if the row still holds exactly `old`; true if replaced.
    func replaceSealedClientSecret(
        workspace: WorkspaceID,
        type: String,
        old: SealedSecret,
        new: SealedSecret
    ) async throws -> Bool
}

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

/// The database side of token refresh. A lease is a pair of columns on the connection row, taken
/// and released by conditional updates, so every process and replica sees the same owner.
public protocol TokenRefreshStore: Sendable {
    /// Takes the connection's refresh lease for `owner` until `until`, unless another owner holds
    /// an unexpired one at `time`. Nil if there is no such connection.
    func acquireRefreshLease(
        id: ConnectionID,
        workspace: WorkspaceID,
        owner: String,
        at time: Timestamp,
        until: Timestamp
    ) async throws -> RefreshLease?

    /// Takes the leases of up to `limit` connections (any workspace) whose refresh is due: status
    /// `active` or `retrying`, token expiring at or before `dueBy`, no backoff after `time`, no
    /// unexpired lease. Rows another replica is claiming at the same moment are skipped, not waited for.
    func claimDueRefreshes(
        owner: String,
        at time: Timestamp,
        dueBy: Timestamp,
        until: Timestamp,
        limit: Int
    ) async throws -> [Connection]

    /// Writes the refreshed row (credentials, refresh state, health, `updated_at`, `version`) and
    /// releases the lease, with `audit` in the same transaction, only if `owner` still holds the
    /// lease and the row is still at `expectedVersion` (a concurrent write wins). Otherwise only
    /// releases the lease if `owner` holds it, and returns false.
    func finishRefresh(
        _ connection: Connection,
        owner: String,
        expectedVersion: Int64,
        audit: AuditRecord?
    ) async throws -> Bool

    /// Releases the lease without writing, if `owner` holds it.
    func releaseRefreshLease(id: ConnectionID, owner: String) async throws
}

extension AuthorizationStore {
    /// Inserts with the default per-workspace bound.
    public func insert(_ state: AuthorizationState) async throws {
        try await insert(state, keepingAtMost: AuthorizationState.pendingLimitPerWorkspace)
    }
}
