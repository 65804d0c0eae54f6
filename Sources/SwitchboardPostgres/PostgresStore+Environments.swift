import PostgresNIO
import SwitchboardCore

extension PostgresStore {
    public func addEnvironments(
        _ names: [String],
        workspace: WorkspaceID,
        maximum: Int,
        audit: AuditRecord
    ) async throws -> EnvironmentAddition {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                guard let current = try await Self.lockedEnvironments(workspace, connection, logger) else {
                    return .noWorkspace
                }
                let added = names.filter { !current.contains($0) }
                guard !added.isEmpty else { return .declared(current) }
                guard current.count + added.count <= maximum else { return .overLimit }
                _ = try await connection.query(
                    "UPDATE workspaces SET environments = \(Self.lines(current + added)) WHERE id = \(workspace.rawValue)",
                    logger: logger
                )
                var audit = audit
                audit.target = Self.lines(added)
                _ = try await connection.query(Self.appendAuditQuery([audit]), logger: logger)
                return .declared(current + added)
            }
        }
    }

    public func removeEnvironment(
        _ name: String,
        workspace: WorkspaceID,
        audit: AuditRecord
    ) async throws -> EnvironmentRemoval {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                guard let current = try await Self.lockedEnvironments(workspace, connection, logger),
                    current.contains(name)
                else { return .notDeclared }
                let rows = try await connection.query(
                    """
                    SELECT count(*) FROM connections
                    WHERE workspace_id = \(workspace.rawValue) AND environment = \(name)
                    """,
                    logger: logger
                )
                var count = 0
                for try await value in rows.decode(Int64.self) { count = Int(value) }
                guard count == 0 else { return .inUse(connections: count) }
                let remaining = current.filter { $0 != name }
                _ = try await connection.query(
                    "UPDATE workspaces SET environments = \(Self.lines(remaining)) WHERE id = \(workspace.rawValue)",
                    logger: logger
                )
                _ = try await connection.query(Self.appendAuditQuery([audit]), logger: logger)
                return .removed(remaining)
            }
        }
    }

    /// The workspace's declared environments, its row locked until the transaction ends (so
    /// concurrent changes from every replica apply one after another); nil if there is none.
    private static func lockedEnvironments(
        _ workspace: WorkspaceID,
        _ connection: PostgresConnection,
        _ logger: Logger
    ) async throws -> [String]? {
        let rows = try await connection.query(
            "SELECT environments FROM workspaces WHERE id = \(workspace.rawValue) FOR UPDATE",
            logger: logger
        )
        for try await text in rows.decode(String.self) { return lines(text) }
        return nil
    }
}
