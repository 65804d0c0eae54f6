import Synchronization

/// The API call log: calls are recorded in memory on the request path (no database write there)
/// and written in batches by `flush`, which `serve` runs every second and once more at a graceful
/// stop. So a SIGKILL loses at most the last second of calls, and a graceful stop loses none.
/// While the database is unreachable, calls wait in memory up to `maximumPending`; beyond that the
/// oldest are dropped (and counted), so an outage cannot exhaust memory.
public final class APICallLog: Sendable {
    private let store: any APICallStore
    private let pending = Mutex<[APICall]>([])
    private let droppedCount = Atomic<Int>(0)
    public let maximumPending: Int
    /// Rows per insert transaction.
    static let batchSize = 500

    public init(store: any APICallStore, maximumPending: Int = 100_000) {
        self.store = store
        self.maximumPending = maximumPending
    }

    /// A new call's id: a UUIDv7, so ids sort by time.
    public static func newID(at time: Timestamp) -> String { makeUUIDv7(time) }

    /// Queues `call` for the next flush. Never waits and never fails.
    public func record(_ call: APICall) {
        let dropped = pending.withLock { pending -> Int in
            pending.append(call)
            let excess = pending.count - maximumPending
            guard excess > 0 else { return 0 }
            pending.removeFirst(excess)
            return excess
        }
        if dropped > 0 { droppedCount.add(dropped, ordering: .relaxed) }
    }

    /// Calls dropped because the queue was full (the database unreachable for long).
    public var dropped: Int { droppedCount.load(ordering: .relaxed) }

    /// Calls waiting for the next flush.
    public var pendingCount: Int { pending.withLock { $0.count } }

    /// Writes every queued call. On a failure the calls not written go back to the front of the
    /// queue (to be tried again at the next flush) and the error is thrown.
    public func flush() async throws {
        var calls = pending.withLock { pending -> [APICall] in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        while !calls.isEmpty {
            let batch = Array(calls.prefix(Self.batchSize))
            do { try await store.appendAPICalls(batch) } catch {
                let unwritten = calls
                pending.withLock { $0.insert(contentsOf: unwritten, at: 0) }
                throw error
            }
            calls.removeFirst(batch.count)
        }
    }

    /// Deletes up to `limit` calls older than `cutoff`; returns how many (`limit`: maybe more left).
    public func purge(before cutoff: Timestamp, limit: Int) async throws -> Int {
        try await store.purgeAPICalls(before: cutoff, limit: limit)
    }

    /// `GET /unified/apicall`: the principal's workspace only (`connections:read`).
    public func list(_ query: APICallQuery, by principal: Principal) async throws -> [APICall] {
        try principal.require(.connectionsRead)
        var query = query
        query.workspaceID = principal.workspaceID
        return try await store.apiCalls(query)
    }

    /// `GET /unified/apicall/{id}`.
    public func get(_ id: String, by principal: Principal) async throws -> APICall {
        try principal.require(.connectionsRead)
        guard let call = try await store.apiCall(id: id, workspace: principal.workspaceID) else {
            throw ServiceError.notFound("no API call with id \"\(id.prefix(64))\" in this workspace")
        }
        return call
    }
}
