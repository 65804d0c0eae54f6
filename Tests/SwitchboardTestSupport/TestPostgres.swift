import Foundation
import Logging
import PostgresNIO
import SwitchboardPostgres
import Synchronization

/// The PostgreSQL server tests use, from `SWITCHBOARD_TEST_POSTGRES_URL`.
///
/// When `SWITCHBOARD_TEST_REQUIRE_POSTGRES=1` (CI sets it), a missing or unreachable server fails
/// the tests instead of skipping PostgreSQL silently.
public enum TestPostgres {
    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String {
            "SWITCHBOARD_TEST_REQUIRE_POSTGRES=1 but SWITCHBOARD_TEST_POSTGRES_URL is not set (run scripts/postgres-up.sh)"
        }
    }

    public static var url: String? {
        let value = ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_POSTGRES_URL"] ?? ""
        return value.isEmpty ? nil : value
    }

    public static var isRequired: Bool {
        ProcessInfo.processInfo.environment["SWITCHBOARD_TEST_REQUIRE_POSTGRES"] == "1"
    }

    /// Whether PostgreSQL tests run: configured, or required (and then failing loudly).
    public static var isEnabled: Bool { url != nil || isRequired }

    /// Test helpers hold one connection each, so parallel tests stay within the server's limit.
    static func adminConfiguration(_ settings: PostgresSettings) -> PostgresClient.Configuration {
        var admin = settings
        admin.searchPath = nil
        admin.poolSize = 1
        return admin.clientConfiguration
    }

    static var quietLogger: Logger { testLogger }

    /// How many tests hold schemas, and so connections, at once. Unbounded, the suite's parallel
    /// tests reached the server's `max_connections` (300) on 2 cores: connections refused with
    /// "too many clients" slowed the suite and once stalled it in CI, and a higher limit only let
    /// more backends compete for the cores (queries then waited past their 30 s deadline).
    static let schemaSlots = Slots(48)
    /// Whether this task already holds a slot: a second schema a test opens counts against it.
    @TaskLocal static var holdsSlot = false

    /// Runs `body` with settings whose `search_path` is a fresh schema, dropped afterwards, so
    /// tests run in parallel on one database without seeing each other. At most `schemaSlots`
    /// tests run here at once; the others wait their turn before opening any connection.
    public static func withSchema<T: Sendable>(_ body: @Sendable (PostgresSettings) async throws -> T) async throws -> T
    {
        if holdsSlot { return try await withFreshSchema(body) }
        await schemaSlots.acquire()
        defer { schemaSlots.release() }
        return try await $holdsSlot.withValue(true) { try await withFreshSchema(body) }
    }

    private static func withFreshSchema<T: Sendable>(
        _ body: @Sendable (PostgresSettings) async throws -> T
    ) async throws -> T {
        guard let url else { throw NotConfigured() }
        var settings = try PostgresSettings(url: url)
        let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        settings.searchPath = schema
        settings.poolSize = 3
        // Tests run many at once on a small pool on a shared 2-core machine: queueing for one of
        // the 3 connections must not look like an outage. Deadline tests set their own.
        settings.operationTimeout = .seconds(30)
        let admin = PostgresClient(configuration: adminConfiguration(settings), backgroundLogger: quietLogger)
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await admin.run() }
            defer { group.cancelAll() }
            _ = try await admin.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(schema)"))
            do {
                let result = try await body(settings)
                _ = try? await admin.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"))
                return result
            } catch {
                _ = try? await admin.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"))
                throw error
            }
        }
    }
}

extension TestPostgres {
    /// Every row of every table in the settings' schema, as PostgreSQL's text form (bytea as hex):
    /// what someone with a copy of the database would read.
    public static func dumpRows(_ settings: PostgresSettings) async throws -> String {
        let client = PostgresClient(configuration: adminConfiguration(settings), backgroundLogger: quietLogger)
        return try await withThrowingTaskGroup(of: Void.self, returning: String.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let schema = settings.searchPath ?? "public"
            var tables: [String] = []
            for try await name in try await client.query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = \(schema)"
            ).decode(String.self) {
                tables.append(name)
            }
            var dump = ""
            for table in tables {
                let rows = try await client.query(PostgresQuery(unsafeSQL: "SELECT t::text FROM \(schema).\(table) t"))
                for try await text in rows.decode(String.self) { dump += text + "\n" }
            }
            return dump
        }
    }
}

/// A logger for tests: errors only, so expected failures (an unreachable server) stay quiet.
public var testLogger: Logger {
    var logger = Logger(label: "test")
    logger.logLevel = .error
    return logger
}

extension TestPostgres {
    /// Runs `body` with a store on `settings` (not migrated) whose connection pool runs for
    /// exactly the duration of `body`.
    public static func withStore<T: Sendable>(
        _ settings: PostgresSettings,
        _ body: @Sendable (PostgresStore) async throws -> T
    ) async throws -> T {
        let store = PostgresStore(settings: settings, logger: testLogger)
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            return try await body(store)
        }
    }
}

/// A counting semaphore for tests: `acquire` waits (in order of arrival) while none is free.
final class Slots: Sendable {
    private let state: Mutex<(free: Int, waiting: [CheckedContinuation<Void, Never>])>

    init(_ count: Int) { state = Mutex((count, [])) }

    func acquire() async {
        await withCheckedContinuation { continuation in
            let granted = state.withLock { state in
                guard state.free > 0 else {
                    state.waiting.append(continuation)
                    return false
                }
                state.free -= 1
                return true
            }
            if granted { continuation.resume() }
        }
    }

    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.free += 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
