/// The rules for connections: validate, seal, store; open credentials on the way out.
///
/// Credentials live sealed in the connection's row, or, when the connection names a registered
/// secrets manager (`secretsmanager_id`), in that manager and nowhere in Switchboard's database.
/// Plaintext credentials exist only here and in `ConnectionAuth`, never in a store.
public struct ConnectionService: Sendable {
    let store: any ConnectionStore & ConnectionJSONStore
    private let audit: any AuditStore
    let sealer: any SecretSealer
    let secretsManagers: SecretsManagerService
    let refresher: TokenRefresher
    let now: @Sendable () -> Timestamp

    public init(
        store: any ConnectionStore & ConnectionJSONStore,
        audit: any AuditStore,
        sealer: any SecretSealer,
        secretsManagers: SecretsManagerService,
        refresher: TokenRefresher,
        now: @escaping @Sendable () -> Timestamp
    ) {
        self.store = store
        self.audit = audit
        self.sealer = sealer
        self.secretsManagers = secretsManagers
        self.refresher = refresher
        self.now = now
    }

    public func create(_ input: ConnectionInput, by principal: Principal) async throws -> RevealedConnection {
        try principal.require(.connectionsWrite)
        let workspace = principal.workspaceID
        let fields: ConnectionFields
        do { fields = try input.fieldsForCreate() } catch { throw ServiceError.invalid(error) }
        try Self.validate(fields)
        let time = now()
        let id = ConnectionID.generate(at: time)
        var auth: ConnectionAuth?
        if case .value(let value) = input.auth { auth = value }
        var connection = Connection(
            id: id,
            workspaceID: workspace,
            fields: fields,
            sealedAuth: nil,
            createdAt: time,
            updatedAt: time
        )
        let record = AuditRecord(.connectionCreate, by: principal, at: time, connection: id)
        if let external = try await externalCredentials(of: connection, creatingBy: principal) {
            // The secret first: no row ever points at credentials that were never stored. If the
            // row then fails, the secret just created is removed again.
            if let auth { try await external.write(auth) }
            do { try await store.insert(connection, audit: record) } catch {
                if auth != nil { try? await external.deleteIfOwned() }
                throw error
            }
        } else {
            connection.sealedAuth = try auth.map { try seal($0, id: id, workspace: workspace) }
            connection.refresh = refresher.initialState(integrationType: fields.integrationType, auth: auth)
            try await store.insert(connection, audit: record)
        }
        // Credentials the request just supplied are echoed, not decrypted back, and only to a key
        // that may see credentials.
        return RevealedConnection(
            connection: connection,
            auth: principal.scopes.contains(.connectionsCredentials) ? auth : nil
        )
    }

    public func get(_ id: ConnectionID, by principal: Principal) async throws -> RevealedConnection {
        try principal.require(.connectionsRead)
        return try await reveal([try await current(id, principal.workspaceID)], to: principal, strict: true)[0]
    }

    public func list(_ query: ConnectionQuery, by principal: Principal) async throws -> [RevealedConnection] {
        try principal.require(.connectionsRead)
        var query = query
        query.workspaceID = principal.workspaceID
        return try await reveal(try await store.list(query), to: principal, strict: false)
    }

    /// `list` as the wire's JSON array. A key that may not see credentials gets it written by the
    /// store straight from the rows (nothing to open or audit), in the same read that confirms the
    /// key; one that may, via `list`.
    public func listJSON(_ query: ConnectionQuery, by principal: Principal) async throws -> ConnectionPageJSON {
        let key = try principal.requireScopeForConfirmingRead(.connectionsRead)
        var query = query
        query.workspaceID = principal.workspaceID
        guard principal.scopes.contains(.connectionsCredentials) else {
            switch try await store.listJSONWithoutAuth(query, confirmingKey: key) {
            case .keyNotLive: throw ServiceError.unauthenticated
            case .read(let page): return page
            }
        }
        var page = ConnectionPageWriter(query)
        for connection in try await list(query, by: principal) { page.append(connection) }
        return page.finish()
    }

    /// `get` as the wire's JSON object, taking the same shortcut as `listJSON`.
    public func getJSON(_ id: ConnectionID, by principal: Principal) async throws -> [UInt8] {
        let key = try principal.requireScopeForConfirmingRead(.connectionsRead)
        guard principal.scopes.contains(.connectionsCredentials) else {
            let read = try await store.connectionJSONWithoutAuth(
                id: id,
                workspace: principal.workspaceID,
                confirmingKey: key
            )
            switch read {
            case .keyNotLive: throw ServiceError.unauthenticated
            case .read(nil): throw ServiceError.connectionNotFound(id)
            case .read(let json?): return json
            }
        }
        var writer = JSONWriter(reservingCapacity: ConnectionPageWriter.bytesPerRow)
        ConnectionJSON.write(try await get(id, by: principal), to: &writer)
        return writer.bytes
    }

