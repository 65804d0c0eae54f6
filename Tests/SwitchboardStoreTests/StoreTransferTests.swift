import Foundation
import Logging
import SwitchboardCore
import SwitchboardPostgres
import SwitchboardSQLite
import SwitchboardTestSupport
import Testing

@Suite struct StoreTransferTests {
    /// Every pair of enabled backends: SQLite to SQLite always, SQLite to PostgreSQL and back in CI.
    static var pairs: [(StoreBackend, StoreBackend)] {
        StoreBackend.enabled.flatMap { from in StoreBackend.enabled.map { (from, $0) } }
    }

    @Test(arguments: pairs)
    func copyMovesEveryRowUnchangedAndRefusesANonEmptyTarget(from: StoreBackend, to: StoreBackend) async throws {
        try await from.withStore { source in
            // given: two workspaces, extra keys, a revoked key, and more connections than one batch
            let first = try await makeWorkspace(source, name: "first")
            let second = try await makeWorkspace(source, name: "second")
            var revoked = APIKeyRecord(
                id: APIKey.generate().id,
                workspaceID: second,
                secretHash: [7],
                scopes: ScopeSet([.connectionsRead]),
                createdAt: Timestamp(millisecondsSinceEpoch: 3)
            )
            try await source.insert(revoked, audit: nil)
            revoked = try #require(
                try await source.revokeAPIKey(id: revoked.id, at: Timestamp(millisecondsSinceEpoch: 4), audit: nil)
            )
            var originals: [Connection] = []
            for i in 0..<23 {
                var connection = makeConnection(
                    in: i % 3 == 0 ? second : first,
                    at: 1_700_000_000_000 + Int64(i),
                    name: i % 2 == 0 ? "n\(i)" : nil,
                    xref: "x\(i)",
                    categories: ["crm", "hris"],
                    sealed: i % 4 == 0 ? nil : SealedSecret(keyID: "mk_a", ciphertext: [UInt8(i), 1, 2])
                )
                connection.health.lastUnhealthyCode = i % 5 == 0 ? "401" : nil
                if i % 3 == 1 {
                    connection.refresh = TokenRefreshState(
                        status: i % 2 == 0 ? .active : .retrying,
                        expiresAt: Timestamp(millisecondsSinceEpoch: 1_700_000_100_000 + Int64(i)),
                        attempts: i % 2,
                        nextAttemptAt: i % 2 == 0 ? nil : Timestamp(millisecondsSinceEpoch: 1_700_000_000_500)
                    )
                }
                try await source.insert(connection)
                originals.append(connection)
            }
            // 2 key creations from makeWorkspace, a manager's creation, 6 reveals, and (below) an
            // integration and redirect origins: 11 audit records.
            try await source.append(
                (0..<6).map {
                    AuditRecord(
                        workspaceID: first,
                        at: Timestamp(millisecondsSinceEpoch: Int64($0)),
                        actor: "k",
                        action: .credentialsRead,
                        connectionID: originals[$0].id,
                        clientAddress: "10.0.0.\($0)"
                    )
                }
            )
            let manager = StoredSecretsManager(
                manager: SecretsManager(
                    id: SecretsManagerID(rawValue: "sm-1"),
                    workspaceID: first,
                    name: "vault",
                    type: .hashicorp,
                    dcs: ["us", "eu"],
                    createdAt: Timestamp(millisecondsSinceEpoch: 5),
                    updatedAt: Timestamp(millisecondsSinceEpoch: 6)
                ),
                sealedAuth: SealedSecret(keyID: "mk_a", ciphertext: [4, 5, 6])
            )
            try await source.insert(
                manager,
                audit: AuditRecord(
                    .secretsManagerCreate,
                    by: .cli(workspace: first),
                    at: .init(millisecondsSinceEpoch: 5)
                )
            )
            // A workspace integration and redirect origins move too (two more audit records); a
            // pending authorization does not.
            let integration = StoredWorkspaceIntegration(
                integration: WorkspaceIntegration(
                    workspaceID: second,
                    integrationType: "hubspot",
                    clientID: "client",
                    isActive: true,
                    extraScopes: ["offline_access"],
                    createdAt: Timestamp(millisecondsSinceEpoch: 7),
                    updatedAt: Timestamp(millisecondsSinceEpoch: 8)
                ),
                sealedClientSecret: SealedSecret(keyID: "mk_a", ciphertext: [7, 7])
            )
            let time = Timestamp(millisecondsSinceEpoch: 9)
            // An event webhook, so the integration's event below is pending in the outbox.
            let webhook = EventWebhook(
                workspaceID: second,
                url: "https://hooks.example.com/x",
                types: [],
                secret: SealedSecret(keyID: "mk_a", ciphertext: [5, 5]),
                updatedAt: time
            )
            try await source.setEventWebhook(
                webhook,
                workspace: second,
                audit: AuditRecord(.eventWebhookUpdate, by: .cli(workspace: second), at: time)
            )
            try await source.upsert(
                integration,
                audit: AuditRecord(.integrationEnable, by: .cli(workspace: second), at: time)
            )
            _ = try await source.setRedirectOrigins(
                ["https://app.example.com"],
                workspace: first,
                audit: AuditRecord(.redirectOriginsUpdate, by: .cli(workspace: first), at: time)
            )
            _ = try await source.addEnvironments(
                ["Staging", "Dev"],
                workspace: first,
                maximum: 100,
                audit: AuditRecord(.environmentCreate, by: .cli(workspace: first), at: time)
            )
            try await source.insert(
                AuthorizationState(
                    stateHash: [1],
                    workspaceID: first,
                    integrationType: "hubspot",
                    environment: "Production",
                    externalXref: nil,
                    callerState: nil,
                    successRedirect: nil,
                    failureRedirect: nil,
                    permissions: [],
                    subdomain: nil,
                    connectionID: nil,
                    createdAt: time,
                    expiresAt: time
                )
            )
            let owned = ExternalSecretRecord(
                secretsManagerID: manager.manager.id,
                name: "switchboard/first/conn",
                workspaceID: manager.manager.workspaceID,
                connectionID: originals[0].id,
                createdAt: time
            )
            #expect(try await source.claimExternalSecret(owned))
            let written = originals
            try await to.withStore { target in
                // when
                let report = try await StoreCopy.copy(from: source, to: target, allowNonEmpty: false, batchSize: 5)
                // then
                let counts = [
                    report.workspaces, report.apiKeys, report.secretsManagers, report.workspaceIntegrations,
                    report.connections, report.auditRecords, report.skipped,
                ]
                #expect(counts == [2, 3, 1, 1, 23, 13, 0])
                #expect(report.externalSecrets == 1)
                #expect(report.eventWebhooks == 1 && report.events == 1)
                #expect(try await target.allEventWebhooks() == [webhook])
                let events = try await source.events(after: nil, limit: 10)
                #expect(events.map(\.type) == [.integrationActivated] && events.first?.delivery == .pending)
                #expect(try await target.events(after: nil, limit: 10) == events)
                #expect(try await target.allExternalSecrets() == [owned])
                #expect(try await target.allSecretsManagers() == [manager])
                #expect(try await target.allWorkspaceIntegrations() == [integration])
                #expect(try await target.workspace(id: first)?.redirectOrigins == ["https://app.example.com"])
                #expect(try await target.workspace(id: first)?.environments == ["Staging", "Dev"])
                #expect(try await target.consumeAuthorizationState(hash: [1], at: time) == .unknown)
                let sourceAudit = try await source.auditRecords(after: nil, limit: 100)
                #expect(try await target.auditRecords(after: nil, limit: 100) == sourceAudit)
                // New records continue after the copied ones.
                try await target.append([
                    AuditRecord(workspaceID: first, at: .now(), actor: "k", action: .credentialsRead)
                ])
                let appended = try await target.auditRecords(after: sourceAudit.last?.sequence, limit: 10)
                #expect(appended.count == 1)
                #expect(try await target.allWorkspaces() == source.allWorkspaces())
                #expect(try await target.allAPIKeys() == source.allAPIKeys())
                for original in written {
                    #expect(try await target.connection(id: original.id, workspace: original.workspaceID) == original)
                }
                // and a second copy is refused, or skips everything when allowed
                await #expect(throws: StoreCopy.Failure.targetNotEmpty) {
                    try await StoreCopy.copy(from: source, to: target, allowNonEmpty: false)
                }
                let again = try await StoreCopy.copy(from: source, to: target, allowNonEmpty: true)
                #expect(again.skipped == 2 + 3 + 1 + 1 + 23 + 13 + 1 + 1 + 1)
            }
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func connectionsAfterPagesThroughEveryWorkspaceInIDOrder(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let a = try await makeWorkspace(store)
            let b = try await makeWorkspace(store, name: "b")
            var ids: [String] = []
            for i in 0..<7 {
                let connection = makeConnection(in: i % 2 == 0 ? a : b, at: 1_700_000_000_000 + Int64(i))
                try await store.insert(connection)
                ids.append(connection.id.rawValue)
            }
            var seen: [String] = []
            var after: ConnectionID?
            while true {
                let page = try await store.connections(after: after, limit: 3)
                guard let last = page.last else { break }
                seen += page.map(\.id.rawValue)
                after = last.id
            }
            #expect(seen == ids.sorted())
        }
    }
}

