import Foundation

/// Workspaces and their API keys: creation, listing, revocation, and authenticating a presented key.
public struct WorkspaceService: Sendable {
    private let store: any WorkspaceStore
    private let hasher: any TokenHasher
    private let now: @Sendable () -> Timestamp
    private let knownKeys = KnownKeys()

    /// `last_used_at` is written at most this often per key, so authentication stays a read.
    static let lastUsedResolutionMilliseconds: Int64 = 60_000

    public init(store: any WorkspaceStore, hasher: any TokenHasher, now: @escaping @Sendable () -> Timestamp) {
        self.store = store
        self.hasher = hasher
        self.now = now
    }

    /// A new workspace and its first key, which holds every scope. The key is returned once and
    /// never stored in plaintext.
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
        let (record, key) = makeKey(for: workspace.id, scopes: .all, at: time)
        let audit = AuditRecord(.apiKeyCreate, by: .cli(workspace: workspace.id), at: time, target: record.id)
        try await store.insert(workspace, firstKey: record, audit: audit)
        return (workspace, key)
    }

    public func workspaceCount() async throws -> Int { try await store.workspaceCount() }

    /// A new key with `scopes` in the principal's workspace. A key can grant only scopes it holds.
    public func createKey(
        scopes: ScopeSet,
        by principal: Principal
    ) async throws -> (
        record: APIKeyRecord, apiKey: String
    ) {
        try principal.require(.keysAdmin)
        guard scopes.isSubset(of: principal.scopes) else {
            let missing = ScopeSet(scopes.scopes.subtracting(principal.scopes.scopes))
            throw ServiceError.invalid(
                ValidationError(field: "scopes", message: "a key cannot grant scopes it does not hold: \(missing.text)")
            )
        }
        guard try await store.workspace(id: principal.workspaceID) != nil else {
            throw ServiceError.workspaceNotFound(principal.workspaceID.rawValue)
        }
        let time = now()
        let (record, key) = makeKey(for: principal.workspaceID, scopes: scopes, at: time)
        try await store.insert(record, audit: AuditRecord(.apiKeyCreate, by: principal, at: time, target: record.id))
        return (record, key)
    }

    /// Every key of the principal's workspace (hashes stay in the store's records; callers print
    /// only ids, scopes and dates).
    public func listKeys(by principal: Principal) async throws -> [APIKeyRecord] {
        try principal.require(.keysAdmin)
        return try await store.apiKeys(workspace: principal.workspaceID)
    }

    /// Revokes the key named by its id or its `sbk_<id>` prefix; the operator's CLI (no
    /// principal) also takes the whole key. With a principal, only a key of its workspace whose
    /// scopes it holds all of (a `keys:admin`-only key cannot revoke a full-access key); without
    /// one, any key. Errors never repeat the reference beyond a well-formed id.
    public func revokeKey(_ reference: String, by principal: Principal?) async throws -> APIKeyRecord {
        if let principal { try principal.require(.keysAdmin) }
        if principal != nil, APIKey.id(inKey: reference) != nil {
            // A secret in a URL ends up in proxy and access logs: refuse it rather than use it.
            throw ServiceError.invalid(
                ValidationError(
                    field: "id",
                    message:
                        "send the key's id or its sbk_<id> prefix, never the whole key; this key's secret has now been sent in a URL, so revoke it and issue a new one"
                )
            )
        }
        guard let id = APIKey.id(fromReference: reference) else { throw ServiceError.apiKeyNotFound("") }
        let notFound = ServiceError.apiKeyNotFound(id)
        guard let key = try await store.apiKey(id: id), principal == nil || principal?.workspaceID == key.workspaceID
        else { throw notFound }
        if let principal, let missing = key.scopes.sorted.first(where: { !principal.scopes.contains($0) }) {
            throw ServiceError.missingScope(missing)
        }
        if principal?.keyID == id {
            // A key revoking itself would lock its caller out mid-session, often the last admin key.
            throw ServiceError.conflict(
                "an API key cannot revoke itself; revoke it with another key that has keys:admin, or with switchboard key revoke"
            )
        }
        let actor = principal ?? .cli(workspace: key.workspaceID)
        let time = now()
        let audit = AuditRecord(.apiKeyRevoke, by: actor, at: time, target: id)
        guard let record = try await store.revokeAPIKey(id: id, at: time, audit: audit) else { throw notFound }
        return record
    }

    /// The principal for a presented key, or `ServiceError.unauthenticated`. The stored hash is
    /// compared in constant time, and every failure looks the same to the caller.
    ///
    /// With `deferringRevocationCheck`, a key seen before is checked against what cannot change
    /// about it (its workspace, secret hash and scopes, remembered in memory) and the principal is
    /// returned unconfirmed: the read that serves the request confirms in the same database round
    /// trip that the key is still unrevoked, so revocation stays immediate on every replica and
    /// the request costs one read instead of two. A key that may see credentials is always
    /// confirmed here, because its reads go through the path that opens and audits them.
    public func authenticate(
        _ presented: String,
        clientAddress: String?,
        deferringRevocationCheck: Bool = false
    ) async throws -> Principal {
        guard let id = APIKey.id(inKey: presented) else { throw ServiceError.unauthenticated }
        let facts: KnownKeys.Facts
        let confirmed: Bool
        if deferringRevocationCheck, let known = knownKeys.facts(id: id),
            !known.scopes.contains(.connectionsCredentials)
        {
            (facts, confirmed) = (known, false)
        } else {
            guard let record = try await store.apiKey(id: id), record.revokedAt == nil else {
                throw ServiceError.unauthenticated
            }
            (facts, confirmed) = (KnownKeys.Facts(record), true)
        }
        guard constantTimeEquals(hasher.hash(presented), facts.secretHash) else { throw ServiceError.unauthenticated }
        if confirmed { knownKeys.remember(id: id, facts) }
        let time = now()
        if knownKeys.claimTouch(id: id, at: time, every: Self.lastUsedResolutionMilliseconds) {
            // Best effort: a failed bookkeeping write must not refuse a valid key.
            try? await store.touchAPIKey(id: id, at: time)
        }
        return Principal(
            workspaceID: facts.workspaceID,
            keyID: id,
            scopes: facts.scopes,
            clientAddress: clientAddress,
            keyCheck: confirmed ? .confirmed : .deferredTo(keyID: id)
        )
    }

    private func makeKey(for workspaceID: WorkspaceID, scopes: ScopeSet, at time: Timestamp) -> (APIKeyRecord, String) {
        let (id, key) = APIKey.generate()
        return (
            APIKeyRecord(
                id: id,
                workspaceID: workspaceID,
                secretHash: hasher.hash(key),
                scopes: scopes,
                createdAt: time
            ),
            key
        )
    }
}
