/// Persistence for workspaces and their API keys.
public protocol WorkspaceStore: Sendable {
    /// Inserts a workspace together with its first key and the key's audit record, atomically.
    func insert(_ workspace: Workspace, firstKey: APIKeyRecord, audit: AuditRecord) async throws

    func workspace(id: WorkspaceID) async throws -> Workspace?

    func workspaceCount() async throws -> Int

    /// Inserts a key and its audit record in one transaction.
    func insert(_ key: APIKeyRecord, audit: AuditRecord?) async throws

    /// The key with this public id, revoked or not; nil if there is none.
    func apiKey(id: String) async throws -> APIKeyRecord?

    /// Every key of the workspace, revoked ones included, oldest first.
    func apiKeys(workspace: WorkspaceID) async throws -> [APIKeyRecord]

    /// Marks the key revoked (idempotent). `audit` is appended in the same transaction only when
    /// this call revoked it. Returns the key, or nil if there is none.
    func revokeAPIKey(id: String, at time: Timestamp, audit: AuditRecord?) async throws -> APIKeyRecord?

    /// Records that the key authenticated a request at `time`; a revoked key is left as it is (a
    /// request that its read then refuses was not a use).
    func touchAPIKey(id: String, at time: Timestamp) async throws
}