    /// PUT and PATCH: merges `input` into the stored connection inside the store's serialized
    /// read-modify-write, so concurrent updates never lose each other's fields.
    public func update(
        _ id: ConnectionID,
        with input: ConnectionInput,
        by principal: Principal
    ) async throws
        -> RevealedConnection
    {
        try principal.require(.connectionsWrite)
        let workspace = principal.workspaceID
        let time = now()
        let before = try await current(id, workspace)
        let external = try await externalCredentials(of: before)
        try Self.checkTypeChange(from: before, input, holdsExternalCredentials: external != nil)
        if external != nil || input.secretsmanagerID.isPresent {
            try Self.checkLocationUnchanged(before.fields, input)
        }
        if let external {
            // Validate the merged fields before touching the manager, so a refused update changes nothing.
            var merged = before.fields
            do throws(ValidationError) { try input.apply(to: &merged) } catch { throw ServiceError.invalid(error) }
            try Self.validate(merged)
            switch input.auth {
            case .absent: break
            case .null: try await external.delete()
            case .value(let auth): try await external.write(auth)
            }
        }
        let record = AuditRecord(.connectionUpdate, by: principal, at: time, connection: id)
        let updated: Connection?
        do {
            updated = try await store.update(id: id, workspace: workspace, audit: record) { current in
                try merged(
                    input,
                    into: current,
                    secretsManager: before.fields.secretsmanagerID,
                    external: external,
                    at: time
                )
            }
        } catch is Unchanged {
            // A write that changes nothing (only read-only or unknown fields, or the values already
            // stored) keeps the version, updated_at and the audit log as they are, so the
            // connection does not reappear in every updated_gte sync.
            return try await reveal([try await current(id, workspace)], to: principal, strict: true)[0]
        }
        guard let updated else { throw ServiceError.connectionNotFound(id) }
        switch input.auth {
        case .absent: return try await reveal([updated], to: principal, strict: true)[0]
        case .null: return RevealedConnection(connection: updated, auth: nil)
        case .value(let auth):
            // Echoed as supplied, not decrypted back.
            let mayRead = principal.scopes.contains(.connectionsCredentials)
            return RevealedConnection(connection: updated, auth: mayRead ? auth : nil)
        }
    }

    /// Thrown from inside the store's update when the request changes nothing: the transaction
    /// rolls back, writing neither the row nor its audit record.
    struct Unchanged: Error {}

    /// `current` with `input` applied and validated, its credentials replaced when the request
    /// carries them (sealed in the row unless they live in a secrets manager); `Unchanged` when
    /// the request would change nothing.
    private func merged(
        _ input: ConnectionInput,
        into current: Connection,
        secretsManager expected: String?,
        external: ExternalCredentials?,
        at time: Timestamp
    ) throws -> Connection {
        var connection = current
        do throws(ValidationError) { try input.apply(to: &connection.fields) } catch {
            throw ServiceError.invalid(error)
        }
        try Self.validate(connection.fields)
        if case .absent = input.auth, connection.fields == current.fields { throw Unchanged() }
        try Self.checkTypeChange(from: current, input, holdsExternalCredentials: external != nil)
        if current.fields.secretsmanagerID != expected {
            throw ServiceError.conflict("the connection's secrets manager changed meanwhile; retry")
        }
        if external == nil {
            switch input.auth {
            case .absent: break
            case .null:
                connection.sealedAuth = nil
                connection.refresh = nil
            case .value(let auth):
                connection.sealedAuth = try seal(auth, id: current.id, workspace: current.workspaceID)
                // New credentials start over: a connection that needed re-authorization is active again.
                connection.refresh = refresher.initialState(
                    integrationType: connection.fields.integrationType,
                    auth: auth
                )
            }
        }
        connection.updatedAt = max(time, current.updatedAt)
        connection.version = current.version + 1
        return connection
    }

    /// A connection's tokens belong to its integration: changing `integration_type` while it
    /// holds credentials would send its refresh token (and the other integration's client
    /// secret) to the other integration's token endpoint. Refused unless `auth` is replaced in
    /// the same request.
    static func checkTypeChange(
        from current: Connection,
        _ input: ConnectionInput,
        holdsExternalCredentials: Bool
    ) throws(ServiceError) {
        guard case .value(let type) = input.integrationType, type != current.fields.integrationType,
            current.sealedAuth != nil || holdsExternalCredentials
        else { return }
        if case .value = input.auth { return }
        throw .conflict(
            "integration_type cannot change from \"\(current.fields.integrationType)\" while the connection holds its credentials: send the new integration's auth in the same request, or create a new connection"
        )
    }

