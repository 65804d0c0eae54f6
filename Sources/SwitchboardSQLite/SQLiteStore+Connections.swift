import Foundation
import GRDB
import SwitchboardCore

extension SQLiteStore {
    static let connectionColumns = """
        id, workspace_id, integration_type, integration_name, external_xref, permissions, categories, \
        environment, auth_key_id, auth_ciphertext, is_paused, auth_aws_arn, auth_azure_keyvault_id, \
        auth_gcp_secret_name, auth_hashi_vault_path, secretsmanager_id, secretsmanager_key, last_healthy_at, \
        last_unhealthy_at, last_unhealthy_code, created_at, updated_at, version, token_expires_at, refresh_status, \
        refresh_attempts, refresh_next_at
        """

    /// One connection by id, within its workspace (a row of another workspace is no row).
    static let connectionByIDSQL = "SELECT \(connectionColumns) FROM connections WHERE id = ? AND workspace_id = ?"

    /// Placeholders for `connectionColumns`, `name_sort` and `category_mask`.
    static let connectionPlaceholders = "(" + Array(repeating: "?", count: 29).joined(separator: ", ") + ")"

    /// Every column `update` writes (all but the id and workspace), in `values(of:)` order.
    static let connectionAssignments = """
        integration_type = ?, integration_name = ?, external_xref = ?, permissions = ?, categories = ?, \
        environment = ?, auth_key_id = ?, auth_ciphertext = ?, is_paused = ?, auth_aws_arn = ?, \
        auth_azure_keyvault_id = ?, auth_gcp_secret_name = ?, auth_hashi_vault_path = ?, secretsmanager_id = ?, \
        secretsmanager_key = ?, last_healthy_at = ?, last_unhealthy_at = ?, last_unhealthy_code = ?, \
        created_at = ?, updated_at = ?, version = ?, token_expires_at = ?, refresh_status = ?, \
        refresh_attempts = ?, refresh_next_at = ?, name_sort = ?, category_mask = ?
        """

    public func insert(_ connection: Connection, audit: AuditRecord?) async throws {
        try await mapped {
            try await pool.write { db in
                if let audit { try Self.appendAudit([audit], db) }
                let statement = try db.cachedStatement(
                    sql: """
                        INSERT INTO connections (\(Self.connectionColumns), name_sort, category_mask)
                        VALUES \(Self.connectionPlaceholders)
                        """
                )
                try statement.execute(arguments: StatementArguments(Self.values(of: connection)))
                try Self.appendEvents(ConnectionEvents.of(audit: audit, before: nil, after: connection), db)
            }
        }
    }

    public func connection(id: ConnectionID, workspace: WorkspaceID) async throws -> Connection? {
        try await mapped {
            try await pool.read { db in try Self.fetchConnection(id: id, workspace: workspace, db) }
        }
    }

    public func list(_ query: ConnectionQuery) async throws -> [Connection] {
        try await mapped {
            try await pool.read { db in
                let cursor = try Row.fetchCursor(try Self.listStatement(query, in: db, now: now()))
                var connections: [Connection] = []
                connections.reserveCapacity(query.limit)
                while let row = try cursor.next() { connections.append(Self.connection(from: row)) }
                return connections
            }
        }
    }

    public func update(
        id: ConnectionID,
        workspace: WorkspaceID,
        audit: AuditRecord?,
        _ transform: @escaping @Sendable (Connection) throws -> Connection
    ) async throws -> Connection? {
        try await mapped {
            // One write transaction: SQLite has a single writer, so the read and the write cannot interleave
            // with another update, in this process or another.
            try await pool.write { db in
                guard let current = try Self.fetchConnection(id: id, workspace: workspace, db) else { return nil }
                let updated = try transform(current)
                let statement = try db.cachedStatement(
                    sql: """
                        UPDATE connections SET \(Self.connectionAssignments)
                        WHERE id = ? AND workspace_id = ?
                        """
                )
                var values = Self.values(of: updated)
                values.removeFirst(2)
                values += [id.rawValue, workspace.rawValue]
                try statement.execute(arguments: StatementArguments(values))
                if let audit { try Self.appendAudit([audit], db) }
                try Self.appendEvents(ConnectionEvents.of(audit: audit, before: current, after: updated), db)
                return updated
            }
        }
    }

