/// What `switchboard bench` needs from a backend beyond the store contract: a bulk path to seed a
/// million rows in minutes, and the database's own cost of the API's queries, measured without
/// mapping or encoding, as the ceiling the HTTP endpoints are compared against.
///
/// Package-level, and not part of `SwitchboardStore`: only the benchmark (and its tests) see it,
/// by asking a store `as? any StoreBenchmarking`.
package protocol StoreBenchmarking: Sendable {
    /// Inserts new connections in as few statements and transactions as the backend allows.
    /// Returns once they are durable. Ids must be new.
    func bulkInsert(_ connections: [Connection]) async throws

    /// After a bulk load: brings the planner's statistics up to date, as PostgreSQL's autovacuum
    /// would shortly (SQLite keeps none unless ANALYZE is run, which a normal install never does),
    /// and writes out what the load left pending (a checkpoint), so that the measurements that
    /// follow do not pay for the seed's deferred writes.
    func settleAfterBulkLoad() async throws

    /// Runs exactly the SQL `list(query)` runs and fetches every row without mapping it.
    /// Returns the number of rows.
    func rawList(_ query: ConnectionQuery) async throws -> Int

    /// Runs exactly the SQL `connection(id:workspace:)` runs and fetches the row without mapping it.
    func rawGet(id: ConnectionID, workspace: WorkspaceID) async throws -> Int

    /// The database's own JSON dump of every connection of `workspace` in `environment`, in the
    /// default order (one JSON object per row, rendered by the database and fetched as text).
    /// Returns the number of rows and of bytes.
    func rawJSONDump(workspace: WorkspaceID, environment: String) async throws -> (rows: Int, bytes: Int)
}
