/// A page of connections as the wire's JSON array, with what the next-page link needs.
public struct ConnectionPageJSON: Sendable {
    public var bytes: [UInt8]
    public var count: Int
    /// The position of the last row when the page is full (a next page may follow), else nil.
    public var lastOfFullPage: ConnectionQuery.Position?

    public init(bytes: [UInt8], count: Int, lastOfFullPage: ConnectionQuery.Position?) {
        self.bytes = bytes
        self.count = count
        self.lastOfFullPage = lastOfFullPage
    }
}

/// Writes one page of `query` row by row, and keeps the one rule of a full page: the row that
/// fills `limit` is the position the next page starts after. Used by both stores (from their
/// rows) and by the service (from revealed connections).
package struct ConnectionPageWriter: ~Copyable {
    /// The buffer reserved per row; a larger page grows it.
    package static let bytesPerRow = 1024

    @usableFromInline var writer: JSONWriter
    @usableFromInline let query: ConnectionQuery
    @usableFromInline var count = 0
    @usableFromInline var last: ConnectionQuery.Position?

    package init(_ query: ConnectionQuery) {
        self.query = query
        writer = JSONWriter(reservingCapacity: 64 + query.limit * Self.bytesPerRow)
        writer.beginArray()
    }

    @inlinable
    package mutating func append(_ row: some StoredConnectionRow, auth: [UInt8]? = nil) {
        ConnectionJSON.write(row, auth: auth, to: &writer)
        count += 1
        if count == query.limit { last = row.position(in: query.sort) }
    }

    package mutating func append(_ revealed: RevealedConnection) {
        append(ConnectionRow(revealed.connection), auth: revealed.auth?.json)
    }

    package consuming func finish() -> ConnectionPageJSON {
        writer.endArray()
        return ConnectionPageJSON(bytes: writer.bytes, count: count, lastOfFullPage: last)
    }
}
