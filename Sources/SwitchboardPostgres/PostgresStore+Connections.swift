import Foundation
import NIOCore
import PostgresNIO
import SwitchboardCore

extension PostgresStore {
    static let connectionColumns = """
        id, workspace_id, integration_type, integration_name, external_xref, permissions, categories, \
        environment, auth_key_id, auth_ciphertext, is_paused, auth_aws_arn, auth_azure_keyvault_id, \
        auth_gcp_secret_name, auth_hashi_vault_path, secretsmanager_id, secretsmanager_key, last_healthy_at, \
        last_unhealthy_at, last_unhealthy_code, created_at, updated_at, version, token_expires_at, refresh_status, \
        refresh_attempts, refresh_next_at
        """

    /// How many values `bind(_:into:)` appends: `connectionColumns`, `name_sort`, `category_mask`.
    static let boundColumnCount = 29

    /// `$1, ..., $29`: one row of `bind(_:into:)` values.
    static let connectionPlaceholders = (1...boundColumnCount).map { "$\($0)" }.joined(separator: ", ")

    /// Every column `update` writes (all but the id, $1, and workspace, $2), bound by `bind(_:into:)`.
    static let connectionAssignments = """
        integration_type = $3, integration_name = $4, external_xref = $5, permissions = $6, categories = $7, \
        environment = $8, auth_key_id = $9, auth_ciphertext = $10, is_paused = $11, auth_aws_arn = $12, \
        auth_azure_keyvault_id = $13, auth_gcp_secret_name = $14, auth_hashi_vault_path = $15, \
        secretsmanager_id = $16, secretsmanager_key = $17, last_healthy_at = $18, last_unhealthy_at = $19, \
        last_unhealthy_code = $20, created_at = $21, updated_at = $22, version = $23, token_expires_at = $24, \
        refresh_status = $25, refresh_attempts = $26, refresh_next_at = $27, name_sort = $28, category_mask = $29
        """

    public func insert(_ connection: Connection, audit: AuditRecord?) async throws {
        var binds = PostgresBindings(capacity: Self.boundColumnCount)
        Self.bind(connection, into: &binds)
        let statement = InsertConnection(binds: binds)
        guard let audit else {
            return try await mapped { [client, logger] in
                for try await _ in try await client.execute(statement, logger: logger) {}
            }
        }
        try await mapped { [client, logger, created = connection] in
            try await client.withTransaction(logger: logger) { connection in
                for try await _ in try await connection.execute(statement, logger: logger) {}
                let events = ConnectionEvents.of(audit: audit, before: nil, after: created)
                _ = try await connection.query(Self.journalQuery(audit: [audit], events: events)!, logger: logger)
            }
        }
    }

    public func connection(id: ConnectionID, workspace: WorkspaceID) async throws -> Connection? {
        try await mapped { [client, logger] in
            let rows = try await client.execute(
                ConnectionByID(id: id.rawValue, workspace: workspace.rawValue),
                logger: logger
            )
            for try await row in rows { return try Self.connection(from: row) }
            return nil
        }
    }

    public func list(_ query: ConnectionQuery) async throws -> [Connection] {
        try await mapped { [client, logger] in
            var connections: [Connection] = []
            connections.reserveCapacity(query.limit)
            for try await row in try await Self.pageRows(query, now: now(), client: client, logger: logger) {
                connections.append(try Self.connection(from: row))
            }
            return connections
        }
    }

