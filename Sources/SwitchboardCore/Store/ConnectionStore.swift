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

    /// Replaces the stored row with `connection` if its version is still `expectedVersion`.
    /// Returns false when the row is gone or was changed meanwhile (the caller re-reads and retries).
    func replace(_ connection: Connection, expectedVersion: Int64) async throws -> Bool

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
public protocol SwitchboardStore: ConnectionStore, WorkspaceStore {
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
