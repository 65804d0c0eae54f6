import Foundation
import SwitchboardCore
import SwitchboardPostgres

/// Renders a benchmark run as Markdown (docs/benchmarks.md) and JSON, each figure beside its
/// ceilings and each target beside its measured value.
struct BenchReport {
    let runs: [BackendRun]
    let options: BenchRunner.Options
    let date: Date

    struct Target {
        var what: String
        var backend: String
        var target: String
        var measured: String
        var met: Bool
    }

    func targets() -> [Target] {
        var targets: [Target] = []
        let backends = runs.reduce(into: [String]()) { if !$0.contains($1.backend) { $0.append($1.backend) } }
        for backend in backends {
            let sized = runs.filter { $0.backend == backend }.sorted { $0.connections < $1.connections }
            guard let largest = sized.last else { continue }
            let at = "at \(largest.connections.formatted())"
            if let smallest = sized.first, smallest.connections < largest.connections {
                for scenario in largest.scenarios
                where scenario.isList && scenario.name != SeedFacts.deepOffsetNameValue {
                    guard let base = smallest.scenario(scenario.name) else { continue }
                    let factor = scenario.p99 / base.p99
                    targets.append(
                        Target(
                            what:
                                "p99 of \(scenario.name), \(largest.connections.formatted()) vs \(smallest.connections.formatted())",
                            backend: backend,
                            target: "≤ 2×",
                            measured: String(format: "%.2f ms vs %.2f ms = %.2f×", scenario.p99, base.p99, factor),
                            met: factor <= 2
                        )
                    )
                }
            }
            if let list = largest.scenario("list defaults (100 rows)") {
                targets.append(
                    Target(
                        what: "list defaults: share of C \(at)",
                        backend: backend,
                        target: "≥ 65%",
                        measured: String(
                            format: "%.0f%% (%.0f of %.0f req/s)",
                            list.ratio * 100,
                            list.requestsPerSecond,
                            list.combinedCeiling
                        ),
                        met: list.ratio >= 0.65
                    )
                )
            }
            if let get = largest.scenario("get by id") {
                targets.append(
                    Target(
                        what: "get by id: share of C \(at)",
                        backend: backend,
                        target: "≥ 75%",
                        measured: String(
                            format: "%.0f%% (%.0f of %.0f req/s)",
                            get.ratio * 100,
                            get.requestsPerSecond,
                            get.combinedCeiling
                        ),
                        met: get.ratio >= 0.75
                    )
                )
            }
            if let create = largest.scenario("create") {
                let required = backend == "SQLite"
                targets.append(
                    Target(
                        what: "create, sealed and durably committed \(at)",
                        backend: backend,
                        target: required ? "≥ 2,000/s" : "(reported beside SQLite)",
                        measured: String(format: "%.0f/s", create.requestsPerSecond),
                        met: !required || create.requestsPerSecond >= 2000
                    )
                )
            }
            for overhead in largest.metricsOverhead {
                targets.append(
                    Target(
                        what:
                            "\(overhead.name): throughput lost to metrics (on vs off, tracing off; median of rounds) \(at)",
                        backend: backend,
                        target: "≤ 5%",
                        measured: String(
                            format: "%.1f%% (%.0f vs %.0f req/s)",
                            overhead.loss * 100,
                            overhead.on,
                            overhead.off
                        ),
                        met: overhead.loss <= 0.05
                    )
                )
            }
            if let heaviest = largest.scenarios.max(by: { $0.peakRSSMegabytes < $1.peakRSSMegabytes }) {
                targets.append(
                    Target(
                        what: "server peak RSS, heaviest scenario (\(heaviest.name)) \(at)",
                        backend: backend,
                        target: "≤ 150 MB",
                        measured: String(format: "%.0f MB", largest.peakRSSMegabytes),
                        met: largest.peakRSSMegabytes <= 150
                    )
                )
            }
            targets.append(
                Target(
                    what: "cursor export of \(largest.exportRows.formatted()) rows vs the database's JSON dump",
                    backend: backend,
                    target: "≤ 3×",
                    measured: String(
                        format: "%.2f s vs %.2f s = %.2f×",
                        largest.exportSeconds,
                        largest.dumpSeconds,
                        largest.exportRatio
                    ),
                    met: largest.exportRatio <= 3
                )
            )
            if let page = largest.dashboardPage {
                targets.append(dashboardTarget(page, connections: largest.connections, backend: backend))
            }
            if let passthrough = sized.lazy.compactMap(\.passthrough).first {
                targets += passthroughTargets(passthrough, backend: backend)
            }
            if let events = sized.lazy.compactMap(\.events).first {
                targets += eventsTargets(events, backend: backend)
            }
        }
        return targets
    }

