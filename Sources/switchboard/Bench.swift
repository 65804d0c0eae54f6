import ArgumentParser
import Foundation
import Logging
import SwitchboardBench
import SwitchboardCore
import SwitchboardPostgres
import SwitchboardServer

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark the API against its HTTP and database ceilings (loopback only; needs wrk and nginx).",
        discussion: """
            For each backend and size: seeds a scratch database (a temporary SQLite file; on PostgreSQL a \
            database named switchboard_bench, created and dropped on the given server), starts this binary's \
            server on a free 127.0.0.1 port, and measures every scenario for --seconds three times: the \
            database ceiling, the HTTP ceiling and the endpoint. At the first size, measures passthrough \
            against nginx (/usr/sbin/nginx, Debian's nginx-light) in front of the same loopback upstream. Then \
            exports every row by following the Link: rel="next" cursor and compares that with the database's \
            own JSON dump. See docs/benchmarks.md.
            """
    )

    @Option(
        name: .long,
        help: "Connections to seed in the measured workspace; a comma-separated list runs each size (flatness).",
        transform: { text in
            try text.split(separator: ",").map { part in
                guard let n = Int(part.replacingOccurrences(of: "_", with: "")), (100...5_000_000).contains(n) else {
                    throw ValidationError("--connections takes sizes from 100 to 5,000,000")
                }
                return n
            }
        }
    )
    var connections: [Int] = [100_000]

    @Option(name: .long, help: "Backends: sqlite, postgres, or both (comma-separated).")
    var backend = "sqlite"

    @Option(name: .long, help: ArgumentHelp(Setting.benchPostgres.flagHelp))
    var postgres: String?

    @Option(name: .long, help: "Seconds per measurement (1-60).") var seconds = 5
    @Option(name: .long, help: "wrk threads.") var threads = 2
    @Option(name: .customLong("concurrency"), help: "Requests in flight (wrk connections; the database loop's tasks).")
    var concurrency = 32
    @Option(name: .long, help: "Write the Markdown report here (for example docs/benchmarks.md).") var output: String?
    @Option(name: .long, help: "Write the JSON report here (for example docs/benchmarks.json).") var json: String?
    @Option(name: .long, help: "Scratch directory for SQLite files and wrk scripts. Default: a new temporary one.")
    var workDirectory: String?
    @Option(
        name: .customLong(Setting.logLevel.rawValue),
        help: "Log level. Default: $SWITCHBOARD_LOG_LEVEL, else warning"
    )
    var logLevel: String?
    @Option(
        name: .long,
        help:
            "Run only the scenarios and sections whose names start with one of these (comma-separated, e.g. \"list defaults,get by id\"; the sections are \"metrics overhead\", \"passthrough\" and \"events\"); default: all."
    )
    var scenarios: String?

    func validate() throws {
        guard (1...60).contains(seconds) else { throw ValidationError("--seconds must be 1 to 60") }
        guard (1...16).contains(threads), (1...1024).contains(concurrency), concurrency >= threads else {
            throw ValidationError("--threads must be 1 to 16 and --concurrency from --threads to 1024")
        }
    }

    func run() async throws {
        var flags: [Setting: String] = [:]
        flags[.benchPostgres] = postgres
        flags[.logLevel] = logLevel
        let settings = Settings(flags: flags, environment: ProcessInfo.processInfo.environment)
        let level = try validated { try settings.logLevel(default: .warning) }
        var backends: [BenchRunner.Backend] = []
        for name in backend.split(separator: ",") {
            switch name {
            case "sqlite": backends.append(.sqlite)
            case "postgres":
                guard let url = settings.given(.benchPostgres)?.text else {
                    throw ValidationError(
                        "--backend postgres needs --postgres URL or $\(Setting.benchPostgres.variable)"
                    )
                }
                let settings: PostgresSettings
                do { settings = try PostgresSettings(url: url) } catch { throw ValidationError(error.description) }
                guard ["127.0.0.1", "localhost", "::1"].contains(settings.host) else {
                    throw ValidationError("the benchmark runs on loopback only; --postgres must point at 127.0.0.1")
                }
                backends.append(.postgres(settings))
            default: throw ValidationError("unknown backend \"\(name)\"; use sqlite, postgres or sqlite,postgres")
            }
        }
        let work =
            workDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-bench-\(UUID().uuidString)")
            .path
        defer { if workDirectory == nil { try? FileManager.default.removeItem(atPath: work) } }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        let resolved =
            FileManager.default.isExecutableFile(atPath: executable)
            ? executable : (Bundle.main.executablePath ?? executable)
        // The command as run, without the PostgreSQL URL (it may hold a password).
        var shown = ["switchboard"] + CommandLine.arguments.dropFirst()
        if let i = shown.firstIndex(of: "--postgres"), i + 1 < shown.count {
            shown[i + 1] = "$" + Setting.benchPostgres.variable
        }
        let runner = BenchRunner(
            options: BenchRunner.Options(
                sizes: connections,
                backends: backends,
                seconds: seconds,
                threads: threads,
                connections: concurrency,
                workDirectory: work,
                executable: resolved,
                markdownPath: output,
                jsonPath: json,
                command: shown.joined(separator: " "),
                scenarioPrefixes: scenarios.map { $0.split(separator: ",").map(String.init) }
            ),
            logger: stderrLogger(level: level)
        )
        let markdown = try await runner.run()
        if output == nil { print(markdown) }
    }
}

