/// The append-only audit log.
public protocol AuditStore: Sendable {
    /// Appends the records in one transaction; returns once they are durable.
    func append(_ records: [AuditRecord]) async throws

    /// Records matching `query`, newest first.
    func auditRecords(_ query: AuditQuery) async throws -> [AuditRecord]
}
