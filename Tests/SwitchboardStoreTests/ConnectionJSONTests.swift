import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// The stores' JSON written straight from rows must be byte for byte what `ConnectionJSON.write`
/// makes from the mapped `Connection` without credentials, with the same next-page position.
@Suite struct ConnectionJSONTests {
    @Test(arguments: StoreBackend.enabled)
    func rowJSONEqualsConnectionJSON(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            var inserted: [Connection] = []
            for i in 0..<7 {
                var connection = makeConnection(
                    in: workspace,
                    at: 1_700_000_000_000 + Int64(i) * 1001,
                    name: i % 2 == 0 ? "Name \"\(i)\"\\\n\u{1}é" : nil,
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
                    let page = try await store.listJSONWithoutAuth(query)
                    #expect(page.bytes == writer.bytes)
                    #expect(page.count == connections.count)
                    let expectedLast = connections.count == limit ? connections.last : nil
                    #expect(page.lastOfFullPage == expectedLast.map { ConnectionQuery.Position(of: $0, in: sort) })
                }
            }
            for connection in inserted {
                var writer = JSONWriter()
                ConnectionJSON.write(RevealedConnection(connection: connection, auth: nil), to: &writer)
                #expect(
                    try await store.connectionJSONWithoutAuth(id: connection.id, workspace: workspace) == writer.bytes
                )
            }
            let other = try await makeWorkspace(store, name: "other")
            #expect(try await store.connectionJSONWithoutAuth(id: inserted[0].id, workspace: other) == nil)
        }
    }
}
