import Logging
import NIOCore
import PostgresNIO
import SwitchboardCore

extension PostgresStore: StoreBenchmarking {
    /// Rows per INSERT statement: 29 parameters each, under PostgreSQL's 65,535 parameter limit.
    static let bulkRowsPerStatement = 1000

    package func bulkInsert(_ connections: [Connection]) async throws {
        guard !connections.isEmpty else { return }
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                var start = 0
                while start < connections.count {
                    let batch = connections[start..<min(start + Self.bulkRowsPerStatement, connections.count)]
                    let width = Self.boundColumnCount
                    var binds = PostgresBindings(capacity: width * batch.count)
                    var values: [String] = []
                    values.reserveCapacity(batch.count)
                    for (row, c) in batch.enumerated() {
                        Self.bind(c, into: &binds)
                        values.append("(" + (1...width).map { "$\(row * width + $0)" }.joined(separator: ",") + ")")
                    }
                    let sql =
                        "INSERT INTO connections (\(Self.connectionColumns), name_sort, category_mask) VALUES "
                        + values.joined(separator: ",")
                    _ = try await connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
                    start += batch.count
                }
            }
        }
    }

    package func settleAfterBulkLoad() async throws {
        try await mapped(deadline: .seconds(600)) { [client, logger] in
            _ = try await client.query("VACUUM ANALYZE connections", logger: logger)
            // Otherwise the load's dirty pages are written by a spread checkpoint during the first
            // minutes of measurement, under the first scenarios at 1,000,000 rows.
            // CHECKPOINT needs superuser or pg_checkpoint; without it the run goes on as before.
            do {
                _ = try await client.query("CHECKPOINT", logger: logger)
            } catch {
                logger.notice("bench: CHECKPOINT refused; the seed's writes may overlap the first measurements")
            }
        }
    }

    /// Drops (if present) and creates database `name` on the server `settings` points at, for a
    /// benchmark's scratch data. `name` must be a plain identifier.
    package static func recreateDatabase(_ name: String, on settings: PostgresSettings, logger: Logger) async throws {
        try await dropDatabase(name, on: settings, logger: logger)
        try await withAdminConnection(settings, logger: logger) { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
    }

    package static func dropDatabase(_ name: String, on settings: PostgresSettings, logger: Logger) async throws {
        // Spliced into the SQL: a plain lowercase identifier only.
        precondition(
            name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) }
        )
        try await withAdminConnection(settings, logger: logger) { connection in
            _ = try await connection.query(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"),
                logger: logger
            )
        }
    }

    private static func withAdminConnection(
        _ settings: PostgresSettings,
        logger: Logger,
        _ body: (PostgresConnection) async throws -> Void
    ) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: PostgresConnection.Configuration(
                host: settings.host,
                port: settings.port,
                username: settings.username,
                password: settings.password,
                database: settings.database,
                tls: .disable
            ),
            id: 1,
            logger: logger
        )
        do {
            try await body(connection)
        } catch {
            try? await connection.close()
            throw map(error)
        }
        try await connection.close()
    }

    package func rawList(_ query: ConnectionQuery) async throws -> Int {
        try await mapped { [client, logger] in
            try await Self.fetchAll(Self.pageRows(query, now: now(), client: client, logger: logger))
        }
    }

    package func rawGet(id: ConnectionID, workspace: WorkspaceID) async throws -> Int {
        try await mapped { [client, logger] in
            try await Self.fetchAll(
                client.execute(ConnectionByID(id: id.rawValue, workspace: workspace.rawValue), logger: logger)
            )
        }
    }

    /// Receives every row and takes each cell's bytes in place, as the endpoints' row reader does,
    /// without decoding or mapping anything.
    private static func fetchAll<Rows: AsyncSequence>(_ rows: Rows) async throws -> Int
    where Rows.Element == PostgresRow {
        var count = 0
        for try await row in rows {
            count += 1
            for cell in row { _ = cell.bytes?.readableBytes }
        }
        return count
    }

    package func rawJSONDump(workspace: WorkspaceID, environment: String) async throws -> (rows: Int, bytes: Int) {
        // Not under the operation deadline: a million rows take longer than one request may.
        do {
            var rows = 0
            var bytes = 0
            let sequence = try await client.query(
                """
                SELECT row_to_json(c)::text FROM (
                    SELECT \(unescaped: Self.connectionColumns) FROM connections
                    WHERE workspace_id = \(workspace.rawValue) AND environment = \(environment)
                    ORDER BY created_at, id
                ) c
                """,
                logger: logger
            )
            for try await row in sequence {
                let json = try row.decode(String.self)
                rows += 1
                bytes += json.utf8.count
            }
            return (rows, bytes)
        } catch {
            throw Self.map(error)
        }
    }
}
