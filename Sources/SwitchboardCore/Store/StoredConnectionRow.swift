/// The columns every store selects for a connection, in this order (each store's
/// `connectionColumns` lists the same names in the same order).
public enum StoredConnectionColumn: Int, Sendable, CaseIterable {
    case id, workspaceID, integrationType, integrationName, externalXref, permissions, categories
    case environment, authKeyID, authCiphertext, isPaused, authAwsArn, authAzureKeyvaultID
    case authGcpSecretName, authHashiVaultPath, secretsmanagerID, secretsmanagerKey, lastHealthyAt
    case lastUnhealthyAt, lastUnhealthyCode, createdAt, updatedAt, version, tokenExpiresAt, refreshStatus
}

/// One stored connection row as the database driver holds it, read in place: the list and get
/// endpoints write their JSON from it without building a `Connection` (the per-row Strings, arrays
/// and lookups cost more than the query, docs/benchmarks.md). Valid only while the driver is on
/// that row.
public protocol StoredConnectionRow {
    /// The UTF-8 bytes of a text column, or nil for NULL.
    func withText<R>(_ column: StoredConnectionColumn, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R
    /// An integer (or boolean, as 0/1) column, or nil for NULL.
    func integer(_ column: StoredConnectionColumn) -> Int64?
}

extension StoredConnectionRow {
    func text(_ column: StoredConnectionColumn) -> String? {
        withText(column) { $0.map { String(decoding: $0, as: UTF8.self) } }
    }

    /// The row's place in `sort`, for the next page's cursor.
    public func position(in sort: ConnectionQuery.Sort) -> ConnectionQuery.Position {
        let id = ConnectionID(rawValue: text(.id) ?? "")
        switch sort {
        case .createdAt: return .time(integer(.createdAt) ?? 0, id)
        case .updatedAt: return .time(integer(.updatedAt) ?? 0, id)
        case .name:
            // As `ConnectionFields.nameSortKey`: an absent name sorts as empty.
            return .name(text(.integrationName) ?? "", text(.integrationType) ?? "", id)
        }
    }
}
