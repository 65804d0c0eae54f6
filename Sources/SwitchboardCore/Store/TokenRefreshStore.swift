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
    /// lease and the row is still `previous` (at its version: a concurrent write wins). The events
    /// of the change from `previous` (a health transition) are written in the same transaction.
    /// Otherwise only releases the lease if `owner` holds it, and returns false.
    func finishRefresh(
        _ connection: Connection,
        replacing previous: Connection,
        owner: String,
        audit: AuditRecord?
    ) async throws -> Bool

    /// Releases the lease without writing, if `owner` holds it.
    func releaseRefreshLease(id: ConnectionID, owner: String) async throws

    /// For monitoring, across workspaces: connections needing re-authorization, and those whose
    /// refresh is due by `dueBy` with no backoff after `time`, with the earliest such expiry.
    func refreshBacklog(at time: Timestamp, dueBy: Timestamp) async throws -> RefreshBacklog
}

/// See `TokenRefreshStore.refreshBacklog`.
public struct RefreshBacklog: Sendable, Equatable {
    public var needsReauthorization: Int
    public var due: Int
    public var earliestDueExpiry: Timestamp?

    public init(needsReauthorization: Int, due: Int, earliestDueExpiry: Timestamp?) {
        self.needsReauthorization = needsReauthorization
        self.due = due
        self.earliestDueExpiry = earliestDueExpiry
    }
}
