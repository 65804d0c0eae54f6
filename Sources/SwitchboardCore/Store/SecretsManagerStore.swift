/// Registered secrets managers, their settings sealed.
public protocol SecretsManagerStore: Sendable {
    /// Inserts the manager and its audit record in one transaction.
    func insert(_ manager: StoredSecretsManager, audit: AuditRecord) async throws

    func secretsManager(id: SecretsManagerID, workspace: WorkspaceID) async throws -> StoredSecretsManager?

    /// The workspace's managers, oldest first, paged.
    func secretsManagers(workspace: WorkspaceID, limit: Int, offset: Int) async throws -> [StoredSecretsManager]

    /// How many connections of the workspace keep their credentials in this manager.
    func connectionCount(secretsManager id: SecretsManagerID, workspace: WorkspaceID) async throws -> Int

    /// Records that Switchboard creates `record.name` for its connection; false (and nothing
    /// recorded) when the name is already owned by a connection.
    func claimExternalSecret(_ record: ExternalSecretRecord) async throws -> Bool

    /// The connection that owns the secret `name` of the manager, if Switchboard created it.
    func externalSecretOwner(secretsManager id: SecretsManagerID, name: String) async throws -> ConnectionID?

    /// Forgets the ownership of `name` (after the secret was deleted, or its creation failed).
    func releaseExternalSecret(secretsManager id: SecretsManagerID, name: String) async throws

    /// Deletes the manager and appends `audit` in one transaction, unless a connection still uses
    /// it; returns false (and appends nothing) if there was none.
    func deleteSecretsManager(id: SecretsManagerID, workspace: WorkspaceID, audit: AuditRecord) async throws -> Bool

    /// Up to `limit` managers (any workspace) with ids after `id`, in id order, sealed under a key
    /// other than `keyID`.
    func secretsManagersSealed(
        notWith keyID: String,
        after id: SecretsManagerID?,
        limit: Int
    ) async throws
        -> [StoredSecretsManager]

    /// Replaces a manager's sealed settings only if it still holds exactly `old`; true if replaced.
    func replaceSealedAuth(
        secretsManager id: SecretsManagerID,
        old: SealedSecret,
        new: SealedSecret
    ) async throws
        -> Bool
}