    /// Deletes the connection. A secret Switchboard created for it in a secrets manager is removed
    /// there first (if the manager cannot be reached nothing is deleted, so no credential is left
    /// behind); an adopted secret is left as it is.
    public func delete(_ id: ConnectionID, by principal: Principal) async throws {
        try principal.require(.connectionsWrite)
        let connection = try await current(id, principal.workspaceID)
        // A secret Switchboard created goes with its connection; an adopted one stays.
        if let external = try await externalCredentials(of: connection) { try await external.deleteIfOwned() }
        let record = AuditRecord(.connectionDelete, by: principal, at: now(), connection: id)
        guard try await store.delete(id: id, workspace: principal.workspaceID, audit: record) else {
            throw ServiceError.connectionNotFound(id)
        }
    }

    func current(_ id: ConnectionID, _ workspace: WorkspaceID) async throws -> Connection {
        guard let connection = try await store.connection(id: id, workspace: workspace) else {
            throw ServiceError.connectionNotFound(id)
        }
        return connection
    }

    /// Opens credentials for a key that may see them, after the audit log durably records which
    /// connections' credentials are about to leave; a key without the scope gets none, and nothing
    /// is decrypted (or fetched from a secrets manager) for it.
    ///
    /// A token about to expire is refreshed first (see `TokenRefresher`). `strict` (a single
    /// connection) passes a failed refresh on as an error; a list page answers with what is stored.
    private func reveal(
        _ connections: [Connection],
        to principal: Principal,
        strict: Bool
    ) async throws -> [RevealedConnection] {
        guard principal.scopes.contains(.connectionsCredentials) else {
            return connections.map { RevealedConnection(connection: $0, auth: nil) }
        }
        var revealed: [RevealedConnection] = []
        revealed.reserveCapacity(connections.count)
        for var connection in connections {
            if connection.refresh != nil {
                do { connection = try await refresher.fresh(connection) } catch  where !strict {}
            }
            if let external = try await externalCredentials(of: connection) {
                revealed.append(RevealedConnection(connection: connection, auth: try await external.get()))
            } else {
                revealed.append(RevealedConnection(connection: connection, auth: try open(connection)))
            }
        }
        // Reads take the wall clock: the injected clock stamps connection writes, and reads must not move it.
        let time = Timestamp.now()
        let records = revealed.compactMap { item in
            item.auth == nil
                ? nil : AuditRecord(.credentialsRead, by: principal, at: time, connection: item.connection.id)
        }
        if !records.isEmpty { try await audit.append(records) }
        return revealed
    }

    func open(_ connection: Connection) throws -> ConnectionAuth? {
        guard let sealed = connection.sealedAuth else { return nil }
        let context = SealContext(workspaceID: connection.workspaceID, connectionID: connection.id)
        return ConnectionAuth(trustedJSON: try sealer.open(sealed, context: context))
    }

    func seal(_ auth: ConnectionAuth, id: ConnectionID, workspace: WorkspaceID) throws -> SealedSecret {
        try sealer.seal(auth.json, context: SealContext(workspaceID: workspace, connectionID: id))
    }

    /// Rules on the merged fields that the wire types cannot express.
    static func validate(_ fields: ConnectionFields) throws(ServiceError) {
        do {
            func bounded(
                _ value: String?,
                _ field: String,
                _ maximum: Int = Limits.identifierLength
            )
                throws(ValidationError)
            {
                if let value { try Limits.checkLabel(value, field: field, maximum: maximum) }
            }
            try Limits.checkRequiredLabel(
                fields.integrationType,
                field: "integration_type",
                maximum: Limits.shortLabelLength
            )
            try Limits.checkRequiredLabel(fields.environment, field: "environment", maximum: Limits.shortLabelLength)
            try bounded(fields.integrationName, "integration_name", Limits.indexedLabelLength)
            try bounded(fields.externalXref, "external_xref", Limits.indexedLabelLength)
            try bounded(fields.authAwsArn, "auth_aws_arn")
            try bounded(fields.authAzureKeyvaultID, "auth_azure_keyvault_id")
            try bounded(fields.authGcpSecretName, "auth_gcp_secret_name")
            try bounded(fields.authHashiVaultPath, "auth_hashi_vault_path")
            try bounded(fields.secretsmanagerID, "secretsmanager_id")
            try bounded(fields.secretsmanagerKey, "secretsmanager_key")
        } catch {
            throw .invalid(error)
        }
    }
}
