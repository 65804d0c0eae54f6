/// Persistence of the API call log. Rows are written in batches off the request path
/// (`APICallLog`), read newest first, and purged by age.
public protocol APICallStore: Sendable {
    /// Inserts the calls in one transaction.
    func appendAPICalls(_ calls: [APICall]) async throws

    /// The page of calls matching `query`.
    func apiCalls(_ query: APICallQuery) async throws -> [APICall]

    /// The call with `id` in `workspace`, or nil.
    func apiCall(id: String, workspace: WorkspaceID) async throws -> APICall?

    /// Deletes up to `limit` calls created before `cutoff` (any workspace); returns how many.
    func purgeAPICalls(before cutoff: Timestamp, limit: Int) async throws -> Int
}