    /// Passthrough against nginx: throughput as a share of C = 1/(1/N + 1/D) per response size
    /// (the plain ratio to nginx beside it), the latency added at one request in flight, and RSS.
    func passthroughTargets(_ run: PassthroughRun, backend: String) -> [Target] {
        let at = "at \(run.connections.formatted())"
        var targets = run.sizes.map { size in
            Target(
                what: "passthrough \(Self.label(size.responseBytes)): share of C (nginx N, D) \(at)",
                backend: backend,
                target: "≥ 70%",
                measured: String(
                    format: "%.0f%% (%.0f of %.0f req/s; %.2f× nginx; this stack's own relay reaches %.0f%% of C)",
                    size.ratio * 100,
                    size.passthrough.requestsPerSecond,
                    size.combinedCeiling,
                    size.ratioToNginx,
                    size.relayCeilingShareOfC * 100
                ),
                met: size.ratio >= 0.70
            )
        }
        targets.append(
            Target(
                what: "passthrough: p50 added over the direct call, one request in flight (1 KB)",
                backend: backend,
                target: "≤ 1 ms",
                measured: String(
                    format: "%+.2f ms (%.2f vs %.2f ms)",
                    run.addedLatency,
                    run.latencyPassthrough.p50,
                    run.latencyDirect.p50
                ),
                met: run.addedLatency <= 1
            )
        )
        targets.append(
            Target(
                what: "server peak RSS under passthrough load \(at)",
                backend: backend,
                target: "≤ 150 MB",
                measured: String(format: "%.0f MB", run.peakRSSMegabytes),
                met: run.peakRSSMegabytes <= 150
            )
        )
        return targets
    }

    /// Events: delivered throughput (≥ 1,000/s on SQLite; PostgreSQL reported beside it),
    /// commit-to-receipt p99 at 200 events/s, and another workspace's throughput beside a 5 s receiver.
    func eventsTargets(_ run: EventsRun, backend: String) -> [Target] {
        [
            Target(
                what: "events delivered per second (created through the API, signatures verified)",
                backend: backend,
                target: backend == "SQLite" ? "≥ 1,000/s" : "reported",
                measured: String(
                    format: "%.0f/s (%.0f created/s; drained %.2f s after the load)",
                    run.alone.deliveredPerSecond,
                    run.alone.createdPerSecond,
                    run.alone.drainSeconds
                ),
                met: backend != "SQLite" || run.alone.deliveredPerSecond >= 1000
            ),
            Target(
                what: "events: commit-to-receipt p99 at \(run.pacedRate) events/s",
                backend: backend,
                target: "≤ 500 ms",
                measured: String(
                    format: "%.1f ms (p50 %.1f ms, max %.1f ms)",
                    run.pacedP99,
                    run.pacedP50,
                    run.pacedMax
                ),
                met: run.pacedP99 <= 500
            ),
            Target(
                what: "events: throughput beside a workspace whose receiver answers in 5 s",
                backend: backend,
                target: "≥ 90% of alone",
                measured: String(
                    format: "%.0f%% (%.0f vs %.0f/s)",
                    run.isolationRatio * 100,
                    run.besideSlow.deliveredPerSecond,
                    run.alone.deliveredPerSecond
                ),
                met: run.isolationRatio >= 0.9
            ),
        ]
    }

