import Foundation
import Logging
import SwitchboardCore
import SwitchboardSQLite
import SwitchboardTestSupport
import Testing

/// One behavioural contract for every store backend.
@Suite struct StoreContractTests {
    @Test(arguments: StoreBackend.enabled)
    func insertedConnectionReadsBackIdentically(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            var connection = makeConnection(in: workspace, name: "Hub", xref: "x", categories: ["crm", "hris"])
            connection.fields.authAwsArn = "arn"
            connection.fields.secretsmanagerKey = "k"
            connection.health = ConnectionHealth(
                lastHealthyAt: Timestamp(millisecondsSinceEpoch: 5),
                lastUnhealthyAt: Timestamp(millisecondsSinceEpoch: 6),
                lastUnhealthyCode: "401"
            )
            try await store.insert(connection)
            #expect(try await store.connection(id: connection.id, workspace: workspace) == connection)
        }
    }

    /// One owner per secret name: a second claim fails until the first is released.
    @Test(arguments: StoreBackend.enabled)
    func externalSecretsHaveOneOwner(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let manager = SecretsManagerID(rawValue: "sm_1")
            func record(_ connection: String) -> ExternalSecretRecord {
                ExternalSecretRecord(
                    secretsManagerID: manager,
                    name: "switchboard/w/x",
                    workspaceID: workspace,
                    connectionID: ConnectionID(rawValue: connection),
                    createdAt: Timestamp(millisecondsSinceEpoch: 1)
                )
            }
            #expect(try await store.externalSecretOwner(secretsManager: manager, name: "switchboard/w/x") == nil)
            #expect(try await store.claimExternalSecret(record("a")))
            #expect(try await !store.claimExternalSecret(record("b")))
            #expect(
                try await store.externalSecretOwner(secretsManager: manager, name: "switchboard/w/x")?.rawValue == "a"
            )
            #expect(
                try await store.externalSecretOwner(
                    secretsManager: SecretsManagerID(rawValue: "sm_2"),
                    name: "switchboard/w/x"
                ) == nil
            )
            try await store.releaseExternalSecret(secretsManager: manager, name: "switchboard/w/x")
            #expect(try await store.claimExternalSecret(record("b")))
            #expect(try await store.allExternalSecrets() == [record("b")])
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func anotherWorkspacesRowBehavesAsMissing(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let mine = try await makeWorkspace(store)
            let theirs = try await makeWorkspace(store, name: "other")
            let connection = makeConnection(in: mine)
            try await store.insert(connection)
            #expect(try await store.connection(id: connection.id, workspace: theirs) == nil)
            #expect(try await store.update(id: connection.id, workspace: theirs) { $0 } == nil)
            #expect(try await store.delete(id: connection.id, workspace: theirs) == false)
            #expect(try await store.list(ConnectionQuery(workspaceID: theirs)).isEmpty)
            #expect(try await store.connection(id: connection.id, workspace: mine) == connection)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func updateWritesWhatTheTransformReturnsAndNothingWhenItThrows(_ backend: StoreBackend) async throws {
        struct Refused: Error {}
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let original = makeConnection(in: workspace)
            try await store.insert(original)
            let updated = try await store.update(id: original.id, workspace: workspace) { current in
                var next = current
                next.fields.externalXref = "changed"
                next.sealedAuth = nil
                next.version += 1
                return next
            }
            #expect(updated?.fields.externalXref == "changed")
            #expect(try await store.connection(id: original.id, workspace: workspace) == updated)
            await #expect(throws: Refused.self) {
                _ = try await store.update(id: original.id, workspace: workspace) { _ in throw Refused() }
            }
            #expect(try await store.connection(id: original.id, workspace: workspace) == updated)
            #expect(try await store.update(id: ConnectionID(rawValue: "missing"), workspace: workspace) { $0 } == nil)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func concurrentUpdatesAreSerializedAndNoneIsLost(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let original = makeConnection(in: workspace)
            try await store.insert(original)
            // 50 concurrent increments of `version`: with a lost update the final count would be lower.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        _ = try await store.update(id: original.id, workspace: workspace) { current in
                            var next = current
                            next.version += 1
                            return next
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.connection(id: original.id, workspace: workspace)?.version == original.version + 50)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func deleteRemovesOnce(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let connection = makeConnection(in: workspace)
            try await store.insert(connection)
            #expect(try await store.delete(id: connection.id, workspace: workspace))
            #expect(try await store.delete(id: connection.id, workspace: workspace) == false)
            #expect(try await store.connection(id: connection.id, workspace: workspace) == nil)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func duplicateIDsAreReportedAsDuplicates(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let connection = makeConnection(in: workspace)
            try await store.insert(connection)
            await #expect(throws: StoreError.self) { try await store.insert(connection) }
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func listFiltersSortsAndPagesInTheStore(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            var rows: [Connection] = []
            for i in 0..<20 {
                let row = makeConnection(
                    in: workspace,
                    at: 1_700_000_000_000 + Int64(i % 5) * 1000,
                    type: "t\(i % 3)",
                    name: i % 4 == 0 ? nil : "n\(i % 2)",
                    xref: "u\(i % 2)",
                    categories: i % 2 == 0 ? ["crm"] : ["hris", "ats"],
                    environment: i % 5 == 4 ? "Sandbox" : "Production"
                )
                try await store.insert(row)
                rows.append(row)
            }
            let production = rows.filter { $0.fields.environment == "Production" }
            var query = ConnectionQuery(workspaceID: workspace)
            query.limit = 1000
            let all = try await store.list(query)
            #expect(
                all.map(\.id)
                    == production.sorted { ($0.createdAt, $0.id.rawValue) < ($1.createdAt, $1.id.rawValue) }.map(\.id)
            )

            query.categories = [Category("ats")!]
            #expect(
                Set(try await store.list(query).map(\.id))
                    == Set(production.filter { $0.fields.categories.contains(Category("ats")!) }.map(\.id))
            )
            query.categories = []

            query.externalXref = "u0"
            query.updatedGTE = Timestamp(millisecondsSinceEpoch: 1_700_000_002_000)
            let filtered = try await store.list(query)
            #expect(
                Set(filtered.map(\.id))
                    == Set(
                        production.filter {
                            $0.fields.externalXref == "u0" && $0.updatedAt.millisecondsSinceEpoch >= 1_700_000_002_000
                        }.map(\.id)
                    )
            )

            var named = ConnectionQuery(workspaceID: workspace)
            named.sort = .name
            named.order = .desc
            named.limit = 5
            named.offset = 2
            let expected = production.sorted {
                ($0.fields.nameSortKey, $0.fields.integrationType, $0.id.rawValue) > (
                    $1.fields.nameSortKey, $1.fields.integrationType, $1.id.rawValue
                )
            }
            #expect(try await store.list(named).map(\.id) == Array(expected[2..<7].map(\.id)))
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func keysAreFoundByIDAndRevokedIdempotently(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let key = APIKeyRecord(
                id: APIKey.generate().id,
                workspaceID: workspace,
                secretHash: [1, 2, 3],
                scopes: ScopeSet([.connectionsRead, .auditRead]),
                createdAt: Timestamp(millisecondsSinceEpoch: 1)
            )
            try await store.insert(key, audit: nil)
            #expect(try await store.apiKey(id: key.id) == key)
            try await store.touchAPIKey(id: key.id, at: Timestamp(millisecondsSinceEpoch: 5))
            try await store.touchAPIKey(id: key.id, at: Timestamp(millisecondsSinceEpoch: 4))
            #expect(try await store.apiKey(id: key.id)?.lastUsedAt == Timestamp(millisecondsSinceEpoch: 5))
            let audit = AuditRecord(
                .apiKeyRevoke,
                by: .cli(workspace: workspace),
                at: Timestamp(millisecondsSinceEpoch: 10)
            )
            let first = try await store.revokeAPIKey(
                id: key.id,
                at: Timestamp(millisecondsSinceEpoch: 10),
                audit: audit
            )
            let second = try await store.revokeAPIKey(
                id: key.id,
                at: Timestamp(millisecondsSinceEpoch: 20),
                audit: audit
            )
            #expect(first?.revokedAt == Timestamp(millisecondsSinceEpoch: 10))
            #expect(second?.revokedAt == Timestamp(millisecondsSinceEpoch: 10))
            // A revoked key's last use stays its last accepted one.
            try await store.touchAPIKey(id: key.id, at: Timestamp(millisecondsSinceEpoch: 30))
            #expect(try await store.apiKey(id: key.id)?.lastUsedAt == Timestamp(millisecondsSinceEpoch: 5))
            #expect(
                try await store.revokeAPIKey(
                    id: "0000000000000000",
                    at: Timestamp(millisecondsSinceEpoch: 1),
                    audit: audit
                )
                    == nil
            )
            // Only the call that revoked the key is audited.
            let revocations = try await store.auditRecords(AuditQuery(workspaceID: workspace, action: .apiKeyRevoke))
            #expect(revocations.count == 1)
            #expect(try await store.apiKeys(workspace: workspace).map(\.id).contains(key.id))
            #expect(try await store.workspaceCount() == 1)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func migrationsAreRecordedInOrderAndIdempotent(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let applied = try await store.appliedMigrations()
            let all = [
                "0001_create_workspaces_keys_connections", "0002_key_scopes_audit_log", "0003_secrets_managers",
                "0004_oauth",
                "0005_list_filters_in_indexes", "0006_updated_gte_by_hour", "0007_updated_at_in_created_order",
                "0008_external_secret_ownership", "0009_environments", "0010_needing_reauthorization",
                "0011_proxy_scope", "0012_passthrough", "0013_events", "0014_dashboard",
            ]
            #expect(applied == all)
            #expect(try await store.migrate().isEmpty)
            #expect(try await store.appliedMigrations() == applied)
        }
    }
}

@Suite struct SQLiteStoreTests {
    @Test func concurrentMigratorsOnOneFileApplyEachMigrationOnce() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "switchboard-mig-\(UUID().uuidString)"
        )
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("db.sqlite").path
        let stores = try (0..<4).map { _ in try SQLiteStore(path: path, logger: testLogger) }
        let results = try await withThrowingTaskGroup(of: [String].self) { group in
            for store in stores { group.addTask { try await store.migrate() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(
            results.flatMap { $0 }.sorted() == [
                "0001_create_workspaces_keys_connections", "0002_key_scopes_audit_log", "0003_secrets_managers",
                "0004_oauth",
                "0005_list_filters_in_indexes",
                "0006_updated_gte_by_hour", "0007_updated_at_in_created_order", "0008_external_secret_ownership",
                "0009_environments", "0010_needing_reauthorization", "0011_proxy_scope", "0012_passthrough",
                "0013_events", "0014_dashboard",
            ]
        )
    }
}
