/// Workspaces' settings for catalog integrations, and their redirect allowlists.
public protocol IntegrationStore: Sendable {
    /// Inserts or replaces the workspace's settings for one integration, with its audit record,
    /// in one transaction.
    func upsert(_ integration: StoredWorkspaceIntegration, audit: AuditRecord) async throws

    func workspaceIntegration(type: String, workspace: WorkspaceID) async throws -> StoredWorkspaceIntegration?

    /// The workspace's integrations, ordered by type.
    func workspaceIntegrations(workspace: WorkspaceID) async throws -> [StoredWorkspaceIntegration]

    /// Deletes them and appends `audit` in one transaction; false (nothing appended) if there were none.
    func deleteWorkspaceIntegration(type: String, workspace: WorkspaceID, audit: AuditRecord) async throws -> Bool

    /// Replaces the workspace's `redirectOrigins` and appends `audit` in one transaction; false if there is no such workspace.
    func setRedirectOrigins(_ origins: [String], workspace: WorkspaceID, audit: AuditRecord) async throws -> Bool

    /// Sets the workspace's `authorizeRequiresToken` and appends `audit` in one transaction; false
    /// if there is no such workspace.
    func setAuthorizeRequiresToken(_ required: Bool, workspace: WorkspaceID, audit: AuditRecord) async throws -> Bool

    /// Up to `limit` workspace integrations (any workspace) after `after` in (workspace, type) order,
    /// whose client secret is sealed under a key other than `keyID`: key rotation's work list.
    func workspaceIntegrationsSealed(
        notWith keyID: String,
        after: (workspace: WorkspaceID, type: String)?,
        limit: Int
    ) async throws -> [StoredWorkspaceIntegration]

    /// Replaces a client secret only if the row still holds exactly `old`; true if replaced.
    func replaceSealedClientSecret(
        workspace: WorkspaceID,
        type: String,
        old: SealedSecret,
        new: SealedSecret
    ) async throws -> Bool
}
