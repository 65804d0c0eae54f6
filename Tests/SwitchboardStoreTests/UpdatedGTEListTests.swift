import Foundation
import SwitchboardCore
import Testing

/// `updated_gte` pages: the per-hour merge (`ConnectionQuery.updatedHours`) and the sorted range
/// must return exactly the rows, order and pages a plain filter-and-sort would.
@Suite struct UpdatedGTEListTests {
    static let hour = ConnectionQuery.updatedHourMilliseconds

    /// 60 rows created over two days (in pairs sharing a `created_at`, so `id` breaks ties),
    /// updated from 30 hours ago to 2 hours ahead of now (a skewed clock, an import); before them,
    /// 24 rows created and last updated a day apart, 40 to 17 days ago, which a month's window
    /// splits.
    static func seed(_ store: any SwitchboardStore, now: Int64) async throws -> (WorkspaceID, [Connection]) {
        let workspace = try await makeWorkspace(store)
        var rows: [Connection] = []
        for i in 0..<60 {
            var row = makeConnection(
                in: workspace,
                at: now - 48 * hour + Int64(i / 2) * 80 * 60_000,
                categories: i % 3 == 0 ? ["crm"] : ["hris"],
                environment: i % 10 == 9 ? "Sandbox" : "Production"
            )
            row.updatedAt = Timestamp(
                millisecondsSinceEpoch: now - 30 * hour + Int64((i * 37) % 32) * hour + Int64(i) * 1000
            )
            try await store.insert(row)
            rows.append(row)
        }
        for day in 0..<24 {
            var row = makeConnection(
                in: workspace,
                at: now - Int64(40 - day) * 24 * hour,
                categories: day % 3 == 0 ? ["crm"] : ["hris"]
            )
            row.updatedAt = Timestamp(millisecondsSinceEpoch: row.createdAt.millisecondsSinceEpoch + hour)
            try await store.insert(row)
            rows.append(row)
        }
        return (workspace, rows)
    }

    @Test(arguments: StoreBackend.enabled)
    func everyWindowPagesLikeAFilterAndSort(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let now = Timestamp.now().millisecondsSinceEpoch
            let (workspace, rows) = try await Self.seed(store, now: now)
            // Merged by hour (20 hours back), the bound in its own hour, one beyond the last hour
            // (only the rows from the future), then wider windows: a month back (on SQLite, full
            // pages walk the created_at index and the last one is sorted) and from the future.
            let windows: [(Int64, merged: Bool)] = [
                (now - 20 * Self.hour, true), (now - 90_000, true), (now - 29 * Self.hour + 17, true),
                (now - 24 * 30 * Self.hour, false), (now + Self.hour, false),
            ]
            for (bound, merged) in windows {
                for order in ConnectionQuery.Order.allCases {
                    for categories in [[], [Category("crm")!]] {
                        var query = ConnectionQuery(workspaceID: workspace)
                        query.updatedGTE = Timestamp(millisecondsSinceEpoch: bound)
                        query.order = order
                        query.categories = categories
                        #expect(
                            (query.updatedHours(now: Timestamp(millisecondsSinceEpoch: now)) != nil)
                                == merged
                        )

                        let expected = rows.filter {
                            $0.fields.environment == "Production" && $0.updatedAt.millisecondsSinceEpoch >= bound
                                && (categories.isEmpty || $0.fields.categories.contains(categories[0]))
                        }.sorted {
                            let a = ($0.createdAt, $0.id.rawValue)
                            let b = ($1.createdAt, $1.id.rawValue)
                            return order == .asc ? a < b : a > b
                        }.map(\.id)

                        query.limit = 7
                        var byOffset: [ConnectionID] = []
                        while true {
                            let page = try await store.list(query).map(\.id)
                            byOffset += page
                            if page.count < query.limit { break }
                            query.offset += query.limit
                        }
                        #expect(byOffset == expected, "offset pages, bound \(bound - now) ms, \(order)")

                        query.offset = 0
                        let byCursor = try await listByPosition(store, query)
                        #expect(byCursor == expected, "cursor pages, bound \(bound - now) ms, \(order)")
                    }
                }
            }
        }
    }

    @Test func theMergeIsForCreatedOrderWindowsUpToAWeek() {
        let now = Timestamp(millisecondsSinceEpoch: 1_800_000_000_000)
        var query = ConnectionQuery(workspaceID: WorkspaceID(rawValue: "w"))
        #expect(query.updatedHours(now: now) == nil)
        query.updatedGTE = Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch - 3 * Self.hour)
        #expect(query.updatedHours(now: now)?.count == 4)
        query.updatedGTE = Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch - 200 * Self.hour)
        #expect(query.updatedHours(now: now) == nil)
        query.updatedGTE = Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch - Self.hour)
        query.sort = .name
        #expect(query.updatedHours(now: now) == nil)
        query.sort = .createdAt
        query.externalXref = "u1"
        #expect(query.updatedHours(now: now) == nil)
    }
}
