import Foundation
import GRDB
import PostgresNIO
import SwitchboardCore
import SwitchboardTestSupport
import Testing

@testable import SwitchboardPostgres
@testable import SwitchboardSQLite

/// Upgrading a database written before 0004: existing rows read as before, and keys that held
/// every scope gain the new one.
@Suite struct MigrationUpgradeTests {
    static let allOld =
        "connections:read,connections:credentials,connections:write,keys:admin,audit:read,secretsmanagers:admin"

    /// Rows as a 0003 database holds them: a workspace, a full key, a narrower key, a connection.
    /// `blob` is the backend's literal for a one-byte hash.
    static func seed(blob: String) -> [String] {
        [
            "INSERT INTO workspaces (id, name, created_at) VALUES ('w', 'w', 1)",
            "INSERT INTO api_keys (id, workspace_id, secret_hash, created_at, scopes) VALUES ('full', 'w', \(blob), 1, '\(allOld)')",
            "INSERT INTO api_keys (id, workspace_id, secret_hash, created_at, scopes) VALUES ('narrow', 'w', \(blob), 1, 'connections:read')",
            """
            INSERT INTO connections (id, workspace_id, integration_type, name_sort, permissions, categories, category_mask,
                environment, is_paused, created_at, updated_at, version)
            VALUES ('c', 'w', 'hubspot', '', '', 'crm', 1, 'Production', FALSE, 1, 2, 3)
            """,
            """
            INSERT INTO secrets_managers (id, workspace_id, name, type, dcs, auth_key_id, auth_ciphertext, created_at,
                updated_at)
            VALUES ('m', 'w', 'vault', 'hashicorp', '', 'k', \(blob), 1, 1)
            """,
            """
            INSERT INTO connections (id, workspace_id, integration_type, name_sort, permissions, categories, category_mask,
                environment, is_paused, created_at, updated_at, version, secretsmanager_id, auth_hashi_vault_path)
            VALUES ('e1', 'w', 'hubspot', '', '', 'crm', 1, 'Production', FALSE, 1, 2, 3, 'm', 'kv/app')
            """,
            """
            INSERT INTO connections (id, workspace_id, integration_type, name_sort, permissions, categories, category_mask,
                environment, is_paused, created_at, updated_at, version, secretsmanager_id)
            VALUES ('e2', 'w', 'hubspot', '', '', 'crm', 1, 'Production', FALSE, 1, 2, 3, 'm')
            """,
        ]
    }

    static func checkUpgraded(_ store: any SwitchboardStore) async throws {
        #expect(try await store.apiKey(id: "full")?.scopes == .all)
        #expect(try await store.apiKey(id: "narrow")?.scopes == ScopeSet([.connectionsRead]))
        let connection = try #require(
            try await store.connection(id: ConnectionID(rawValue: "c"), workspace: WorkspaceID(rawValue: "w"))
        )
        #expect(connection.refresh == nil && connection.version == 3)
        #expect(try await store.workspace(id: WorkspaceID(rawValue: "w"))?.redirectOrigins == [])
        // Secrets Switchboard wrote for connections before 0008 stay theirs.
        let manager = SecretsManagerID(rawValue: "m")
        #expect(try await store.externalSecretOwner(secretsManager: manager, name: "kv/app")?.rawValue == "e1")
        #expect(
            try await store.externalSecretOwner(secretsManager: manager, name: "switchboard/w/e2")?.rawValue == "e2"
        )
    }

    @Test func sqliteUpgradesA0003Database() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "switchboard-up-\(UUID().uuidString)"
        )
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("db.sqlite").path
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: "CREATE TABLE schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)")
            for migration in SQLiteMigrations.all.prefix(3) {
                try db.execute(sql: migration.sql)
                try db.execute(
                    sql: "INSERT INTO schema_migrations (id, applied_at) VALUES (?, 0)",
                    arguments: [migration.id]
                )
            }
            for statement in Self.seed(blob: "X'68'") { try db.execute(sql: statement) }
        }
        try queue.close()
        let store = try SQLiteStore(path: path, logger: testLogger)
        defer { try? store.close() }
        #expect(
            try await store.migrate() == [
                "0004_oauth", "0005_list_filters_in_indexes", "0006_updated_gte_by_hour",
                "0007_updated_at_in_created_order", "0008_external_secret_ownership", "0009_environments",
                "0010_needing_reauthorization", "0011_proxy_scope", "0012_passthrough", "0013_events", "0014_dashboard",
            ]
        )
        try await Self.checkUpgraded(store)
    }

    @Test(.enabled(if: TestPostgres.isEnabled)) func postgresUpgradesA0003Database() async throws {
        try await TestPostgres.withSchema { settings in
            try await TestPostgres.withStore(settings) { store in
                _ = try await store.client.query(
                    "CREATE TABLE schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)"
                )
                for migration in PostgresMigrations.all.prefix(3) {
                    for case .sql(let statement) in migration.steps {
                        _ = try await store.client.query(PostgresQuery(unsafeSQL: statement))
                    }
                    _ = try await store.client.query(
                        "INSERT INTO schema_migrations (id, applied_at) VALUES (\(migration.id), 0)"
                    )
                }
                for statement in Self.seed(blob: "'\\x68'::bytea") {
                    _ = try await store.client.query(PostgresQuery(unsafeSQL: statement))
                }
                #expect(
                    try await store.migrate() == [
                        "0004_oauth", "0005_list_filters_in_indexes", "0006_updated_gte_by_hour",
                        "0007_updated_at_in_created_order", "0008_external_secret_ownership", "0009_environments",
                        "0010_needing_reauthorization", "0011_proxy_scope", "0012_passthrough", "0013_events",
                        "0014_dashboard",
                    ]
                )
                try await Self.checkUpgraded(store)
            }
        }
    }
}
