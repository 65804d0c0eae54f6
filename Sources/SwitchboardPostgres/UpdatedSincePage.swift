import Logging
import PostgresNIO
import SwitchboardCore

/// A list page for `updated_gte` under the created_at order, merged from one range of migration
/// 0006's index per hour (see `ConnectionQuery.updatedHours`), prepared once per pooled connection.
///
/// Each hour is its own subquery with its own ORDER BY: only then does PostgreSQL keep the hour's
/// index order and plan a Merge Append, which stops after the page (a plain UNION ALL of the
/// ranges is appended and sorted whole). Planning that many subqueries costs more than running
/// them (docs/database.md), so the text never varies with the request: every
/// filter is a parameter (category mask 0 and a cursor before every row when absent), and the
/// hours are the first one plus a constant. PostgreSQL then runs a generic plan after its five
/// custom ones (figures: docs/database.md, "Figures behind the planner's choices").
struct UpdatedSincePage<Shape: UpdatedSinceShape>: PostgresPreparedStatement {
    static var name: String { Shape.text.name }
    static var sql: String { Shape.text.sql }
    static var bindingDataTypes: [PostgresDataType] {
        [.text, .text, .int8, .int8, .int8, .int8, .text, .int8, .int8, .text, .int8]
    }
    typealias Row = PostgresRow

    let query: ConnectionQuery
    let firstHour: Int64
    let keyID: String?

    func makeBindings() -> PostgresBindings {
        var binds = PostgresBindings(capacity: 11)
        binds.append(query.workspaceID.rawValue)
        binds.append(query.environment)
        binds.append(firstHour)
        binds.append(query.updatedGTE?.millisecondsSinceEpoch ?? 0)
        binds.append(query.categoryMask)
        // Without a cursor, a position before every row in the page's order.
        switch query.after {
        case .time(let time, let id):
            binds.append(time)
            binds.append(id.rawValue)
        case .name, nil:  // .name: never (see pageRows)
            binds.append(query.order == .asc ? Int64.min : Int64.max)
            binds.append("")
        }
        binds.append(Int64(query.limit))
        binds.append(Int64(query.offset))
        if let keyID { binds.append(keyID) } else { binds.appendNull() }
        binds.append(Int64.max / ConnectionQuery.updatedHourMilliseconds)
        return binds
    }

    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}

/// One statement of `UpdatedSincePage`: PostgresNIO prepares a statement per type.
protocol UpdatedSinceShape {
    static var text: UpdatedSinceText { get }
}

/// A shape's statement name and text.
struct UpdatedSinceText: Sendable {
    let name: String
    let sql: String

    init(arms: Int, order: ConnectionQuery.Order) {
        // Short and distinct: PostgreSQL compares statement names up to 63 bytes, which the
        // default (the type's full name) exceeds.
        name = "updated_since_\(order.rawValue)_\(arms)"
        sql = PostgresStore.updatedSinceSQL(arms: arms, order: order)
    }
}

/// The shapes: `ConnectionQuery.updatedHourArms` (8 to 256 hours) by order.
enum UpdatedSinceAsc8: UpdatedSinceShape { static let text = UpdatedSinceText(arms: 8, order: .asc) }
enum UpdatedSinceAsc16: UpdatedSinceShape { static let text = UpdatedSinceText(arms: 16, order: .asc) }
enum UpdatedSinceAsc32: UpdatedSinceShape { static let text = UpdatedSinceText(arms: 32, order: .asc) }
enum UpdatedSinceAsc64: UpdatedSinceShape { static let text = UpdatedSinceText(arms: 64, order: .asc) }
enum UpdatedSinceAsc128: UpdatedSinceShape { static let text = UpdatedSinceText(arms: 128, order: .asc) }
enum UpdatedSinceAsc256: UpdatedSinceShape { static let text = UpdatedSinceText(arms: 256, order: .asc) }
enum UpdatedSinceDesc8: UpdatedSinceShape { static let text = UpdatedSinceText(arms: 8, order: .desc) }
enum UpdatedSinceDesc16: UpdatedSinceShape { static let text = UpdatedSinceText(arms: 16, order: .desc) }
enum UpdatedSinceDesc32: UpdatedSinceShape { static let text = UpdatedSinceText(arms: 32, order: .desc) }
enum UpdatedSinceDesc64: UpdatedSinceShape { static let text = UpdatedSinceText(arms: 64, order: .desc) }
enum UpdatedSinceDesc128: UpdatedSinceShape { static let text = UpdatedSinceText(arms: 128, order: .desc) }
enum UpdatedSinceDesc256: UpdatedSinceShape { static let text = UpdatedSinceText(arms: 256, order: .desc) }

