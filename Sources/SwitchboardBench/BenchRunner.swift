import Foundation
import Logging
import SwitchboardCore
import SwitchboardPostgres
import SwitchboardServer
import Synchronization

/// `switchboard bench`: for each backend and size, seeds a scratch database, starts this binary's
/// `bench-server` on a free loopback port, and measures every scenario three ways (the
/// database ceiling D, the HTTP ceiling H, the endpoint itself), then passthrough against nginx
/// (at the first size), then a full cursor export against the database's own JSON dump. Bounded:
/// every measurement lasts `seconds`.
public struct BenchRunner: Sendable {
    public enum Backend: Sendable {
        case sqlite
        /// A PostgreSQL server; the benchmark creates and drops its own database on it.
        case postgres(PostgresSettings)

        var name: String {
            switch self {
            case .sqlite: "SQLite"
            case .postgres: "PostgreSQL"
            }
        }
    }

    public struct Options: Sendable {
        public var sizes: [Int]
        public var backends: [Backend]
        public var seconds: Int
        public var threads: Int
        public var connections: Int
        public var workDirectory: String
        /// This binary, started as the server under test.
        public var executable: String
        public var markdownPath: String?
        public var jsonPath: String?
        /// The command line, for the report.
        public var command: String
        /// When set, only scenarios whose name starts with one of these run (targeted measurements).
        public var scenarioPrefixes: [String]?

