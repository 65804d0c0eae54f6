import ArgumentParser
import SwitchboardCore
import SwitchboardServer

/// `switchboard key`: API keys, as an operator acting on the database directly.
struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Manage API keys.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key for a workspace.")
        @Option(name: .long, help: "Workspace id.") var workspace: String
        @Option(
            name: .long,
            help: "Comma-separated scopes (\(Scope.allCases.map(\.rawValue).joined(separator: ", "))). Default: all."
        )
        var scopes: String?
        @Flag(
            name: .long,
            help: "Print {\"key_id\", \"workspace_id\", \"scopes\", \"api_key\"} as JSON on stdout, nothing else."
        )
        var json = false
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            let workspace = WorkspaceID(rawValue: workspace)
            let granted: ScopeSet
            do { granted = try self.scopes.map { try ScopeSet(parsing: $0) } ?? .all } catch let error
                as SwitchboardCore.ValidationError
            {
                throw ArgumentParser.ValidationError(error.message)
            }
            let scopes = granted
            let (record, key) = try await options.withRuntime {
                try await $0.workspaces.createKey(scopes: scopes, by: .cli(workspace: workspace))
            }
            if json {
                printJSON([
                    ("key_id", record.id), ("workspace_id", workspace.rawValue), ("scopes", scopes.text),
                    ("api_key", key),
                ])
            } else {
                print(
                    "key_id:  \(record.id)\nscopes:  \(scopes.text)\napi_key: \(key)\nThe key is shown only this once."
                )
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a workspace's API keys (never their secrets).")
        @Option(name: .long, help: "Workspace id.") var workspace: String
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            let workspace = WorkspaceID(rawValue: workspace)
            let keys = try await options.withRuntime {
                try await $0.workspaces.listKeys(by: .cli(workspace: workspace))
            }
            for key in keys {
                let state = key.revokedAt.map { "revoked \($0.rfc3339)" } ?? "active"
                let used = key.lastUsedAt.map { "last used \($0.rfc3339)" } ?? "never used"
                print(
                    "\(APIKey.displayPrefix(id: key.id))  \(state)  created \(key.createdAt.rfc3339)  \(used)  \(key.scopes.text)"
                )
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an API key, named by its id or sbk_<id> prefix."
        )
        @Argument(help: "The key's id, its sbk_<id> prefix, or the whole key.") var key: String
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            let key = key
            let record = try await options.withRuntime { try await $0.workspaces.revokeKey(key, by: nil) }
            print("Revoked key \(record.id) of workspace \(record.workspaceID).")
        }
    }
}
