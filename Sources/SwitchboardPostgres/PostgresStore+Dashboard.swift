import Logging
import NIOCore
import PostgresNIO
import SwitchboardCore

extension PostgresStore {
    static let dashboardSessionColumns =
        "token_hash, kind, workspace_id, key_id, scopes, created_at, last_seen_at, expires_at, used_at"
    static let connectSessionColumns = """
        token_hash, id, workspace_id, external_xref, integrations, categories, environment, success_redirect, \
        failure_redirect, created_by, created_at, expires_at, used_at
        """
    typealias DashboardSessionRow = (ByteBuffer, String, String, String?, String, Int64, Int64, Int64, Int64?)
    typealias ConnectSessionRow = (
        ByteBuffer, String, String, String, String, String, String, String?, String?, String, Int64, Int64, Int64?
    )

    public func insert(_ session: DashboardSession, audit: AuditRecord?) async throws {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                _ = try await connection.query(
                    """
                    INSERT INTO dashboard_sessions (\(unescaped: Self.dashboardSessionColumns))
                    VALUES (\(ByteBuffer(bytes: session.tokenHash)), \(session.kind.rawValue),
                            \(session.workspaceID.rawValue), \(session.keyID), \(session.scopes.text),
                            \(session.createdAt.millisecondsSinceEpoch), \(session.lastSeenAt.millisecondsSinceEpoch),
                            \(session.expiresAt.millisecondsSinceEpoch), \(session.usedAt?.millisecondsSinceEpoch))
                    """,
                    logger: logger
                )
                if let audit { _ = try await connection.query(Self.appendAuditQuery([audit]), logger: logger) }
            }
        }
    }

    public func dashboardSession(hash: [UInt8], at time: Timestamp) async throws -> DashboardSession? {
        try await mapped { [client, logger] in
            let rows = try await client.query(
                """
                SELECT \(unescaped: Self.dashboardSessionColumns) FROM dashboard_sessions s
                WHERE token_hash = \(ByteBuffer(bytes: hash)) AND kind = 'session'
                  AND expires_at > \(time.millisecondsSinceEpoch)
                  AND (key_id IS NULL OR EXISTS (
                      SELECT 1 FROM api_keys k WHERE k.id = s.key_id AND k.revoked_at IS NULL))
                """,
                logger: logger
            )
            for try await row in rows.decode(DashboardSessionRow.self) { return Self.dashboardSession(row) }
            return nil
        }
    }

    public func signInLink(hash: [UInt8], at time: Timestamp) async throws -> DashboardSession? {
        try await mapped { [client, logger] in
            let rows = try await client.query(
                """
                SELECT \(unescaped: Self.dashboardSessionColumns) FROM dashboard_sessions
                WHERE token_hash = \(ByteBuffer(bytes: hash)) AND kind = 'link' AND used_at IS NULL
                  AND expires_at > \(time.millisecondsSinceEpoch)
                """,
                logger: logger
            )
            for try await row in rows.decode(DashboardSessionRow.self) { return Self.dashboardSession(row) }
            return nil
        }
    }

    public func touchDashboardSession(hash: [UInt8], at time: Timestamp) async throws {
        try await mapped { [client, logger] in
            _ = try await client.query(
                """
                UPDATE dashboard_sessions SET last_seen_at = \(time.millisecondsSinceEpoch)
                WHERE token_hash = \(ByteBuffer(bytes: hash)) AND kind = 'session'
                """,
                logger: logger
            )
        }
    }

    public func spendSignInLink(hash: [UInt8], at time: Timestamp) async throws -> DashboardSession? {
        try await mapped { [client, logger] in
            // One conditional UPDATE: of concurrent spenders only one sees the row come back.
            let rows = try await client.query(
                """
                UPDATE dashboard_sessions SET used_at = \(time.millisecondsSinceEpoch)
                WHERE token_hash = \(ByteBuffer(bytes: hash)) AND kind = 'link' AND used_at IS NULL
                  AND expires_at > \(time.millisecondsSinceEpoch)
                RETURNING \(unescaped: Self.dashboardSessionColumns)
                """,
                logger: logger
            )
            for try await row in rows.decode(DashboardSessionRow.self) { return Self.dashboardSession(row) }
            return nil
        }
    }

    public func deleteDashboardSessions(workspace: WorkspaceID, hash: [UInt8]?, audit: AuditRecord) async throws -> Int
    {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                let rows =
                    if let hash {
                        try await connection.query(
                            """
                            DELETE FROM dashboard_sessions WHERE workspace_id = \(workspace.rawValue)
                              AND token_hash = \(ByteBuffer(bytes: hash)) AND kind = 'session' RETURNING 1
                            """,
                            logger: logger
                        )
                    } else {
                        try await connection.query(
                            """
                            DELETE FROM dashboard_sessions WHERE workspace_id = \(workspace.rawValue)
                              AND kind = 'session' RETURNING 1
                            """,
                            logger: logger
                        )
                    }
                var deleted = 0
                for try await _ in rows { deleted += 1 }
                _ = try await connection.query(Self.appendAuditQuery([audit]), logger: logger)
                return deleted
            }
        }
    }

    public func insert(_ session: ConnectSession, audit: AuditRecord) async throws {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                _ = try await connection.query(
                    """
                    INSERT INTO connect_sessions (\(unescaped: Self.connectSessionColumns))
                    VALUES (\(ByteBuffer(bytes: session.tokenHash)), \(session.id), \(session.workspaceID.rawValue),
                            \(session.externalXref), \(session.integrations.joined(separator: ",")),
                            \(session.categories.map(\.name).joined(separator: ",")), \(session.environment),
                            \(session.successRedirect), \(session.failureRedirect), \(session.createdBy),
                            \(session.createdAt.millisecondsSinceEpoch), \(session.expiresAt.millisecondsSinceEpoch),
                            \(session.usedAt?.millisecondsSinceEpoch))
                    """,
                    logger: logger
                )
                _ = try await connection.query(Self.appendAuditQuery([audit]), logger: logger)
            }
        }
    }

    public func connectSession(hash: [UInt8]) async throws -> ConnectSession? {
        try await mapped { [client, logger] in
            let rows = try await client.query(
                """
                SELECT \(unescaped: Self.connectSessionColumns) FROM connect_sessions
                WHERE token_hash = \(ByteBuffer(bytes: hash))
                """,
                logger: logger
            )
            for try await row in rows.decode(ConnectSessionRow.self) { return Self.connectSession(row) }
            return nil
        }
    }

    public func spendConnectSession(hash: [UInt8], at time: Timestamp) async throws -> ConnectSession? {
        try await mapped { [client, logger] in
            let rows = try await client.query(
                """
                UPDATE connect_sessions SET used_at = \(time.millisecondsSinceEpoch)
                WHERE token_hash = \(ByteBuffer(bytes: hash)) AND used_at IS NULL
                  AND expires_at > \(time.millisecondsSinceEpoch)
                RETURNING \(unescaped: Self.connectSessionColumns)
                """,
                logger: logger
            )
            for try await row in rows.decode(ConnectSessionRow.self) { return Self.connectSession(row) }
            return nil
        }
    }

    public func purgeExpiredDashboardSessions(before time: Timestamp) async throws -> Int {
        try await mapped { [client, logger] in
            let rows = try await client.query(
                """
                WITH sessions AS (DELETE FROM dashboard_sessions WHERE expires_at < \(time.millisecondsSinceEpoch) RETURNING 1),
                     connects AS (DELETE FROM connect_sessions WHERE expires_at < \(time.millisecondsSinceEpoch) RETURNING 1)
                SELECT (SELECT count(*) FROM sessions) + (SELECT count(*) FROM connects)
                """,
                logger: logger
            )
            for try await count in rows.decode(Int64.self) { return Int(count) }
            return 0
        }
    }

    public func connectionCounts(workspace: WorkspaceID, environment: String) async throws -> [ConnectionCounts] {
        let healthy = ConnectionQuery.Health.healthy.condition(false: "false", true: "true")
        let unhealthy = ConnectionQuery.Health.unhealthy.condition(false: "false", true: "true")
        return try await mapped { [client, logger] in
            let rows = try await client.query(
                """
                SELECT integration_type, count(*) FILTER (WHERE \(unescaped: healthy)),
                       count(*) FILTER (WHERE \(unescaped: unhealthy)), count(*) FILTER (WHERE is_paused)
                FROM connections WHERE workspace_id = \(workspace.rawValue) AND environment = \(environment)
                GROUP BY integration_type ORDER BY integration_type
                """,
                logger: logger
            )
            var counts: [ConnectionCounts] = []
            for try await (type, healthy, unhealthy, paused) in rows.decode((String, Int64, Int64, Int64).self) {
                counts.append(
                    ConnectionCounts(
                        integrationType: type,
                        healthy: Int(healthy),
                        unhealthy: Int(unhealthy),
                        paused: Int(paused)
                    )
                )
            }
            return counts
        }
    }

    static func dashboardSession(_ row: DashboardSessionRow) -> DashboardSession {
        DashboardSession(
            tokenHash: Array(row.0.readableBytesView),
            kind: DashboardSession.Kind(rawValue: row.1) ?? .session,
            workspaceID: WorkspaceID(rawValue: row.2),
            keyID: row.3,
            scopes: (try? ScopeSet(parsing: row.4)) ?? ScopeSet([]),
            createdAt: Timestamp(millisecondsSinceEpoch: row.5),
            lastSeenAt: Timestamp(millisecondsSinceEpoch: row.6),
            expiresAt: Timestamp(millisecondsSinceEpoch: row.7),
            usedAt: row.8.map(Timestamp.init(millisecondsSinceEpoch:))
        )
    }

    static func connectSession(_ row: ConnectSessionRow) -> ConnectSession {
        ConnectSession(
            tokenHash: Array(row.0.readableBytesView),
            id: row.1,
            workspaceID: WorkspaceID(rawValue: row.2),
            externalXref: row.3,
            integrations: row.4.split(separator: ",").map(String.init),
            categories: row.5.split(separator: ",").compactMap { Category(String($0)) },
            environment: row.6,
            successRedirect: row.7,
            failureRedirect: row.8,
            createdBy: row.9,
            createdAt: Timestamp(millisecondsSinceEpoch: row.10),
            expiresAt: Timestamp(millisecondsSinceEpoch: row.11),
            usedAt: row.12.map(Timestamp.init(millisecondsSinceEpoch:))
        )
    }
}
