/// The rules for connections: validate, seal, store; open credentials on the way out.
///
/// Plaintext credentials exist only here and in `ConnectionAuth`, never in a store.
public struct ConnectionService: Sendable {
    private let store: any ConnectionStore
    private let sealer: any SecretSealer
    private let now: @Sendable () -> Timestamp

    public init(store: any ConnectionStore, sealer: any SecretSealer, now: @escaping @Sendable () -> Timestamp) {
        self.store = store
        self.sealer = sealer
        self.now = now
    }

    public func create(_ input: ConnectionInput, in workspace: WorkspaceID) async throws -> RevealedConnection {
        let fields: ConnectionFields
        do { fields = try input.fieldsForCreate() } catch { throw ServiceError.invalid(error) }
        try Self.validate(fields)
        let time = now()
        let id = ConnectionID.generate(at: time)
        var auth: ConnectionAuth?
        if case .value(let value) = input.auth { auth = value }
        let connection = Connection(
            id: id,
            workspaceID: workspace,
            fields: fields,
            sealedAuth: try auth.map { try seal($0, id: id, workspace: workspace) },
            createdAt: time,
            updatedAt: time
        )
        try await store.insert(connection)
        return RevealedConnection(connection: connection, auth: auth)
    }

    public func get(_ id: ConnectionID, in workspace: WorkspaceID) async throws -> RevealedConnection {
        guard let connection = try await store.connection(id: id, workspace: workspace) else {
            throw ServiceError.connectionNotFound(id)
        }
        return try reveal(connection)
    }

    public func list(_ query: ConnectionQuery) async throws -> [RevealedConnection] {
        try await store.list(query).map(reveal)
    }

    /// PUT and PATCH: merges `input` into the stored connection inside the store's serialized
    /// read-modify-write, so concurrent updates never lose each other's fields.
    public func update(
        _ id: ConnectionID,
        with input: ConnectionInput,
        in workspace: WorkspaceID
    ) async throws
        -> RevealedConnection
    {
        let time = now()
        let updated = try await store.update(id: id, workspace: workspace) { current in
            var connection = current
            do throws(ValidationError) {
                try input.apply(to: &connection.fields)
            } catch {
                throw ServiceError.invalid(error)
            }
            try Self.validate(connection.fields)
            switch input.auth {
            case .absent: break
            case .null: connection.sealedAuth = nil
            case .value(let auth): connection.sealedAuth = try seal(auth, id: id, workspace: workspace)
            }
            connection.updatedAt = max(time, current.updatedAt)
            connection.version = current.version + 1
            return connection
        }
        guard let updated else { throw ServiceError.connectionNotFound(id) }
        // Credentials the request just supplied are returned as given, not decrypted back.
        switch input.auth {
        case .absent: return try reveal(updated)
        case .null: return RevealedConnection(connection: updated, auth: nil)
        case .value(let auth): return RevealedConnection(connection: updated, auth: auth)
        }
    }

    public func delete(_ id: ConnectionID, in workspace: WorkspaceID) async throws {
        guard try await store.delete(id: id, workspace: workspace) else { throw ServiceError.connectionNotFound(id) }
    }

    private func reveal(_ connection: Connection) throws -> RevealedConnection {
        RevealedConnection(connection: connection, auth: try open(connection))
    }

    private func open(_ connection: Connection) throws -> ConnectionAuth? {
        guard let sealed = connection.sealedAuth else { return nil }
        let context = SealContext(workspaceID: connection.workspaceID, connectionID: connection.id)
        return ConnectionAuth(trustedJSON: try sealer.open(sealed, context: context))
    }

    private func seal(_ auth: ConnectionAuth, id: ConnectionID, workspace: WorkspaceID) throws -> SealedSecret {
        try sealer.seal(auth.json, context: SealContext(workspaceID: workspace, connectionID: id))
    }

    /// Rules on the merged fields that the wire types cannot express.
    static func validate(_ fields: ConnectionFields) throws(ServiceError) {
        do {
            func nonEmpty(_ value: String, _ field: String, _ maximum: Int) throws(ValidationError) {
                guard !value.isEmpty else { throw ValidationError(field: field, message: "\(field) must not be empty") }
                try Limits.checkLabel(value, field: field, maximum: maximum)
            }
            func bounded(
                _ value: String?,
                _ field: String,
                _ maximum: Int = Limits.identifierLength
            )
                throws(ValidationError)
            {
                if let value { try Limits.checkLabel(value, field: field, maximum: maximum) }
            }
            try nonEmpty(fields.integrationType, "integration_type", Limits.shortLabelLength)
            try nonEmpty(fields.environment, "environment", Limits.shortLabelLength)
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
