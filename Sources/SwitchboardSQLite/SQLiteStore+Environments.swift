import GRDB
import SwitchboardCore

extension SQLiteStore {
    public func addEnvironments(
        _ names: [String],
        workspace: WorkspaceID,
        maximum: Int,
        audit: AuditRecord
    ) async throws -> EnvironmentAddition {
        try await mapped {
            try await pool.write { db in
                guard let current = try Self.declaredEnvironments(workspace, db) else { return .noWorkspace }
                let added = names.filter { !current.contains($0) }
                guard !added.isEmpty else { return .declared(current) }
                guard current.count + added.count <= maximum else { return .overLimit }
                try db.execute(
                    sql: "UPDATE workspaces SET environments = ? WHERE id = ?",
                    arguments: [Self.lines(current + added), workspace.rawValue]
                )
                var audit = audit
                audit.target = Self.lines(added)
                try Self.appendAudit([audit], db)
                return .declared(current + added)
            }
        }
    }

    public func removeEnvironment(
        _ name: String,
        workspace: WorkspaceID,
        audit: AuditRecord
    ) async throws -> EnvironmentRemoval {
        try await mapped {
            try await pool.write { db in
                guard let current = try Self.declaredEnvironments(workspace, db), current.contains(name) else {
                    return .notDeclared
                }
                let count =
                    try Int.fetchOne(
                        db,
                        sql: "SELECT count(*) FROM connections WHERE workspace_id = ? AND environment = ?",
                        arguments: [workspace.rawValue, name]
                    ) ?? 0
                guard count == 0 else { return .inUse(connections: count) }
                let remaining = current.filter { $0 != name }
                try db.execute(
                    sql: "UPDATE workspaces SET environments = ? WHERE id = ?",
                    arguments: [Self.lines(remaining), workspace.rawValue]
                )
                try Self.appendAudit([audit], db)
                return .removed(remaining)
            }
        }
    }

    /// The workspace's declared environments, read inside the write transaction; nil if there is
    /// no such workspace.
    private static func declaredEnvironments(_ workspace: WorkspaceID, _ db: Database) throws -> [String]? {
        try String.fetchOne(
            db,
            sql: "SELECT environments FROM workspaces WHERE id = ?",
            arguments: [workspace.rawValue]
        )
        .map(lines)
    }
}