/// The server `switchboard bench` measures: the API as `serve` builds it (the integration catalog,
/// the egress policy and passthrough's limits read as `serve` reads them, and the API call log
/// written by `serve`'s writer), plus the benchmark's HTTP ceiling route, on 127.0.0.1. Hidden: only the
/// benchmark starts it.
struct BenchServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-server",
        abstract: "The server under benchmark (started by switchboard bench).",
        shouldDisplay: false
    )

    @Option(name: .long, help: "Port to bind on 127.0.0.1.") var port: Int
    @Option(name: .long, help: "Metrics recorded and served at /metrics: on or off.") var metrics = "on"
    @Flag(name: .long, help: "Deliver event webhooks, as serve does (off: the sections that do not measure them).")
    var deliverEvents = false
    @Option(name: .customLong(Setting.egressAllow.rawValue), help: ArgumentHelp(Setting.egressAllow.flagHelp))
    var egressAllow: String?
    @Option(
        name: .customLong(Setting.integrationsDir.rawValue),
        help: ArgumentHelp(Setting.integrationsDir.flagHelp)
    )
    var integrationsDir: String?
    @Option(name: .long, help: "Serve the relay reference /__bench/relay/<path>, relaying to this base URL.")
    var relayTo: String?
    @OptionGroup var options: DatabaseOptions

    func validate() throws {
        guard ["on", "off"].contains(metrics) else { throw ValidationError("--metrics must be on or off") }
    }

    func run() async throws {
        var server = ServerConfiguration(host: "127.0.0.1", port: port)
        server.metrics = metrics == "on" ? MetricsConfiguration() : nil
        let configuration = server
        var flags = options.flags
        flags[.egressAllow] = egressAllow
        flags[.integrationsDir] = integrationsDir
        let settings = Settings(flags: flags, environment: ProcessInfo.processInfo.environment)
        let (oauth, egress, passthrough) = try validated {
            (try settings.oauth(server: configuration), try settings.egress(), try settings.passthrough())
        }
        let exposition =
            metrics == "on"
            ? PrometheusExposition.bootstrap(token: nil, backend: try options.location().backendName) : nil
        try await options.withRuntime(
            defaultLogLevel: .warning,
            settings: settings,
            oauth: oauth,
            egress: egress,
            passthrough: passthrough
        ) { runtime in
            let ceiling = BenchmarkCeiling()
            let relay = relayTo.map { BenchmarkRelay(upstream: $0, settings: passthrough) }
            let application = try buildApplication(runtime: runtime, configuration: configuration, metrics: exposition)
            {
                ceiling.register(on: $0)
                relay?.register(on: $0)
            }
            // The API call log written as `serve` writes it: ahead of the application, so it stops
            // after it; event webhooks delivered as `serve` delivers them when asked (only the
            // events section's server: the others share its database without its egress setting).
            do {
                try await runUntilSignalled(
                    [apiCallLogWriter(runtime: runtime, configuration: configuration), application]
                        + (deliverEvents ? [eventDelivery(runtime: runtime)] : []),
                    shutdownTimeout: configuration.shutdownTimeout,
                    logger: runtime.logger
                )
            } catch {
                try? await relay?.shutdown()
                throw error
            }
            try? await relay?.shutdown()
        }
    }
}
