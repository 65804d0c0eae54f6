import Foundation

/// The dashboard's connections page against the JSON list it renders, the same filter and page
/// size, measured back to back on the same server, twice: at one request in flight, where p99 is
/// the time a page takes to render (the target: within twice the list's), and at the run's
/// concurrency, where p99 is mostly queueing and the ratio is that of their costs.
struct DashboardPageRun: Sendable {
    var json: Wrk.Result
    var page: Wrk.Result
    var jsonLoaded: Wrk.Result
    var pageLoaded: Wrk.Result
    var concurrency: Int
    var pageBytes: Int
    var jsonBytes: Int

    var ratio: Double { page.p99 / json.p99 }
    var loadedRatio: Double { pageLoaded.p99 / jsonLoaded.p99 }
}

extension BenchRunner {
    static let dashboardSection = "dashboard"
    /// The list's default filter and page, as the page is asked for it.
    static let dashboardQuery = "limit=100"

    var runsDashboard: Bool {
        options.scenarioPrefixes?.contains(where: { Self.dashboardSection.hasPrefix($0) }) ?? true
    }

    func measureDashboardPage(
        client: LoopbackHTTPClient,
        key: String,
        server: BenchServer,
        wrk: Wrk
    ) throws
        -> DashboardPageRun
    {
        let signIn = try client.request(
            "POST",
            "/dashboard/sign-in",
            headers: [("Content-Type", "application/x-www-form-urlencoded")],
            body: Array(("api_key=" + key).utf8)
        )
        guard signIn.status == 303, let setCookie = signIn.header("set-cookie"),
            let cookie = setCookie.split(separator: ";").first.map(String.init)
        else { throw Failure(description: "dashboard sign-in answered \(signIn.status)") }
        let pagePath = "/dashboard/connections?" + Self.dashboardQuery
        let jsonPath = "/unified/connection?" + Self.dashboardQuery
        // Warm: the first page view counts the workspace's connections for the charts (then cached).
        let sample = try client.request("GET", pagePath, headers: [("Cookie", cookie)])
        guard sample.status == 200 else { throw Failure(description: "\(pagePath) answered \(sample.status)") }
        let jsonSample = try client.request("GET", jsonPath, headers: [("Authorization", key)])
        let seconds = options.seconds
        func measure(connections: Int) throws -> (json: Wrk.Result, page: Wrk.Result) {
            let json = try wrk.run(
                port: server.port,
                method: "GET",
                paths: [jsonPath],
                body: nil,
                key: key,
                seconds: seconds,
                connections: connections
            )
            let page = try wrk.run(
                port: server.port,
                method: "GET",
                paths: [pagePath],
                body: nil,
                key: "",
                seconds: seconds,
                connections: connections,
                cookie: cookie
            )
            guard page.non2xx == 0, json.non2xx == 0 else {
                throw Failure(description: "dashboard page: \(page.non2xx) and list: \(json.non2xx) non-2xx answers")
            }
            return (json, page)
        }
        let alone = try measure(connections: 1)
        let loaded = try measure(connections: options.connections)
        progress(
            String(
                format:
                    "dashboard page p99 %.2f ms vs JSON list p99 %.2f ms at one in flight; %.2f ms (%.0f req/s) vs %.2f ms (%.0f req/s) at %d",
                alone.page.p99,
                alone.json.p99,
                loaded.page.p99,
                loaded.page.requestsPerSecond,
                loaded.json.p99,
                loaded.json.requestsPerSecond,
                options.connections
            )
        )
        return DashboardPageRun(
            json: alone.json,
            page: alone.page,
            jsonLoaded: loaded.json,
            pageLoaded: loaded.page,
            concurrency: options.connections,
            pageBytes: sample.body.count,
            jsonBytes: jsonSample.body.count
        )
    }
}

extension BenchReport {
    func dashboardTarget(_ run: DashboardPageRun, connections: Int, backend: String) -> Target {
        Target(
            what:
                "dashboard connections page (100 rows): render p99 (one in flight) vs the JSON list's at \(connections.formatted())",
            backend: backend,
            target: "≤ 2×",
            measured: String(
                format: "%.2f ms vs %.2f ms = %.2f× (at %d in flight: %.2f×)",
                run.page.p99,
                run.json.p99,
                run.ratio,
                run.concurrency,
                run.loadedRatio
            ),
            met: run.ratio <= 2
        )
    }

    static func dashboardMarkdown(_ run: DashboardPageRun) -> String {
        var out = """

            Dashboard: `GET /dashboard/connections?limit=100` (signed in with a session cookie: the page, its filters, two SVG charts from counts cached 30 s) against `GET /unified/connection?limit=100` with the same key, back to back on the same server, at one request in flight (the render time) and at the run's concurrency (mostly queueing: the ratio of their costs).

            | Request | in flight | req/s | p50 ms | p99 ms | p99.9 ms | bytes |
            |---|---:|---:|---:|---:|---:|---:|

            """
        for (name, inFlight, result, bytes) in [
            ("JSON list", 1, run.json, run.jsonBytes), ("connections page", 1, run.page, run.pageBytes),
            ("JSON list", run.concurrency, run.jsonLoaded, run.jsonBytes),
            ("connections page", run.concurrency, run.pageLoaded, run.pageBytes),
        ] {
            out += String(
                format: "| %@ | %d | %.0f | %.2f | %.2f | %.2f | %d |\n",
                name as NSString,
                inFlight,
                result.requestsPerSecond,
                result.p50,
                result.p99,
                result.p999,
                bytes
            )
        }
        return out
    }
}
