import Foundation
import GRDB
import SwitchboardCore
import SwitchboardTestSupport
import Testing

@testable import SwitchboardSQLite

/// SQLite keeps no statistics in a normal install, so its plans come from the query's shape alone.
/// Every list shape must read a narrowing index: no table scan, and an `external_xref` page the
/// xref index whatever its order (walking the order's index instead tests every row of the
/// workspace: seconds at a million connections).
@Suite struct SQLiteListPlanTests {
    @Test func everyListShapeReadsANarrowingIndex() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "switchboard-plan-\(UUID().uuidString)"
        )
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("db.sqlite").path, logger: testLogger)
        defer { try? store.close() }
        try await store.migrate()

        let now = Timestamp.now()
        let hour = ConnectionQuery.updatedHourMilliseconds
        var shapes: [ConnectionQuery] = []
        for sort in ConnectionQuery.Sort.allCases {
            for order in ConnectionQuery.Order.allCases {
                for xref in [nil, "user-1"] {
                    for updatedBack in [nil, 20 * hour, 30 * 24 * hour] {
                        for categories in [[], [Category("crm")!]] {
                            for offset in [0, 10] {
                                var query = ConnectionQuery(workspaceID: WorkspaceID(rawValue: "w"))
                                query.sort = sort
                                query.order = order
                                query.externalXref = xref
                                query.updatedGTE = updatedBack.map {
                                    Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch - $0)
                                }
                                query.categories = categories
                                query.offset = offset
                                shapes.append(query)
                            }
                        }
                    }
                }
            }
        }

        for query in shapes {
            let (sql, arguments) = SQLiteStore.listSQL(query, now: now)
            let plan = try await store.pool.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map {
                    $0["detail"] as String
                }
            }
            let shape =
                "sort=\(query.sort) order=\(query.order) xref=\(query.externalXref ?? "-") "
                + "updated_gte=\(query.updatedGTE.map { "\($0)" } ?? "-") categories=\(query.categories.count) "
                + "offset=\(query.offset): \(plan)"
            #expect(!plan.contains { $0.hasPrefix("SCAN connections") }, "\(shape)")
            if query.externalXref != nil {
                #expect(plan.contains { $0.contains("connections_by_xref") }, "\(shape)")
            }
        }
    }
}
