import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SwitchboardCore
import SwitchboardEgress
import SwitchboardEvents
import SwitchboardPassthrough
import SwitchboardServer

@main
struct Switchboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "A self-hostable connection service, wire-compatible with Unified.to's /unified/connection API.",
        version: SwitchboardVersion.current,
        subcommands: [
            Serve.self, Migrate.self, WorkspaceCommand.self, KeyCommand.self, MasterKeysCommand.self,
            AuditCommand.self, EventsCommand.self, DashboardCommand.self, Copy.self, Bench.self,
            BenchServerCommand.self,
        ],
        defaultSubcommand: Serve.self
    )
}

/// Options every command that touches the database shares.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong(Setting.database.rawValue), help: ArgumentHelp(Setting.database.flagHelp))
    var database: String?

    @Option(name: .customLong(Setting.logLevel.rawValue), help: ArgumentHelp(Setting.logLevel.flagHelp))
    var logLevel: String?

    @Option(name: .customLong(Setting.logFormat.rawValue), help: ArgumentHelp(Setting.logFormat.flagHelp))
    var logFormat: String?

    /// The flags given, for `Settings`.
    var flags: [Setting: String] {
        var flags: [Setting: String] = [:]
        flags[.database] = database
        flags[.logLevel] = logLevel
        flags[.logFormat] = logFormat
        return flags
    }

    func settings(environment: [String: String] = ProcessInfo.processInfo.environment) -> Settings {
        Settings(flags: flags, environment: environment)
    }

    func location() throws -> DatabaseLocation { try validated { try settings().database() } }

    /// Runs `body` with an open runtime. Admin commands log warnings only by default, so their
    /// output is just their answer.
    func withRuntime<T: Sendable>(
        defaultLogLevel: Logger.Level = .warning,
        settings: Settings? = nil,
        oauth: OAuthSettings = OAuthSettings(),
        egress: EgressPolicy = EgressPolicy(),
        passthrough: PassthroughSettings = PassthroughSettings(),
        events: EventSettings = EventSettings(),
        _ body: @Sendable (Runtime) async throws -> T
    ) async throws -> T {
        let settings = settings ?? self.settings()
        let (database, masterKeys, level, format) = try validated {
            (
                try settings.database(), try settings.masterKeys(), try settings.logLevel(default: defaultLogLevel),
                try settings.logFormat(isTerminal: isatty(STDERR_FILENO) == 1)
            )
        }
        return try await Runtime.run(
            database: database,
            masterKeys: masterKeys,
            oauth: oauth,
            egress: egress,
            passthrough: passthrough,
            events: events,
            logger: stderrLogger(level: level, format: format),
            body
        )
    }
}

/// `body`, with a settings error turned into the CLI's usage error (its message names the flag or
/// variable at fault).
func validated<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let error as SettingsError { throw ValidationError(error.description) }
}

