import Foundation
import GRDB
import SwitchboardCore

extension SQLiteStore {
    static let stateColumns = """
        state_hash, workspace_id, integration_type, environment, external_xref, caller_state, success_redirect, \
        failure_redirect, permissions, subdomain, connection_id, created_at, expires_at, used_at
        """

    public func insert(_ state: AuthorizationState, keepingAtMost limit: Int) async throws {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO oauth_states (\(Self.stateColumns))
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
                        """,
                    arguments: [
                        Data(state.stateHash), state.workspaceID.rawValue, state.integrationType, state.environment,
                        state.externalXref, state.callerState, state.successRedirect, state.failureRedirect,
                        state.permissions.map(\.name).joined(separator: ","), state.subdomain,
                        state.connectionID?.rawValue, state.createdAt.millisecondsSinceEpoch,
                        state.expiresAt.millisecondsSinceEpoch,
                    ]
                )
                // Walks the workspace's (workspace_id, created_at) index past the newest `limit`.
                try db.execute(
                    sql: """
                        DELETE FROM oauth_states WHERE state_hash IN (
                            SELECT state_hash FROM oauth_states WHERE workspace_id = ?
                            ORDER BY created_at DESC LIMIT -1 OFFSET ?)
                        """,
                    arguments: [state.workspaceID.rawValue, limit]
                )
            }
        }
    }

    public func consumeAuthorizationState(hash: [UInt8], at time: Timestamp) async throws -> StateConsumption {
        try await mapped {
            // The conditional update and the read share one write transaction: SQLite's single writer
            // makes the pair atomic against every other consumer, in any process.
            try await pool.write { db in
                try db.execute(
                    sql: "UPDATE oauth_states SET used_at = ? WHERE state_hash = ? AND used_at IS NULL",
                    arguments: [time.millisecondsSinceEpoch, Data(hash)]
                )
                let spent = db.changesCount == 1
                guard
                    let row = try Row.fetchOne(
                        db,
                        sql: "SELECT \(Self.stateColumns) FROM oauth_states WHERE state_hash = ?",
                        arguments: [Data(hash)]
                    )
                else { return .unknown }
                let state = Self.authorizationState(from: row)
                return spent ? .consumed(state) : .alreadyUsed(state)
            }
        }
    }

    public func insert(_ token: ReauthToken, audit: AuditRecord) async throws {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO reauth_tokens (token_hash, workspace_id, connection_id, created_at, expires_at)
                        VALUES (?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        Data(token.tokenHash), token.workspaceID.rawValue, token.connectionID.rawValue,
                        token.createdAt.millisecondsSinceEpoch, token.expiresAt.millisecondsSinceEpoch,
                    ]
                )
                try Self.appendAudit([audit], db)
            }
        }
    }

    public func consumeReauthToken(
        hash: [UInt8],
        connection: ConnectionID,
        workspace: WorkspaceID,
        at time: Timestamp
    ) async throws -> Bool {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE reauth_tokens SET used_at = ?
                        WHERE token_hash = ? AND connection_id = ? AND workspace_id = ? AND used_at IS NULL
                          AND expires_at > ?
                        """,
                    arguments: [
                        time.millisecondsSinceEpoch, Data(hash), connection.rawValue, workspace.rawValue,
                        time.millisecondsSinceEpoch,
                    ]
                )
                return db.changesCount == 1
            }
        }
    }

    static let authorizeTokenColumns =
        "token_hash, workspace_id, external_xref, integration_type, environment, created_at, expires_at"

    public func insert(_ token: AuthorizeToken, audit: AuditRecord) async throws {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: "INSERT INTO authorize_tokens (\(Self.authorizeTokenColumns)) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    arguments: [
                        Data(token.tokenHash), token.workspaceID.rawValue, token.externalXref, token.integrationType,
                        token.environment, token.createdAt.millisecondsSinceEpoch,
                        token.expiresAt.millisecondsSinceEpoch,
                    ]
                )
                try Self.appendAudit([audit], db)
            }
        }
    }

    public func consumeAuthorizeToken(
        hash: [UInt8],
        workspace: WorkspaceID,
        at time: Timestamp
    ) async throws
        -> AuthorizeToken?
    {
        try await mapped {
            // One writer at a time: the read and the conditional update cannot interleave.
            try await pool.write { db in
                try db.execute(
                    sql: """
                        UPDATE authorize_tokens SET used_at = ?
                        WHERE token_hash = ? AND workspace_id = ? AND used_at IS NULL AND expires_at > ?
                        """,
                    arguments: [
                        time.millisecondsSinceEpoch, Data(hash), workspace.rawValue, time.millisecondsSinceEpoch,
                    ]
                )
                guard db.changesCount == 1 else { return nil }
                return try Row.fetchOne(
                    db,
                    sql: "SELECT \(Self.authorizeTokenColumns) FROM authorize_tokens WHERE token_hash = ?",
                    arguments: [Data(hash)]
                ).map { row in
                    AuthorizeToken(
                        tokenHash: Array(row[0] as Data),
                        workspaceID: WorkspaceID(rawValue: row[1]),
                        externalXref: row[2],
                        integrationType: row[3],
                        environment: row[4],
                        createdAt: Timestamp(millisecondsSinceEpoch: row[5]),
                        expiresAt: Timestamp(millisecondsSinceEpoch: row[6])
                    )
                }
            }
        }
    }

    public func purgeExpiredAuthorizations(before time: Timestamp) async throws -> Int {
        try await mapped {
            try await pool.write { db in
                try db.execute(
                    sql: "DELETE FROM oauth_states WHERE expires_at < ?",
                    arguments: [time.millisecondsSinceEpoch]
                )
                var deleted = db.changesCount
                try db.execute(
                    sql: "DELETE FROM reauth_tokens WHERE expires_at < ?",
                    arguments: [time.millisecondsSinceEpoch]
                )
                deleted += db.changesCount
                try db.execute(
                    sql: "DELETE FROM authorize_tokens WHERE expires_at < ?",
                    arguments: [time.millisecondsSinceEpoch]
                )
                deleted += db.changesCount
                return deleted
            }
        }
    }

    static func authorizationState(from row: Row) -> AuthorizationState {
        let permissions: String = row[8]
        return AuthorizationState(
            stateHash: Array(row[0] as Data),
            workspaceID: WorkspaceID(rawValue: row[1]),
            integrationType: row[2],
            environment: row[3],
            externalXref: row[4],
            callerState: row[5],
            successRedirect: row[6],
            failureRedirect: row[7],
            // Written from validated names; one this version does not know is dropped.
            permissions: permissions.isEmpty
                ? [] : permissions.split(separator: ",").compactMap { Permission(String($0)) },
            subdomain: row[9],
            connectionID: (row[10] as String?).map(ConnectionID.init(rawValue:)),
            createdAt: Timestamp(millisecondsSinceEpoch: row[11]),
            expiresAt: Timestamp(millisecondsSinceEpoch: row[12])
        )
    }
}
