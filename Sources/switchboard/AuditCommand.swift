import ArgumentParser
import SwitchboardCore
import SwitchboardServer

/// `switchboard audit`: read a workspace's audit log, newest first.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Print a workspace's audit log, newest first (one tab-separated record per line)."
    )

    @Option(name: .long, help: "Workspace id.") var workspace: String
    @Option(name: .long, help: "Only records about this connection id.") var connection: String?
    @Option(
        name: .long,
        help: "Only this action (\(AuditAction.allCases.map(\.rawValue).joined(separator: ", ")))."
    )
    var action: String?
    @Option(name: .long, help: "Only records by this API key id (or cli).") var actor: String?
    @Option(name: .long, help: "How many records at most.") var limit = AuditQuery.defaultLimit
    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        var query = AuditQuery(workspaceID: WorkspaceID(rawValue: workspace))
        query.connectionID = connection.map(ConnectionID.init(rawValue:))
        query.actor = actor
        if let action {
            guard let value = AuditAction(rawValue: action) else {
                throw ValidationError("unknown action \"\(action)\"")
            }
            query.action = value
        }
        guard (1...AuditQuery.maximumLimit).contains(limit) else {
            throw ValidationError("--limit must be from 1 to \(AuditQuery.maximumLimit)")
        }
        query.limit = limit
        let principal = Principal.cli(workspace: query.workspaceID)
        let records = try await options.withRuntime { [query] in try await $0.audit.records(query, by: principal) }
        for record in records {
            let fields: [String] = [
                String(record.sequence ?? 0), record.at.rfc3339, record.action.rawValue, record.actor,
                record.connectionID?.rawValue ?? "-", record.target ?? "-", record.clientAddress ?? "-",
            ]
            print(fields.joined(separator: "\t"))
        }
    }
}