    public func delete(id: ConnectionID, workspace: WorkspaceID, audit: AuditRecord?) async throws -> Bool {
        try await mapped {
            try await pool.write { db in
                guard let deleted = try Self.fetchConnection(id: id, workspace: workspace, db) else { return false }
                try db.execute(
                    sql: "DELETE FROM connections WHERE id = ? AND workspace_id = ?",
                    arguments: [id.rawValue, workspace.rawValue]
                )
                if let audit { try Self.appendAudit([audit], db) }
                try Self.appendEvents(ConnectionEvents.of(audit: audit, before: deleted, after: nil), db)
                return true
            }
        }
    }

    public func connectionsSealed(
        notWith keyID: String,
        after id: ConnectionID?,
        limit: Int
    ) async throws
        -> [Connection]
    {
        try await mapped {
            try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(Self.connectionColumns) FROM connections
                        WHERE auth_key_id IS NOT NULL AND auth_key_id <> ? AND id > ? ORDER BY id LIMIT ?
                        """,
                    arguments: [keyID, id?.rawValue ?? "", limit]
                ).map(Self.connection(from:))
            }
        }
    }

    public func replaceSealedAuth(_ swaps: [SealSwap]) async throws -> Int {
        try await mapped {
            try await pool.write { db in
                let statement = try db.cachedStatement(
                    sql: """
                        UPDATE connections SET auth_key_id = ?, auth_ciphertext = ?
                        WHERE id = ? AND workspace_id = ? AND auth_key_id = ? AND auth_ciphertext = ?
                        """
                )
                var replaced = 0
                for swap in swaps {
                    try statement.execute(arguments: [
                        swap.new.keyID, Data(swap.new.ciphertext), swap.id.rawValue, swap.workspaceID.rawValue,
                        swap.old.keyID, Data(swap.old.ciphertext),
                    ])
                    replaced += db.changesCount
                }
                return replaced
            }
        }
    }

    public func sealedCountsByKey() async throws -> [String: Int] {
        try await mapped {
            try await pool.read { db in
                var counts: [String: Int] = [:]
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT auth_key_id, COUNT(*) FROM connections WHERE auth_key_id IS NOT NULL GROUP BY auth_key_id
                        UNION ALL
                        SELECT auth_key_id, COUNT(*) FROM secrets_managers GROUP BY auth_key_id
                        UNION ALL
                        SELECT auth_key_id, COUNT(*) FROM workspace_integrations GROUP BY auth_key_id
                        UNION ALL
                        SELECT secret_key_id, COUNT(*) FROM event_webhooks GROUP BY secret_key_id
                        UNION ALL
                        SELECT previous_key_id, COUNT(*) FROM event_webhooks WHERE previous_key_id IS NOT NULL GROUP BY previous_key_id
                        """
                )
                for row in rows { counts[row[0], default: 0] += row[1] as Int }
                return counts
            }
        }
    }

    /// The page statement for `query`, arguments bound, ready to step. An `updated_gte` window wider
    /// than the hour merge, under the created_at order, first probes that order's index (see
    /// `wideWindowProbe`): when the page lies within the probe, the page walks the index; otherwise
    /// it sorts every match.
    static func listStatement(_ query: ConnectionQuery, in db: Database, now: Timestamp) throws -> Statement {
        var (sql, arguments) = listSQL(query, now: now)
        if let (probeSQL, probeArguments) = wideWindowProbe(query, now: now),
            try Int.fetchOne(db.cachedStatement(sql: probeSQL), arguments: probeArguments) == query.offset + query.limit
        {
            (sql, arguments) = listSQL(query, now: now, walkingCreatedOrder: true)
        }
        let statement = try db.cachedStatement(sql: sql)
        statement.arguments = arguments
        return statement
    }

    /// The page query: every filter, the order and the page in SQL, shaped to use one index.
    /// `walkingCreatedOrder` (only after `wideWindowProbe` found the page) reads the created_at
    /// order's index, testing `updated_gte` on its entries, instead of sorting the window's matches.
    static func listSQL(
        _ query: ConnectionQuery,
        now: Timestamp,
        walkingCreatedOrder: Bool = false
    ) -> (String, StatementArguments) {
        var filter = "workspace_id = ? AND environment = ?"
        var arguments: [(any DatabaseValueConvertible)?] = [query.workspaceID.rawValue, query.environment]
        if let xref = query.externalXref {
            filter += " AND external_xref = ?"
            arguments.append(xref)
        }
        if let updatedGTE = query.updatedGTE {
            filter += " AND updated_at >= ?"
            arguments.append(updatedGTE.millisecondsSinceEpoch)
        }
        if !query.categories.isEmpty {
            filter += " AND (category_mask & ?) != 0"
            arguments.append(query.categoryMask)
        }
        if let type = query.integrationType {
            filter += " AND integration_type = ?"
            arguments.append(type)
        }
        if let health = query.health {
            filter += " AND " + health.condition(false: "0", true: "1")
        }
        let (after, afterArguments) = afterSQL(query)
        filter += after
        arguments += afterArguments
        let order = orderSQL(query)
        if let hours = query.updatedHours(now: now) {
            return updatedHoursSQL(hours, filter: filter, arguments: arguments, order: order, query: query)
        }
        // An end user's few connections come from the xref index whatever the order, then are
        // sorted. Without statistics SQLite would rather walk the order's index through the whole
        // workspace, testing each row's xref: seconds a page at 1,000,000 connections, against
        // microseconds (docs/database.md, "Figures behind the planner's choices").
        let source =
            if walkingCreatedOrder {
                "connections INDEXED BY connections_by_created_covering"
            } else if query.externalXref != nil {
                "connections INDEXED BY connections_by_xref"
            } else if query.updatedGTE != nil, query.sort == .createdAt {
                // Since migration 0007 the created_at order's index carries updated_at, and SQLite
                // would walk it for any window: a bound with few matches would pass the whole
                // workspace (a bound in the future reads every entry).
                "connections INDEXED BY connections_by_updated_covering"
            } else {
                "connections"
            }
        arguments += [query.limit, query.offset]
        if query.choosesPageFromIndex {
            // The inner query reads a covering index only (see migration 0005), so skipped and
            // sorted entries cost no table lookup; the outer one reads the page's rows.
            return (
                """
                SELECT \(connectionColumns) FROM connections WHERE rowid IN (
                    SELECT rowid FROM \(source) WHERE \(filter) \(order) LIMIT ? OFFSET ?
                ) \(order)
                """,
                StatementArguments(arguments)
            )
        }
        return (
            "SELECT \(connectionColumns) FROM \(source) WHERE \(filter) \(order) LIMIT ? OFFSET ?",
            StatementArguments(arguments)
        )
    }

    /// The keyset condition continuing after the query's cursor: a row-value comparison on the
    /// order's own columns, so the index range starts right after the cursor's row and a deep page
    /// costs what the first one does.
    private static func afterSQL(_ query: ConnectionQuery) -> (String, [(any DatabaseValueConvertible)?]) {
        guard let after = query.after else { return ("", []) }
        let op = query.order == .asc ? ">" : "<"
        switch after {
        case .time(let time, let id):
            return (
                " AND (\(query.sort == .updatedAt ? "updated_at" : "created_at"), id) \(op) (?, ?)",
                [time, id.rawValue]
            )
        case .name(let name, let type, let id):
            return (" AND (name_sort, integration_type, id) \(op) (?, ?, ?)", [name, type, id.rawValue])
        }
    }

    private static func orderSQL(_ query: ConnectionQuery) -> String {
        let direction = query.order == .asc ? "ASC" : "DESC"
        return switch query.sort {
        case .createdAt: "ORDER BY created_at \(direction), id \(direction)"
        case .updatedAt: "ORDER BY updated_at \(direction), id \(direction)"
        case .name: "ORDER BY name_sort \(direction), integration_type \(direction), id \(direction)"
        }
    }

    /// Most index entries a wide-window probe passes: 128 for each row the page needs (so windows
    /// matching at least 1 in 128 entries of the order walk), at least 8,192 and at most 131,072
    /// (an index-only pass cheaper than sorting the matches of a window over a week at 1,000,000
    /// connections; docs/database.md, "Figures behind the planner's choices").
    private static func wideWindowProbeSize(_ query: ConnectionQuery) -> Int {
        min(max(128 * (query.offset + query.limit), 8_192), 131_072)
    }

    /// For an `updated_gte` window wider than the hour merge, under the created_at order: counts
    /// the window's matches among the order's next `wideWindowProbeSize` index entries, up to the
    /// rows the page needs (offset + limit). Reaching that count, the page lies within those
    /// entries. Without statistics SQLite cannot tell this itself: it sorts every match (for a
    /// year's window at 1,000,000 connections, every row), where the walk reads some 200 entries.
    /// Nil where the hour merge or the plain plan applies (or the page cannot fit the probe).
    static func wideWindowProbe(_ query: ConnectionQuery, now: Timestamp) -> (String, StatementArguments)? {
        let probe = wideWindowProbeSize(query)
        guard query.sort == .createdAt, query.externalXref == nil, let updatedGTE = query.updatedGTE,
            query.integrationType == nil, query.health == nil, updatedGTE <= now, query.updatedHours(now: now) == nil,
            query.offset + query.limit <= probe
        else { return nil }
        let (after, afterArguments) = afterSQL(query)
        var arguments: [(any DatabaseValueConvertible)?] =
            [query.workspaceID.rawValue, query.environment] + afterArguments + [
                probe, updatedGTE.millisecondsSinceEpoch,
            ]
        var match = "updated_at >= ?"
        if !query.categories.isEmpty {
            match += " AND (category_mask & ?) != 0"
            arguments.append(query.categoryMask)
        }
        arguments.append(query.offset + query.limit)
        return (
            """
            SELECT count(*) FROM (SELECT 1 FROM (
                SELECT updated_at, category_mask FROM connections INDEXED BY connections_by_created_covering
                WHERE workspace_id = ? AND environment = ?\(after) \(orderSQL(query)) LIMIT ?
            ) WHERE \(match) LIMIT ?)
            """,
            StatementArguments(arguments)
        )
    }

    /// `updated_gte` under the created_at order (see `ConnectionQuery.updatedHours`): one range of
    /// migration 0006's index per hour, each already in the page's order, merged by SQLite's
    /// compound-select merge, which stops after the page; then the hours after `now`'s, sorted
    /// (normally nothing). The indexes are named: the planner cannot know that an hour holds only a
    /// few entries and would otherwise sort them all.
    private static func updatedHoursSQL(
        _ hours: ClosedRange<Int64>,
        filter: String,
        arguments: [(any DatabaseValueConvertible)?],
        order: String,
        query: ConnectionQuery
    ) -> (String, StatementArguments) {
        // Padded with an hour no row has, so the text depends only on the arm count.
        let armCount = ConnectionQuery.updatedHourArms(hours)
        let armHours = Array(repeating: Int64.min, count: armCount - hours.count) + Array(hours)
        let arm =
            "SELECT rowid, created_at, id FROM connections INDEXED BY connections_by_updated_hour WHERE \(filter)"
        var arms = Array(repeating: arm + " AND updated_at / 3600000 = ?", count: armCount)
        var all: [(any DatabaseValueConvertible)?] = []
        for h in armHours { all += arguments + [h] }
        // A range on the hour, not on updated_at: beside the bound's own `updated_at >= ?`, SQLite
        // would start the range at the bound and pass every match of the hour.
        arms.append(arm + " AND updated_at / 3600000 > ?")
        all += arguments + [hours.upperBound, query.limit, query.offset]
        return (
            """
            SELECT \(connectionColumns) FROM connections WHERE rowid IN (
                SELECT rowid FROM (\(arms.joined(separator: " UNION ALL ")) \(order) LIMIT ? OFFSET ?)
            ) \(order)
            """,
            StatementArguments(all)
        )
    }

    /// Column values in `connectionColumns` order, then `name_sort` and `category_mask`. A connection
    /// without refresh state stores NULL status and expiry, and zero attempts.
    static func values(of c: Connection) -> [(any DatabaseValueConvertible)?] {
        let f = c.fields
        return [
            c.id.rawValue, c.workspaceID.rawValue, f.integrationType, f.integrationName, f.externalXref,
            f.permissions.map(\.name).joined(separator: ","), f.categories.map(\.name).joined(separator: ","),
            f.environment, c.sealedAuth?.keyID, c.sealedAuth.map { Data($0.ciphertext) }, c.isPaused,
            f.authAwsArn, f.authAzureKeyvaultID, f.authGcpSecretName, f.authHashiVaultPath, f.secretsmanagerID,
            f.secretsmanagerKey, c.health.lastHealthyAt?.millisecondsSinceEpoch,
            c.health.lastUnhealthyAt?.millisecondsSinceEpoch, c.health.lastUnhealthyCode,
            c.createdAt.millisecondsSinceEpoch, c.updatedAt.millisecondsSinceEpoch, c.version,
            c.refresh?.expiresAt.millisecondsSinceEpoch, c.refresh?.status.rawValue, c.refresh?.attempts ?? 0,
            c.refresh?.nextAttemptAt?.millisecondsSinceEpoch, f.nameSortKey, Category.mask(f.categories),
        ]
    }

    static func connection(from row: Row) -> Connection {
        // Split on UTF-8 bytes: String.split works on Characters, which costs more than the lookups.
        func names(_ text: String) -> [String] {
            text.isEmpty ? [] : text.utf8.split(separator: UInt8(ascii: ",")).map { String(Substring($0)) }
        }
        func time(_ value: Int64?) -> Timestamp? { value.map(Timestamp.init(millisecondsSinceEpoch:)) }
        let fields = ConnectionFields(
            integrationType: row[2],
            integrationName: row[3],
            externalXref: row[4],
            // The store wrote these from validated values; an unknown name would mean a newer
            // schema's data, and is dropped rather than failing the whole page.
            permissions: names(row[5]).compactMap { Permission($0) },
            categories: names(row[6]).compactMap { Category($0) },
            environment: row[7],
            authAwsArn: row[11],
            authAzureKeyvaultID: row[12],
            authGcpSecretName: row[13],
            authHashiVaultPath: row[14],
            secretsmanagerID: row[15],
            secretsmanagerKey: row[16]
        )
        let keyID: String? = row[8]
        let ciphertext: Data? = row[9]
        let sealed = keyID.flatMap { keyID in ciphertext.map { SealedSecret(keyID: keyID, ciphertext: Array($0)) } }
        return Connection(
            id: ConnectionID(rawValue: row[0]),
            workspaceID: WorkspaceID(rawValue: row[1]),
            fields: fields,
            sealedAuth: sealed,
            isPaused: row[10],
            health: ConnectionHealth(
                lastHealthyAt: time(row[17]),
                lastUnhealthyAt: time(row[18]),
                lastUnhealthyCode: row[19]
            ),
            refresh: refreshState(status: row[24], expiresAt: row[23], attempts: row[25], nextAttemptAt: row[26]),
            createdAt: Timestamp(millisecondsSinceEpoch: row[20]),
            updatedAt: Timestamp(millisecondsSinceEpoch: row[21]),
            version: row[22]
        )
    }

    /// Nil when the row has no refresh status, or one this version does not know (a newer one's).
    static func refreshState(
        status: String?,
        expiresAt: Int64?,
        attempts: Int,
        nextAttemptAt: Int64?
    )
        -> TokenRefreshState?
    {
        guard let status = status.flatMap(TokenRefreshState.Status.init(rawValue:)), let expiresAt else { return nil }
        return TokenRefreshState(
            status: status,
            expiresAt: Timestamp(millisecondsSinceEpoch: expiresAt),
            attempts: attempts,
            nextAttemptAt: nextAttemptAt.map(Timestamp.init(millisecondsSinceEpoch:))
        )
    }
}