        public init(
            sizes: [Int],
            backends: [Backend],
            seconds: Int,
            threads: Int,
            connections: Int,
            workDirectory: String,
            executable: String,
            markdownPath: String?,
            jsonPath: String?,
            command: String,
            scenarioPrefixes: [String]? = nil
        ) {
            self.sizes = sizes
            self.backends = backends
            self.seconds = seconds
            self.threads = threads
            self.connections = connections
            self.workDirectory = workDirectory
            self.executable = executable
            self.markdownPath = markdownPath
            self.jsonPath = jsonPath
            self.command = command
            self.scenarioPrefixes = scenarioPrefixes
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The bench's own view of a store: bulk loading and the raw queries of the database ceiling.
    static func benchmarking(_ store: any SwitchboardStore) throws -> any StoreBenchmarking {
        guard let bench = store as? any StoreBenchmarking else {
            throw Failure(description: "this store cannot be benchmarked (no bulk load or raw queries)")
        }
        return bench
    }

    let options: Options
    let logger: Logger

    public init(options: Options, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    static let scratchDatabase = "switchboard_bench"

    /// Runs everything and writes the reports. Returns the rendered Markdown.
    @discardableResult
    public func run() async throws -> String {
        guard let wrk = Wrk.find() else {
            throw Failure(description: "wrk is not installed (Debian: apt-get install wrk)")
        }
        if runsPassthrough, Nginx.find() == nil { throw Failure(description: Nginx.missing) }
        try FileManager.default.createDirectory(atPath: options.workDirectory, withIntermediateDirectories: true)
        var runs: [BackendRun] = []
        let started = Date()
        var markdown = ""
        for backend in options.backends {
            for size in options.sizes {
                progress("== \(backend.name), \(size) connections")
                runs.append(try await run(backend: backend, size: size, wrkPath: wrk))
                // Written after every run, so a failure later keeps what was measured.
                markdown = try write(BenchReport(runs: runs, options: options, date: started))
            }
        }
        return markdown
    }

    private func write(_ report: BenchReport) throws -> String {
        var markdown = report.markdown()
        if let path = options.markdownPath {
            // Hand-written notes (profiles, analysis) below the marker survive a new run.
            if let existing = try? String(contentsOfFile: path, encoding: .utf8),
                let marker = existing.range(of: BenchReport.notesMarker)
            {
                markdown += "\n" + existing[marker.lowerBound...]
            }
            try markdown.write(toFile: path, atomically: true, encoding: .utf8)
        }
        if let path = options.jsonPath { try report.json().write(toFile: path, atomically: true, encoding: .utf8) }
        return markdown
    }

    func progress(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    private func run(backend: Backend, size: Int, wrkPath: String) async throws -> BackendRun {
        let masterKey = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        var environment = ProcessInfo.processInfo.environment
        environment["SWITCHBOARD_MASTER_KEY"] = masterKey
        switch backend {
        case .sqlite:
            let directory = options.workDirectory + "/sqlite-\(size)"
            try? FileManager.default.removeItem(atPath: directory)
            let path = directory + "/switchboard.sqlite"
            environment["SWITCHBOARD_DATABASE_URL"] = "sqlite:" + path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            return try await run(
                backend: backend,
                location: .sqlite(path: path),
                masterKey: masterKey,
                childEnvironment: environment,
                size: size,
                wrkPath: wrkPath
            )
        case .postgres(let server):
            try await PostgresStore.recreateDatabase(Self.scratchDatabase, on: server, logger: logger)
            var settings = server
            settings.database = Self.scratchDatabase
            let password =
                settings.password.map { ":" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) }
                ?? ""
            environment["SWITCHBOARD_DATABASE_URL"] =
                "postgres://\(settings.username)\(password)@\(settings.host):\(settings.port)/\(Self.scratchDatabase)?sslmode=\(settings.tls.rawValue)&pool_size=\(settings.poolSize)"
            do {
                let result = try await run(
                    backend: backend,
                    location: .postgres(settings),
                    masterKey: masterKey,
                    childEnvironment: environment,
                    size: size,
                    wrkPath: wrkPath
                )
                try await PostgresStore.dropDatabase(Self.scratchDatabase, on: server, logger: logger)
                return result
            } catch {
                try? await PostgresStore.dropDatabase(Self.scratchDatabase, on: server, logger: logger)
                throw error
            }
        }
    }

    private func run(
        backend: Backend,
        location: DatabaseLocation,
        masterKey: String,
        childEnvironment: [String: String],
        size: Int,
        wrkPath: String
    ) async throws -> BackendRun {
        try await Runtime.run(
            database: location,
            masterKeys: MasterKeySettings(inlineKeys: masterKey),
            logger: logger
        ) { runtime in
            let (workspace, _) = try await runtime.workspaces.createWorkspace(name: "bench")
            // The load runs with a metadata key, as most integrations read connections: with
            // connections:credentials every page would also decrypt and durably audit each row.
            // `dashboard` signs the dashboard page's session in with it.
            let key = try await runtime.workspaces.createKey(
                scopes: ScopeSet([.connectionsRead, .connectionsWrite, .dashboard]),
                by: .cli(workspace: workspace.id)
            ).apiKey
            let seedStart = Date()
            let facts = try await seed(runtime: runtime, workspace: workspace, size: size)
            let seedSeconds = Date().timeIntervalSince(seedStart)
            progress("seeded \(size) connections (+\(size / 10) noise) in \(String(format: "%.1f", seedSeconds)) s")
            try await Self.benchmarking(runtime.store).settleAfterBulkLoad()

            let server = try BenchServer.start(
                executable: options.executable,
                environment: childEnvironment,
                directory: options.workDirectory
            )
            defer { server.stop() }
            let client = LoopbackHTTPClient(port: server.port)
            let auth = [("Authorization", key)]

            // The cursor that starts where the deep offset does, taken from the API itself.
            let deepLink = try client.request(
                "GET",
                "/unified/connection?limit=1&offset=\(max(0, facts.deepOffset - 1))",
                headers: auth
            )
            let deepCursor = deepLink.header("link").flatMap { link -> String? in
                guard let start = link.firstIndex(of: "?"), let end = link.firstIndex(of: ">") else { return nil }
                return String(link[link.index(after: start)..<end]).replacingOccurrences(
                    of: "limit=1&",
                    with: "limit=100&"
                )
            }

            let wrk = Wrk(
                executable: wrkPath,
                directory: options.workDirectory,
                threads: options.threads,
                connections: options.connections
            )
            var results: [ScenarioResult] = []
            for scenario in facts.scenarios(deepCursorQuery: deepCursor)
            where options.scenarioPrefixes?.contains(where: { scenario.name.hasPrefix($0) }) ?? true {
                results.append(
                    try await measure(
                        scenario,
                        runtime: runtime,
                        workspace: workspace,
                        key: key,
                        server: server,
                        client: client,
                        wrk: wrk
                    )
                )
            }

            var dashboardPage: DashboardPageRun?
            if runsDashboard {
                dashboardPage = try measureDashboardPage(client: client, key: key, server: server, wrk: wrk)
            }

            var metricsOverhead: [MetricsOverhead] = []
            if options.scenarioPrefixes?.contains(where: { "metrics overhead".hasPrefix($0) }) ?? true {
                metricsOverhead = try measureMetricsOverhead(
                    facts.scenarios(deepCursorQuery: nil).filter {
                        ["list defaults (100 rows)", "get by id"].contains($0.name)
                    },
                    key: key,
                    withMetrics: server,
                    childEnvironment: childEnvironment,
                    wrk: wrk
                )
            }

            // Passthrough at the first size only: beyond one indexed read, it does not depend on
            // the table's size.
            var passthrough: PassthroughRun?
            if runsPassthrough, size == options.sizes.first {
                passthrough = try await measurePassthrough(
                    runtime: runtime,
                    workspace: workspace,
                    metadataKey: key,
                    childEnvironment: childEnvironment,
                    wrk: wrk,
                    size: size
                )
            }

            // Events at the first size only: a workspace of their own, whatever the table's size.
            var events: EventsRun?
            if runsEvents, size == options.sizes.first {
                events = try await measureEvents(runtime: runtime, childEnvironment: childEnvironment, wrk: wrk)
            }

            // Export: follow `next` from the first page to the end, one client, 1,000 rows a page.
            let exportStart = Date()
            var url: String? = "/unified/connection?limit=1000"
            var exportRows = 0
            var exportBytes = 0
            let marker = Array(#"{"id":""#.utf8)
            while let current = url {
                let response = try client.request("GET", current, headers: auth)
                guard response.status == 200 else {
                    throw Failure(description: "export page answered \(response.status)")
                }
                exportBytes += response.body.count
                exportRows += Self.count(marker, in: response.body)
                url = response.header("link").flatMap { link in
                    guard let start = link.firstIndex(of: "<"), let end = link.firstIndex(of: ">") else { return nil }
                    return String(link[link.index(after: start)..<end])
                }
            }
            let exportSeconds = Date().timeIntervalSince(exportStart)
            let dumpStart = Date()
            let dump = try await Self.benchmarking(runtime.store).rawJSONDump(
                workspace: workspace.id,
                environment: "Production"
            )
            let dumpSeconds = Date().timeIntervalSince(dumpStart)
            progress(
                "export: \(exportRows) rows in \(String(format: "%.2f", exportSeconds)) s; database JSON dump: \(dump.rows) rows in \(String(format: "%.2f", dumpSeconds)) s"
            )
            guard exportRows == dump.rows else {
                throw Failure(
                    description: "the cursor export returned \(exportRows) rows, the database holds \(dump.rows)"
                )
            }
            return BackendRun(
                backend: backend.name,
                connections: size,
                productionRows: facts.productionRows,
                deepOffset: facts.deepOffset,
                seedSeconds: seedSeconds,
                scenarios: results,
                exportRows: exportRows,
                exportSeconds: exportSeconds,
                exportBytes: exportBytes,
                dumpRows: dump.rows,
                dumpSeconds: dumpSeconds,
                dumpBytes: dump.bytes,
                metricsOverhead: metricsOverhead,
                passthrough: passthrough,
                events: events,
                dashboardPage: dashboardPage
            )
        }
    }

    /// Bulk-loads `size` connections into `workspace` and a tenth as many into two noise workspaces.
    private func seed(runtime: Runtime, workspace: Workspace, size: Int) async throws -> SeedFacts {
        let end = Timestamp.now()
        var dataset = BenchDataset(count: size, end: end, seed: 0x5EED)
        var productionIDs: [String] = []
        var productionXrefs: [String] = []
        var productionUpdated: [Int64] = []
        productionUpdated.reserveCapacity(size)
        let batchSize = 5000
        var done = 0
        var lastReport = Date()
        while done < size {
            var batch: [Connection] = []
            batch.reserveCapacity(batchSize)
            for _ in 0..<min(batchSize, size - done) {
                let connection = try dataset.next(in: workspace.id, sealer: runtime.sealer)
                if connection.fields.environment == "Production" {
                    productionUpdated.append(connection.updatedAt.millisecondsSinceEpoch)
                    // Every 97th Production row: an even sample of ids and end users.
                    if productionUpdated.count % 97 == 0, productionIDs.count < 1000 {
                        productionIDs.append(connection.id.rawValue)
                        if let xref = connection.fields.externalXref { productionXrefs.append(xref) }
                    }
                }
                batch.append(connection)
            }
            try await Self.benchmarking(runtime.store).bulkInsert(batch)
            done += batch.count
            if Date().timeIntervalSince(lastReport) > 10 {
                progress("seeded \(done) of \(size)...")
                lastReport = Date()
            }
        }
        for name in ["noise-a", "noise-b"] {
            let (noise, _) = try await runtime.workspaces.createWorkspace(name: name)
            var noiseData = BenchDataset(count: size / 20, end: end, seed: UInt64(name.utf8.count) &* 31)
            var remaining = size / 20
            while remaining > 0 {
                let n = min(batchSize, remaining)
                try await Self.benchmarking(runtime.store).bulkInsert(
                    (0..<n).map { _ in try noiseData.next(in: noise.id, sealer: runtime.sealer) }
                )
                remaining -= n
            }
        }
        productionUpdated.sort()
        func bound(selecting percent: Int) -> String {
            let index = productionUpdated.count * (100 - percent) / 100
            return (productionUpdated.isEmpty ? end : Timestamp(millisecondsSinceEpoch: productionUpdated[index]))
                .rfc3339
        }
        return SeedFacts(
            productionRows: productionUpdated.count,
            sampleIDs: productionIDs,
            sampleXrefs: productionXrefs,
            updatedGTEOnePercent: bound(selecting: 1),
            updatedGTETenPercent: bound(selecting: 10)
        )
    }

    private func measure(
        _ scenario: BenchScenario,
        runtime: Runtime,
        workspace: Workspace,
        key: String,
        server: BenchServer,
        client: LoopbackHTTPClient,
        wrk: Wrk
    ) async throws -> ScenarioResult {
        let seconds = options.seconds
        let concurrency = scenario.concurrency ?? options.connections
        let store = runtime.store
        let raw = try Self.benchmarking(store)
        let workspaceID = workspace.id

        // D: the same SQL in a loop, in this process.
        let databaseCeiling: Double
        switch scenario.kind {
        case .list(let queries):
            let parsed = try queries.map { try ConnectionQuery.parsing(queryString: $0, workspaceID: workspaceID) }
            databaseCeiling = try await DatabaseCeiling.measure(
                concurrency: concurrency,
                seconds: Double(seconds)
            ) { i in
                _ = try await raw.rawList(parsed[i % parsed.count])
            }
        case .get(let ids):
            databaseCeiling = try await DatabaseCeiling.measure(
                concurrency: concurrency,
                seconds: Double(seconds)
            ) { i in
                _ = try await raw.rawGet(id: ConnectionID(rawValue: ids[i % ids.count]), workspace: workspaceID)
            }
        case .create:
            // Rows are built (and sealed, a few microseconds) just before each insert.
            let dataset = SharedDataset(
                BenchDataset(count: 1000, end: .now(), seed: UInt64(Date().timeIntervalSince1970))
            )
            let sealer = runtime.sealer
            databaseCeiling = try await DatabaseCeiling.measure(
                concurrency: concurrency,
                seconds: Double(seconds)
            ) { _ in
                try await store.insert(try dataset.next(in: workspaceID, sealer: sealer))
            }
        case .patch(let ids, _):
            databaseCeiling = try await DatabaseCeiling.measure(
                concurrency: concurrency,
                seconds: Double(seconds)
            ) { i in
                _ = try await store.update(id: ConnectionID(rawValue: ids[i % ids.count]), workspace: workspaceID) {
                    current in
                    var connection = current
                    connection.fields.integrationName = "Patched by bench"
                    connection.updatedAt = max(.now(), current.updatedAt)
                    connection.version += 1
                    return connection
                }
            }
        }

        // H: the identical response bytes from the plain ceiling route of the same server process.
        let sample = try client.request(
            scenario.method,
            scenario.paths[0],
            headers: [("Authorization", key)] + (scenario.body == nil ? [] : [("Content-Type", "application/json")]),
            body: Array((scenario.body ?? "").utf8)
        )
        guard sample.status == 200 else {
            throw Failure(
                description: "\(scenario.name): \(scenario.method) \(scenario.paths[0]) answered \(sample.status)"
            )
        }
        try BenchServer.storeCeiling(sample.body, link: sample.header("link"), through: client)
        let ceiling = try wrk.run(
            port: server.port,
            method: scenario.method,
            paths: [BenchServer.ceilingPath],
            body: scenario.body,
            key: key,
            seconds: seconds,
            connections: concurrency
        )

        // The endpoint itself, with the server's peak RSS over this run alone.
        server.resetPeakRSS()
        let real = try wrk.run(
            port: server.port,
            method: scenario.method,
            paths: scenario.paths,
            body: scenario.body,
            key: key,
            seconds: seconds,
            connections: concurrency
        )
        let result = ScenarioResult(
            name: scenario.name,
            isList: scenario.isList,
            requestsPerSecond: real.requestsPerSecond,
            p50: real.p50,
            p99: real.p99,
            p999: real.p999,
            httpCeiling: ceiling.requestsPerSecond,
            databaseCeiling: databaseCeiling,
            peakRSSMegabytes: server.peakRSSMegabytes(),
            non2xx: real.non2xx + real.socketErrors
        )
        progress(
            String(
                format:
                    "%@ %8.0f req/s  p50 %6.2f  p99 %6.2f  p99.9 %6.2f ms  H %7.0f  D %7.0f  C %7.0f  ratio %4.2f  RSS %5.1f MB%@",
                scenario.name.padding(toLength: 26, withPad: " ", startingAt: 0) as NSString,
                result.requestsPerSecond,
                result.p50,
                result.p99,
                result.p999,
                result.httpCeiling,
                result.databaseCeiling,
                result.combinedCeiling,
                result.ratio,
                result.peakRSSMegabytes,
                (result.non2xx > 0 ? "  ERRORS \(result.non2xx)" : "") as NSString
            )
        )
        guard result.non2xx == 0 else {
            throw Failure(description: "\(scenario.name): \(result.non2xx) requests failed (non-2xx or socket errors)")
        }
        return result
    }

    /// Each scenario against the server under test (metrics on, as `serve` runs by default) and a
    /// second one on the same database with metrics off, in rounds that alternate which goes
    /// first, so that drift of the machine (and of the database: autovacuum after the write
    /// scenarios) falls on both alike. Tracing is off in both.
    private func measureMetricsOverhead(
        _ scenarios: [BenchScenario],
        key: String,
        withMetrics: BenchServer,
        childEnvironment: [String: String],
        wrk: Wrk
    ) throws -> [MetricsOverhead] {
        let withoutMetrics = try BenchServer.start(
            executable: options.executable,
            environment: childEnvironment,
            directory: options.workDirectory,
            metrics: false
        )
        defer { withoutMetrics.stop() }
        let rounds = 8
        var results: [MetricsOverhead] = []
        for scenario in scenarios {
            var measured: [(on: Double, off: Double)] = []
            for round in 0..<rounds {
                var on = 0.0
                var off = 0.0
                let pair = [(withMetrics, true), (withoutMetrics, false)]
                for (server, isOn) in round % 2 == 0 ? pair : pair.reversed() {
                    let run = try wrk.run(
                        port: server.port,
                        method: scenario.method,
                        paths: scenario.paths,
                        body: scenario.body,
                        key: key,
                        seconds: options.seconds,
                        connections: scenario.concurrency ?? options.connections
                    )
                    guard run.non2xx + run.socketErrors == 0 else {
                        throw Failure(description: "metrics overhead, \(scenario.name): requests failed")
                    }
                    if isOn { on = run.requestsPerSecond } else { off = run.requestsPerSecond }
                }
                measured.append((on, off))
            }
            let result = MetricsOverhead(name: scenario.name, rounds: measured)
            progress(
                String(
                    format: "metrics overhead, %@: on %.0f req/s, off %.0f req/s, loss %.1f%%",
                    scenario.name as NSString,
                    result.on,
                    result.off,
                    result.loss * 100
                )
            )
            results.append(result)
        }
        return results
    }

    static func count(_ marker: [UInt8], in bytes: [UInt8]) -> Int {
        var count = 0
        var i = 0
        let first = marker[0]
        while i <= bytes.count - marker.count {
            if bytes[i] == first, bytes[i..<i + marker.count].elementsEqual(marker) {
                count += 1
                i += marker.count
            } else {
                i += 1
            }
        }
        return count
    }
}

/// The data set behind a lock, for concurrent creators.
final class SharedDataset: Sendable {
    private let dataset: Mutex<BenchDataset>
    init(_ dataset: BenchDataset) { self.dataset = Mutex(dataset) }
    func next(in workspace: WorkspaceID, sealer: any SecretSealer) throws -> Connection {
        try dataset.withLock { try $0.next(in: workspace, sealer: sealer) }
    }
}
