import GRDB
import SwitchboardCore

extension SQLiteStore {
    public func append(_ records: [AuditRecord]) async throws {
        try await mapped { try await pool.write { db in try Self.appendAudit(records, db) } }
    }

    public func auditRecords(_ query: AuditQuery) async throws -> [AuditRecord] {
        var sql = """
            SELECT seq, workspace_id, at, actor, action, connection_id, target, client_address
            FROM audit_log WHERE workspace_id = ?
            """
        var arguments: [(any DatabaseValueConvertible)?] = [query.workspaceID.rawValue]
        func filter(_ condition: String, _ value: (any DatabaseValueConvertible)?) {
            guard let value else { return }
            sql += " AND \(condition)"
            arguments.append(value)
        }
        filter("connection_id = ?", query.connectionID?.rawValue)
        filter("action = ?", query.action?.rawValue)
        filter("actor = ?", query.actor)
        filter("at >= ?", query.since?.millisecondsSinceEpoch)
        filter("at <= ?", query.until?.millisecondsSinceEpoch)
        filter("seq < ?", query.before)
        sql += " ORDER BY seq DESC LIMIT ?"
        arguments.append(query.limit)
        let statementArguments = StatementArguments(arguments)
        let statementSQL = sql
        return try await mapped {
            try await pool.read { db in
                // An action this version does not know (written by a newer one) is skipped, not misread.
                try Row.fetchAll(db, sql: statementSQL, arguments: statementArguments).compactMap { row in
                    guard let action = AuditAction(rawValue: row[4]) else { return nil }
                    return AuditRecord(
                        sequence: row[0],
                        workspaceID: WorkspaceID(rawValue: row[1]),
                        at: Timestamp(millisecondsSinceEpoch: row[2]),
                        actor: row[3],
                        action: action,
                        connectionID: (row[5] as String?).map(ConnectionID.init(rawValue:)),
                        target: row[6],
                        clientAddress: row[7]
                    )
                }
            }
        }
    }

    static func appendAudit(_ records: [AuditRecord], _ db: Database) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO audit_log (workspace_id, at, actor, action, connection_id, target, client_address)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        )
        for record in records {
            try statement.execute(arguments: [
                record.workspaceID.rawValue, record.at.millisecondsSinceEpoch, record.actor, record.action.rawValue,
                record.connectionID?.rawValue, record.target, record.clientAddress,
            ])
        }
    }
}
