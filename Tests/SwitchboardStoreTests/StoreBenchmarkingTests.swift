import SwitchboardCore
import Testing

/// The benchmark's store API and the keyset condition, on every backend.
@Suite struct StoreBenchmarkingTests {
    /// 2,500 rows (more than one PostgreSQL bulk statement), 5 instants shared by many rows.
    private func bulkLoad(_ store: any SwitchboardStore, _ workspace: WorkspaceID) async throws -> [Connection] {
        let names = ["b", "a", "c"]
        var rows: [Connection] = []
        for i in 0..<2500 {
            let name: String? = i % 7 == 0 ? nil : names[i % 3]
            let milliseconds: Int64 = 1_700_000_000_000 + Int64(i % 5)
            let environment = i % 10 == 0 ? "Sandbox" : "Production"
            rows.append(
                makeConnection(in: workspace, at: milliseconds, type: "t\(i % 4)", name: name, environment: environment)
            )
        }
        try await store.bench.bulkInsert(rows)
        try await store.bench.settleAfterBulkLoad()
        return rows
    }

    @Test(arguments: StoreBackend.enabled)
    func bulkInsertedRowsReadBackAndTheRawQueriesSeeThem(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let rows = try await bulkLoad(store, workspace)
            #expect(try await store.connection(id: rows[1234].id, workspace: workspace) == rows[1234])
            var query = ConnectionQuery(workspaceID: workspace)
            query.limit = 1000
            #expect(try await store.bench.rawList(query) == 1000)
            query.offset = 2000
            #expect(try await store.bench.rawList(query) == 250)  // 2,250 in Production
            #expect(try await store.bench.rawGet(id: rows[7].id, workspace: workspace) == 1)
            #expect(
                try await store.bench.rawGet(id: rows[7].id, workspace: try await makeWorkspace(store, name: "o")) == 0
            )
            let dump = try await store.bench.rawJSONDump(workspace: workspace, environment: "Production")
            #expect(dump.rows == 2250)
            #expect(dump.bytes > 2250 * 200)
        }
    }

    @Test(arguments: StoreBackend.enabled, ConnectionQuery.Sort.allCases)
    func pagingAfterAPositionVisitsEveryRowOnceInOrder(
        _ backend: StoreBackend,
        sort: ConnectionQuery.Sort
    )
        async throws
    {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            _ = try await bulkLoad(store, workspace)
            for order in ConnectionQuery.Order.allCases {
                var query = ConnectionQuery(workspaceID: workspace)
                query.sort = sort
                query.order = order
                query.limit = 1000
                var all: [ConnectionID] = []
                for offset in stride(from: 0, to: 3000, by: 1000) {
                    query.offset = offset
                    all += try await store.list(query).map(\.id)
                }
                query.offset = 0
                query.limit = 333
                let paged = try await listByPosition(store, query)
                #expect(all.count == 2250)
                #expect(paged == all, "\(sort) \(order)")
            }
        }
    }
}