    /// The events section of one run, in Markdown.
    static func eventsMarkdown(_ run: EventsRun) -> String {
        var out = """

            Events: `CONNECTION_CREATED` events of connections created through the API (`POST \
            /unified/connection`) of a server of its own, delivered to a loopback receiver in the bench \
            process (Hummingbird) that verifies every Standard Webhooks signature. **Latency** is from \
            the event's `created_at` (stamped just before its transaction commits) to the delivery's \
            arrival. **Throughput**: wrk creates for the measurement's seconds; delivered/s counts \
            distinct events over the time from the start of the load to the last arrival. **Beside a \
            slow receiver**: the same, while another workspace's receiver takes 5 s to answer each \
            delivery and its connections are created \(BenchRunner.eventsSlowRate) a second.

            | Run | created | created/s | delivered/s | drain s | p50 ms | p99 ms |
            |---|---:|---:|---:|---:|---:|---:|

            """
        for (name, t) in [("alone", run.alone), ("beside a 5 s receiver", run.besideSlow)] {
            out += String(
                format: "| %@ | %d | %.0f | %.0f | %.2f | %.1f | %.1f |\n",
                name as NSString,
                t.created,
                t.createdPerSecond,
                t.deliveredPerSecond,
                t.drainSeconds,
                t.p50,
                t.p99
            )
        }
        out += String(
            format:
                "\nAt a steady %d creates/s (one client, %d events): commit-to-receipt p50 %.1f ms, p99 %.1f ms, max %.1f ms. The slow receiver got %d deliveries meanwhile.\n",
            run.pacedRate,
            run.pacedCount,
            run.pacedP50,
            run.pacedP99,
            run.pacedMax,
            run.slowDelivered
        )
        return out
    }

    /// `1 KB`, `100 KB`.
    static func label(_ bytes: Int) -> String { bytes % 1024 == 0 ? "\(bytes / 1024) KB" : "\(bytes) B" }

    /// The passthrough section of one run, in Markdown.
    static func passthroughMarkdown(_ run: PassthroughRun) -> String {
        var out = """

            Passthrough: `GET /passthrough/{connection_id}/bytes/N` with a `connections:proxy` key, relayed \
            by the server under test (a server of its own, started with the bench integration's definition \
            and `--egress-allow 127.0.0.1`) to a loopback upstream in the bench process (Hummingbird, \
            HTTP/1.1 keep-alive, a fixed body, the connection's key checked as a Bearer token). Beside it, \
            measured the same way in the same minute: \(run.nginxVersion) (\(run.nginxWorkers); \
            `proxy_pass` to an upstream block with `keepalive 64`, the same credential set with \
            `proxy_set_header`, responses buffered in memory, access log off) in front of the same upstream, \
            and the upstream called directly. Measured at the first size only: beyond one indexed read, \
            passthrough does not depend on the table's size. **N** = nginx's req/s; **D** = what one \
            passthrough call reads, as the route reads it (the key checked against what is remembered of \
            it, the one read that confirms the key and reads the connection, and its unsealing) in a loop \
            in-process; **C** = 1 / (1/N + 1/D); **RSS** = the server's peak during that size's load. \
            **H** = the same server process answering the same bytes from memory (its HTTP ceiling route, \
            no relay). **R** = the relay reference: the same server process relaying `GET /__bench/relay/bytes/N` to \
            the same upstream through AsyncHTTPClient configured as passthrough's, streamed back as \
            passthrough streams, with none of passthrough's work (no key, no read, no egress check, no call \
            log); **C_R** = 1 / (1/R + 1/D), C with nginx's relaying replaced by this stack's. C_R ÷ C is \
            the most any passthrough on this HTTP server and client could reach of C; ÷ C_R is the share \
            left to Switchboard's own work.

            | Response | req/s | p50 ms | p99 ms | direct req/s | N req/s | D req/s | C req/s | ratio | ÷ N | ÷ direct | H req/s | R req/s | C_R ÷ C | ÷ C_R | RSS MB |
            |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|

            """
        for size in run.sizes {
            out += String(
                format:
                    "| %@ | %.0f | %.2f | %.2f | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f | %.2f | %.0f | %.0f | %.2f | %.2f | %.0f |\n",
                label(size.responseBytes) as NSString,
                size.passthrough.requestsPerSecond,
                size.passthrough.p50,
                size.passthrough.p99,
                size.direct.requestsPerSecond,
                size.nginx.requestsPerSecond,
                size.databaseCeiling,
                size.combinedCeiling,
                size.ratio,
                size.ratioToNginx,
                size.ratioToDirect,
                size.ceiling.requestsPerSecond,
                size.relay.requestsPerSecond,
                size.relayCeilingShareOfC,
                size.ratioToRelayCeiling,
                size.peakRSSMegabytes
            )
        }
        out += String(
            format:
                "\nOne request in flight (%@, one wrk connection): p50 direct %.2f ms, nginx %.2f ms, relay R %.2f ms, passthrough %.2f ms, %+.2f ms over direct.\n",
            label(run.sizes.first?.responseBytes ?? 0) as NSString,
            run.latencyDirect.p50,
            run.latencyNginx.p50,
            run.latencyRelay.p50,
            run.latencyPassthrough.p50,
            run.addedLatency
        )
        return out
    }

