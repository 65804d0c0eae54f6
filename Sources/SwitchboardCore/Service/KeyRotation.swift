/// Re-seals stored credentials under the sealer's active master key, in batches, while servers keep
/// serving: each batch is one transaction that swaps a row's ciphertext only if nobody changed it
/// since it was read.
public struct KeyRotation: Sendable {
    public typealias Store = ConnectionStore & SecretsManagerStore & IntegrationStore & EventStore
    private let store: any Store
    private let sealer: any SecretSealer

    public init(store: any Store, sealer: any SecretSealer) {
        self.store = store
        self.sealer = sealer
    }

    public struct Pass: Sendable, Equatable {
        /// Rows found under another key.
        public var examined = 0
        /// Rows re-sealed by this pass.
        public var resealed = 0

        public init(examined: Int = 0, resealed: Int = 0) {
            self.examined = examined
            self.resealed = resealed
        }
    }

    /// One pass over every row not sealed under the active key: secrets managers' settings,
    /// workspace integrations' client secrets, event webhook signing secrets, then connections'
    /// credentials. Rows written concurrently by a server that still sealed with an
    /// older key are left for the next pass.
    public func resealPass(batchSize: Int = 500, progress: (Pass) -> Void = { _ in }) async throws -> Pass {
        let active = sealer.activeKeyID
        var pass = Pass()
        var afterManager: SecretsManagerID?
        while true {
            let batch = try await store.secretsManagersSealed(notWith: active, after: afterManager, limit: batchSize)
            guard let last = batch.last else { break }
            afterManager = last.manager.id
            for stored in batch {
                let context = SealContext(workspaceID: stored.manager.workspaceID, secretsManagerID: stored.manager.id)
                let new = try sealer.seal(try sealer.open(stored.sealedAuth, context: context), context: context)
                pass.examined += 1
                if try await store.replaceSealedAuth(
                    secretsManager: stored.manager.id,
                    old: stored.sealedAuth,
                    new: new
                ) {
                    pass.resealed += 1
                }
            }
        }
        var afterIntegration: (workspace: WorkspaceID, type: String)?
        while true {
            let batch = try await store.workspaceIntegrationsSealed(
                notWith: active,
                after: afterIntegration,
                limit: batchSize
            )
            guard let last = batch.last else { break }
            afterIntegration = (last.integration.workspaceID, last.integration.integrationType)
            for stored in batch {
                let i = stored.integration
                let context = SealContext(workspaceID: i.workspaceID, integrationType: i.integrationType)
                let old = stored.sealedClientSecret
                let new = try sealer.seal(try sealer.open(old, context: context), context: context)
                pass.examined += 1
                if try await store.replaceSealedClientSecret(
                    workspace: i.workspaceID,
                    type: i.integrationType,
                    old: old,
                    new: new
                ) {
                    pass.resealed += 1
                }
            }
        }
        var afterWebhook: WorkspaceID?
        while true {
            let batch = try await store.eventWebhooksSealed(notWith: active, after: afterWebhook, limit: batchSize)
            guard let last = batch.last else { break }
            afterWebhook = last.workspaceID
            for old in batch {
                func reseal(_ secret: SealedSecret, _ slot: String) throws -> SealedSecret {
                    let context = SealContext(workspaceID: old.workspaceID, eventWebhookSecret: slot)
                    return try sealer.seal(try sealer.open(secret, context: context), context: context)
                }
                var new = old
                new.secret = try reseal(old.secret, "current")
                new.previousSecret = try old.previousSecret.map { try reseal($0, "previous") }
                pass.examined += 1
                if try await store.replaceSealedWebhookSecrets(old: old, new: new) { pass.resealed += 1 }
            }
        }
        var after: ConnectionID?
        while true {
            let batch = try await store.connectionsSealed(notWith: active, after: after, limit: batchSize)
            guard let last = batch.last else { break }
            after = last.id
            let swaps = try batch.compactMap { connection -> SealSwap? in
                guard let old = connection.sealedAuth else { return nil }
                let context = SealContext(workspaceID: connection.workspaceID, connectionID: connection.id)
                let new = try sealer.seal(try sealer.open(old, context: context), context: context)
                return SealSwap(id: connection.id, workspaceID: connection.workspaceID, old: old, new: new)
            }
            pass.examined += batch.count
            pass.resealed += try await store.replaceSealedAuth(swaps)
            progress(pass)
        }
        return pass
    }

    /// The key new seals use.
    public var activeKeyID: String { sealer.activeKeyID }

    /// How many rows each key id seals.
    public func counts() async throws -> [String: Int] { try await store.sealedCountsByKey() }

    public enum RetireFailure: Error, Sendable, Equatable, CustomStringConvertible {
        case active(keyID: String)
        case inUse(keyID: String, rows: Int)

        public var description: String {
            switch self {
            case .active(let id): "\(id) is the active key; rotate to a new key first"
            case .inUse(let id, let rows):
                "\(rows) sealed row(s) still use \(id); run `switchboard keys rotate` until none do"
            }
        }
    }

    /// Succeeds only when no row uses `keyID` and it is not the active key.
    public func checkRetirable(_ keyID: String) async throws {
        if keyID == sealer.activeKeyID { throw RetireFailure.active(keyID: keyID) }
        let rows = try await store.sealedCountsByKey()[keyID] ?? 0
        if rows > 0 { throw RetireFailure.inUse(keyID: keyID, rows: rows) }
    }
}
