import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SwitchboardCore
import SwitchboardEgress
import SwitchboardServer

@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "A self-hostable connection service, wire-compatible with Unified.to's /unified/connection API.",
        subcommands: [
            Serve.self, Migrate.self, WorkspaceCommand.self, KeyCommand.self, MasterKeysCommand.self,
            AuditCommand.self, Copy.self, Bench.self, BenchServerCommand.self,
        ],
        defaultSubcommand: Serve.self
    )
}

/// Options every command that touches the database shares.
struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .long,
        help:
            "Database URL: sqlite:PATH or postgres://USER:PASSWORD@HOST[:PORT]/DATABASE[?sslmode=...]. Default: $SWITCHBOARD_DATABASE_URL, else \(DatabaseLocation.defaultURL)"
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
        oauth: OAuthSettings = OAuthSettings(),
        egress: EgressPolicy = EgressPolicy(),
        _ body: @Sendable (Runtime) async throws -> T
    ) async throws -> T {
        try await Runtime.run(
            database: try location(),
            masterKeys: try MasterKeySettings.fromEnvironment(ProcessInfo.processInfo.environment),
            oauth: oauth,
            egress: egress,
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
    @Option(
        name: .long,
        help: "Seconds a connection may send nothing (slow clients included) before it is closed. Default: 30"
    )
    var idleTimeout: Double?
    @Option(
        name: .long,
        help: "Seconds in-flight requests get to finish after SIGTERM/SIGINT before they are cancelled. Default: 10"
    )
    var shutdownTimeout: Double?
    @Option(
        name: .long,
        help:
            "Failed authentications per client address and minute before 429s. Default: $SWITCHBOARD_AUTH_FAILURE_LIMIT, else 30"
    )
    var authFailureLimit: Int?
    @Option(
        name: .long,
        help:
            "The server's address as browsers and OAuth providers reach it; the callback is <url>/switchboard/oauth/callback. Default: $SWITCHBOARD_PUBLIC_URL, else http://HOST:PORT"
    )
    var publicURL: String?
    @Option(
        name: .long,
        help:
            "Directory of extra integration definitions (*.yaml), adding to or replacing the shipped ones. Default: $SWITCHBOARD_INTEGRATIONS_DIR"
    )
    var integrationsDir: String?
    @Option(
        name: .long,
        help:
            "Seconds before expiry at which OAuth tokens are refreshed. Default: $SWITCHBOARD_REFRESH_MARGIN, else 300"
    )
    var refreshMargin: Int?
    @Option(
        name: .long,
        help:
            "Seconds between background token-refresh passes; 0 turns the background refresher off. Default: $SWITCHBOARD_REFRESH_INTERVAL, else 30"
    )
    var refreshInterval: Int?
    @Option(
        name: .long,
        help:
            "Seconds an OAuth authorization may take before its state expires. Default: $SWITCHBOARD_OAUTH_STATE_TTL, else 600"
    )
    var oauthStateTTL: Int?
    @Option(
        name: .long,
        help:
            "Hosts (name, *.domain) or CIDR blocks outbound calls may reach although they are loopback, private, link-local or otherwise internal, comma-separated. Default: $SWITCHBOARD_EGRESS_ALLOW, else none"
    )
    var egressAllow: String?
    @Option(
        name: .long,
        help:
            "Proxies (addresses or CIDR blocks, comma-separated) whose X-Forwarded-For names the client; behind a TLS proxy, set it so rate limits and the audit log see clients, not the proxy. Default: $SWITCHBOARD_TRUSTED_PROXY, else none"
    )
    var trustedProxy: String?
    @Option(
        name: .long,
        help:
            "Open client connections at most; more wait in the listen backlog. Default: $SWITCHBOARD_MAX_CONNECTIONS, else the open-file limit less 96, at most 4096"
    )
    var maxConnections: Int?
    @Option(
        name: .long,
        help:
            "Seconds a request body may take to arrive; a slower one gets a 408 and the connection is closed. Default: 30"
    )
    var bodyReadTimeout: Double?
    @Option(
        name: .long,
        help:
            "Anonymous authorize-URL calls per client address, and per workspace, per minute. Default: $SWITCHBOARD_AUTHORIZE_RATE_LIMIT, else 60"
    )
    var authorizeRateLimit: Int?
    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        var configuration = ServerConfiguration(host: host, port: port)
        let egress: EgressPolicy
        do { egress = try EgressPolicy(parsing: egressAllow ?? environment("SWITCHBOARD_EGRESS_ALLOW") ?? "") } catch {
            throw ValidationError("--egress-allow: \(error.description)")
        }
        do {
            configuration.trustedProxies = try TrustedProxies(
                parsing: trustedProxy ?? environment("SWITCHBOARD_TRUSTED_PROXY") ?? ""
            )
        } catch { throw ValidationError("--trusted-proxy: \(error.description)") }
        if let bodyReadTimeout {
            configuration.bodyReadTimeout = try seconds(bodyReadTimeout, "--body-read-timeout")
        }
        // A server that runs out of descriptors stops accepting: take all the system allows (the
        // default connection cap is derived from the raised limit when the application is built).
        FileDescriptorLimit.raiseToHardLimit()
        configuration.maximumConnections = try integer(
            maxConnections,
            "SWITCHBOARD_MAX_CONNECTIONS",
            "--max-connections",
            1...1_000_000
        )
        if let limit = try integer(
            authorizeRateLimit,
            "SWITCHBOARD_AUTHORIZE_RATE_LIMIT",
            "--authorize-rate-limit",
            1...1_000_000
        ) {
            configuration.authorizeRateLimit = limit
        }
        if let idleTimeout { configuration.idleTimeout = try seconds(idleTimeout, "--idle-timeout") }
        if let shutdownTimeout { configuration.shutdownTimeout = try seconds(shutdownTimeout, "--shutdown-timeout") }
        if let limit = try authFailureLimit
            ?? environment("SWITCHBOARD_AUTH_FAILURE_LIMIT").map({
                guard let value = Int($0), value > 0 else {
                    throw ValidationError("SWITCHBOARD_AUTH_FAILURE_LIMIT must be a positive whole number")
                }
                return value
            })
        {
            guard limit > 0 else { throw ValidationError("--auth-failure-limit must be positive") }
            configuration.authenticationFailureLimit = limit
        }
        let interval =
            try integer(refreshInterval, "SWITCHBOARD_REFRESH_INTERVAL", "--refresh-interval", 0...86_400) ?? 30
        configuration.refreshInterval = interval == 0 ? nil : .seconds(interval)
        let settings = configuration
        let oauth = try oauthSettings()
        try await options.withRuntime(defaultLogLevel: "info", oauth: oauth, egress: egress) { runtime in
            // A new install gets a workspace and a key at once, so the API can be called straight away.
            if try await runtime.workspaces.workspaceCount() == 0 {
                let (workspace, key) = try await runtime.workspaces.createWorkspace(name: "Default")
                try FirstKeyOutput.show(
                    workspaceID: workspace.id.rawValue,
                    key: key,
                    directory: try options.location().dataDirectory ?? FileManager.default.currentDirectoryPath,
                    logger: runtime.logger
                )
            }
            try await runUntilSignalled(
                [try buildApplication(runtime: runtime, configuration: settings)]
                    + backgroundServices(runtime: runtime, configuration: settings),
                shutdownTimeout: settings.shutdownTimeout,
                logger: runtime.logger
            )
        }
    }

    private func oauthSettings() throws -> OAuthSettings {
        var oauth = OAuthSettings(
            catalog: try IntegrationCatalogLoader.load(
                operatorDirectory: integrationsDir ?? environment("SWITCHBOARD_INTEGRATIONS_DIR")
            ),
            publicURL: publicURL ?? environment("SWITCHBOARD_PUBLIC_URL") ?? "http://\(host):\(port)"
        )
        guard let scheme = URLComponents(string: oauth.publicURL)?.scheme, ["http", "https"].contains(scheme),
            URLComponents(string: oauth.publicURL)?.host?.isEmpty == false
        else { throw ValidationError("--public-url must be an absolute http(s) URL") }
        if let margin = try integer(refreshMargin, "SWITCHBOARD_REFRESH_MARGIN", "--refresh-margin", 0...86_400) {
            oauth.refreshPolicy.margin = Int64(margin)
        }
        if let ttl = try integer(oauthStateTTL, "SWITCHBOARD_OAUTH_STATE_TTL", "--oauth-state-ttl", 1...86_400) {
            oauth.stateLifetime = Int64(ttl)
        }
        return oauth
    }

    /// A whole-number setting from its flag, else its environment variable, checked against `range`.
    private func integer(_ flag: Int?, _ variable: String, _ name: String, _ range: ClosedRange<Int>) throws -> Int? {
        let value: Int
        if let flag {
            value = flag
        } else if let text = environment(variable) {
            guard let parsed = Int(text) else { throw ValidationError("\(variable) must be a whole number") }
            value = parsed
        } else {
            return nil
        }
        guard range.contains(value) else {
            throw ValidationError("\(name) must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return value
    }

    private func seconds(_ value: Double, _ flag: String) throws -> Duration {
        guard value > 0, value <= 86_400 else { throw ValidationError("\(flag) must be between 0 and 86400 seconds") }
        return .milliseconds(Int64(value * 1000))
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
              secrets managers: \(report.secretsManagers)
              workspace integrations: \(report.workspaceIntegrations)
              external secrets owned: \(report.externalSecrets)
              connections: \(report.connections)
              audit records: \(report.auditRecords)
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
