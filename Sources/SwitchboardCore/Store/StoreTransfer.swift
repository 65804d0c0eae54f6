/// Bulk reads and writes for moving an install between backends (`switchboard copy`).
/// Sealed credentials are copied as they are: nothing is decrypted.
public protocol StoreTransfer: Sendable {
    /// True when the store holds no workspace (and so no key or connection).
    func isEmpty() async throws -> Bool

    func allWorkspaces() async throws -> [Workspace]

    func allAPIKeys() async throws -> [APIKeyRecord]

    /// Up to `limit` connections of every workspace with ids after `id`, in id order.
    func connections(after id: ConnectionID?, limit: Int) async throws -> [Connection]

    /// Inserts the records in one transaction, skipping any whose id already exists (so an
    /// interrupted copy can be run again). Returns how many rows were inserted.
    func importRecords(workspaces: [Workspace], apiKeys: [APIKeyRecord], connections: [Connection]) async throws -> Int

    /// Every registered secrets manager of every workspace, settings still sealed.
    func allSecretsManagers() async throws -> [StoredSecretsManager]

    /// Inserts the managers in one transaction, skipping any whose id exists. Returns how many
    /// were inserted.
    func importSecretsManagers(_ managers: [StoredSecretsManager]) async throws -> Int

    /// Every ownership record of secrets Switchboard created in external managers.
    func allExternalSecrets() async throws -> [ExternalSecretRecord]

    /// Inserts them in one transaction, skipping any whose (manager, name) exists. Returns how
    /// many were inserted.
    func importExternalSecrets(_ records: [ExternalSecretRecord]) async throws -> Int

    /// Every workspace integration of every workspace, client secrets still sealed.
    func allWorkspaceIntegrations() async throws -> [StoredWorkspaceIntegration]

    /// Inserts them in one transaction, skipping any whose (workspace, type) exists. Returns how
    /// many were inserted.
    func importWorkspaceIntegrations(_ integrations: [StoredWorkspaceIntegration]) async throws -> Int

    /// Up to `limit` audit records of every workspace with a sequence after `sequence`, in order.
    func auditRecords(after sequence: Int64?, limit: Int) async throws -> [AuditRecord]

    /// Inserts audit records in one transaction keeping their sequence numbers, skipping any whose
    /// sequence exists; later appends continue after the highest. Returns how many were inserted.
    func importAuditRecords(_ records: [AuditRecord]) async throws -> Int
    /// Every workspace's event webhook, secrets still sealed.
    func allEventWebhooks() async throws -> [EventWebhook]
    /// Inserts them in one transaction, skipping any whose workspace has one. Returns how many
    /// were inserted.
    func importEventWebhooks(_ webhooks: [EventWebhook]) async throws -> Int
    /// Up to `limit` events of every workspace with ids after `id`, in id order.
    func events(after id: String?, limit: Int) async throws -> [Event]
    /// Inserts events in one transaction with their delivery state, skipping any whose id exists;
    /// a pending one is due again at once, from the start of its retry schedule. Returns how many
    /// were inserted.
    func importEvents(_ events: [Event]) async throws -> Int
}
