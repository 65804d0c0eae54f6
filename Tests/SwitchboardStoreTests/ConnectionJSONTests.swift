import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// The stores' JSON written straight from their rows must be byte for byte what the same writer
/// makes from the mapped `Connection` (`ConnectionRow`) without credentials, with the same
/// next-page position: the two row adapters agree on every column.
@Suite struct ConnectionJSONTests {
    @Test(arguments: StoreBackend.enabled)
    func rowJSONEqualsConnectionJSON(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let key = try await store.apiKeys(workspace: workspace)[0].id
            var inserted: [Connection] = []
            for i in 0..<7 {
                var connection = makeConnection(
                    in: workspace,
                    at: 1_700_000_000_000 + Int64(i) * 1001,
                    // An empty text must stay "" (SQLite may hand its bytes back as a NULL pointer).
                    name: i == 5 ? "" : i % 2 == 0 ? "Name \"\(i)\"\\\n\u{1}é" : nil,
                    xref: i % 3 == 0 ? nil : "user-\(i)",
                    categories: i == 0 ? [] : ["crm", "hris", "ats"].suffix(i % 3 + 1).map { $0 },
                    sealed: i == 1 ? nil : SealedSecret(keyID: "mk_test", ciphertext: [1, 2, 3])
                )
                connection.fields.permissions =
                    i == 2 ? [] : [Permission("crm_contact_read")!, Permission("hris_employee_read")!]
                if i == 3 {
                    connection.fields.authAwsArn = "arn:aws:x"
                    connection.fields.authAzureKeyvaultID = "az"
                    connection.fields.authGcpSecretName = ""
                    connection.fields.authHashiVaultPath = "v/p"
                    connection.fields.secretsmanagerID = "sm"
                    connection.fields.secretsmanagerKey = "key"
                    connection.isPaused = true
                    connection.health = ConnectionHealth(
                        lastHealthyAt: Timestamp(millisecondsSinceEpoch: 5),
                        lastUnhealthyAt: Timestamp(millisecondsSinceEpoch: 1_800_000_000_123),
                        lastUnhealthyCode: "401"
                    )
                }
                try await store.insert(connection)
                inserted.append(connection)
            }
            for sort in ConnectionQuery.Sort.allCases {
                for limit in [3, 100] {
                    var query = ConnectionQuery(workspaceID: workspace)
                    query.sort = sort
                    query.order = .desc
                    query.limit = limit
                    let connections = try await store.list(query)
                    var writer = JSONWriter()
                    writer.beginArray()
                    for c in connections {
                        ConnectionJSON.write(RevealedConnection(connection: c, auth: nil), to: &writer)
                    }
                    writer.endArray()
                    guard case .read(let page) = try await store.listJSONWithoutAuth(query, confirmingKey: key) else {
                        Issue.record("a live key was refused")
                        return
                    }
                    #expect(page.bytes == writer.bytes)
                    #expect(page.count == connections.count)
                    let expectedLast = connections.count == limit ? connections.last : nil
                    #expect(page.lastOfFullPage == expectedLast.map { ConnectionQuery.Position(of: $0, in: sort) })
                }
            }
            for connection in inserted {
                var writer = JSONWriter()
                ConnectionJSON.write(RevealedConnection(connection: connection, auth: nil), to: &writer)
                let read = try await store.connectionJSONWithoutAuth(
                    id: connection.id,
                    workspace: workspace,
                    confirmingKey: key
                )
                #expect(read.value == writer.bytes)
            }
            let other = try await makeWorkspace(store, name: "other")
            let otherKey = try await store.apiKeys(workspace: other)[0].id
            let read = try await store.connectionJSONWithoutAuth(
                id: inserted[0].id,
                workspace: other,
                confirmingKey: otherKey
            )
            #expect(read.value == .some(nil))
        }
    }

    /// The reads that confirm the caller's key refuse a revoked or unknown one, whether or not
    /// anything matched, and tell an empty page or a missing row from a dead key.
    @Test(arguments: StoreBackend.enabled)
    func readsConfirmTheKey(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let key = try await store.apiKeys(workspace: workspace)[0].id
            let now = Timestamp.now().millisecondsSinceEpoch
            let connection = makeConnection(in: workspace, at: now)
            try await store.insert(connection)
            let full = ConnectionQuery(workspaceID: workspace)
            var empty = full
            empty.externalXref = "nobody"
            // The same through the per-hour merge (ConnectionQuery.updatedHours).
            var recent = full
            recent.updatedGTE = Timestamp(millisecondsSinceEpoch: now - 3_600_000)
            var emptyRecent = recent
            emptyRecent.categories = [Category("hris")!]
            let missing = ConnectionID(rawValue: "missing")

            for query in [full, recent] {
                #expect(try await store.listJSONWithoutAuth(query, confirmingKey: key).value?.count == 1)
            }
            for query in [empty, emptyRecent] {
                #expect(try await store.listJSONWithoutAuth(query, confirmingKey: key).value?.count == 0)
            }
            #expect(
                try await store.connectionJSONWithoutAuth(id: missing, workspace: workspace, confirmingKey: key).value
                    == .some(nil)
            )
            // The passthrough read: the sealed connection, as `connection(id:)` reads it.
            #expect(
                try await store.connection(id: connection.id, workspace: workspace, confirmingKey: key).value
                    == .some(try await store.connection(id: connection.id, workspace: workspace))
            )
            #expect(
                try await store.connection(id: missing, workspace: workspace, confirmingKey: key).value == .some(nil)
            )

            let time = Timestamp(millisecondsSinceEpoch: 1_700_000_001_000)
            _ = try await store.revokeAPIKey(id: key, at: time, audit: nil)
            for dead in [key, APIKey.generate().id] {
                for query in [full, empty, recent, emptyRecent] {
                    #expect(try await store.listJSONWithoutAuth(query, confirmingKey: dead).value == nil)
                }
                for id in [connection.id, missing] {
                    let read = try await store.connectionJSONWithoutAuth(
                        id: id,
                        workspace: workspace,
                        confirmingKey: dead
                    )
                    #expect(read.value == nil)
                    #expect(try await store.connection(id: id, workspace: workspace, confirmingKey: dead).value == nil)
                }
            }
        }
    }
}

extension KeyConfirmedRead {
    /// The read's value, or nil for `.keyNotLive`.
    fileprivate var value: Value? {
        guard case .read(let value) = self else { return nil }
        return value
    }
}
