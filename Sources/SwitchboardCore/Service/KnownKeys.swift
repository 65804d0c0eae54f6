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
        /// The key's `last_used_at` as last read or written by this process (0: never used).
        var touchedAt: Int64

        /// The facts of a key as read from the database, its `last_used_at` included (which
        /// another process may have moved).
        init(_ record: APIKeyRecord) {
            workspaceID = record.workspaceID
            secretHash = record.secretHash
            scopes = record.scopes
            touchedAt = record.lastUsedAt?.millisecondsSinceEpoch ?? 0
        }
    }

    /// Enough for every live key of a large deployment; past it the table starts over, which
    /// costs one confirming read per key.
    static let capacity = 10_000

    private let entries = Mutex<[String: Facts]>([:])

    func facts(id: String) -> Facts? { entries.withLock { $0[id] } }

    /// Remembers a key that just authenticated against its database row.
    func remember(id: String, _ facts: Facts) {
        entries.withLock { entries in
            if entries[id] == nil, entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[id] = facts
        }
    }

    /// True, once per `every` milliseconds per key, when `last_used_at` is due to be written.
    func claimTouch(id: String, at time: Timestamp, every: Int64) -> Bool {
        entries.withLock { entries in
            // A key not (or no longer) remembered counts as due: the write is idempotent.
            guard time.millisecondsSinceEpoch - (entries[id]?.touchedAt ?? 0) >= every else { return false }
            entries[id]?.touchedAt = time.millisecondsSinceEpoch
            return true
        }
    }
}
