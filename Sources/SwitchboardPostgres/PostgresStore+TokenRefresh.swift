import NIOCore
import PostgresNIO
import SwitchboardCore

extension PostgresStore {
    public func acquireRefreshLease(
        id: ConnectionID,
        workspace: WorkspaceID,
        owner: String,
        at time: Timestamp,
        until: Timestamp
    ) async throws -> RefreshLease? {
        try await mapped { [client, logger] in
            // The WHERE is re-checked after waiting on a concurrent taker's row lock, so of any number
            // of callers exactly one gets its row back.
            let taken = try await Self.connections(
                try await client.query(
                    """
                    UPDATE connections
                    SET refresh_lease_owner = \(owner), refresh_lease_until = \(until.millisecondsSinceEpoch)
                    WHERE id = \(id.rawValue) AND workspace_id = \(workspace.rawValue)
                      AND (refresh_lease_until IS NULL OR refresh_lease_until <= \(time.millisecondsSinceEpoch))
                    RETURNING \(unescaped: Self.connectionColumns)
                    """,
                    logger: logger
                )
            )
            if let connection = taken.first { return .acquired(connection) }
            let current = try await Self.connections(
                try await client.query(
                    """
                    SELECT \(unescaped: Self.connectionColumns) FROM connections
                    WHERE id = \(id.rawValue) AND workspace_id = \(workspace.rawValue)
                    """,
                    logger: logger
                )
            )
            return current.first.map(RefreshLease.heldElsewhere)
        }
    }

    public func claimDueRefreshes(
        owner: String,
        at time: Timestamp,
        dueBy: Timestamp,
        until: Timestamp,
        limit: Int
    ) async throws -> [Connection] {
        let now = time.millisecondsSinceEpoch
        return try await mapped { [client, logger] in
            // SKIP LOCKED: rows another replica is claiming right now are passed over, not waited for.
            // The outer WHERE repeats the lease test for a row whose lease changed after the subquery read it.
            try await Self.connections(
                try await client.query(
                    """
                    UPDATE connections
                    SET refresh_lease_owner = \(owner), refresh_lease_until = \(until.millisecondsSinceEpoch)
                    WHERE id IN (
                        SELECT id FROM connections
                        WHERE refresh_status IN ('active','retrying')
                          AND token_expires_at <= \(dueBy.millisecondsSinceEpoch)
                          AND (refresh_next_at IS NULL OR refresh_next_at <= \(now))
                          AND (refresh_lease_until IS NULL OR refresh_lease_until <= \(now))
                        ORDER BY token_expires_at LIMIT \(Int64(limit))
                        FOR UPDATE SKIP LOCKED
                    )
                    AND (refresh_lease_until IS NULL OR refresh_lease_until <= \(now))
                    RETURNING \(unescaped: Self.connectionColumns)
                    """,
                    logger: logger
                )
            )
        }
    }

    public func finishRefresh(
        _ connection: Connection,
        replacing previous: Connection,
        owner: String,
        audit: AuditRecord?
    ) async throws -> Bool {
        let expectedVersion = previous.version
        let events = ConnectionEvents.of(audit: audit, before: previous, after: connection)
        var binds = PostgresBindings(capacity: Self.boundColumnCount + 2)
        Self.bind(connection, into: &binds)
        binds.append(owner)
        binds.append(expectedVersion)
        let write = PostgresQuery(
            unsafeSQL: """
                UPDATE connections SET \(Self.connectionAssignments),
                    refresh_lease_owner = NULL, refresh_lease_until = NULL
                WHERE id = $1 AND workspace_id = $2
                  AND refresh_lease_owner = $\(Self.boundColumnCount + 1) AND version = $\(Self.boundColumnCount + 2)
                RETURNING 1
                """,
            binds: binds
        )
        return try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { db in
                if try await !db.query(write, logger: logger).collect().isEmpty {
                    if let journal = Self.journalQuery(audit: audit.map { [$0] } ?? [], events: events) {
                        _ = try await db.query(journal, logger: logger)
                    }
                    return true
                }
                // A concurrent write won (or the lease was lost): write nothing, release what we hold.
                _ = try await db.query(Self.releaseLeaseQuery(id: connection.id, owner: owner), logger: logger)
                return false
            }
        }
    }

    public func releaseRefreshLease(id: ConnectionID, owner: String) async throws {
        try await mapped { [client, logger] in
            _ = try await client.query(Self.releaseLeaseQuery(id: id, owner: owner), logger: logger)
        }
    }

    public func refreshBacklog(at time: Timestamp, dueBy: Timestamp) async throws -> RefreshBacklog {
        try await mapped { [client, logger] in
            let now = time.millisecondsSinceEpoch
            let row = try await client.query(
                """
                SELECT (SELECT COUNT(*) FROM connections WHERE refresh_status = 'needs_reauth'),
                       COUNT(*), MIN(token_expires_at)
                FROM connections
                WHERE refresh_status IN ('active','retrying') AND token_expires_at <= \(dueBy.millisecondsSinceEpoch)
                    AND (refresh_next_at IS NULL OR refresh_next_at <= \(now))
                """,
                logger: logger
            ).collect().first
            guard let (reauth, due, earliest) = try row?.decode((Int64, Int64, Int64?).self) else {
                return RefreshBacklog(needsReauthorization: 0, due: 0, earliestDueExpiry: nil)
            }
            return RefreshBacklog(
                needsReauthorization: Int(reauth),
                due: Int(due),
                earliestDueExpiry: earliest.map(Timestamp.init(millisecondsSinceEpoch:))
            )
        }
    }

    static func releaseLeaseQuery(id: ConnectionID, owner: String) -> PostgresQuery {
        """
        UPDATE connections SET refresh_lease_owner = NULL, refresh_lease_until = NULL
        WHERE id = \(id.rawValue) AND refresh_lease_owner = \(owner)
        """
    }

    /// Rows in `connectionColumns` order.
    static func connections(_ rows: PostgresRowSequence) async throws -> [Connection] {
        var connections: [Connection] = []
        for try await row in rows { connections.append(try connection(from: row)) }
        return connections
    }
}
