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

    /// The same page as the wire's JSON array without credentials, written straight from the rows
    /// with `ConnectionJSON.writeWithoutAuth`: the read path of keys that may not see credentials.
    /// Confirms in the same database round trip that the API key `keyID` exists unrevoked, and
    /// returns `.keyNotLive` (and nothing read) if it does not.
    func listJSONWithoutAuth(
        _ query: ConnectionQuery,
        confirmingKey keyID: String
    ) async throws
        -> KeyConfirmedRead<ConnectionPageJSON>

    /// The connection as the wire's JSON object without credentials, or nil if there is none;
    /// confirms the key as `listJSONWithoutAuth` does.
    func connectionJSONWithoutAuth(
        id: ConnectionID,
        workspace: WorkspaceID,
        confirmingKey keyID: String
    ) async throws -> KeyConfirmedRead<[UInt8]?>

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

/// A read that also confirmed the caller's API key: its result, or that the key is revoked or gone.
public enum KeyConfirmedRead<Value: Sendable>: Sendable {
    case keyNotLive
    case read(Value)
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

/// Registered secrets managers, their settings sealed.
public protocol SecretsManagerStore: Sendable {
    /// Inserts the manager and its audit record in one transaction.
    func insert(_ manager: StoredSecretsManager, audit: AuditRecord) async throws

    func secretsManager(id: SecretsManagerID, workspace: WorkspaceID) async throws -> StoredSecretsManager?

    /// The workspace's managers, oldest first, paged.
    func secretsManagers(workspace: WorkspaceID, limit: Int, offset: Int) async throws -> [StoredSecretsManager]

    /// How many connections of the workspace keep their credentials in this manager.
    func connectionCount(secretsManager id: SecretsManagerID, workspace: WorkspaceID) async throws -> Int

    /// Records that Switchboard creates `record.name` for its connection; false (and nothing
    /// recorded) when the name is already owned by a connection.
    func claimExternalSecret(_ record: ExternalSecretRecord) async throws -> Bool

    /// The connection that owns the secret `name` of the manager, if Switchboard created it.
    func externalSecretOwner(secretsManager id: SecretsManagerID, name: String) async throws -> ConnectionID?

    /// Forgets the ownership of `name` (after the secret was deleted, or its creation failed).
    func releaseExternalSecret(secretsManager id: SecretsManagerID, name: String) async throws

    /// Deletes the manager and appends `audit` in one transaction, unless a connection still uses
    /// it; returns false (and appends nothing) if there was none.
    func deleteSecretsManager(id: SecretsManagerID, workspace: WorkspaceID, audit: AuditRecord) async throws -> Bool

    /// Up to `limit` managers (any workspace) with ids after `id`, in id order, sealed under a key
    /// other than `keyID`.
    func secretsManagersSealed(
        notWith keyID: String,
        after id: SecretsManagerID?,
        limit: Int
    ) async throws
        -> [StoredSecretsManager]

    /// Replaces a manager's sealed settings only if it still holds exactly `old`; true if replaced.
    func replaceSealedAuth(
        secretsManager id: SecretsManagerID,
        old: SealedSecret,
        new: SealedSecret
    ) async throws
        -> Bool
}

/// The append-only audit log.
public protocol AuditStore: Sendable {
    /// Appends the records in one transaction; returns once they are durable.
    func append(_ records: [AuditRecord]) async throws

    /// Records matching `query`, newest first.
    func auditRecords(_ query: AuditQuery) async throws -> [AuditRecord]
}

/// Persistence for workspaces and their API keys.
public protocol WorkspaceStore: Sendable {
    /// Inserts a workspace together with its first key and the key's audit record, atomically.
    func insert(_ workspace: Workspace, firstKey: APIKeyRecord, audit: AuditRecord) async throws

    func workspace(id: WorkspaceID) async throws -> Workspace?

    func workspaceCount() async throws -> Int

    /// Inserts a key and its audit record in one transaction.
    func insert(_ key: APIKeyRecord, audit: AuditRecord?) async throws

    /// The key with this public id, revoked or not; nil if there is none.
    func apiKey(id: String) async throws -> APIKeyRecord?

    /// Every key of the workspace, revoked ones included, oldest first.
    func apiKeys(workspace: WorkspaceID) async throws -> [APIKeyRecord]

    /// Marks the key revoked (idempotent). `audit` is appended in the same transaction only when
    /// this call revoked it. Returns the key, or nil if there is none.
    func revokeAPIKey(id: String, at time: Timestamp, audit: AuditRecord?) async throws -> APIKeyRecord?

    /// Records that the key authenticated a request at `time`; a revoked key is left as it is (a
    /// request that its read then refuses was not a use).
    func touchAPIKey(id: String, at time: Timestamp) async throws
}

/// A complete backend: both stores plus schema management.
public protocol SwitchboardStore: ConnectionStore, WorkspaceStore, AuditStore, SecretsManagerStore, StoreTransfer,
    StoreBenchmarking, IntegrationStore, AuthorizationStore, TokenRefreshStore
{
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
    /// The row is still referenced (a secrets manager that connections use).
    case inUse(String)
    /// The database is unreachable or refused the operation; the request may be retried later.
    case unavailable(String)
}

extension StoreError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .duplicate(let detail): "already exists: \(detail)"
        case .inUse(let detail): "still in use: \(detail)"
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

    /// Every registered secrets manager of every workspace, settings still sealed.
    func allSecretsManagers() async throws -> [StoredSecretsManager]

    /// Inserts the managers in one transaction, skipping any whose id exists. Returns how many
    /// were inserted.
    func importSecretsManagers(_ managers: [StoredSecretsManager]) async throws -> Int

    /// Every ownership record of secrets Switchboard created in external managers.
    func allExternalSecrets() async throws -> [ExternalSecretRecord]

    /// Inserts them in one transaction, skipping any whose (manager, name) exists. Returns how
    /// many were inserted.
    func importExternalSecrets(_ records: [ExternalSecretRecord]) async throws -> Int

    /// Every workspace integration of every workspace, client secrets still sealed.
    func allWorkspaceIntegrations() async throws -> [StoredWorkspaceIntegration]

    /// Inserts them in one transaction, skipping any whose (workspace, type) exists. Returns how
    /// many were inserted.
    func importWorkspaceIntegrations(_ integrations: [StoredWorkspaceIntegration]) async throws -> Int

    /// Up to `limit` audit records of every workspace with a sequence after `sequence`, in order.
    func auditRecords(after sequence: Int64?, limit: Int) async throws -> [AuditRecord]

    /// Inserts audit records in one transaction keeping their sequence numbers, skipping any whose
    /// sequence exists; later appends continue after the highest. Returns how many were inserted.
    func importAuditRecords(_ records: [AuditRecord]) async throws -> Int
}
