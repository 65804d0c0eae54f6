/// A complete backend: both stores plus schema management.
public protocol SwitchboardStore: ConnectionStore, ConnectionJSONStore, WorkspaceStore, AuditStore, SecretsManagerStore,
    StoreTransfer,
    IntegrationStore, AuthorizationStore, TokenRefreshStore, EnvironmentStore, APICallStore, EventStore, DashboardStore
{
    /// Applies pending migrations in order; returns the ids it applied.
    @discardableResult
    func migrate() async throws -> [String]

    /// Ids of the migrations already applied, in order.
    func appliedMigrations() async throws -> [String]

    /// Ids of every migration this version of the store knows, in order (readiness compares them
    /// with the applied ones).
    var migrationIDs: [String] { get }
}
