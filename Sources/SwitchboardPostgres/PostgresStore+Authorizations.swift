import NIOCore
import PostgresNIO
import SwitchboardCore

extension PostgresStore {
    static let stateColumns = """
        state_hash, workspace_id, integration_type, environment, external_xref, caller_state, success_redirect, \
        failure_redirect, permissions, subdomain, connection_id, created_at, expires_at
        """

    public func insert(_ state: AuthorizationState, keepingAtMost limit: Int) async throws {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                _ = try await connection.query(
                    """
                    INSERT INTO oauth_states (\(unescaped: Self.stateColumns))
                    VALUES (\(ByteBuffer(bytes: state.stateHash)), \(state.workspaceID.rawValue),
                            \(state.integrationType), \(state.environment), \(state.externalXref), \(state.callerState),
                            \(state.successRedirect), \(state.failureRedirect),
                            \(state.permissions.map(\.name).joined(separator: ",")), \(state.subdomain),
                            \(state.connectionID?.rawValue), \(state.createdAt.millisecondsSinceEpoch),
                            \(state.expiresAt.millisecondsSinceEpoch))
                    """,
                    logger: logger
                )
                // Walks the workspace's (workspace_id, created_at) index past the newest `limit`.
                _ = try await connection.query(
                    """
                    DELETE FROM oauth_states WHERE state_hash IN (
                        SELECT state_hash FROM oauth_states WHERE workspace_id = \(state.workspaceID.rawValue)
                        ORDER BY created_at DESC OFFSET \(limit))
                    """,
                    logger: logger
                )
            }
        }
    }

    public func consumeAuthorizationState(hash: [UInt8], at time: Timestamp) async throws -> StateConsumption {
        try await mapped { [client, logger] in
            // One conditional UPDATE: PostgreSQL re-checks `used_at IS NULL` after waiting for a
            // concurrent consumer's row lock, so only one of them sees a row come back.
            let consumed = try await Self.authorizationStates(
                try await client.query(
                    """
                    UPDATE oauth_states SET used_at = \(time.millisecondsSinceEpoch)
                    WHERE state_hash = \(ByteBuffer(bytes: hash)) AND used_at IS NULL
                    RETURNING \(unescaped: Self.stateColumns)
                    """,
                    logger: logger
                )
            )
            if let state = consumed.first { return .consumed(state) }
            let existing = try await Self.authorizationStates(
                try await client.query(
                    "SELECT \(unescaped: Self.stateColumns) FROM oauth_states WHERE state_hash = \(ByteBuffer(bytes: hash))",
                    logger: logger
                )
            )
            return existing.first.map(StateConsumption.alreadyUsed) ?? .unknown
        }
    }

    public func insert(_ token: ReauthToken, audit: AuditRecord) async throws {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                _ = try await connection.query(
                    """
                    INSERT INTO reauth_tokens (token_hash, workspace_id, connection_id, created_at, expires_at)
                    VALUES (\(ByteBuffer(bytes: token.tokenHash)), \(token.workspaceID.rawValue),
                            \(token.connectionID.rawValue), \(token.createdAt.millisecondsSinceEpoch),
                            \(token.expiresAt.millisecondsSinceEpoch))
                    """,
                    logger: logger
                )
                _ = try await connection.query(Self.appendAuditQuery([audit]), logger: logger)
            }
        }
    }

    public func consumeReauthToken(
        hash: [UInt8],
        connection: ConnectionID,
        workspace: WorkspaceID,
        at time: Timestamp
    ) async throws -> Bool {
        try await mapped { [client, logger] in
            try await !client.query(
                """
                UPDATE reauth_tokens SET used_at = \(time.millisecondsSinceEpoch)
                WHERE token_hash = \(ByteBuffer(bytes: hash)) AND connection_id = \(connection.rawValue)
                  AND workspace_id = \(workspace.rawValue) AND used_at IS NULL
                  AND expires_at > \(time.millisecondsSinceEpoch)
                RETURNING 1
                """,
                logger: logger
            ).collect().isEmpty
        }
    }

    static let authorizeTokenColumns =
        "token_hash, workspace_id, external_xref, integration_type, environment, created_at, expires_at"

    public func insert(_ token: AuthorizeToken, audit: AuditRecord) async throws {
        try await mapped { [client, logger] in
            try await client.withTransaction(logger: logger) { connection in
                _ = try await connection.query(
                    """
                    INSERT INTO authorize_tokens (\(unescaped: Self.authorizeTokenColumns))
                    VALUES (\(ByteBuffer(bytes: token.tokenHash)), \(token.workspaceID.rawValue), \(token.externalXref),
                            \(token.integrationType), \(token.environment), \(token.createdAt.millisecondsSinceEpoch),
                            \(token.expiresAt.millisecondsSinceEpoch))
                    """,
                    logger: logger
                )
                _ = try await connection.query(Self.appendAuditQuery([audit]), logger: logger)
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
        try await mapped { [client, logger] in
            // One conditional UPDATE: of concurrent consumers only one sees the row come back.
            let rows = try await client.query(
                """
                UPDATE authorize_tokens SET used_at = \(time.millisecondsSinceEpoch)
                WHERE token_hash = \(ByteBuffer(bytes: hash)) AND workspace_id = \(workspace.rawValue)
                  AND used_at IS NULL AND expires_at > \(time.millisecondsSinceEpoch)
                RETURNING \(unescaped: Self.authorizeTokenColumns)
                """,
                logger: logger
            )
            for try await row in rows.decode((ByteBuffer, String, String?, String?, String?, Int64, Int64).self) {
                return AuthorizeToken(
                    tokenHash: Array(row.0.readableBytesView),
                    workspaceID: WorkspaceID(rawValue: row.1),
                    externalXref: row.2,
                    integrationType: row.3,
                    environment: row.4,
                    createdAt: Timestamp(millisecondsSinceEpoch: row.5),
                    expiresAt: Timestamp(millisecondsSinceEpoch: row.6)
                )
            }
            return nil
        }
    }

    public func purgeExpiredAuthorizations(before time: Timestamp) async throws -> Int {
        try await mapped { [client, logger] in
            let rows = try await client.query(
                """
                WITH states AS (DELETE FROM oauth_states WHERE expires_at < \(time.millisecondsSinceEpoch) RETURNING 1),
                     tokens AS (DELETE FROM reauth_tokens WHERE expires_at < \(time.millisecondsSinceEpoch) RETURNING 1),
                     minted AS (DELETE FROM authorize_tokens WHERE expires_at < \(time.millisecondsSinceEpoch) RETURNING 1)
                SELECT (SELECT COUNT(*) FROM states) + (SELECT COUNT(*) FROM tokens) + (SELECT COUNT(*) FROM minted)
                """,
                logger: logger
            )
            for try await count in rows.decode(Int64.self) { return Int(count) }
            return 0
        }
    }

    /// Rows in `stateColumns` order.
    static func authorizationStates(_ rows: PostgresRowSequence) async throws -> [AuthorizationState] {
        typealias StateRow = (
            ByteBuffer, String, String, String, String?, String?, String?, String?, String, String?, String?, Int64,
            Int64
        )
        var states: [AuthorizationState] = []
        for try await row in rows.decode(StateRow.self) {
            states.append(
                AuthorizationState(
                    stateHash: Array(row.0.readableBytesView),
                    workspaceID: WorkspaceID(rawValue: row.1),
                    integrationType: row.2,
                    environment: row.3,
                    externalXref: row.4,
                    callerState: row.5,
                    successRedirect: row.6,
                    failureRedirect: row.7,
                    // Written from validated names; one this version does not know is dropped.
                    permissions: row.8.isEmpty ? [] : row.8.split(separator: ",").compactMap { Permission(String($0)) },
                    subdomain: row.9,
                    connectionID: row.10.map(ConnectionID.init(rawValue:)),
                    createdAt: Timestamp(millisecondsSinceEpoch: row.11),
                    expiresAt: Timestamp(millisecondsSinceEpoch: row.12)
                )
            )
        }
        return states
    }
}
