/// Persistence for connections. Implementations hold only sealed secrets and run every filter,
/// order and page in their database. Every method is scoped to one workspace: a row of another
/// workspace behaves exactly like a missing row.
public protocol ConnectionStore: Sendable {
    /// Inserts a new connection. Returns once the write is durable.
    func insert(_ connection: Connection) async throws

    /// The connection with `id` in `workspace`, or nil if there is none.
    func connection(id: ConnectionID, workspace: WorkspaceID) async throws -> Connection?

    /// One page of connections matching `query`, in its order.
    func list(_ query: ConnectionQuery) async throws -> [Connection]

    /// Read-modify-write of one connection, serialized in the database: the row is locked (or the
    /// single writer held) from the read until the write commits, so concurrent updates from any
    /// number of processes apply one after another and none is lost. `transform` gets the current
    /// row and returns the new one; if it throws, nothing is written. Returns nil if there is no
    /// such connection.
    func update(
        id: ConnectionID,
        workspace: WorkspaceID,
        _ transform: @escaping @Sendable (Connection) throws -> Connection
    ) async throws -> Connection?

    /// Deletes the connection; returns false if there was none.
    func delete(id: ConnectionID, workspace: WorkspaceID) async throws -> Bool
}

/// Persistence for workspaces and their API keys.
public protocol WorkspaceStore: Sendable {
    /// Inserts a workspace together with its first key, atomically.
    func insert(_ workspace: Workspace, firstKey: APIKeyRecord) async throws

    func workspace(id: WorkspaceID) async throws -> Workspace?

    func workspaceCount() async throws -> Int

    func insert(_ key: APIKeyRecord) async throws

    /// The key with this public id, revoked or not; nil if there is none.
    func apiKey(id: String) async throws -> APIKeyRecord?

    /// Marks the key revoked (idempotent). Returns the key, or nil if there is none.
    func revokeAPIKey(id: String, at time: Timestamp) async throws -> APIKeyRecord?
}

/// A complete backend: both stores plus schema management.
public protocol SwitchboardStore: ConnectionStore, WorkspaceStore, StoreTransfer, StoreBenchmarking {
    /// Applies pending migrations in order; returns the ids it applied.
    @discardableResult
    func migrate() async throws -> [String]

    /// Ids of the migrations already applied, in order.
    func appliedMigrations() async throws -> [String]
}

/// Failures a store reports in domain terms (drivers' errors are mapped inside the backend).
public enum StoreError: Error, Sendable, Equatable {
    /// A unique constraint was violated (for example an id generated twice).
    case duplicate(String)
    /// The database is unreachable or refused the operation; the request may be retried later.
    case unavailable(String)
}

extension StoreError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .duplicate(let detail): "already exists: \(detail)"
        case .unavailable(let detail): "the database is unavailable: \(detail)"
        }
    }
}

/// Bulk reads and writes for moving an install between backends (`switchboard copy`).
/// Sealed credentials are copied as they are: nothing is decrypted.
public protocol StoreTransfer: Sendable {
    /// True when the store holds no workspace (and so no key or connection).
    func isEmpty() async throws -> Bool

    func allWorkspaces() async throws -> [Workspace]

    func allAPIKeys() async throws -> [APIKeyRecord]

    /// Up to `limit` connections of every workspace with ids after `id`, in id order.
    func connections(after id: ConnectionID?, limit: Int) async throws -> [Connection]

    /// Inserts the records in one transaction, skipping any whose id already exists (so an
    /// interrupted copy can be run again). Returns how many rows were inserted.
    func importRecords(workspaces: [Workspace], apiKeys: [APIKeyRecord], connections: [Connection]) async throws -> Int
}
