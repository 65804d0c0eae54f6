import Foundation
import GRDB
import Logging
import SwitchboardCore

/// The embedded backend: one SQLite file in WAL mode, one writer and concurrent readers.
///
/// Durability: `synchronous=FULL`, so a write is on disk (WAL fsynced) before it is acknowledged,
/// surviving power loss as well as a killed process. See docs/operations.md.
public struct SQLiteStore: SwitchboardStore {
    let pool: DatabasePool
    public let path: String
    /// The clock list planning reads (which hours an `updated_gte` window spans), the services' own.
    let now: @Sendable () -> Timestamp
    let telemetry: StoreTelemetry

    /// Opens (creating if needed) the database file at `path`. Does not migrate.
    public init(path: String, logger: Logger, now: @escaping @Sendable () -> Timestamp = Timestamp.now) throws {
        self.path = path
        self.now = now
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try Self.restrictFiles(path: path, directory: directory)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.maximumReaderCount = 4
        // Four readers and the writer.
        telemetry = StoreTelemetry(backend: "sqlite", poolSize: configuration.maximumReaderCount + 1)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError.unavailable("cannot open SQLite database at \(path): \(Self.describe(error))")
        }
        logger.debug("Opened SQLite database", metadata: ["path": "\(path)"])
    }

    public func close() throws { try pool.close() }

    /// The data directory is created 0700 and the database file 0600 before SQLite opens it:
    /// SQLite gives its -wal and -shm files the database file's mode, so all three hold
    /// credentials' ciphertexts readable by the service's user only. Files of an older install
    /// are narrowed the same way.
    static func restrictFiles(path: String, directory: String) throws {
        let manager = FileManager.default
        if !manager.fileExists(atPath: directory) {
            try manager.createDirectory(
                atPath: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
        }
        if !manager.fileExists(atPath: path) {
            _ = manager.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        for file in [path, path + "-wal", path + "-shm"] where manager.fileExists(atPath: file) {
            try? manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        }
    }

    // MARK: Migrations

    @discardableResult
    public func migrate() async throws -> [String] {
        try await mapped {
            try await pool.writeWithoutTransaction { db in
                var applied: [String] = []
                try db.execute(
                    sql:
                        "CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)"
                )
                for migration in SQLiteMigrations.all {
                    // IMMEDIATE takes the write lock first, so two processes never both apply one.
                    try db.inTransaction(.immediate) {
                        let done =
                            try Bool.fetchOne(
                                db,
                                sql: "SELECT EXISTS(SELECT 1 FROM schema_migrations WHERE id = ?)",
                                arguments: [migration.id]
                            ) ?? false
                        if !done {
                            try db.execute(sql: migration.sql)
                            try db.execute(
                                sql: "INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)",
                                arguments: [migration.id, Timestamp.now().millisecondsSinceEpoch]
                            )
                            applied.append(migration.id)
                        }
                        return .commit
                    }
                }
                return applied
            }
        }
    }

    public var migrationIDs: [String] { SQLiteMigrations.all.map(\.id) }

    public func appliedMigrations() async throws -> [String] {
        try await mapped {
            try await pool.read { db in
                guard try db.tableExists("schema_migrations") else { return [] }
                return try String.fetchAll(db, sql: "SELECT id FROM schema_migrations ORDER BY id")
            }
        }
    }

    // MARK: Error mapping

    /// Runs `body`, mapping SQLite failures to `StoreError` so no driver type crosses the boundary.
    func mapped<T>(operation: String = #function, _ body: () async throws -> T) async throws -> T {
        do {
            return try await telemetry.measure(operation, body)
        } catch let error as DatabaseError {
            switch error.resultCode {
            case .SQLITE_CONSTRAINT
            where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
                || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY:
                // Only a unique key is a duplicate, as on PostgreSQL (23505); any other constraint
                // (a foreign key, a trigger's refusal) is a fault and stays one.
                throw StoreError.duplicate(error.message ?? "unique constraint violated")
            case .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_IOERR, .SQLITE_FULL, .SQLITE_CANTOPEN, .SQLITE_READONLY,
                .SQLITE_CORRUPT, .SQLITE_NOTADB:
                throw StoreError.unavailable(Self.describe(error))
            default:
                throw error
            }
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return "SQLite error \(error.resultCode.rawValue): \(error.message ?? "")"
        }
        return String(describing: error)
    }
}
