import GRDB
import SwitchboardCore

extension SQLiteStore {
    static let externalSecretColumns = "secretsmanager_id, name, workspace_id, connection_id, created_at"

    public func claimExternalSecret(_ record: ExternalSecretRecord) async throws -> Bool {
        try await mapped {
            try await pool.write { db in
                try Self.insertExternalSecret(record, db)
                return db.changesCount == 1
            }
        }
    }

    public func externalSecretOwner(secretsManager id: SecretsManagerID, name: String) async throws -> ConnectionID? {
        try await mapped {
            try await pool.read { db in
                try String.fetchOne(
                    db,
                    sql: "SELECT connection_id FROM external_secrets WHERE secretsmanager_id = ? AND name = ?",
                    arguments: [id.rawValue, name]
                ).map(ConnectionID.init(rawValue:))
            }
        }
    }

    public func releaseExternalSecret(secretsManager id: SecretsManagerID, name: String) async throws {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: "DELETE FROM external_secrets WHERE secretsmanager_id = ? AND name = ?",
                    arguments: [id.rawValue, name]
                )
            }
        }
    }

    public func allExternalSecrets() async throws -> [ExternalSecretRecord] {
        try await mapped {
            try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT \(Self.externalSecretColumns) FROM external_secrets ORDER BY secretsmanager_id, name"
                ).map { row in
                    ExternalSecretRecord(
                        secretsManagerID: SecretsManagerID(rawValue: row[0]),
                        name: row[1],
                        workspaceID: WorkspaceID(rawValue: row[2]),
                        connectionID: ConnectionID(rawValue: row[3]),
                        createdAt: Timestamp(millisecondsSinceEpoch: row[4])
                    )
                }
            }
        }
    }

    public func importExternalSecrets(_ records: [ExternalSecretRecord]) async throws -> Int {
        try await mapped {
            try await pool.write { db in
                var inserted = 0
                for record in records {
                    try Self.insertExternalSecret(record, db)
                    inserted += db.changesCount
                }
                return inserted
            }
        }
    }

    /// Skips a name already owned (the primary key), as claims and copies both want.
    static func insertExternalSecret(_ record: ExternalSecretRecord, _ db: Database) throws {
        try db.execute(
            sql: "INSERT OR IGNORE INTO external_secrets (\(externalSecretColumns)) VALUES (?, ?, ?, ?, ?)",
            arguments: [
                record.secretsManagerID.rawValue, record.name, record.workspaceID.rawValue,
                record.connectionID.rawValue, record.createdAt.millisecondsSinceEpoch,
            ]
        )
    }
}