    /// Everything from this line on in an existing report is kept when a run rewrites the file.
    static let notesMarker = "<!-- Notes below this line are written by hand and kept across runs. -->"

    /// The PostgreSQL pool the server and the database ceiling shared, when PostgreSQL ran.
    private var postgresPool: String {
        for case .postgres(let settings) in options.backends {
            return "; PostgreSQL pool: `pool_size=\(settings.poolSize)`"
        }
        return ""
    }

    func markdown() -> String {
        var out = """
            # Benchmarks

            Produced by `switchboard bench` (see [operations.md](operations.md#benchmarks) for how to run
            it); this file is overwritten by each run with `--output`. Every figure is measured beside its
            ceilings in the same run, because absolute numbers on a shared 2-core machine drift by 10–15%.

            - **Date:** \(ISO8601DateFormatter().string(from: date))
            - **Machine:** \(Self.machine())
            - **Command:** `\(options.command)`
            - **Load:** wrk, \(options.threads) threads, \(options.connections) connections (4 for the deep offset, whose \
            requests each read most of the table), \(options.seconds) s per measurement, on the same machine over 127.0.0.1\
            \(postgresPool)

            Columns: req/s and latency of the endpoint; **H** = HTTP ceiling (the same server process returning
            the identical bytes from memory on a plain route, no database, no JSON encoder); **D** = database
            ceiling (the endpoint's SQL in a loop in-process, same driver, same concurrency, every column of every
            row fetched in place but not mapped); **C** = 1 / (1/H + 1/D); **ratio** = req/s ÷ C; **RSS** = the server's peak resident memory
            during that scenario.

            ## Targets


            """
        out += "| Target | Backend | Goal | Measured | Met |\n|---|---|---|---|---|\n"
        for target in targets() {
            out +=
                "| \(target.what) | \(target.backend) | \(target.target) | \(target.measured) | \(target.met ? "yes" : "**no**") |\n"
        }
        for run in runs {
            out += """

                ## \(run.backend), \(run.connections.formatted()) connections

                \(run.productionRows.formatted()) of them in Production in the measured workspace, plus \((run.connections / 10).formatted()) \
                in two other workspaces; seeded in \(String(format: "%.1f", run.seedSeconds)) s. The deep offset is \
                \(run.deepOffset.formatted()) (90% of the Production rows).

                """
            // A run of other sections alone (`--scenarios passthrough`) has no scenario table.
            if !run.scenarios.isEmpty {
                out += """

                    | Scenario | req/s | p50 ms | p99 ms | p99.9 ms | H req/s | D req/s | C req/s | ratio | RSS MB |
                    |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|

                    """
            }
            for s in run.scenarios {
                out += String(
                    format: "| %@ | %.0f | %.2f | %.2f | %.2f | %.0f | %.0f | %.0f | %.2f | %.0f |\n",
                    s.name as NSString,
                    s.requestsPerSecond,
                    s.p50,
                    s.p99,
                    s.p999,
                    s.httpCeiling,
                    s.databaseCeiling,
                    s.combinedCeiling,
                    s.ratio,
                    s.peakRSSMegabytes
                )
            }
            out += String(
                format:
                    "\nCursor export (one client, `limit=1000`, following `Link: rel=\"next\"`): %@ rows, %.1f MB in %.2f s. The database's own JSON dump of the same rows: %.1f MB in %.2f s. Ratio %.2f×.\n",
                run.exportRows.formatted() as NSString,
                Double(run.exportBytes) / 1e6,
                run.exportSeconds,
                Double(run.dumpBytes) / 1e6,
                run.dumpSeconds,
                run.exportRatio
            )
            if !run.metricsOverhead.isEmpty {
                out += """

                    Metrics overhead: the same server with metrics on (as `serve` runs by default) and a second one \
                    on the same database with `--metrics off`, tracing off in both: \
                    \(run.metricsOverhead[0].rounds.count) rounds of one measurement per side, back to back, alternating \
                    which goes first. req/s are the means; loss is the median of the rounds' 1 − on/off.

                    | Scenario | metrics on req/s | metrics off req/s | loss (median) | each round's loss |
                    |---|---:|---:|---:|---|

                    """
                for overhead in run.metricsOverhead {
                    let each = overhead.rounds.map { String(format: "%.1f%%", (1 - $0.on / $0.off) * 100) }
                    out += String(
                        format: "| %@ | %.0f | %.0f | %.1f%% | %@ |\n",
                        overhead.name as NSString,
                        overhead.on,
                        overhead.off,
                        overhead.loss * 100,
                        each.joined(separator: ", ") as NSString
                    )
                }
            }
            if let page = run.dashboardPage { out += Self.dashboardMarkdown(page) }
            if let passthrough = run.passthrough { out += Self.passthroughMarkdown(passthrough) }
            if let events = run.events { out += Self.eventsMarkdown(events) }
        }
        return out
    }

