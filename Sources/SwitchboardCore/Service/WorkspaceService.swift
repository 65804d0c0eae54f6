import Foundation

/// Workspaces and their API keys: creation, revocation, and authenticating a presented key.
public struct WorkspaceService: Sendable {
    private let store: any WorkspaceStore
    private let hasher: any APIKeyHasher
    private let now: @Sendable () -> Timestamp

    public init(store: any WorkspaceStore, hasher: any APIKeyHasher, now: @escaping @Sendable () -> Timestamp) {
        self.store = store
        self.hasher = hasher
        self.now = now
    }

    /// A new workspace and its first key. The key is returned once and never stored in plaintext.
    public func createWorkspace(name: String) async throws -> (workspace: Workspace, apiKey: String) {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            throw ServiceError.invalid(ValidationError(field: "name", message: "name must not be empty"))
        }
        do { try Limits.checkLabel(trimmed, field: "name") } catch {
            throw ServiceError.invalid(error)
        }
        let time = now()
        let workspace = Workspace(id: WorkspaceID.generate(at: time), name: trimmed, createdAt: time)
        let (record, key) = makeKey(for: workspace.id, at: time)
        try await store.insert(workspace, firstKey: record)
        return (workspace, key)
    }

    public func workspaceCount() async throws -> Int { try await store.workspaceCount() }

    /// A new key for an existing workspace.
    public func createKey(for workspaceID: WorkspaceID) async throws -> (record: APIKeyRecord, apiKey: String) {
        guard try await store.workspace(id: workspaceID) != nil else {
            throw ServiceError.workspaceNotFound(workspaceID.rawValue)
        }
        let (record, key) = makeKey(for: workspaceID, at: now())
        try await store.insert(record)
        return (record, key)
    }

    /// Revokes the key named by its id, its `sbk_<id>` prefix or the whole key.
    public func revokeKey(_ reference: String) async throws -> APIKeyRecord {
        guard let id = APIKey.id(fromReference: reference),
            let record = try await store.revokeAPIKey(id: id, at: now())
        else {
            throw ServiceError.apiKeyNotFound(reference.count > 24 ? String(reference.prefix(20)) + "…" : reference)
        }
        return record
    }

    /// The principal for a presented key, or `ServiceError.unauthenticated`. The stored hash is
    /// compared in constant time, and every failure looks the same to the caller.
    public func authenticate(_ presented: String) async throws -> Principal {
        guard let id = APIKey.id(inKey: presented), let record = try await store.apiKey(id: id) else {
            throw ServiceError.unauthenticated
        }
        let matches = constantTimeEquals(hasher.hash(presented), record.secretHash)
        guard matches, record.revokedAt == nil else { throw ServiceError.unauthenticated }
        return Principal(workspaceID: record.workspaceID, keyID: record.id)
    }

    private func makeKey(for workspaceID: WorkspaceID, at time: Timestamp) -> (APIKeyRecord, String) {
        let (id, key) = APIKey.generate()
        return (APIKeyRecord(id: id, workspaceID: workspaceID, secretHash: hasher.hash(key), createdAt: time), key)
    }
}
