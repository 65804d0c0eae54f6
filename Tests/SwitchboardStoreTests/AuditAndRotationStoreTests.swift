import GRDB
import PostgresNIO
import SwitchboardCore
import SwitchboardTestSupport
import Testing

@testable import SwitchboardPostgres
@testable import SwitchboardSQLite

@Suite struct AuditAndRotationStoreTests {
    @Test(arguments: StoreBackend.enabled)
    func auditedWritesAppendExactlyOneRecordInTheirTransaction(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let actor = Principal(workspaceID: workspace, keyID: "k1", scopes: .all, clientAddress: "127.0.0.9")
            let time = Timestamp(millisecondsSinceEpoch: 1_700_000_000_000)
            let connection = makeConnection(in: workspace)
            func record(_ action: AuditAction) -> AuditRecord {
                AuditRecord(action, by: actor, at: time, connection: connection.id)
            }
            try await store.insert(connection, audit: record(.connectionCreate))
            _ = try await store.update(id: connection.id, workspace: workspace, audit: record(.connectionUpdate)) { $0 }
            #expect(try await store.delete(id: connection.id, workspace: workspace, audit: record(.connectionDelete)))
            // Missing rows: nothing changed, so nothing is recorded.
            #expect(
                try await store.delete(id: connection.id, workspace: workspace, audit: record(.connectionDelete))
                    == false
            )
            #expect(
                try await store.update(id: connection.id, workspace: workspace, audit: record(.connectionUpdate)) { $0 }
                    == nil
            )
            // A failed insert (duplicate id) leaves no record either.
            let duplicate = makeConnection(in: workspace)
            try await store.insert(duplicate, audit: nil)
            await #expect(throws: StoreError.self) {
                try await store.insert(duplicate, audit: record(.connectionCreate))
            }

            let records = try await store.auditRecords(AuditQuery(workspaceID: workspace, connectionID: connection.id))
            #expect(records.map(\.action) == [.connectionDelete, .connectionUpdate, .connectionCreate])
            #expect(records.allSatisfy { $0.actor == "k1" && $0.clientAddress == "127.0.0.9" && $0.at == time })
            let sequences = records.compactMap(\.sequence)
            #expect(sequences.count == 3 && sequences == sequences.sorted(by: >))
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func auditQueriesFilterAndPageNewestFirst(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let other = try await makeWorkspace(store, name: "other")
            let a = ConnectionID(rawValue: "a")
            var batch: [AuditRecord] = []
            for i in 0..<10 {
                batch.append(
                    AuditRecord(
                        workspaceID: workspace,
                        at: Timestamp(millisecondsSinceEpoch: 1000 * Int64(i)),
                        actor: i % 2 == 0 ? "even" : "odd",
                        action: .credentialsRead,
                        connectionID: i < 4 ? a : ConnectionID(rawValue: "b")
                    )
                )
            }
            try await store.append(batch)
            try await store.append([
                AuditRecord(
                    workspaceID: other,
                    at: .init(millisecondsSinceEpoch: 0),
                    actor: "x",
                    action: .credentialsRead
                )
            ])

            let all = try await store.auditRecords(AuditQuery(workspaceID: workspace, action: .credentialsRead))
            #expect(all.count == 10)
            #expect(all.map(\.at.millisecondsSinceEpoch) == (0..<10).reversed().map { 1000 * Int64($0) })
            #expect(try await store.auditRecords(AuditQuery(workspaceID: workspace, connectionID: a)).count == 4)
            #expect(try await store.auditRecords(AuditQuery(workspaceID: workspace, actor: "odd")).count == 5)
            let window = AuditQuery(
                workspaceID: workspace,
                since: Timestamp(millisecondsSinceEpoch: 2000),
                until: Timestamp(millisecondsSinceEpoch: 5000)
            )
            #expect(try await store.auditRecords(window).count == 4)
            let firstPage = try await store.auditRecords(
                AuditQuery(workspaceID: workspace, action: .credentialsRead, limit: 6)
            )
            let secondPage = try await store.auditRecords(
                AuditQuery(workspaceID: workspace, action: .credentialsRead, before: firstPage.last?.sequence, limit: 6)
            )
            #expect(firstPage.count == 6 && secondPage.count == 4)
            #expect(Set(firstPage.map(\.sequence)).isDisjoint(with: secondPage.map(\.sequence)))
            #expect(try await store.auditRecords(AuditQuery(workspaceID: other, action: .credentialsRead)).count == 1)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func theDatabaseRefusesToEditOrDeleteAuditRecords(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            try await store.append([
                AuditRecord(
                    workspaceID: workspace,
                    at: .init(millisecondsSinceEpoch: 1),
                    actor: "k",
                    action: .credentialsRead
                )
            ])
            switch store {
            case let sqlite as SQLiteStore:
                await #expect(throws: (any Error).self) {
                    try await sqlite.pool.write { try $0.execute(sql: "UPDATE audit_log SET actor = 'forged'") }
                }
                await #expect(throws: (any Error).self) {
                    try await sqlite.pool.write { try $0.execute(sql: "DELETE FROM audit_log") }
                }
            case let postgres as PostgresStore:
                await #expect(throws: (any Error).self) {
                    try await postgres.client.query("UPDATE audit_log SET actor = 'forged'")
                }
                await #expect(throws: (any Error).self) { try await postgres.client.query("DELETE FROM audit_log") }
            default:
                Issue.record("unknown backend")
            }
            let records = try await store.auditRecords(AuditQuery(workspaceID: workspace))
            #expect(records.contains { $0.action == .credentialsRead && $0.actor == "k" })
            #expect(!records.contains { $0.actor == "forged" })
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func resealSwapsOnlyRowsThatStillHoldTheCiphertextThatWasRead(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let old = SealedSecret(keyID: "mk_old", ciphertext: [1, 1, 1])
            let rows = (0..<5).map { makeConnection(in: workspace, at: 1_700_000_000_000 + Int64($0), sealed: old) }
            for row in rows { try await store.insert(row) }
            try await store.insert(
                makeConnection(in: workspace, sealed: SealedSecret(keyID: "mk_new", ciphertext: [2]))
            )
            try await store.insert(makeConnection(in: workspace, sealed: nil))
            #expect(try await store.sealedCountsByKey() == ["mk_old": 5, "mk_new": 1])

            let pending = try await store.connectionsSealed(notWith: "mk_new", after: nil, limit: 3)
            #expect(pending.map(\.id) == Array(rows.prefix(3)).map(\.id))
            let rest = try await store.connectionsSealed(notWith: "mk_new", after: pending.last?.id, limit: 10)
            #expect(rest.map(\.id) == Array(rows.suffix(2)).map(\.id))

            // Row 0 changed after it was read: its swap must not overwrite the newer credentials.
            let concurrent = SealedSecret(keyID: "mk_old", ciphertext: [3, 3, 3])
            _ = try await store.update(id: rows[0].id, workspace: workspace) { current in
                var next = current
                next.sealedAuth = concurrent
                return next
            }
            let new = SealedSecret(keyID: "mk_new", ciphertext: [4, 4])
            let swaps = rows.map { SealSwap(id: $0.id, workspaceID: workspace, old: old, new: new) }
            #expect(try await store.replaceSealedAuth(swaps) == 4)
            #expect(try await store.connection(id: rows[0].id, workspace: workspace)?.sealedAuth == concurrent)
            #expect(try await store.connection(id: rows[1].id, workspace: workspace)?.sealedAuth == new)
            #expect(try await store.sealedCountsByKey() == ["mk_old": 1, "mk_new": 5])
        }
    }
}