    func json() -> String {
        var w = JSONWriter(reservingCapacity: 16 * 1024)
        func number(_ key: String, _ value: Double) {
            w.key(key)
            w.number(value.isFinite ? String(format: "%.3f", value) : "null")
        }
        w.beginObject()
        w.member("date", ISO8601DateFormatter().string(from: date))
        w.member("machine", Self.machine())
        w.member("command", options.command)
        number("seconds_per_measurement", Double(options.seconds))
        number("wrk_threads", Double(options.threads))
        number("wrk_connections", Double(options.connections))
        w.key("runs")
        w.beginArray()
        for run in runs {
            w.beginObject()
            w.member("backend", run.backend)
            number("connections", Double(run.connections))
            number("production_rows", Double(run.productionRows))
            number("deep_offset", Double(run.deepOffset))
            number("seed_seconds", run.seedSeconds)
            w.key("export")
            w.beginObject()
            number("rows", Double(run.exportRows))
            number("seconds", run.exportSeconds)
            number("bytes", Double(run.exportBytes))
            number("database_dump_rows", Double(run.dumpRows))
            number("database_dump_seconds", run.dumpSeconds)
            number("database_dump_bytes", Double(run.dumpBytes))
            number("ratio", run.exportRatio)
            w.endObject()
            w.key("scenarios")
            w.beginArray()
            for s in run.scenarios {
                w.beginObject()
                w.member("name", s.name)
                number("requests_per_second", s.requestsPerSecond)
                number("p50_ms", s.p50)
                number("p99_ms", s.p99)
                number("p999_ms", s.p999)
                number("http_ceiling", s.httpCeiling)
                number("database_ceiling", s.databaseCeiling)
                number("combined_ceiling", s.combinedCeiling)
                number("ratio", s.ratio)
                number("peak_rss_mb", s.peakRSSMegabytes)
                w.endObject()
            }
            w.endArray()
            w.key("metrics_overhead")
            w.beginArray()
            for overhead in run.metricsOverhead {
                w.beginObject()
                w.member("name", overhead.name)
                number("metrics_on_requests_per_second", overhead.on)
                number("metrics_off_requests_per_second", overhead.off)
                number("loss", overhead.loss)
                w.endObject()
            }
            w.endArray()
            if let passthrough = run.passthrough {
                w.key("passthrough")
                w.beginObject()
                w.member("nginx", "\(passthrough.nginxVersion), \(passthrough.nginxWorkers)")
                w.key("sizes")
                w.beginArray()
                for size in passthrough.sizes {
                    w.beginObject()
                    number("response_bytes", Double(size.responseBytes))
                    number("requests_per_second", size.passthrough.requestsPerSecond)
                    number("p50_ms", size.passthrough.p50)
                    number("p99_ms", size.passthrough.p99)
                    number("p999_ms", size.passthrough.p999)
                    number("direct_requests_per_second", size.direct.requestsPerSecond)
                    number("nginx_requests_per_second", size.nginx.requestsPerSecond)
                    number("nginx_p50_ms", size.nginx.p50)
                    number("nginx_p99_ms", size.nginx.p99)
                    number("database_ceiling", size.databaseCeiling)
                    number("combined_ceiling", size.combinedCeiling)
                    number("ratio", size.ratio)
                    number("ratio_to_nginx", size.ratioToNginx)
                    number("ratio_to_direct", size.ratioToDirect)
                    number("ceiling_requests_per_second", size.ceiling.requestsPerSecond)
                    number("relay_requests_per_second", size.relay.requestsPerSecond)
                    number("relay_ceiling", size.relayCeiling)
                    number("relay_ceiling_share_of_combined", size.relayCeilingShareOfC)
                    number("ratio_to_relay_ceiling", size.ratioToRelayCeiling)
                    number("peak_rss_mb", size.peakRSSMegabytes)
                    w.endObject()
                }
                w.endArray()
                w.key("one_in_flight")
                w.beginObject()
                number("direct_p50_ms", passthrough.latencyDirect.p50)
                number("nginx_p50_ms", passthrough.latencyNginx.p50)
                number("relay_p50_ms", passthrough.latencyRelay.p50)
                number("p50_ms", passthrough.latencyPassthrough.p50)
                number("added_p50_ms", passthrough.addedLatency)
                w.endObject()
                w.endObject()
            }
            if let page = run.dashboardPage {
                w.key("dashboard_page")
                w.beginObject()
                for (name, t) in [
                    ("json_list", page.json), ("page", page.page), ("json_list_loaded", page.jsonLoaded),
                    ("page_loaded", page.pageLoaded),
                ] {
                    w.key(name)
                    w.beginObject()
                    number("requests_per_second", t.requestsPerSecond)
                    number("p50_ms", t.p50)
                    number("p99_ms", t.p99)
                    number("p999_ms", t.p999)
                    w.endObject()
                }
                number("p99_ratio", page.ratio)
                number("loaded_p99_ratio", page.loadedRatio)
                number("loaded_in_flight", Double(page.concurrency))
                w.endObject()
            }
            if let events = run.events {
                w.key("events")
                w.beginObject()
                for (name, t) in [("alone", events.alone), ("beside_slow_receiver", events.besideSlow)] {
                    w.key(name)
                    w.beginObject()
                    number("created", Double(t.created))
                    number("created_per_second", t.createdPerSecond)
                    number("delivered_per_second", t.deliveredPerSecond)
                    number("drain_seconds", t.drainSeconds)
                    number("p50_ms", t.p50)
                    number("p99_ms", t.p99)
                    w.endObject()
                }
                number("paced_rate", Double(events.pacedRate))
                number("paced_p50_ms", events.pacedP50)
                number("paced_p99_ms", events.pacedP99)
                number("paced_max_ms", events.pacedMax)
                number("isolation_ratio", events.isolationRatio)
                w.endObject()
            }
            w.endObject()
        }
        w.endArray()
        w.key("targets")
        w.beginArray()
        for t in targets() {
            w.beginObject()
            w.member("what", t.what)
            w.member("backend", t.backend)
            w.member("target", t.target)
            w.member("measured", t.measured)
            w.key("met")
            w.bool(t.met)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return String(decoding: w.bytes, as: UTF8.self) + "\n"
    }

    /// CPU model, cores, memory and OS, read from /proc (no host name: it says nothing useful).
    static func machine() -> String {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) }
            ?? "unknown CPU"
        let meminfo = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        let memory =
            meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal") }
            .flatMap { Double($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") }
            .map { String(format: "%.0f GiB", $0 / 1024 / 1024) } ?? "?"
        let os =
            ((try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? "").split(separator: "\n")
            .first { $0.hasPrefix("PRETTY_NAME=") }
            .map { $0.dropFirst(12).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) } ?? "Linux"
        return "\(ProcessInfo.processInfo.activeProcessorCount) cores (\(model)), \(memory), \(os)"
    }
}
