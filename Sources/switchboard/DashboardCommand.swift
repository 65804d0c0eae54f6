import ArgumentParser
import Foundation
import SwitchboardCore
import SwitchboardDashboard
import SwitchboardServer

/// `switchboard dashboard link`: a single-use dashboard sign-in link for an operator with shell
/// access and no API key at hand.
struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Sign-in links for the web dashboard.",
        subcommands: [Link.self]
    )

    struct Link: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a single-use dashboard sign-in link for a workspace, valid 10 minutes. "
                + "The session it opens holds every scope and is audited as cli."
        )

        @Option(name: .long, help: "Workspace id.") var workspace: String
        @Option(
            name: .customLong(Setting.publicURL.rawValue),
            help: "The server's address as browsers reach it (default: the server's, as serve takes it)."
        )
        var publicURL: String?
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            var flags = options.flags
            flags[.publicURL] = publicURL
            let settings = Settings(flags: flags, environment: ProcessInfo.processInfo.environment)
            let server = try validated { try settings.server() }
            let base = try validated { try settings.oauth(server: server) }.publicURL
            let workspaceID = WorkspaceID(rawValue: workspace)
            let (token, _) = try await options.withRuntime(settings: settings) { runtime in
                try await runtime.dashboard.createSignInLink(workspace: workspaceID)
            }
            print((base.hasSuffix("/") ? String(base.dropLast()) : base) + "/dashboard/link/" + token)
        }
    }
}
