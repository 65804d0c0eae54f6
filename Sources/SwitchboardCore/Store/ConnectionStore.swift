/// Persistence for connections. Implementations hold only sealed secrets and run every filter,
/// order and page in their database. Every method is scoped to one workspace: a row of another
/// workspace behaves exactly like a missing row.
public protocol ConnectionStore: Sendable {
    /// Inserts a new connection, and `audit` in the same transaction. Returns once both are durable.
    func insert(_ connection: Connection, audit: AuditRecord?) async throws

    /// The connection with `id` in `workspace`, or nil if there is none.
    func connection(id: ConnectionID, workspace: WorkspaceID) async throws -> Connection?

    /// One page of connections matching `query`, in its order.
    func list(_ query: ConnectionQuery) async throws -> [Connection]

    /// Read-modify-write of one connection, serialized in the database: the row is locked (or the
    /// single writer held) from the read until the write commits, so concurrent updates from any
    /// number of processes apply one after another and none is lost. `transform` gets the current
    /// row and returns the new one; if it throws, nothing is written. `audit` is appended in the
    /// same transaction when the row exists. Returns nil if there is no such connection.
    func update(
        id: ConnectionID,
        workspace: WorkspaceID,
        audit: AuditRecord?,
        _ transform: @escaping @Sendable (Connection) throws -> Connection
    ) async throws -> Connection?

    /// Deletes the connection and appends `audit` in the same transaction; returns false (and
    /// appends nothing) if there was none.
    func delete(id: ConnectionID, workspace: WorkspaceID, audit: AuditRecord?) async throws -> Bool

    /// Up to `limit` connections (any workspace) with ids after `id`, in id order, whose credentials
    /// are sealed under a key other than `keyID`: the work list of a key rotation.
    func connectionsSealed(notWith keyID: String, after id: ConnectionID?, limit: Int) async throws -> [Connection]

    /// Replaces sealed credentials in one transaction, each only if the row still holds exactly
    /// `old` (a concurrent update wins, and the next rotation pass picks its row up if needed).
    /// Returns how many rows were replaced.
    func replaceSealedAuth(_ swaps: [SealSwap]) async throws -> Int

    /// How many rows (connection credentials and secrets manager settings) are sealed under each key id.
    func sealedCountsByKey() async throws -> [String: Int]
}

/// One row's credentials re-sealed under another key.
public struct SealSwap: Sendable, Equatable {
    public var id: ConnectionID
    public var workspaceID: WorkspaceID
    public var old: SealedSecret
    public var new: SealedSecret

    public init(id: ConnectionID, workspaceID: WorkspaceID, old: SealedSecret, new: SealedSecret) {
        self.id = id
        self.workspaceID = workspaceID
        self.old = old
        self.new = new
    }
}

extension ConnectionStore {
    /// Unaudited writes, for seeding and tests.
    public func insert(_ connection: Connection) async throws { try await insert(connection, audit: nil) }

    public func update(
        id: ConnectionID,
        workspace: WorkspaceID,
        _ transform: @escaping @Sendable (Connection) throws -> Connection
    ) async throws -> Connection? {
        try await update(id: id, workspace: workspace, audit: nil, transform)
    }

    public func delete(id: ConnectionID, workspace: WorkspaceID) async throws -> Bool {
        try await delete(id: id, workspace: workspace, audit: nil)
    }
}