@Suite struct PostgresSettingsTests {
    @Test func parsesURLsWithEveryPart() throws {
        let settings = try PostgresSettings(
            url: "postgres://app%40x:p%3Ass@db.example:6543/switch%20board?sslmode=require"
        )
        #expect(settings.username == "app@x")
        #expect(settings.password == "p:ss")
        #expect(settings.host == "db.example")
        #expect(settings.port == 6543)
        #expect(settings.database == "switch board")
        #expect(settings.tls == .require)
        #expect(!settings.redacted.contains("p:ss"))
        #expect(settings.poolSize == 20)
        #expect(try PostgresSettings(url: "postgres://u@h/d?pool_size=4&sslmode=disable").poolSize == 4)
        let defaults = try PostgresSettings(url: "postgresql://u@h/d")
        #expect(defaults.port == 5432)
        #expect(defaults.password == nil)
        #expect(defaults.tls == .prefer)
    }

    @Test(arguments: [
        "mysql://u@h/d", "postgres://h/d", "postgres://u@/d", "postgres://u@h", "postgres://u@h/d?sslmode=maybe",
        "postgres://u@h/d?application=x", "postgres://u@h/d?pool_size=0", "postgres://u@h/d?pool_size=many",
    ])
    func rejectsIncompleteOrUnknownURLs(_ url: String) {
        #expect(throws: PostgresSettings.Invalid.self) { try PostgresSettings(url: url) }
    }
}

@Suite(.enabled(if: TestPostgres.isEnabled)) struct PostgresStoreTests {
    @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
        try await TestPostgres.withSchema { settings in
            let stores = (0..<4).map { _ in PostgresStore(settings: settings, logger: testLogger) }
            let applied = try await withThrowingTaskGroup(of: Void.self, returning: [String].self) { runners in
                for store in stores { runners.addTask { await store.run() } }
                defer { runners.cancelAll() }
                return try await withThrowingTaskGroup(of: [String].self) { group in
                    for store in stores { group.addTask { try await store.migrate() } }
                    return try await group.reduce(into: []) { $0 += $1 }
                }
            }
            #expect(
                applied.sorted() == [
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

    @Test func anUnreachableServerIsUnavailableWithinTheDeadline() async throws {
        var settings = try PostgresSettings(url: "postgres://nobody@127.0.0.1:9/nothing?sslmode=disable")
        settings.poolSize = 1
        let store = PostgresStore(settings: settings, logger: testLogger, operationTimeout: .seconds(2))
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            await #expect(throws: StoreError.self) { try await store.workspaceCount() }
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }
}
