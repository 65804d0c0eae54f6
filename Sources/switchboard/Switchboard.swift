import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SwitchboardCore
import SwitchboardServer

@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "A self-hostable connection service, wire-compatible with Unified.to's /unified/connection API.",
        subcommands: [Serve.self, Migrate.self, WorkspaceCommand.self, KeyCommand.self, Copy.self, Bench.self],
        defaultSubcommand: Serve.self
    )
}

/// Options every command that touches the database shares.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "Database URL: sqlite:PATH. Default: $SWITCHBOARD_DATABASE_URL, else \(DatabaseLocation.defaultURL)"
    )
    var database: String?

    @Option(
        name: .long,
        help:
            "Log level: trace, debug, info, notice, warning, error, critical. Default: $SWITCHBOARD_LOG_LEVEL, else info"
    )
    var logLevel: String?

    func location() throws -> DatabaseLocation {
        try DatabaseLocation.parse(database ?? environment("SWITCHBOARD_DATABASE_URL") ?? DatabaseLocation.defaultURL)
    }

    func logger(defaultLevel: String) throws -> Logger {
        try stderrLogger(level: logLevel ?? environment("SWITCHBOARD_LOG_LEVEL") ?? defaultLevel)
    }

    /// Runs `body` with an open runtime. Admin commands log warnings only by default, so their
    /// output is just their answer.
    func withRuntime<T: Sendable>(
        defaultLogLevel: String = "warning",
        _ body: @Sendable (Runtime) async throws -> T
    ) async throws -> T {
        try await Runtime.run(
            database: try location(),
            masterKey: environment(MasterKeyLoader.environmentVariable),
            logger: try logger(defaultLevel: defaultLogLevel),
            body
        )
    }
}

func environment(_ name: String) -> String? {
    guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
    return value
}

/// Logs go to stderr so `--json` output on stdout stays machine-readable.
func stderrLogger(level text: String) throws -> Logger {
    guard let level = Logger.Level(rawValue: text) else { throw ValidationError("unknown log level \"\(text)\"") }
    var logger = Logger(label: "switchboard") { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = level
    return logger
}

func printJSON(_ members: [(String, String)]) {
    var writer = JSONWriter()
    writer.beginObject()
    for (key, value) in members {
        writer.key(key)
        writer.string(value)
    }
    writer.endObject()
    print(String(decoding: writer.bytes, as: UTF8.self))
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP server (applies pending migrations first).")

    @Option(name: .long, help: "Address to bind.") var host = "127.0.0.1"
    @Option(name: .long, help: "Port to bind.") var port = 8080
    @Flag(name: .customLong("bench-ceiling"), help: .hidden) var benchmarkCeiling = false
    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        var settings = ServerConfiguration(host: host, port: port)
        // Only `switchboard bench` passes this: it adds the benchmark's HTTP ceiling route.
        settings.benchmarkCeiling = benchmarkCeiling
        let configuration = settings
        try await options.withRuntime(defaultLogLevel: "info") { runtime in
            // A new install gets a workspace and a key at once, so the API can be called straight away.
            if try await runtime.workspaces.workspaceCount() == 0 {
                let (workspace, key) = try await runtime.workspaces.createWorkspace(name: "Default")
                print(
                    """
                    Created the first workspace and its API key. The key is shown only this once: store it now.
                      workspace_id: \(workspace.id)
                      api_key:      \(key)
                    """
                )
                fflush(nil)  // stdout may be a pipe: show the key now, not at exit
            }
            try await buildApplication(runtime: runtime, configuration: configuration).runService()
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations and exit.")
    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        let applied = try await options.withRuntime { try await $0.store.appliedMigrations() }
        print("Database is at migration \(applied.last ?? "none") (\(applied.count) applied).")
    }
}

struct WorkspaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workspace",
        abstract: "Manage workspaces.",
        subcommands: [Create.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a workspace and print its first API key.")
        @Option(name: .long, help: "Workspace name.") var name: String
        @Flag(name: .long, help: "Print {\"workspace_id\", \"api_key\"} as JSON on stdout, nothing else.")
        var json = false
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            let name = name
            let (workspace, key) = try await options.withRuntime { try await $0.workspaces.createWorkspace(name: name) }
            if json {
                printJSON([("workspace_id", workspace.id.rawValue), ("api_key", key)])
            } else {
                print("workspace_id: \(workspace.id)\napi_key:      \(key)\nThe key is shown only this once.")
            }
        }
    }
}

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Manage API keys.",
        subcommands: [Create.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key for a workspace.")
        @Option(name: .long, help: "Workspace id.") var workspace: String
        @Flag(name: .long, help: "Print {\"key_id\", \"workspace_id\", \"api_key\"} as JSON on stdout, nothing else.")
        var json = false
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            let workspace = WorkspaceID(rawValue: workspace)
            let (record, key) = try await options.withRuntime { try await $0.workspaces.createKey(for: workspace) }
            if json {
                printJSON([("key_id", record.id), ("workspace_id", workspace.rawValue), ("api_key", key)])
            } else {
                print("key_id:  \(record.id)\napi_key: \(key)\nThe key is shown only this once.")
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
            let record = try await options.withRuntime { try await $0.workspaces.revokeKey(key) }
            print("Revoked key \(record.id) of workspace \(record.workspaceID).")
        }
    }
}

struct Copy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy every workspace, key and connection to another database (for example SQLite to PostgreSQL).",
        discussion: """
            Ciphertexts are copied as they are: nothing is decrypted, and the target must be served with the \
            same master key. Refuses a target that already holds workspaces unless --allow-non-empty is given; \
            then rows whose id exists are skipped, so an interrupted copy can simply be run again.
            """
    )

    @Option(name: .long, help: "Source database URL (sqlite:PATH or postgres://...).") var from: String
    @Option(name: .long, help: "Target database URL (sqlite:PATH or postgres://...).") var to: String
    @Flag(name: .long, help: "Copy into a target that already holds data, skipping rows that exist.")
    var allowNonEmpty = false
    @Option(name: .long, help: "Log level. Default: warning") var logLevel = "warning"

    func run() async throws {
        let source = try DatabaseLocation.parse(from)
        let target = try DatabaseLocation.parse(to)
        guard source != target else { throw ValidationError("--from and --to name the same database") }
        let logger = try stderrLogger(level: logLevel)
        let allowNonEmpty = allowNonEmpty
        let report = try await Runtime.withStore(source, logger: logger) { from in
            try await Runtime.withStore(target, logger: logger) { to in
                try await StoreCopy.copy(from: from, to: to, allowNonEmpty: allowNonEmpty) { progress in
                    if progress.connections % 50_000 == 0 {
                        FileHandle.standardError.write(Data("copied \(progress.connections) connections...\n".utf8))
                    }
                }
            }
        }
        print(
            """
            Copied from \(source) to \(target):
              workspaces:  \(report.workspaces)
              api keys:    \(report.apiKeys)
              connections: \(report.connections)
              skipped (already in the target): \(report.skipped)
            """
        )
    }
}

extension DatabaseLocation {
    static func parse(_ url: String) throws -> DatabaseLocation {
        do { return try DatabaseLocation(url: url) } catch { throw ValidationError(error.description) }
    }
}
