import Foundation
import GRDB
import SwitchboardCore

extension SQLiteStore {
    public func acquireRefreshLease(
        id: ConnectionID,
        workspace: WorkspaceID,
        owner: String,
        at time: Timestamp,
        until: Timestamp
    ) async throws -> RefreshLease? {
        try await mapped {
            // Conditional update and read in one write transaction: with SQLite's single writer no
            // other owner can take the lease in between.
            try await pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE connections SET refresh_lease_owner = ?, refresh_lease_until = ?
                        WHERE id = ? AND workspace_id = ? AND (refresh_lease_until IS NULL OR refresh_lease_until <= ?)
                        """,
                    arguments: [
                        owner, until.millisecondsSinceEpoch, id.rawValue, workspace.rawValue,
                        time.millisecondsSinceEpoch,
                    ]
                )
                let acquired = db.changesCount == 1
                guard let connection = try Self.fetchConnection(id: id, workspace: workspace, db) else { return nil }
                return acquired ? .acquired(connection) : .heldElsewhere(connection)
            }
        }
    }

    public func claimDueRefreshes(
        owner: String,
        at time: Timestamp,
        dueBy: Timestamp,
        until: Timestamp,
        limit: Int
    ) async throws -> [Connection] {
        try await mapped {
            // One write transaction: no other claimer (in any process) runs between the select and
            // the lease updates, so a row is never claimed twice.
            try await pool.write { db in
                let now = time.millisecondsSinceEpoch
                let due = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(Self.connectionColumns) FROM connections
                        WHERE refresh_status IN ('active','retrying') AND token_expires_at <= ?
                          AND (refresh_next_at IS NULL OR refresh_next_at <= ?)
                          AND (refresh_lease_until IS NULL OR refresh_lease_until <= ?)
                        ORDER BY token_expires_at LIMIT ?
                        """,
                    arguments: [dueBy.millisecondsSinceEpoch, now, now, limit]
                ).map(Self.connection(from:))
                let lease = try db.cachedStatement(
                    sql: "UPDATE connections SET refresh_lease_owner = ?, refresh_lease_until = ? WHERE id = ?"
                )
                for connection in due {
                    try lease.execute(arguments: [owner, until.millisecondsSinceEpoch, connection.id.rawValue])
                }
                return due
            }
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
        return try await mapped {
            try await pool.write { db in
                var values = Self.values(of: connection)
                values.removeFirst(2)
                values += [connection.id.rawValue, connection.workspaceID.rawValue, owner, expectedVersion]
                try db.execute(
                    sql: """
                        UPDATE connections SET \(Self.connectionAssignments),
                            refresh_lease_owner = NULL, refresh_lease_until = NULL
                        WHERE id = ? AND workspace_id = ? AND refresh_lease_owner = ? AND version = ?
                        """,
                    arguments: StatementArguments(values)
                )
                if db.changesCount == 1 {
                    if let audit { try Self.appendAudit([audit], db) }
                    try Self.appendEvents(events, db)
                    return true
                }
                // A concurrent write won (or the lease was lost): write nothing, release what we hold.
                try Self.releaseLease(id: connection.id, owner: owner, db)
                return false
            }
        }
    }

    public func releaseRefreshLease(id: ConnectionID, owner: String) async throws {
        try await mapped {
            try await pool.write { db in try Self.releaseLease(id: id, owner: owner, db) }
        }
    }

    public func refreshBacklog(at time: Timestamp, dueBy: Timestamp) async throws -> RefreshBacklog {
        try await mapped {
            try await pool.read { db in
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT (SELECT COUNT(*) FROM connections WHERE refresh_status = 'needs_reauth'),
                               COUNT(*), MIN(token_expires_at)
                        FROM connections
                        WHERE refresh_status IN ('active','retrying') AND token_expires_at <= ?
                            AND (refresh_next_at IS NULL OR refresh_next_at <= ?)
                        """,
                    arguments: [dueBy.millisecondsSinceEpoch, time.millisecondsSinceEpoch]
                )
                return RefreshBacklog(
                    needsReauthorization: row?[0] ?? 0,
                    due: row?[1] ?? 0,
                    earliestDueExpiry: (row?[2] as Int64?).map(Timestamp.init(millisecondsSinceEpoch:))
                )
            }
        }
    }

    static func releaseLease(id: ConnectionID, owner: String, _ db: Database) throws {
        try db.execute(
            sql: """
                UPDATE connections SET refresh_lease_owner = NULL, refresh_lease_until = NULL
                WHERE id = ? AND refresh_lease_owner = ?
                """,
            arguments: [id.rawValue, owner]
        )
    }

    /// The connection with `id` in `workspace`, read in `db`'s transaction.
    static func fetchConnection(id: ConnectionID, workspace: WorkspaceID, _ db: Database) throws -> Connection? {
        let statement = try db.cachedStatement(sql: Self.connectionByIDSQL)
        return try Row.fetchOne(statement, arguments: [id.rawValue, workspace.rawValue]).map(connection(from:))
    }
}
