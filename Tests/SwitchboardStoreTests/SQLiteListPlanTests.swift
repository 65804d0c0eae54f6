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
                    for updatedBack in [nil, 20 * hour, 30 * 24 * hour, -hour] {
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

        func planOf(_ statement: (String, StatementArguments)) async throws -> [String] {
            try await store.pool.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + statement.0, arguments: statement.1).map {
                    $0["detail"] as String
                }
            }
        }
        for query in shapes {
            let plan = try await planOf(SQLiteStore.listSQL(query, now: now))
            let shape =
                "sort=\(query.sort) order=\(query.order) xref=\(query.externalXref ?? "-") "
                + "updated_gte=\(query.updatedGTE.map { "\($0)" } ?? "-") categories=\(query.categories.count) "
                + "offset=\(query.offset): \(plan)"
            #expect(!plan.contains { $0.hasPrefix("SCAN connections") }, "\(shape)")
            if query.externalXref != nil {
                #expect(plan.contains { $0.contains("connections_by_xref") }, "\(shape)")
            }
            // A window wider than the hour merge, or one in the future, under the created_at order:
            // sorted from the updated_at index unless the probe found the page in the order's own.
            let wide =
                query.sort == .createdAt && query.externalXref == nil && query.updatedGTE != nil
                && query.updatedHours(now: now) == nil
            if wide {
                #expect(plan.contains { $0.contains("INDEX connections_by_updated_covering") }, "\(shape)")
            }
            let probe = SQLiteStore.wideWindowProbe(query, now: now)
            #expect((probe != nil) == (wide && query.updatedGTE! <= now), "\(shape)")
            if let probe {
                let probePlan = try await planOf(probe)
                let walkPlan = try await planOf(SQLiteStore.listSQL(query, now: now, walkingCreatedOrder: true))
                for steps in [probePlan, walkPlan] {
                    #expect(
                        steps.contains { $0.contains("COVERING INDEX connections_by_created_covering") },
                        "\(shape) \(steps)"
                    )
                }
                // Neither sorts the window's matches: the probe sorts nothing, the walk only its page.
                #expect(!probePlan.contains { $0.contains("TEMP B-TREE") }, "\(shape) \(probePlan)")
                #expect(walkPlan.filter { $0.contains("TEMP B-TREE") }.count <= 1, "\(shape) \(walkPlan)")
            }
        }
    }
}
