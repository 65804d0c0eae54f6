import Foundation
import PostgresNIO
import SwitchboardCore
import SwitchboardTestSupport
import Testing

@testable import SwitchboardPostgres

/// PostgreSQL's per-hour merge (`UpdatedSincePage`) must settle on its generic plan, and that plan
/// must merge one index range per hour: a custom plan spends milliseconds planning every page, and
/// a plain Append sorts every match.
@Suite struct PostgresListPlanTests {
    @Test(.enabled(if: TestPostgres.isEnabled)) func theUpdatedSinceMergeSettlesOnAGenericMergeAppend() async throws {
        try await TestPostgres.withSchema { settings in
            var settings = settings
            // One connection, so the prepared statement inspected is the one the pages ran.
            settings.poolSize = 1
            try await TestPostgres.withStore(settings) { store in
                try await store.migrate()
                let workspace = try await makeWorkspace(store)
                let now = Timestamp.now().millisecondsSinceEpoch
                let hour = ConnectionQuery.updatedHourMilliseconds
                // Enough rows that the planner reads indexes rather than the whole table: created
                // over two months, updated over the last two weeks.
                let rows = (0..<20_000).map { i in
                    var row = makeConnection(in: workspace, at: now - 60 * 24 * hour + Int64(i) * 259_000)
                    row.updatedAt = Timestamp(millisecondsSinceEpoch: now - Int64(i % 336) * hour - Int64(i % 7) * 1000)
                    return row
                }
                try await store.bench.bulkInsert(rows)
                try await store.bench.settleAfterBulkLoad()

                var query = ConnectionQuery(workspaceID: workspace)
                query.updatedGTE = Timestamp(millisecondsSinceEpoch: now - 20 * hour)
                query.order = .desc
                let expected = rows.filter { $0.updatedAt >= query.updatedGTE! }
                    .sorted { ($0.createdAt, $0.id.rawValue) > ($1.createdAt, $1.id.rawValue) }
                    .map(\.id)
                // Page sizes vary: the choice must not hang on the pages' limits. The first five
                // (the custom plans PostgreSQL averages) are small pages, the cheapest custom plans:
                // with the bound, limit and offset as plain parameters they win, and every page is
                // planned.
                for limit in [1, 1, 3, 1, 1, 10, 1000, 100] {
                    query.limit = limit
                    #expect(try await store.list(query).map(\.id) == Array(expected.prefix(limit)))
                }
                query.limit = 10

                // 21 or 22 hours: 32 ranges, descending.
                let name = UpdatedSincePage<UpdatedSinceDesc32>.name
                let counts = try await store.client.query(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = \(name)"
                )
                var plans: [(generic: Int64, custom: Int64)] = []
                for try await count in counts.decode((Int64, Int64).self) { plans.append(count) }
                #expect(plans.count == 1)
                #expect(plans.first?.custom == 5, "PostgreSQL plans the first five executions for their values")
                #expect(plans.first?.generic == 3, "then keeps the generic plan")

                let explained = try await store.client.query(
                    PostgresQuery(
                        unsafeSQL: """
                            EXPLAIN EXECUTE \(name)(
                                '\(workspace.rawValue)', 'Production', \(query.updatedGTE!.millisecondsSinceEpoch / hour),
                                \(query.updatedGTE!.millisecondsSinceEpoch), 0, \(Int64.max), '', 10, 0, NULL,
                                \(Int64.max / hour)
                            )
                            """
                    )
                )
                var plan: [String] = []
                for try await line in explained.decode(String.self) { plan.append(line) }
                let text = plan.joined(separator: "\n")
                #expect(text.contains("Merge Append"), "\(text)")
                let ranges = plan.filter { $0.contains("Index Only Scan Backward using connections_by_updated_hour") }
                #expect(ranges.count == 32, "\(text)")
                #expect(!text.contains("Seq Scan"), "\(text)")
            }
        }
    }
}
