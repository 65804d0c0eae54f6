/// Moves every workspace, key, secrets manager, workspace integration, connection, audit record,
/// event webhook and event from one store to another (SQLite to PostgreSQL, typically).
/// Ciphertexts are copied as they are, so the target needs the same master key, and nothing is
/// ever decrypted on the way. Pending authorizations and re-authorization tokens are short-lived
/// and stay behind, as do the API call log and events' delivery attempts.
public enum StoreCopy {
    public struct Report: Sendable, Equatable {
        public var workspaces = 0
        public var apiKeys = 0
        public var connections = 0
        public var secretsManagers = 0
        public var workspaceIntegrations = 0
        /// Ownership records of secrets Switchboard created in external managers.
        public var externalSecrets = 0
        public var auditRecords = 0
        public var eventWebhooks = 0
        public var events = 0
        /// Rows that were already in the target (same id) and were left as they are.
        public var skipped = 0
    }

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case targetNotEmpty

        public var description: String {
            "the target database already holds workspaces; pass --allow-non-empty to copy into it anyway (rows whose id exists are skipped)"
        }
    }

    /// Copies in batches of `batchSize` connections, each batch one transaction in the target.
    public static func copy(
        from source: any StoreTransfer,
        to target: any StoreTransfer,
        allowNonEmpty: Bool,
        batchSize: Int = 500,
        progress: (Report) -> Void = { _ in }
    ) async throws -> Report {
        if !allowNonEmpty, try await !target.isEmpty() { throw Failure.targetNotEmpty }
        var report = Report()
        let workspaces = try await source.allWorkspaces()
        let keys = try await source.allAPIKeys()
        let inserted = try await target.importRecords(workspaces: workspaces, apiKeys: keys, connections: [])
        report.workspaces = workspaces.count
        report.apiKeys = keys.count
        report.skipped = workspaces.count + keys.count - inserted
        // Before connections, which may name them.
        let managers = try await source.allSecretsManagers()
        report.secretsManagers = managers.count
        report.skipped += managers.count - (try await target.importSecretsManagers(managers))
        let integrations = try await source.allWorkspaceIntegrations()
        report.workspaceIntegrations = integrations.count
        report.skipped += integrations.count - (try await target.importWorkspaceIntegrations(integrations))
        let secrets = try await source.allExternalSecrets()
        report.externalSecrets = secrets.count
        report.skipped += secrets.count - (try await target.importExternalSecrets(secrets))
        var after: ConnectionID?
        while true {
            let batch = try await source.connections(after: after, limit: batchSize)
            guard let last = batch.last else { break }
            let inserted = try await target.importRecords(workspaces: [], apiKeys: [], connections: batch)
            report.connections += batch.count
            report.skipped += batch.count - inserted
            after = last.id
            progress(report)
        }
        // The audit trail moves with the install, keeping its record ids.
        var afterSequence: Int64?
        while true {
            let batch = try await source.auditRecords(after: afterSequence, limit: batchSize)
            guard let last = batch.last else { break }
            let inserted = try await target.importAuditRecords(batch)
            report.auditRecords += batch.count
            report.skipped += batch.count - inserted
            afterSequence = last.sequence
        }
        // Event webhooks and events, pending deliveries included (their attempt log stays behind).
        let webhooks = try await source.allEventWebhooks()
        report.eventWebhooks = webhooks.count
        report.skipped += webhooks.count - (try await target.importEventWebhooks(webhooks))
        var afterEvent: String?
        while true {
            let batch = try await source.events(after: afterEvent, limit: batchSize)
            guard let last = batch.last else { break }
            let inserted = try await target.importEvents(batch)
            report.events += batch.count
            report.skipped += batch.count - inserted
            afterEvent = last.id
        }
        return report
    }
}
