import Foundation
import GRDB
import SwitchboardCore

extension SQLiteStore {
    static let secretsManagerColumns =
        "id, workspace_id, name, type, dcs, auth_key_id, auth_ciphertext, created_at, updated_at"

    public func insert(_ stored: StoredSecretsManager, audit: AuditRecord) async throws {
        try await mapped {
            try await pool.write { db in
                try Self.insertSecretsManager(stored, orIgnore: false, db)
                try Self.appendAudit([audit], db)
            }
        }
    }

    public func allSecretsManagers() async throws -> [StoredSecretsManager] {
        try await mapped {
            try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT \(Self.secretsManagerColumns) FROM secrets_managers ORDER BY id")
                    .compactMap(Self.secretsManager(from:))
            }
        }
    }

    public func importSecretsManagers(_ managers: [StoredSecretsManager]) async throws -> Int {
        try await mapped {
            try await pool.write { db in
                var inserted = 0
                for stored in managers {
                    try Self.insertSecretsManager(stored, orIgnore: true, db)
                    inserted += db.changesCount
                }
                return inserted
            }
        }
    }

    static func insertSecretsManager(_ stored: StoredSecretsManager, orIgnore: Bool, _ db: Database) throws {
        let m = stored.manager
        try db.execute(
            sql: """
                INSERT \(orIgnore ? "OR IGNORE " : "")INTO secrets_managers (\(secretsManagerColumns))
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                m.id.rawValue, m.workspaceID.rawValue, m.name, m.type.rawValue, m.dcs.joined(separator: "\n"),
                stored.sealedAuth.keyID, Data(stored.sealedAuth.ciphertext), m.createdAt.millisecondsSinceEpoch,
                m.updatedAt.millisecondsSinceEpoch,
            ]
        )
    }

    public func secretsManager(id: SecretsManagerID, workspace: WorkspaceID) async throws -> StoredSecretsManager? {
        try await mapped {
            try await pool.read { db in
                try Row.fetchOne(
                    db,
                    sql: "SELECT \(Self.secretsManagerColumns) FROM secrets_managers WHERE id = ? AND workspace_id = ?",
                    arguments: [id.rawValue, workspace.rawValue]
                ).flatMap(Self.secretsManager(from:))
            }
        }
    }

    public func secretsManagers(workspace: WorkspaceID, limit: Int, offset: Int) async throws -> [StoredSecretsManager]
    {
        try await mapped {
            try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(Self.secretsManagerColumns) FROM secrets_managers WHERE workspace_id = ?
                        ORDER BY created_at, id LIMIT ? OFFSET ?
                        """,
                    arguments: [workspace.rawValue, limit, offset]
                ).compactMap(Self.secretsManager(from:))
            }
        }
    }

    public func connectionCount(secretsManager id: SecretsManagerID, workspace: WorkspaceID) async throws -> Int {
        try await mapped {
            try await pool.read { db in
                try Int.fetchOne(
                    db,
                    sql: "SELECT COUNT(*) FROM connections WHERE workspace_id = ? AND secretsmanager_id = ?",
                    arguments: [workspace.rawValue, id.rawValue]
                ) ?? 0
            }
        }
    }

    public func deleteSecretsManager(
        id: SecretsManagerID,
        workspace: WorkspaceID,
        audit: AuditRecord
    ) async throws
        -> Bool
    {
        try await mapped {
            try await pool.write { db in
                // Checked in the same write transaction as the delete: no connection can start using
                // the manager in between (SQLite has one writer).
                let users =
                    try Int.fetchOne(
                        db,
                        sql: "SELECT COUNT(*) FROM connections WHERE workspace_id = ? AND secretsmanager_id = ?",
                        arguments: [workspace.rawValue, id.rawValue]
                    ) ?? 0
                if users > 0 { throw StoreError.inUse("\(users) connection(s) keep their credentials in it") }
                try db.execute(
                    sql: "DELETE FROM secrets_managers WHERE id = ? AND workspace_id = ?",
                    arguments: [id.rawValue, workspace.rawValue]
                )
                guard db.changesCount == 1 else { return false }
                try Self.appendAudit([audit], db)
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
        try await mapped {
            try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(Self.secretsManagerColumns) FROM secrets_managers
                        WHERE auth_key_id <> ? AND id > ? ORDER BY id LIMIT ?
                        """,
                    arguments: [keyID, id?.rawValue ?? "", limit]
                ).compactMap(Self.secretsManager(from:))
            }
        }
    }

    public func replaceSealedAuth(
        secretsManager id: SecretsManagerID,
        old: SealedSecret,
        new: SealedSecret
    )
        async throws -> Bool
    {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE secrets_managers SET auth_key_id = ?, auth_ciphertext = ?
                        WHERE id = ? AND auth_key_id = ? AND auth_ciphertext = ?
                        """,
                    arguments: [new.keyID, Data(new.ciphertext), id.rawValue, old.keyID, Data(old.ciphertext)]
                )
                return db.changesCount == 1
            }
        }
    }

    /// A manager from a row in `secretsManagerColumns` order; nil for a type this version does not know.
    static func secretsManager(from row: Row) -> StoredSecretsManager? {
        guard let type = SecretsManagerType(rawValue: row[3]) else { return nil }
        let dcs: String = row[4]
        return StoredSecretsManager(
            manager: SecretsManager(
                id: SecretsManagerID(rawValue: row[0]),
                workspaceID: WorkspaceID(rawValue: row[1]),
                name: row[2],
                type: type,
                dcs: dcs.isEmpty ? [] : dcs.split(separator: "\n").map(String.init),
                createdAt: Timestamp(millisecondsSinceEpoch: row[7]),
                updatedAt: Timestamp(millisecondsSinceEpoch: row[8])
            ),
            sealedAuth: SealedSecret(keyID: row[5], ciphertext: Array(row[6] as Data))
        )
    }
}
