import Logging
import SwitchboardCore
import SwitchboardCrypto
import SwitchboardSQLite

/// The composition root: the one place that turns configuration into a store, a sealer and the
/// services. `serve`, every CLI command and every HTTP test go through `open`.
public struct Runtime: Sendable {
    public let store: any SwitchboardStore
    public let connections: ConnectionService
    public let workspaces: WorkspaceService
    public let logger: Logger

    /// Opens the database and applies pending migrations (append-only, safe to run every start).
    public static func open(
        database: DatabaseLocation,
        masterKey: String?,
        logger: Logger,
        now: @escaping @Sendable () -> Timestamp = Timestamp.now
    ) async throws -> Runtime {
        let store: any SwitchboardStore
        switch database {
        case .sqlite(let path):
            store = try SQLiteStore(path: path, logger: logger)
        }
        let applied = try await store.migrate()
        if !applied.isEmpty { logger.info("Applied migrations", metadata: ["migrations": "\(applied)"]) }
        let keyRing = try MasterKeyLoader(environmentValue: masterKey, dataDirectory: database.dataDirectory)
            .load(logger: logger)
        return Runtime(
            store: store,
            connections: ConnectionService(store: store, sealer: AESGCMSealer(keyRing: keyRing), now: now),
            workspaces: WorkspaceService(store: store, hasher: SHA256APIKeyHasher(), now: now),
            logger: logger
        )
    }
}
