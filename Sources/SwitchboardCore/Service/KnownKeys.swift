import Synchronization

/// What never changes about an API key once created (its workspace, secret hash and scopes),
/// remembered per process for keys that authenticated, so a later request can check the secret
/// without a database read. Revocation is deliberately not remembered: every request still
/// confirms it in the database (see `WorkspaceService.authenticate`).
final class KnownKeys: Sendable {
    struct Facts: Sendable {
        var workspaceID: WorkspaceID
        var secretHash: [UInt8]
        var scopes: ScopeSet
        /// When this process last wrote the key's `last_used_at`.
        var touchedAt: Int64
    }

    /// Enough for every live key of a large deployment; past it the table starts over, which
    /// costs one confirming read per key.
    static let capacity = 10_000

    private let entries = Mutex<[String: Facts]>([:])

    func facts(id: String) -> Facts? { entries.withLock { $0[id] } }

    func remember(_ record: APIKeyRecord, touchedAt: Timestamp) {
        entries.withLock { entries in
            if entries[record.id] == nil, entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[record.id] = Facts(
                workspaceID: record.workspaceID,
                secretHash: record.secretHash,
                scopes: record.scopes,
                touchedAt: touchedAt.millisecondsSinceEpoch
            )
        }
    }

    /// True, once per `every` milliseconds per key, when `last_used_at` is due to be written.
    func claimTouch(id: String, at time: Timestamp, every: Int64) -> Bool {
        entries.withLock { entries in
            guard let touched = entries[id]?.touchedAt, time.millisecondsSinceEpoch - touched >= every else {
                return false
            }
            entries[id]?.touchedAt = time.millisecondsSinceEpoch
            return true
        }
    }
}
