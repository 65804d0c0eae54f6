import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import SwitchboardCore

/// The scale-out backend: any number of stateless replicas on one PostgreSQL database.
///
/// The client pool must be running (`run()`) while the store is used. Every operation has a
/// deadline, so an unreachable database yields `StoreError.unavailable` instead of a hang.
public struct PostgresStore: SwitchboardStore {
    let client: PostgresClient
    let logger: Logger
    let operationTimeout: Duration
    /// The clock list planning reads (which hours an `updated_gte` window spans), the services' own.
    let now: @Sendable () -> Timestamp
    /// Keeps every operation's deadline; runs inside `run()`, beside the pool.
    let watchdog = DeadlineWatchdog()
    let telemetry: StoreTelemetry

    /// `operationTimeout` overrides the settings' deadline.
    public init(
        settings: PostgresSettings,
        logger: Logger,
        operationTimeout: Duration? = nil,
        now: @escaping @Sendable () -> Timestamp = Timestamp.now
    ) {
        self.now = now
        telemetry = StoreTelemetry(backend: "postgresql", poolSize: settings.poolSize)
        client = PostgresClient(configuration: settings.clientConfiguration, backgroundLogger: logger)
        self.logger = logger
        self.operationTimeout = operationTimeout ?? settings.operationTimeout
    }

    /// Runs the connection pool until the calling task is cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await client.run() }
            group.addTask { await watchdog.run() }
        }
    }

    // MARK: Migrations

    @discardableResult
    public func migrate() async throws -> [String] {
        // Migrations may wait for another replica's and may build indexes over large tables: they
        // get minutes, not the request deadline.
        try await mapped(deadline: .seconds(600)) { [client, logger] in
            try await client.withConnection { connection in
                try await Self.withMigrationLock(on: connection, logger: logger) {
                    _ = try await connection.query(
                        "CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                        logger: logger
                    )
                    var applied: [String] = []
                    for migration in PostgresMigrations.all {
                        let done = try await connection.query(
                            "SELECT 1 FROM schema_migrations WHERE id = \(migration.id)",
                            logger: logger
                        ).collect()
                        guard done.isEmpty else { continue }
                        let record: PostgresQuery = """
                            INSERT INTO schema_migrations (id, applied_at)
                            VALUES (\(migration.id), \(Timestamp.now().millisecondsSinceEpoch))
                            """
                        if migration.steps.contains(where: \.isOnline) {
                            // Index builds that must not block writes: each step on its own, outside a
                            // transaction (CONCURRENTLY cannot run in one), recorded when all are done.
                            for step in migration.steps {
                                try await Self.run(step, on: connection, logger: logger)
                            }
                            _ = try await connection.query(record, logger: logger)
                        } else {
                            try await connection.withTransaction(logger: logger) { connection in
                                for step in migration.steps {
                                    try await Self.run(step, on: connection, logger: logger)
                                }
                                _ = try await connection.query(record, logger: logger)
                            }
                        }
                        logger.info("applied migration", metadata: ["migration": "\(migration.id)"])
                        applied.append(migration.id)
                    }
                    return applied
                }
            }
        }
    }

    /// Runs `body` holding the schema's migration lock, a session-level advisory lock, so replicas
    /// starting together queue here instead of racing (installs in other schemas of the database
    /// do not wait). A session lock, because index builds run outside transactions. Waiters poll
    /// with `pg_try_advisory_lock` rather than block: a session blocked in `pg_advisory_lock` holds
    /// a snapshot, which a concurrent index build waits for, and the two would wait for each other.
    static func withMigrationLock<T>(
        on connection: PostgresConnection,
        logger: Logger,
        _ body: () async throws -> T
    ) async throws -> T {
        let key = PostgresMigrations.advisoryLockKey
        while try await connection.query(
            "SELECT pg_try_advisory_lock(hashtextextended(current_schema(), \(key)))",
            logger: logger
        ).collect().first?.decode(Bool.self) != true {
            try await Task.sleep(for: .milliseconds(100))
        }
        let unlock: PostgresQuery = "SELECT pg_advisory_unlock(hashtextextended(current_schema(), \(key)))"
        do {
            let result = try await body()
            _ = try await connection.query(unlock, logger: logger)
            return result
        } catch {
            // A broken connection releases the lock as it closes.
            _ = try? await connection.query(unlock, logger: logger)
            throw error
        }
    }

    static func run(_ step: PostgresMigrationStep, on connection: PostgresConnection, logger: Logger) async throws {
        func execute(_ sql: String) async throws {
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
        func isEmpty(_ table: String) async throws -> Bool {
            try await connection.query(PostgresQuery(unsafeSQL: "SELECT 1 FROM \(table) LIMIT 1"), logger: logger)
                .collect().isEmpty
        }
        switch step {
        case .sql(let sql):
            try await execute(sql)
        case .createIndexConcurrently(let name, let table, let columns):
            let valid = try await connection.query(
                "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(\(name))",
                logger: logger
            ).collect().first?.decode(Bool.self)
            if valid == true { return }
            if valid == false {
                // Left invalid by a build that was interrupted: it is not used and not complete.
                logger.warning(
                    "rebuilding an index left invalid by an interrupted build",
                    metadata: ["index": "\(name)"]
                )
                try await execute("DROP INDEX CONCURRENTLY IF EXISTS \(name)")
            }
            let concurrently = try await isEmpty(table) ? "" : "CONCURRENTLY "
            try await execute("CREATE INDEX \(concurrently)\(name) ON \(table) \(columns)")
        case .dropIndexConcurrently(let name, let table):
            let concurrently = try await isEmpty(table) ? "" : "CONCURRENTLY "
            try await execute("DROP INDEX \(concurrently)IF EXISTS \(name)")
        }
    }

    public var migrationIDs: [String] { PostgresMigrations.all.map(\.id) }

    public func appliedMigrations() async throws -> [String] {
        try await mapped {
            let exists =
                try await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger)
                .collect().first.map { try $0.decode(Bool.self) } ?? false
            guard exists else { return [] }
            var ids: [String] = []
            for try await id in try await client.query("SELECT id FROM schema_migrations ORDER BY id", logger: logger)
                .decode(String.self)
            {
                ids.append(id)
            }
            return ids
        }
    }

    // MARK: Error mapping

    /// Runs `body` under the operation deadline (or `deadline`, for long work such as migrations),
    /// mapping driver failures to `StoreError` so no driver type crosses the boundary.
    func mapped<T: Sendable>(
        deadline: Duration? = nil,
        operation: String = #function,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let timeout = deadline ?? operationTimeout
        do {
            return try await telemetry.measure(operation) {
                try await withDeadline(
                    timeout,
                    onTimeout: { StoreError.unavailable("PostgreSQL did not answer within \(timeout)") },
                    watchdog: watchdog,
                    body
                )
            }
        } catch {
            throw Self.map(error)
        }
    }

    static func map(_ error: any Error) -> any Error {
        switch error {
        case let error as PostgresTransactionError:
            // The closure's own error (a validation failure, say) is what the caller must see.
            return map(error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError ?? error)
        case let error as PSQLError:
            guard let state = error.serverInfo?[.sqlState] else {
                // No server answer at all: the connection failed or was closed.
                return StoreError.unavailable("PostgreSQL connection failed: \(error.code)")
            }
            if state == "23505" { return StoreError.duplicate(error.serverInfo?[.message] ?? "unique violation") }
            // Class 08 (connection), 53 (resources), 57 (operator intervention: shutdown), 58 (system).
            if ["08", "53", "57", "58"].contains(String(state.prefix(2))) {
                return StoreError.unavailable("PostgreSQL error \(state)")
            }
            return error
        case is CancellationError:
            return StoreError.unavailable("PostgreSQL operation cancelled")
        case let error as IOError:
            return StoreError.unavailable("PostgreSQL connection failed: \(error.errnoCode)")
        case let error as ChannelError:
            return StoreError.unavailable("PostgreSQL connection failed: \(error)")
        default:
            return error
        }
    }
}

