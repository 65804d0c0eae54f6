import ArgumentParser
import SwitchboardCore
import SwitchboardEvents
import SwitchboardServer

/// `switchboard events`: a workspace's events and their redelivery, over the same service as the API.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "List a workspace's events, or queue them for delivery again.",
        subcommands: [List.self, Redeliver.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a workspace's events, newest first (one tab-separated event per line: id, time, "
                + "event, delivery status, attempts, connection, integration, description)."
        )

        @Option(name: .long, help: "Workspace id.") var workspace: String
        @Option(name: .long, help: "Only these events (comma-separated names such as CONNECTION_UNHEALTHY).")
        var event: String?
        @Option(name: .long, help: "Only this connection id's events.") var connection: String?
        @Option(
            name: .long,
            help: "Only this delivery status (\(DeliveryStatus.allCases.map(\.rawValue).joined(separator: ", ")))."
        )
        var status: String?
        @Option(name: .long, help: "How many events at most (1 to \(EventQuery.maximumLimit)).") var limit = 20
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            let workspaceID = WorkspaceID(rawValue: workspace)
            var query = EventQuery(workspaceID: workspaceID)
            guard (1...EventQuery.maximumLimit).contains(limit) else {
                throw ValidationError("--limit must be from 1 to \(EventQuery.maximumLimit)")
            }
            query.limit = limit
            if let event {
                do { query.types = try EventType.parseList([event], field: "--event") } catch {
                    throw ValidationError(error.message)
                }
            }
            query.connectionID = connection.map(ConnectionID.init(rawValue:))
            if let status {
                guard let value = DeliveryStatus(rawValue: status) else {
                    throw ValidationError("unknown delivery status \"\(status)\"")
                }
                query.delivery = value
            }
            let principal = Principal.cli(workspace: workspaceID)
            let events = try await options.withRuntime { [query] runtime in
                try await runtime.events.list(query, by: principal)
            }
            for event in events {
                let fields: [String] = [
                    event.id, event.createdAt.rfc3339, event.type.rawValue, event.delivery.rawValue,
                    String(event.attempts), event.connectionID?.rawValue ?? "-", event.integrationType ?? "-",
                    event.description ?? "-",
                ]
                print(fields.joined(separator: "\t"))
            }
        }
    }

    struct Redeliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue events for delivery again (same webhook-id); a running server sends them."
        )

        @Option(name: .long, help: "Workspace id.") var workspace: String
        @Argument(help: "Event ids.") var ids: [String]
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            let principal = Principal.cli(workspace: WorkspaceID(rawValue: workspace))
            let ids = ids
            let events = try await options.withRuntime { runtime in
                var queued: [Event] = []
                for id in ids { queued.append(try await runtime.events.redeliver(id, by: principal)) }
                return queued
            }
            for event in events { print("\(event.id)\t\(event.type.rawValue)\tqueued") }
        }
    }
}
