/// Reading the audit log. Writing happens inside the services whose actions are audited.
public struct AuditService: Sendable {
    private let store: any AuditStore

    public init(store: any AuditStore) { self.store = store }

    /// Records of the principal's workspace matching `query`, newest first.
    public func records(_ query: AuditQuery, by principal: Principal) async throws -> [AuditRecord] {
        try principal.require(.auditRead)
        var query = query
        query.workspaceID = principal.workspaceID
        return try await store.auditRecords(query)
    }
}
