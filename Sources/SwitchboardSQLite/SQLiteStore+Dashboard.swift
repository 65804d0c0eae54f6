import Foundation
import GRDB
import SwitchboardCore

extension SQLiteStore {
    static let dashboardSessionColumns =
        "token_hash, kind, workspace_id, key_id, scopes, created_at, last_seen_at, expires_at, used_at"
    static let connectSessionColumns = """
        token_hash, id, workspace_id, external_xref, integrations, categories, environment, success_redirect, \
        failure_redirect, created_by, created_at, expires_at, used_at
        """

    public func insert(_ session: DashboardSession, audit: AuditRecord?) async throws {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql:
                        "INSERT INTO dashboard_sessions (\(Self.dashboardSessionColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    arguments: [
                        Data(session.tokenHash), session.kind.rawValue, session.workspaceID.rawValue, session.keyID,
                        session.scopes.text, session.createdAt.millisecondsSinceEpoch,
                        session.lastSeenAt.millisecondsSinceEpoch, session.expiresAt.millisecondsSinceEpoch,
                        session.usedAt?.millisecondsSinceEpoch,
                    ]
                )
                if let audit { try Self.appendAudit([audit], db) }
            }
        }
    }

    public func dashboardSession(hash: [UInt8], at time: Timestamp) async throws -> DashboardSession? {
        try await mapped {
            // Every dashboard page view runs it: a cached statement, compiled once per connection.
            try await pool.read { db in
                try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT \(Self.dashboardSessionColumns) FROM dashboard_sessions s
                            WHERE token_hash = ? AND kind = 'session' AND expires_at > ?
                              AND (key_id IS NULL OR EXISTS (
                                  SELECT 1 FROM api_keys k WHERE k.id = s.key_id AND k.revoked_at IS NULL))
                            """
                    ),
                    arguments: [Data(hash), time.millisecondsSinceEpoch]
                ).map(Self.dashboardSession(from:))
            }
        }
    }

    public func signInLink(hash: [UInt8], at time: Timestamp) async throws -> DashboardSession? {
        try await mapped {
            try await pool.read { db in
                try Row.fetchOne(
                    db,
                    sql: """
                        SELECT \(Self.dashboardSessionColumns) FROM dashboard_sessions
                        WHERE token_hash = ? AND kind = 'link' AND used_at IS NULL AND expires_at > ?
                        """,
                    arguments: [Data(hash), time.millisecondsSinceEpoch]
                ).map(Self.dashboardSession(from:))
            }
        }
    }

    public func touchDashboardSession(hash: [UInt8], at time: Timestamp) async throws {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: "UPDATE dashboard_sessions SET last_seen_at = ? WHERE token_hash = ? AND kind = 'session'",
                    arguments: [time.millisecondsSinceEpoch, Data(hash)]
                )
            }
        }
    }

    public func spendSignInLink(hash: [UInt8], at time: Timestamp) async throws -> DashboardSession? {
        try await mapped {
            // The conditional update and the read share SQLite's single writer: one spender wins.
            try await pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE dashboard_sessions SET used_at = ?
                        WHERE token_hash = ? AND kind = 'link' AND used_at IS NULL AND expires_at > ?
                        """,
                    arguments: [time.millisecondsSinceEpoch, Data(hash), time.millisecondsSinceEpoch]
                )
                guard db.changesCount == 1 else { return nil }
                return try Row.fetchOne(
                    db,
                    sql: "SELECT \(Self.dashboardSessionColumns) FROM dashboard_sessions WHERE token_hash = ?",
                    arguments: [Data(hash)]
                ).map(Self.dashboardSession(from:))
            }
        }
    }

    public func deleteDashboardSessions(workspace: WorkspaceID, hash: [UInt8]?, audit: AuditRecord) async throws -> Int
    {
        try await mapped {
            try await pool.write { db in
                if let hash {
                    try db.execute(
                        sql:
                            "DELETE FROM dashboard_sessions WHERE workspace_id = ? AND token_hash = ? AND kind = 'session'",
                        arguments: [workspace.rawValue, Data(hash)]
                    )
                } else {
                    try db.execute(
                        sql: "DELETE FROM dashboard_sessions WHERE workspace_id = ? AND kind = 'session'",
                        arguments: [workspace.rawValue]
                    )
                }
                let deleted = db.changesCount
                try Self.appendAudit([audit], db)
                return deleted
            }
        }
    }

    public func insert(_ session: ConnectSession, audit: AuditRecord) async throws {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO connect_sessions (\(Self.connectSessionColumns))
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        Data(session.tokenHash), session.id, session.workspaceID.rawValue, session.externalXref,
                        session.integrations.joined(separator: ","),
                        session.categories.map(\.name).joined(separator: ","), session.environment,
                        session.successRedirect, session.failureRedirect, session.createdBy,
                        session.createdAt.millisecondsSinceEpoch, session.expiresAt.millisecondsSinceEpoch,
                        session.usedAt?.millisecondsSinceEpoch,
                    ]
                )
                try Self.appendAudit([audit], db)
            }
        }
    }

    public func connectSession(hash: [UInt8]) async throws -> ConnectSession? {
        try await mapped {
            try await pool.read { db in
                try Row.fetchOne(
                    db,
                    sql: "SELECT \(Self.connectSessionColumns) FROM connect_sessions WHERE token_hash = ?",
                    arguments: [Data(hash)]
                ).map(Self.connectSession(from:))
            }
        }
    }

    public func spendConnectSession(hash: [UInt8], at time: Timestamp) async throws -> ConnectSession? {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE connect_sessions SET used_at = ?
                        WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?
                        """,
                    arguments: [time.millisecondsSinceEpoch, Data(hash), time.millisecondsSinceEpoch]
                )
                guard db.changesCount == 1 else { return nil }
                return try Row.fetchOne(
                    db,
                    sql: "SELECT \(Self.connectSessionColumns) FROM connect_sessions WHERE token_hash = ?",
                    arguments: [Data(hash)]
                ).map(Self.connectSession(from:))
            }
        }
    }

    public func purgeExpiredDashboardSessions(before time: Timestamp) async throws -> Int {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: "DELETE FROM dashboard_sessions WHERE expires_at < ?",
                    arguments: [time.millisecondsSinceEpoch]
                )
                var deleted = db.changesCount
                try db.execute(
                    sql: "DELETE FROM connect_sessions WHERE expires_at < ?",
                    arguments: [time.millisecondsSinceEpoch]
                )
                deleted += db.changesCount
                return deleted
            }
        }
    }

    public func connectionCounts(workspace: WorkspaceID, environment: String) async throws -> [ConnectionCounts] {
        let healthy = ConnectionQuery.Health.healthy.condition(false: "0", true: "1")
        let unhealthy = ConnectionQuery.Health.unhealthy.condition(false: "0", true: "1")
        return try await mapped {
            try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT integration_type, SUM(\(healthy)), SUM(\(unhealthy)), SUM(is_paused)
                        FROM connections WHERE workspace_id = ? AND environment = ?
                        GROUP BY integration_type ORDER BY integration_type
                        """,
                    arguments: [workspace.rawValue, environment]
                ).map { row in
                    ConnectionCounts(integrationType: row[0], healthy: row[1], unhealthy: row[2], paused: row[3])
                }
            }
        }
    }

    static func dashboardSession(from row: Row) -> DashboardSession {
        let hash: Data = row[0]
        let scopes: String = row[4]
        return DashboardSession(
            tokenHash: Array(hash),
            kind: DashboardSession.Kind(rawValue: row[1]) ?? .session,
            workspaceID: WorkspaceID(rawValue: row[2]),
            keyID: row[3],
            scopes: (try? ScopeSet(parsing: scopes)) ?? ScopeSet([]),
            createdAt: Timestamp(millisecondsSinceEpoch: row[5]),
            lastSeenAt: Timestamp(millisecondsSinceEpoch: row[6]),
            expiresAt: Timestamp(millisecondsSinceEpoch: row[7]),
            usedAt: (row[8] as Int64?).map(Timestamp.init(millisecondsSinceEpoch:))
        )
    }

    static func connectSession(from row: Row) -> ConnectSession {
        let hash: Data = row[0]
        let integrations: String = row[4]
        let categories: String = row[5]
        return ConnectSession(
            tokenHash: Array(hash),
            id: row[1],
            workspaceID: WorkspaceID(rawValue: row[2]),
            externalXref: row[3],
            integrations: integrations.split(separator: ",").map(String.init),
            categories: categories.split(separator: ",").compactMap { Category(String($0)) },
            environment: row[6],
            successRedirect: row[7],
            failureRedirect: row[8],
            createdBy: row[9],
            createdAt: Timestamp(millisecondsSinceEpoch: row[10]),
            expiresAt: Timestamp(millisecondsSinceEpoch: row[11]),
            usedAt: (row[12] as Int64?).map(Timestamp.init(millisecondsSinceEpoch:))
        )
    }
}