/// Logs go to stderr so `--json` output on stdout stays machine-readable.
func stderrLogger(level: Logger.Level, format: LogFormat = .text) -> Logger {
    var logger = Logger(label: "switchboard") { label in
        switch format {
        case .json: JSONLogHandler(label: label)
        case .text: StreamLogHandler.standardError(label: label)
        }
    }
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
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP server (applies pending migrations first).",
        discussion: "Every setting: flag, else its SWITCHBOARD_* variable, else the default (docs/configuration.md)."
    )

    @Option(name: .customLong(Setting.host.rawValue), help: ArgumentHelp(Setting.host.flagHelp))
    var host: String?
    @Option(name: .customLong(Setting.port.rawValue), help: ArgumentHelp(Setting.port.flagHelp))
    var port: String?
    @Option(name: .customLong(Setting.publicURL.rawValue), help: ArgumentHelp(Setting.publicURL.flagHelp))
    var publicURL: String?
    @Option(name: .customLong(Setting.idleTimeout.rawValue), help: ArgumentHelp(Setting.idleTimeout.flagHelp))
    var idleTimeout: String?
    @Option(
        name: .customLong(Setting.shutdownTimeout.rawValue),
        help: ArgumentHelp(Setting.shutdownTimeout.flagHelp)
    )
    var shutdownTimeout: String?
    @Option(name: .customLong(Setting.shutdownDelay.rawValue), help: ArgumentHelp(Setting.shutdownDelay.flagHelp))
    var shutdownDelay: String?
    @Option(
        name: .customLong(Setting.bodyReadTimeout.rawValue),
        help: ArgumentHelp(Setting.bodyReadTimeout.flagHelp)
    )
    var bodyReadTimeout: String?
    @Option(name: .customLong(Setting.maxConnections.rawValue), help: ArgumentHelp(Setting.maxConnections.flagHelp))
    var maxConnections: String?
    @Option(
        name: .customLong(Setting.authFailureLimit.rawValue),
        help: ArgumentHelp(Setting.authFailureLimit.flagHelp)
    )
    var authFailureLimit: String?
    @Option(
        name: .customLong(Setting.authorizeRateLimit.rawValue),
        help: ArgumentHelp(Setting.authorizeRateLimit.flagHelp)
    )
    var authorizeRateLimit: String?
    @Option(name: .customLong(Setting.trustedProxy.rawValue), help: ArgumentHelp(Setting.trustedProxy.flagHelp))
    var trustedProxy: String?
    @Option(name: .customLong(Setting.egressAllow.rawValue), help: ArgumentHelp(Setting.egressAllow.flagHelp))
    var egressAllow: String?
    @Option(
        name: .customLong(Setting.passthroughBodyLimit.rawValue),
        help: ArgumentHelp(Setting.passthroughBodyLimit.flagHelp)
    )
    var passthroughBodyLimit: String?
    @Option(
        name: .customLong(Setting.passthroughTimeout.rawValue),
        help: ArgumentHelp(Setting.passthroughTimeout.flagHelp)
    )
    var passthroughTimeout: String?
    @Option(
        name: .customLong(Setting.apiCallRetention.rawValue),
        help: ArgumentHelp(Setting.apiCallRetention.flagHelp)
    )
    var apiCallRetention: String?
    @Option(
        name: .customLong(Setting.eventRetrySchedule.rawValue),
        help: ArgumentHelp(Setting.eventRetrySchedule.flagHelp)
    )
    var eventRetrySchedule: String?
    @Option(
        name: .customLong(Setting.eventDeliveryTimeout.rawValue),
        help: ArgumentHelp(Setting.eventDeliveryTimeout.flagHelp)
    )
    var eventDeliveryTimeout: String?
    @Option(name: .customLong(Setting.eventLease.rawValue), help: ArgumentHelp(Setting.eventLease.flagHelp))
    var eventLease: String?
    @Option(name: .customLong(Setting.eventRetention.rawValue), help: ArgumentHelp(Setting.eventRetention.flagHelp))
    var eventRetention: String?
    @Option(
        name: .customLong(Setting.eventSecretOverlap.rawValue),
        help: ArgumentHelp(Setting.eventSecretOverlap.flagHelp)
    )
    var eventSecretOverlap: String?
    @Option(
        name: .customLong(Setting.integrationsDir.rawValue),
        help: ArgumentHelp(Setting.integrationsDir.flagHelp)
    )
    var integrationsDir: String?
    @Option(name: .customLong(Setting.refreshMargin.rawValue), help: ArgumentHelp(Setting.refreshMargin.flagHelp))
    var refreshMargin: String?
    @Option(
        name: .customLong(Setting.refreshInterval.rawValue),
        help: ArgumentHelp(Setting.refreshInterval.flagHelp)
    )
    var refreshInterval: String?
    @Option(name: .customLong(Setting.oauthStateTTL.rawValue), help: ArgumentHelp(Setting.oauthStateTTL.flagHelp))
    var oauthStateTTL: String?
    @Option(name: .customLong(Setting.metrics.rawValue), help: ArgumentHelp(Setting.metrics.flagHelp))
    var metrics: String?
    @Option(name: .customLong(Setting.metricsPort.rawValue), help: ArgumentHelp(Setting.metricsPort.flagHelp))
    var metricsPort: String?
    @Option(name: .customLong(Setting.otelEndpoint.rawValue), help: ArgumentHelp(Setting.otelEndpoint.flagHelp))
    var otelEndpoint: String?
    @OptionGroup var options: DatabaseOptions

    /// The flags given, for `Settings`.
    var flags: [Setting: String] {
        var flags = options.flags
        flags[.host] = host
        flags[.port] = port
        flags[.publicURL] = publicURL
        flags[.idleTimeout] = idleTimeout
        flags[.shutdownTimeout] = shutdownTimeout
        flags[.shutdownDelay] = shutdownDelay
        flags[.bodyReadTimeout] = bodyReadTimeout
        flags[.maxConnections] = maxConnections
        flags[.authFailureLimit] = authFailureLimit
        flags[.authorizeRateLimit] = authorizeRateLimit
        flags[.trustedProxy] = trustedProxy
        flags[.egressAllow] = egressAllow
        flags[.passthroughBodyLimit] = passthroughBodyLimit
        flags[.passthroughTimeout] = passthroughTimeout
        flags[.apiCallRetention] = apiCallRetention
        flags[.eventRetrySchedule] = eventRetrySchedule
        flags[.eventDeliveryTimeout] = eventDeliveryTimeout
        flags[.eventLease] = eventLease
        flags[.eventRetention] = eventRetention
        flags[.eventSecretOverlap] = eventSecretOverlap
        flags[.integrationsDir] = integrationsDir
        flags[.refreshMargin] = refreshMargin
        flags[.refreshInterval] = refreshInterval
        flags[.oauthStateTTL] = oauthStateTTL
        flags[.metrics] = metrics
        flags[.metricsPort] = metricsPort
        flags[.otelEndpoint] = otelEndpoint
        return flags
    }

    func settings(environment: [String: String] = ProcessInfo.processInfo.environment) -> Settings {
        Settings(flags: flags, environment: environment)
    }

    func run() async throws {
        let settings = settings()
        let (configuration, oauth, egress, passthrough, events) = try validated {
            let server = try settings.server()
            return (
                server, try settings.oauth(server: server), try settings.egress(), try settings.passthrough(),
                try settings.events()
            )
        }
        // A server that runs out of descriptors stops accepting: take all the system allows (the
        // default connection cap is derived from the raised limit when the application is built).
        FileDescriptorLimit.raiseToHardLimit()
        let location = try options.location()
        let dataDirectory = location.dataDirectory ?? FileManager.default.currentDirectoryPath
        // Before anything records a metric: what is made earlier records nowhere.
        let metrics = configuration.metrics.map {
            PrometheusExposition.bootstrap(token: $0.token, backend: location.backendName)
        }
        try await options.withRuntime(
            defaultLogLevel: .info,
            settings: settings,
            oauth: oauth,
            egress: egress,
            passthrough: passthrough,
            events: events
        ) { runtime in
            // A new install gets a workspace and a key at once, so the API can be called straight away.
            if try await runtime.workspaces.workspaceCount() == 0 {
                let (workspace, key) = try await runtime.workspaces.createWorkspace(name: "Default")
                try FirstKeyOutput.show(
                    workspaceID: workspace.id.rawValue,
                    key: key,
                    directory: dataDirectory,
                    logger: runtime.logger
                )
            }
            let readiness = Readiness()
            try await runUntilSignalled(
                try serveServices(
                    runtime: runtime,
                    configuration: configuration,
                    readiness: readiness,
                    metrics: metrics,
                    tracing: try configuration.otelEndpoint.map {
                        try TracingExport.bootstrap(endpoint: $0, logger: runtime.logger)
                    }
                ),
                shutdownTimeout: configuration.shutdownTimeout,
                readiness: readiness,
                drainDelay: configuration.shutdownDelay,
                logger: runtime.logger
            )
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
    @Option(
        name: .customLong(Setting.logLevel.rawValue),
        help: "Log level. Default: $SWITCHBOARD_LOG_LEVEL, else warning"
    )
    var logLevel: String?

    func run() async throws {
        let source = try DatabaseLocation.parse(from)
        let target = try DatabaseLocation.parse(to)
        guard source != target else { throw ValidationError("--from and --to name the same database") }
        let level = try validated {
            try Settings(
                flags: [.logLevel: logLevel].compactMapValues { $0 },
                environment: ProcessInfo.processInfo.environment
            )
            .logLevel(default: .warning)
        }
        let logger = stderrLogger(level: level)
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
              event webhooks: \(report.eventWebhooks)
              events: \(report.events)
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
