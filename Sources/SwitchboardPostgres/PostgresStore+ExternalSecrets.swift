import PostgresNIO
import SwitchboardCore

extension PostgresStore {
    static let externalSecretColumns = "secretsmanager_id, name, workspace_id, connection_id, created_at"

    public func claimExternalSecret(_ record: ExternalSecretRecord) async throws -> Bool {
        try await mapped { [client, logger] in
            try await client.withConnection { connection in
                try await Self.insertUnlessPresent(
                    Self.insertExternalSecretQuery(record),
                    conflict: "secretsmanager_id, name",
                    on: connection,
                    logger
                ) == 1
            }
        }
    }

    public func externalSecretOwner(secretsManager id: SecretsManagerID, name: String) async throws -> ConnectionID? {
        try await mapped { [client, logger] in
            let rows = try await client.query(
                "SELECT connection_id FROM external_secrets WHERE secretsmanager_id = \(id.rawValue) AND name = \(name)",
                logger: logger
            )
            for try await (connectionID) in rows.decode(String.self) { return ConnectionID(rawValue: connectionID) }
            return nil
        }
    }

    public func releaseExternalSecret(secretsManager id: SecretsManagerID, name: String) async throws {
        try await mapped { [client, logger] in
            _ = try await client.query(
                "DELETE FROM external_secrets WHERE secretsmanager_id = \(id.rawValue) AND name = \(name)",
                logger: logger
            )
        }
    }

    public func allExternalSecrets() async throws -> [ExternalSecretRecord] {
        try await mapped { [client, logger] in
            let rows = try await client.query(
                """
                SELECT \(unescaped: Self.externalSecretColumns) FROM external_secrets
                ORDER BY secretsmanager_id, name
                """,
                logger: logger
            )
            var records: [ExternalSecretRecord] = []
            for try await (manager, name, workspace, connection, created) in rows.decode(
                (String, String, String, String, Int64).self
            ) {
                records.append(
                    ExternalSecretRecord(
                        secretsManagerID: SecretsManagerID(rawValue: manager),
                        name: name,
                        workspaceID: WorkspaceID(rawValue: workspace),
                        connectionID: ConnectionID(rawValue: connection),
                        createdAt: Timestamp(millisecondsSinceEpoch: created)
                    )
                )
            }
            return records
        }
    }

    public func importExternalSecrets(_ records: [ExternalSecretRecord]) async throws -> Int {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                var inserted = 0
                for record in records {
                    inserted += try await Self.insertUnlessPresent(
                        Self.insertExternalSecretQuery(record),
                        conflict: "secretsmanager_id, name",
                        on: connection,
                        logger
                    )
                }
                return inserted
            }
        }
    }

    static func insertExternalSecretQuery(_ record: ExternalSecretRecord) -> PostgresQuery {
        """
        INSERT INTO external_secrets (\(unescaped: externalSecretColumns))
        VALUES (\(record.secretsManagerID.rawValue), \(record.name), \(record.workspaceID.rawValue),
                \(record.connectionID.rawValue), \(record.createdAt.millisecondsSinceEpoch))
        """
    }
}