extension PostgresStore {
    /// The rows of one list page: `UpdatedSincePage` where `ConnectionQuery.updatedHours` applies,
    /// else `listSQL`. With `confirmingKey`, the page is empty unless that API key is unrevoked.
    static func pageRows(
        _ query: ConnectionQuery,
        confirmingKey keyID: String? = nil,
        now: Timestamp,
        client: PostgresClient,
        logger: Logger
    ) async throws -> any AsyncSequence<PostgresRow, any Error> {
        // A name position cannot continue a created_at order; listSQL reads such a query as it is.
        let continuesCreatedOrder: Bool
        if case .name = query.after { continuesCreatedOrder = false } else { continuesCreatedOrder = true }
        guard continuesCreatedOrder, let hours = query.updatedHours(now: now) else {
            return try await client.query(listSQL(query, confirmingKey: keyID), logger: logger)
        }
        func execute<Shape: UpdatedSinceShape>(
            _: Shape.Type
        ) async throws -> AsyncThrowingMapSequence<PostgresRowSequence, PostgresRow> {
            try await client.execute(
                UpdatedSincePage<Shape>(query: query, firstHour: hours.lowerBound, keyID: keyID),
                logger: logger
            )
        }
        return try await execute(updatedSinceShape(arms: ConnectionQuery.updatedHourArms(hours), order: query.order))
    }

    /// The statement text for `arms` hours in `order`. Parameters: $1 workspace, $2 environment,
    /// $3 first hour, $4 `updated_gte`, $5 category mask (0: any), $6 and $7 the cursor's
    /// `created_at` and id, $8 limit, $9 offset, $10 the API key to confirm (NULL: none), $11 the
    /// last possible hour.
    static func updatedSinceSQL(arms: Int, order: ConnectionQuery.Order) -> String {
        let direction = order == .asc ? "ASC" : "DESC"
        let after = order == .asc ? ">" : "<"
        let orderBy = "ORDER BY created_at \(direction), id \(direction)"
        // The bound, limit and offset are read through scalar subqueries: PostgreSQL then plans
        // them as unknown in custom plans too, as the generic plan must. Otherwise a custom plan for
        // a narrow window or a small page is priced below the generic one, and PostgreSQL may keep
        // planning every page (seen in CI: 8 custom plans, 0 generic, for pages of 10).
        let filter = """
            workspace_id = $1 AND environment = $2 AND updated_at >= (SELECT $4) \
            AND ($5 = 0 OR (category_mask & $5) <> 0) AND (created_at, id) \(after) ($6, $7)
            """
        func arm(_ hours: String) -> String {
            "(SELECT id, created_at FROM connections WHERE \(filter) AND \(hours) \(orderBy))"
        }
        var ranges = (0..<arms).map { arm("(updated_at / 3600000) = $3 + \($0)") }
        // Anything updated after the last hour: normally nothing. The upper bound is the last
        // possible hour; beside it PostgreSQL estimates the range as narrow, not a third of the
        // table, and so keeps the generic plan.
        ranges.append(arm("(updated_at / 3600000) > $3 + \(arms - 1) AND (updated_at / 3600000) <= $11"))
        return """
            SELECT \(connectionColumns) FROM connections WHERE workspace_id = $1 AND id IN (
                SELECT id FROM (\(ranges.joined(separator: " UNION ALL "))) AS hours \(orderBy) LIMIT (SELECT $8) OFFSET (SELECT $9)
            ) AND ($10::text IS NULL OR \(liveKeyCondition(bind: 10))) \(orderBy)
            """
    }

    /// The shape serving `arms` hours in `order`.
    static func updatedSinceShape(arms: Int, order: ConnectionQuery.Order) -> any UpdatedSinceShape.Type {
        switch (arms, order) {
        case (8, .asc): UpdatedSinceAsc8.self
        case (16, .asc): UpdatedSinceAsc16.self
        case (32, .asc): UpdatedSinceAsc32.self
        case (64, .asc): UpdatedSinceAsc64.self
        case (128, .asc): UpdatedSinceAsc128.self
        case (_, .asc): UpdatedSinceAsc256.self
        case (8, .desc): UpdatedSinceDesc8.self
        case (16, .desc): UpdatedSinceDesc16.self
        case (32, .desc): UpdatedSinceDesc32.self
        case (64, .desc): UpdatedSinceDesc64.self
        case (128, .desc): UpdatedSinceDesc128.self
        case (_, .desc): UpdatedSinceDesc256.self
        }
    }
}
