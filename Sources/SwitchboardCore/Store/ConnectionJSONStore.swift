/// The read paths of keys that may not see credentials, each in the same read that confirms the
/// caller's API key: connections as the wire's JSON, written by the store straight from its rows
/// (`StoredConnectionRow`) without building a `Connection` per row, and the connection a
/// passthrough call uses.
public protocol ConnectionJSONStore: Sendable {
    /// The page of `query` as the wire's JSON array without credentials, written straight from the
    /// rows (`ConnectionPageWriter`) with the same SQL as `ConnectionStore.list`.
    /// Confirms in the same database round trip that the API key `keyID` exists unrevoked, and
    /// returns `.keyNotLive` (and nothing read) if it does not.
    func listJSONWithoutAuth(
        _ query: ConnectionQuery,
        confirmingKey keyID: String
    ) async throws
        -> KeyConfirmedRead<ConnectionPageJSON>

    /// The connection as the wire's JSON object without credentials, or nil if there is none;
    /// confirms the key as `listJSONWithoutAuth` does.
    func connectionJSONWithoutAuth(
        id: ConnectionID,
        workspace: WorkspaceID,
        confirmingKey keyID: String
    ) async throws -> KeyConfirmedRead<[UInt8]?>

    /// The connection with `id` in `workspace` (sealed, as `ConnectionStore.connection` reads it),
    /// or nil if there is none; confirms the key as `listJSONWithoutAuth` does.
    func connection(
        id: ConnectionID,
        workspace: WorkspaceID,
        confirmingKey keyID: String
    ) async throws -> KeyConfirmedRead<Connection?>
}

/// A read that also confirmed the caller's API key: its result, or that the key is revoked or gone.
public enum KeyConfirmedRead<Value: Sendable>: Sendable {
    case keyNotLive
    case read(Value)
}