/// Connection settings, parsed from `postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=...`.
public struct PostgresSettings: Sendable, Equatable {
    public enum TLSMode: String, Sendable, Equatable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, certificate verified.
        case prefer
        /// TLS or fail; like libpq, the certificate is not verified (use verify-full for that).
        case require
        /// TLS or fail, with the certificate and host name verified.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// The most connections each replica opens (`pool_size`, 1...1000).
    public var poolSize: Int = 20
    /// Every store operation's deadline, waiting for a pooled connection included.
    public var operationTimeout: Duration = .seconds(5)
    /// Schema to use instead of `public` (tests isolate themselves this way).
    public var searchPath: String?

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public init(url: String) throws(Invalid) {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme) else {
            throw Invalid(description: "not a postgres:// URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw Invalid(description: "the postgres URL names no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw Invalid(description: "the postgres URL names no user")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !database.isEmpty else { throw Invalid(description: "the postgres URL names no database") }
        self.host = host
        port = components.port ?? 5432
        username = user.removingPercentEncoding ?? user
        password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database.removingPercentEncoding ?? database
        tls = .prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value {
                case "disable": tls = .disable
                case "prefer", "allow": tls = .prefer
                case "require": tls = .require
                case "verify-full", "verify-ca": tls = .verifyFull
                default: throw Invalid(description: "sslmode must be disable, prefer, require or verify-full")
                }
            case "pool_size":
                guard let size = item.value.flatMap({ Int($0) }), (1...1000).contains(size) else {
                    throw Invalid(description: "pool_size must be a whole number from 1 to 1000")
                }
                poolSize = size
            default:
                throw Invalid(description: "unknown postgres URL parameter \"\(item.name)\"")
            }
        }
    }

    /// The PostgresNIO client configuration these settings describe.
    public var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host,
            port: port,
            username: username,
            password: password,
            database: database,
            tls: tls.clientTLS
        )
        configuration.options.connectTimeout = .seconds(3)
        // The minimum stays 0. A fixed-size pool (minimum = maximum) would spare the idle-timeout
        // timer task PostgresNIO arms on every return of a connection above the minimum (get by id:
        // 7,800 -> 10,500 requests/s), but PostgresNIO 1.33.2 then traps on a lease made while
        // connections lost in a PostgreSQL crash are being reopened (`minimumConcurrentConnections
        // <= stats.active` in `createNewDemandConnectionIfPossible`; e2e/replicas/test_outage.py).
        configuration.options.maximumConnections = poolSize
        if let searchPath {
            configuration.options.additionalStartupParameters = [("search_path", searchPath)]
        }
        return configuration
    }

    /// The URL with the password replaced, for logs and messages.
    public var redacted: String {
        "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }
}

extension PostgresSettings.TLSMode {
    var clientTLS: PostgresClient.Configuration.TLS {
        switch self {
        case .disable: return .disable
        // As in libpq, prefer and require encrypt without verifying the certificate.
        case .prefer: return .prefer(Self.unverified)
        case .require: return .require(Self.unverified)
        case .verifyFull: return .require(.makeClientConfiguration())
        }
    }

    private static var unverified: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        return configuration
    }
}
