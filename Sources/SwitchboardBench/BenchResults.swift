/// Figures of one scenario on one backend at one size.
struct ScenarioResult: Sendable {
    var name: String
    var isList: Bool
    var requestsPerSecond: Double
    var p50: Double
    var p99: Double
    var p999: Double
    /// HTTP ceiling: the same process serving the identical bytes from memory.
    var httpCeiling: Double
    /// Database ceiling: the same SQL in a loop in-process, same driver and concurrency.
    var databaseCeiling: Double
    var peakRSSMegabytes: Double
    var non2xx: Int

    /// C = 1 / (1/H + 1/D).
    var combinedCeiling: Double { 1 / (1 / httpCeiling + 1 / databaseCeiling) }
    var ratio: Double { requestsPerSecond / combinedCeiling }
}

/// The whole run of one backend at one size.
struct BackendRun: Sendable {
    var backend: String
    var connections: Int
    var productionRows: Int
    var deepOffset: Int
    var seedSeconds: Double
    var scenarios: [ScenarioResult]
    var exportRows: Int
    var exportSeconds: Double
    var exportBytes: Int
    var dumpRows: Int
    var dumpSeconds: Double
    var dumpBytes: Int
    /// The same scenarios against a server with metrics on and one with them off.
    var metricsOverhead: [MetricsOverhead]
    /// The passthrough section, when it ran with this size (the first of the run's sizes).
    var passthrough: PassthroughRun? = nil
    var events: EventsRun? = nil
    var dashboardPage: DashboardPageRun? = nil

    var exportRatio: Double { exportSeconds / dumpSeconds }
    var peakRSSMegabytes: Double { scenarios.map(\.peakRSSMegabytes).max() ?? 0 }

    func scenario(_ name: String) -> ScenarioResult? { scenarios.first { $0.name == name } }
}

/// Throughput of one scenario with metrics on and off, in rounds that each measure both sides
/// back to back.
struct MetricsOverhead: Sendable {
    var name: String
    /// Requests per second of each round, metrics on and off.
    var rounds: [(on: Double, off: Double)]

    var on: Double { rounds.map(\.on).reduce(0, +) / Double(rounds.count) }
    var off: Double { rounds.map(\.off).reduce(0, +) / Double(rounds.count) }

    /// The share of throughput metrics cost: the median over the rounds of 1 − on/off, each
    /// round's pair measured seconds apart, so that the machine's drift between rounds and a
    /// round disturbed by another tenant weigh nothing (negative: on was faster, within noise).
    var loss: Double {
        let losses = rounds.map { 1 - $0.on / $0.off }.sorted()
        let middle = losses.count / 2
        return losses.count % 2 == 1 ? losses[middle] : (losses[middle - 1] + losses[middle]) / 2
    }
}

/// The passthrough section of one backend: `/passthrough/{id}/bytes/N` against nginx as a reverse
/// proxy in front of the same loopback upstream, and against the upstream called directly.
struct PassthroughRun: Sendable {
    /// One response size under load.
    struct Size: Sendable {
        var responseBytes: Int
        /// The upstream called directly.
        var direct: Wrk.Result
        /// nginx (`proxy_pass`, keep-alive upstream) in front of it: N.
        var nginx: Wrk.Result
        /// Switchboard's passthrough in front of it.
        var passthrough: Wrk.Result
        /// H: the same server answering the same bytes from memory (`BenchmarkCeiling`), no relay.
        var ceiling: Wrk.Result
        /// R: the same server relaying through passthrough's HTTP client with none of
        /// passthrough's work (`BenchmarkRelay`): what the HTTP stack costs for a relay at all.
        var relay: Wrk.Result
        /// D: the reads a passthrough call makes (the key check, the connection read and its
        /// unsealing), in a loop in-process.
        var databaseCeiling: Double
        /// The server's peak RSS during this size's passthrough load.
        var peakRSSMegabytes: Double

        /// C = 1 / (1/N + 1/D).
        var combinedCeiling: Double { 1 / (1 / nginx.requestsPerSecond + 1 / databaseCeiling) }
        var ratio: Double { passthrough.requestsPerSecond / combinedCeiling }
        var ratioToNginx: Double { passthrough.requestsPerSecond / nginx.requestsPerSecond }
        var ratioToDirect: Double { passthrough.requestsPerSecond / direct.requestsPerSecond }
        /// The stack's own ceiling C_R = 1 / (1/R + 1/D): C with nginx's relaying replaced by this
        /// server's, and passthrough's share of it (the part Switchboard's own work accounts for).
        var relayCeiling: Double { 1 / (1 / relay.requestsPerSecond + 1 / databaseCeiling) }
        var ratioToRelayCeiling: Double { passthrough.requestsPerSecond / relayCeiling }
        /// What C_R leaves of C: the most any passthrough on this HTTP stack could reach.
        var relayCeilingShareOfC: Double { relayCeiling / combinedCeiling }
    }

    /// The table size of the run it was measured in.
    var connections: Int
    var sizes: [Size]
    /// One request in flight (one wrk connection and thread), the smallest response.
    var latencyDirect: Wrk.Result
    var latencyNginx: Wrk.Result
    var latencyPassthrough: Wrk.Result
    /// The relay reference R at one request in flight: the stack's own share of the added latency.
    var latencyRelay: Wrk.Result
    /// How nginx ran, for the report.
    var nginxVersion: String
    var nginxWorkers: String

    /// The added p50 of passthrough over the direct call at one request in flight, in ms.
    var addedLatency: Double { latencyPassthrough.p50 - latencyDirect.p50 }
    var peakRSSMegabytes: Double { sizes.map(\.peakRSSMegabytes).max() ?? 0 }
}
