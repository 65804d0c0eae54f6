import Logging
import SwitchboardCore
import SwitchboardCrypto
import SwitchboardPostgres
import SwitchboardSQLite

/// The composition root: the one place that turns configuration into a store, a sealer and the
/// services. `serve`, every CLI command and every HTTP test go through `Runtime.run`.
public struct Runtime: Sendable {
    public let store: any SwitchboardStore
    public let connections: ConnectionService
    public let workspaces: WorkspaceService
    /// The sealer `connections` uses; `switchboard bench` seals its bulk-loaded rows with it.
    public let sealer: any SecretSealer
    public let logger: Logger

    /// Opens the database, applies pending migrations (append-only, safe on every start and from
    /// several replicas at once), runs `body`, and closes everything when it returns.
    ///
    /// PostgreSQL's connection pool runs as a child task for exactly the duration of `body`.
    public static func run<T: Sendable>(
        database: DatabaseLocation,
        masterKey: String?,
        logger: Logger,
        now: @escaping @Sendable () -> Timestamp = Timestamp.now,
        _ body: @Sendable (Runtime) async throws -> T
    ) async throws -> T {
        // Resolve the key first: a missing key must fail before anything touches the database.
        let keyRing = try MasterKeyLoader(environmentValue: masterKey, dataDirectory: database.dataDirectory)
            .load(logger: logger)
        return try await withStore(database, logger: logger) { store in
            let sealer = AESGCMSealer(keyRing: keyRing)
            return try await body(
                Runtime(
                    store: store,
                    connections: ConnectionService(store: store, sealer: sealer, now: now),
                    workspaces: WorkspaceService(store: store, hasher: SHA256APIKeyHasher(), now: now),
                    sealer: sealer,
                    logger: logger
                )
            )
        }
    }

    /// Opens and migrates the store alone, with no key: for work that never decrypts, such as
    /// `switchboard copy`. PostgreSQL's connection pool runs for exactly the duration of `body`.
    public static func withStore<T: Sendable>(
        _ database: DatabaseLocation,
        logger: Logger,
        _ body: @Sendable (any SwitchboardStore) async throws -> T
    ) async throws -> T {
        switch database {
        case .sqlite(let path):
            let store = try SQLiteStore(path: path, logger: logger)
            defer { try? store.close() }
            try await migrate(store, logger: logger)
            return try await body(store)
        case .postgres(let settings):
            let store = PostgresStore(settings: settings, logger: logger)
            return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
                group.addTask { await store.run() }
                defer { group.cancelAll() }
                try await migrate(store, logger: logger)
                return try await body(store)
            }
        }
    }

    private static func migrate(_ store: any SwitchboardStore, logger: Logger) async throws {
        let applied = try await store.migrate()
        if !applied.isEmpty { logger.info("Applied migrations", metadata: ["migrations": "\(applied)"]) }
    }
}
