/// Connections made or re-made by the OAuth authorization flow.
extension ConnectionService {
    /// Stores a connection the end user just authorized. `actor` names the flow in the audit log.
    func createAuthorized(
        fields: ConnectionFields,
        auth: ConnectionAuth,
        workspace: WorkspaceID,
        actor: String,
        clientAddress: String? = nil
    ) async throws -> Connection {
        try Self.validate(fields)
        let time = now()
        let id = ConnectionID.generate(at: time)
        let connection = Connection(
            id: id,
            workspaceID: workspace,
            fields: fields,
            sealedAuth: try seal(auth, id: id, workspace: workspace),
            health: ConnectionHealth(lastHealthyAt: time),
            refresh: refresher.initialState(integrationType: fields.integrationType, auth: auth),
            createdAt: time,
            updatedAt: time
        )
        let record = AuditRecord(
            workspaceID: workspace,
            at: time,
            actor: actor,
            action: .connectionCreate,
            connectionID: id,
            clientAddress: clientAddress
        )
        try await store.insert(connection, audit: record)
        return connection
    }

    /// Replaces the credentials of an existing connection in place after the end user authorized
    /// again: same id, new tokens and permissions, healthy, refresh state started over.
    func reauthorize(
        _ id: ConnectionID,
        workspace: WorkspaceID,
        integrationType: String,
        auth: ConnectionAuth,
        permissions: [Permission],
        actor: String,
        clientAddress: String? = nil
    ) async throws -> Connection {
        let time = now()
        let record = AuditRecord(
            workspaceID: workspace,
            at: time,
            actor: actor,
            action: .connectionReauthorize,
            connectionID: id,
            clientAddress: clientAddress
        )
        let refresh = refresher.initialState(integrationType: integrationType, auth: auth)
        let sealed = try seal(auth, id: id, workspace: workspace)
        let updated = try await store.update(id: id, workspace: workspace, audit: record) { current in
            guard current.fields.integrationType == integrationType else {
                throw ServiceError.conflict("the connection is no longer of integration \"\(integrationType)\"")
            }
            guard current.fields.secretsmanagerID == nil else {
                throw ServiceError.conflict("the connection keeps its credentials in a secrets manager")
            }
            var connection = current
            connection.sealedAuth = sealed
            if !permissions.isEmpty { connection.fields.permissions = permissions }
            connection.refresh = refresh
            connection.health.lastHealthyAt = time
            connection.updatedAt = max(time, current.updatedAt)
            connection.version = current.version + 1
            return connection
        }
        guard let updated else { throw ServiceError.connectionNotFound(id) }
        return updated
    }
}