    public func update(
        id: ConnectionID,
        workspace: WorkspaceID,
        audit: AuditRecord?,
        _ transform: @escaping @Sendable (Connection) throws -> Connection
    ) async throws -> Connection? {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                // FOR UPDATE holds the row until commit: concurrent updates from every replica queue here.
                let rows = try await connection.query(
                    """
                    SELECT \(unescaped: Self.connectionColumns) FROM connections
                    WHERE id = \(id.rawValue) AND workspace_id = \(workspace.rawValue) FOR UPDATE
                    """,
                    logger: logger
                )
                var current: Connection?
                for try await row in rows { current = try Self.connection(from: row) }
                guard let current else { return nil }
                let updated = try transform(current)
                var binds = PostgresBindings(capacity: Self.boundColumnCount)
                Self.bind(updated, into: &binds)
                _ = try await connection.query(
                    PostgresQuery(
                        unsafeSQL:
                            "UPDATE connections SET \(Self.connectionAssignments) WHERE id = $1 AND workspace_id = $2",
                        binds: binds
                    ),
                    logger: logger
                )
                let events = ConnectionEvents.of(audit: audit, before: current, after: updated)
                if let journal = Self.journalQuery(audit: audit.map { [$0] } ?? [], events: events) {
                    _ = try await connection.query(journal, logger: logger)
                }
                return updated
            }
        }
    }

    public func delete(id: ConnectionID, workspace: WorkspaceID, audit: AuditRecord?) async throws -> Bool {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                let deleted = try await Self.connections(
                    try await connection.query(
                        """
                        DELETE FROM connections WHERE id = \(id.rawValue) AND workspace_id = \(workspace.rawValue)
                        RETURNING \(unescaped: Self.connectionColumns)
                        """,
                        logger: logger
                    )
                ).first
                guard let deleted else { return false }
                let events = ConnectionEvents.of(audit: audit, before: deleted, after: nil)
                if let journal = Self.journalQuery(audit: audit.map { [$0] } ?? [], events: events) {
                    _ = try await connection.query(journal, logger: logger)
                }
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
        try await mapped { [client, logger] in
            var connections: [Connection] = []
            let rows = try await client.query(
                """
                SELECT \(unescaped: Self.connectionColumns) FROM connections
                WHERE auth_key_id IS NOT NULL AND auth_key_id <> \(keyID) AND id > \(id?.rawValue ?? "")
                ORDER BY id LIMIT \(Int64(limit))
                """,
                logger: logger
            )
            for try await row in rows { connections.append(try Self.connection(from: row)) }
            return connections
        }
    }

    public func replaceSealedAuth(_ swaps: [SealSwap]) async throws -> Int {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                var replaced = 0
                for swap in swaps {
                    replaced += try await connection.query(
                        """
                        UPDATE connections
                        SET auth_key_id = \(swap.new.keyID), auth_ciphertext = \(ByteBuffer(bytes: swap.new.ciphertext))
                        WHERE id = \(swap.id.rawValue) AND workspace_id = \(swap.workspaceID.rawValue)
                          AND auth_key_id = \(swap.old.keyID) AND auth_ciphertext = \(ByteBuffer(bytes: swap.old.ciphertext))
                        RETURNING 1
                        """,
                        logger: logger
                    ).collect().count
                }
                return replaced
            }
        }
    }

    public func sealedCountsByKey() async throws -> [String: Int] {
        try await mapped { [client, logger] in
            var counts: [String: Int] = [:]
            let rows = try await client.query(
                """
                SELECT auth_key_id, COUNT(*) FROM connections WHERE auth_key_id IS NOT NULL GROUP BY auth_key_id
                UNION ALL
                SELECT auth_key_id, COUNT(*) FROM secrets_managers GROUP BY auth_key_id
                UNION ALL
                SELECT auth_key_id, COUNT(*) FROM workspace_integrations GROUP BY auth_key_id
                UNION ALL
                SELECT secret_key_id, COUNT(*) FROM event_webhooks GROUP BY secret_key_id
                UNION ALL
                SELECT previous_key_id, COUNT(*) FROM event_webhooks WHERE previous_key_id IS NOT NULL GROUP BY previous_key_id
                """,
                logger: logger
            )
            for try await (keyID, count) in rows.decode((String, Int64).self) {
                counts[keyID, default: 0] += Int(count)
            }
            return counts
        }
    }

    /// The page query: every filter, the order and the page in SQL, shaped to use one index.
    /// With `confirmingKey`, the page is empty unless that API key exists unrevoked: PostgreSQL
    /// checks it once, before the scan, in the same round trip.
    static func listSQL(_ query: ConnectionQuery, confirmingKey keyID: String? = nil) -> PostgresQuery {
        var binds = PostgresBindings()
        var filter = "workspace_id = $1 AND environment = $2"
        binds.append(query.workspaceID.rawValue)
        binds.append(query.environment)
        if let keyID {
            binds.append(keyID)
            filter += " AND \(liveKeyCondition(bind: binds.count))"
        }
        if let xref = query.externalXref {
            binds.append(xref)
            filter += " AND external_xref = $\(binds.count)"
        }
        if let updatedGTE = query.updatedGTE {
            binds.append(updatedGTE.millisecondsSinceEpoch)
            filter += " AND updated_at >= $\(binds.count)"
        }
        if !query.categories.isEmpty {
            binds.append(query.categoryMask)
            filter += " AND (category_mask & $\(binds.count)) <> 0"
        }
        if let type = query.integrationType {
            binds.append(type)
            filter += " AND integration_type = $\(binds.count)"
        }
        if let health = query.health {
            filter += " AND " + health.condition(false: "false", true: "true")
        }
        if let after = query.after {
            // A row-value comparison on the order's own columns: the index range starts right after
            // the cursor's row, so a deep page costs what the first one does.
            let op = query.order == .asc ? ">" : "<"
            switch after {
            case .time(let time, let id):
                binds.append(time)
                binds.append(id.rawValue)
                let column = query.sort == .updatedAt ? "updated_at" : "created_at"
                filter += " AND (\(column), id) \(op) ($\(binds.count - 1), $\(binds.count))"
            case .name(let name, let type, let id):
                binds.append(name)
                binds.append(type)
                binds.append(id.rawValue)
                let n = binds.count
                filter += " AND (name_sort, integration_type, id) \(op) ($\(n - 2), $\(n - 1), $\(n))"
            }
        }
        let direction = query.order == .asc ? "ASC" : "DESC"
        let order =
            switch query.sort {
            case .createdAt: "ORDER BY created_at \(direction), id \(direction)"
            case .updatedAt: "ORDER BY updated_at \(direction), id \(direction)"
            case .name: "ORDER BY name_sort \(direction), integration_type \(direction), id \(direction)"
            }
        binds.append(Int64(query.limit))
        binds.append(Int64(query.offset))
        let page = "LIMIT $\(binds.count - 1) OFFSET $\(binds.count)"
        if query.choosesPageFromIndex {
            // The inner query can run as an index-only scan (see migration 0005), so skipped and
            // sorted entries cost no heap fetch; the outer one reads the page's rows by primary key.
            return PostgresQuery(
                unsafeSQL: """
                    SELECT \(connectionColumns) FROM connections WHERE workspace_id = $1 AND id IN (
                        SELECT id FROM connections WHERE \(filter) \(order) \(page)
                    ) \(order)
                    """,
                binds: binds
            )
        }
        return PostgresQuery(
            unsafeSQL: "SELECT \(connectionColumns) FROM connections WHERE \(filter) \(order) \(page)",
            binds: binds
        )
    }

    /// True when the API key bound at `$bind` exists unrevoked. Uncorrelated, so PostgreSQL
    /// evaluates it once per statement.
    static func liveKeyCondition(bind: Int) -> String {
        "EXISTS (SELECT 1 FROM api_keys WHERE id = $\(bind) AND revoked_at IS NULL)"
    }

    /// Binds the values of `connectionColumns`, then `name_sort` and `category_mask` ($1...$29). A
    /// connection without refresh state binds NULL status and expiry, and zero attempts.
    static func bind(_ c: Connection, into binds: inout PostgresBindings) {
        let f = c.fields
        func text(_ value: String?) {
            if let value { binds.append(value) } else { binds.appendNull() }
        }
        func time(_ value: Timestamp?) {
            if let value { binds.append(value.millisecondsSinceEpoch) } else { binds.appendNull() }
        }
        text(c.id.rawValue)
        text(c.workspaceID.rawValue)
        text(f.integrationType)
        text(f.integrationName)
        text(f.externalXref)
        text(f.permissions.map(\.name).joined(separator: ","))
        text(f.categories.map(\.name).joined(separator: ","))
        text(f.environment)
        text(c.sealedAuth?.keyID)
        if let sealed = c.sealedAuth { binds.append(ByteBuffer(bytes: sealed.ciphertext)) } else { binds.appendNull() }
        binds.append(c.isPaused)
        text(f.authAwsArn)
        text(f.authAzureKeyvaultID)
        text(f.authGcpSecretName)
        text(f.authHashiVaultPath)
        text(f.secretsmanagerID)
        text(f.secretsmanagerKey)
        time(c.health.lastHealthyAt)
        time(c.health.lastUnhealthyAt)
        text(c.health.lastUnhealthyCode)
        time(c.createdAt)
        time(c.updatedAt)
        binds.append(c.version)
        time(c.refresh?.expiresAt)
        text(c.refresh?.status.rawValue)
        binds.append(Int64(c.refresh?.attempts ?? 0))
        time(c.refresh?.nextAttemptAt)
        text(f.nameSortKey)
        binds.append(Category.mask(f.categories))
    }

    static func connection(from row: PostgresRow) throws -> Connection {
        // Cells are decoded in column order from the row's iterator: PostgresRandomAccessRow builds a
        // lookup table per row first, which a profile of the list endpoint showed costing more than
        // the decoding itself.
        var cells = row.makeIterator()
        func next<T: PostgresDecodable>(_ type: T.Type) throws -> T {
            guard let cell = cells.next() else { throw RowShapeError(columns: row.count) }
            return try cell.decode(T.self)
        }
        func names(_ text: String) -> [String] {
            text.isEmpty ? [] : text.utf8.split(separator: UInt8(ascii: ",")).map { String(Substring($0)) }
        }
        func time(_ value: Int64?) -> Timestamp? { value.map(Timestamp.init(millisecondsSinceEpoch:)) }
        let id = try next(String.self)
        let workspaceID = try next(String.self)
        let integrationType = try next(String.self)
        let integrationName = try next(String?.self)
        let externalXref = try next(String?.self)
        let permissions = names(try next(String.self)).compactMap { Permission($0) }
        let categories = names(try next(String.self)).compactMap { Category($0) }
        let environment = try next(String.self)
        let keyID = try next(String?.self)
        let ciphertext = try next(ByteBuffer?.self)
        let isPaused = try next(Bool.self)
        let fields = ConnectionFields(
            integrationType: integrationType,
            integrationName: integrationName,
            externalXref: externalXref,
            permissions: permissions,
            categories: categories,
            environment: environment,
            authAwsArn: try next(String?.self),
            authAzureKeyvaultID: try next(String?.self),
            authGcpSecretName: try next(String?.self),
            authHashiVaultPath: try next(String?.self),
            secretsmanagerID: try next(String?.self),
            secretsmanagerKey: try next(String?.self)
        )
        let health = ConnectionHealth(
            lastHealthyAt: time(try next(Int64?.self)),
            lastUnhealthyAt: time(try next(Int64?.self)),
            lastUnhealthyCode: try next(String?.self)
        )
        let createdAt = Timestamp(millisecondsSinceEpoch: try next(Int64.self))
        let updatedAt = Timestamp(millisecondsSinceEpoch: try next(Int64.self))
        let version = try next(Int64.self)
        let expiresAt = try next(Int64?.self)
        let status = try next(String?.self)
        let attempts = try next(Int64.self)
        let nextAttemptAt = try next(Int64?.self)
        // Nil when the row has no refresh status, or one this version does not know (a newer one's).
        let refresh = status.flatMap(TokenRefreshState.Status.init(rawValue:)).flatMap { status in
            expiresAt.map {
                TokenRefreshState(
                    status: status,
                    expiresAt: Timestamp(millisecondsSinceEpoch: $0),
                    attempts: Int(attempts),
                    nextAttemptAt: time(nextAttemptAt)
                )
            }
        }
        let sealed = keyID.flatMap { keyID in
            ciphertext.map { SealedSecret(keyID: keyID, ciphertext: Array($0.readableBytesView)) }
        }
        return Connection(
            id: ConnectionID(rawValue: id),
            workspaceID: WorkspaceID(rawValue: workspaceID),
            fields: fields,
            sealedAuth: sealed,
            isPaused: isPaused,
            health: health,
            refresh: refresh,
            createdAt: createdAt,
            updatedAt: updatedAt,
            version: version
        )
    }
}

/// A row with fewer columns than `connectionColumns` (a programming error, answered as a 500).
struct RowShapeError: Error, CustomStringConvertible {
    let columns: Int
    var description: String { "a connections row has \(columns) columns, fewer than expected" }
}
