import NIOCore
import PostgresNIO
import SwitchboardCore

extension PostgresStore {
    static let secretsManagerColumns =
        "id, workspace_id, name, type, dcs, auth_key_id, auth_ciphertext, created_at, updated_at"
    typealias SecretsManagerRow = (String, String, String, String, String, String, ByteBuffer, Int64, Int64)

    public func insert(_ stored: StoredSecretsManager, audit: AuditRecord) async throws {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                _ = try await connection.query(Self.insertSecretsManagerQuery(stored), logger: logger)
                _ = try await connection.query(Self.appendAuditQuery([audit]), logger: logger)
            }
        }
    }

    public func allSecretsManagers() async throws -> [StoredSecretsManager] {
        try await mapped { [client, logger] in
            try await Self.secretsManagers(
                try await client.query(
                    "SELECT \(unescaped: Self.secretsManagerColumns) FROM secrets_managers ORDER BY id",
                    logger: logger
                )
            )
        }
    }

    public func importSecretsManagers(_ managers: [StoredSecretsManager]) async throws -> Int {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                var inserted = 0
                for stored in managers {
                    inserted += try await Self.insertUnlessPresent(
                        Self.insertSecretsManagerQuery(stored),
                        on: connection,
                        logger
                    )
                }
                return inserted
            }
        }
    }

    static func insertSecretsManagerQuery(_ stored: StoredSecretsManager) -> PostgresQuery {
        let m = stored.manager
        return """
            INSERT INTO secrets_managers (\(unescaped: secretsManagerColumns))
            VALUES (\(m.id.rawValue), \(m.workspaceID.rawValue), \(m.name), \(m.type.rawValue),
                    \(m.dcs.joined(separator: "\n")), \(stored.sealedAuth.keyID),
                    \(ByteBuffer(bytes: stored.sealedAuth.ciphertext)), \(m.createdAt.millisecondsSinceEpoch),
                    \(m.updatedAt.millisecondsSinceEpoch))
            """
    }

    public func secretsManager(id: SecretsManagerID, workspace: WorkspaceID) async throws -> StoredSecretsManager? {
        try await mapped { [client, logger] in
            try await Self.secretsManagers(
                try await client.query(
                    """
                    SELECT \(unescaped: Self.secretsManagerColumns) FROM secrets_managers
                    WHERE id = \(id.rawValue) AND workspace_id = \(workspace.rawValue)
                    """,
                    logger: logger
                )
            ).first
        }
    }

    public func secretsManagers(workspace: WorkspaceID, limit: Int, offset: Int) async throws -> [StoredSecretsManager]
    {
        try await mapped { [client, logger] in
            try await Self.secretsManagers(
                try await client.query(
                    """
                    SELECT \(unescaped: Self.secretsManagerColumns) FROM secrets_managers
                    WHERE workspace_id = \(workspace.rawValue) ORDER BY created_at, id
                    LIMIT \(Int64(limit)) OFFSET \(Int64(offset))
                    """,
                    logger: logger
                )
            )
        }
    }

    public func connectionCount(secretsManager id: SecretsManagerID, workspace: WorkspaceID) async throws -> Int {
        try await mapped { [client, logger] in
            let rows = try await client.query(
                """
                SELECT COUNT(*) FROM connections
                WHERE workspace_id = \(workspace.rawValue) AND secretsmanager_id = \(id.rawValue)
                """,
                logger: logger
            )
            for try await count in rows.decode(Int64.self) { return Int(count) }
            return 0
        }
    }

    public func deleteSecretsManager(
        id: SecretsManagerID,
        workspace: WorkspaceID,
        audit: AuditRecord
    ) async throws
        -> Bool
    {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                // Lock the manager's row, then check for users and delete it in the same transaction.
                let locked = try await connection.query(
                    """
                    SELECT 1 FROM secrets_managers
                    WHERE id = \(id.rawValue) AND workspace_id = \(workspace.rawValue) FOR UPDATE
                    """,
                    logger: logger
                ).collect()
                guard !locked.isEmpty else { return false }
                let rows = try await connection.query(
                    """
                    SELECT COUNT(*) FROM connections
                    WHERE workspace_id = \(workspace.rawValue) AND secretsmanager_id = \(id.rawValue)
                    """,
                    logger: logger
                )
                var users: Int64 = 0
                for try await count in rows.decode(Int64.self) { users = count }
                if users > 0 { throw StoreError.inUse("\(users) connection(s) keep their credentials in it") }
                _ = try await connection.query(
                    "DELETE FROM secrets_managers WHERE id = \(id.rawValue) AND workspace_id = \(workspace.rawValue)",
                    logger: logger
                )
                _ = try await connection.query(Self.appendAuditQuery([audit]), logger: logger)
                return true
            }
        }
    }

    public func secretsManagersSealed(
        notWith keyID: String,
        after id: SecretsManagerID?,
        limit: Int
    ) async throws
        -> [StoredSecretsManager]
    {
        try await mapped { [client, logger] in
            try await Self.secretsManagers(
                try await client.query(
                    """
                    SELECT \(unescaped: Self.secretsManagerColumns) FROM secrets_managers
                    WHERE auth_key_id <> \(keyID) AND id > \(id?.rawValue ?? "") ORDER BY id LIMIT \(Int64(limit))
                    """,
                    logger: logger
                )
            )
        }
    }

    public func replaceSealedAuth(
        secretsManager id: SecretsManagerID,
        old: SealedSecret,
        new: SealedSecret
    )
        async throws -> Bool
    {
        try await mapped { [client, logger] in
            try await !client.query(
                """
                UPDATE secrets_managers
                SET auth_key_id = \(new.keyID), auth_ciphertext = \(ByteBuffer(bytes: new.ciphertext))
                WHERE id = \(id.rawValue) AND auth_key_id = \(old.keyID)
                  AND auth_ciphertext = \(ByteBuffer(bytes: old.ciphertext))
                RETURNING 1
                """,
                logger: logger
            ).collect().isEmpty
        }
    }

    /// Rows in `secretsManagerColumns` order; a type this version does not know is skipped.
    static func secretsManagers(_ rows: PostgresRowSequence) async throws -> [StoredSecretsManager] {
        var managers: [StoredSecretsManager] = []
        for try await row in rows.decode(SecretsManagerRow.self) {
            guard let type = SecretsManagerType(rawValue: row.3) else { continue }
            managers.append(
                StoredSecretsManager(
                    manager: SecretsManager(
                        id: SecretsManagerID(rawValue: row.0),
                        workspaceID: WorkspaceID(rawValue: row.1),
                        name: row.2,
                        type: type,
                        dcs: row.4.isEmpty ? [] : row.4.split(separator: "\n").map(String.init),
                        createdAt: Timestamp(millisecondsSinceEpoch: row.7),
                        updatedAt: Timestamp(millisecondsSinceEpoch: row.8)
                    ),
                    sealedAuth: SealedSecret(keyID: row.5, ciphertext: Array(row.6.readableBytesView))
                )
            )
        }
        return managers
    }
}
