import Foundation

/// The dashboard's connections page against the JSON list it renders, the same filter and page
/// size, measured back to back on the same server: the page must stay within twice the list's p99.
struct DashboardPageRun: Sendable {
    var json: Wrk.Result
    var page: Wrk.Result
    var pageBytes: Int
    var jsonBytes: Int

    var ratio: Double { page.p99 / json.p99 }
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
        let json = try wrk.run(
            port: server.port,
            method: "GET",
            paths: [jsonPath],
            body: nil,
            key: key,
            seconds: seconds
        )
        let page = try wrk.run(
            port: server.port,
            method: "GET",
            paths: [pagePath],
            body: nil,
            key: "",
            seconds: seconds,
            cookie: cookie
        )
        guard page.non2xx == 0, json.non2xx == 0 else {
            throw Failure(description: "dashboard page: \(page.non2xx) and list: \(json.non2xx) non-2xx answers")
        }
        progress(
            String(
                format: "dashboard page p99 %.2f ms (%.0f req/s) vs JSON list p99 %.2f ms (%.0f req/s)",
                page.p99,
                page.requestsPerSecond,
                json.p99,
                json.requestsPerSecond
            )
        )
        return DashboardPageRun(json: json, page: page, pageBytes: sample.body.count, jsonBytes: jsonSample.body.count)
    }
}

extension BenchReport {
    func dashboardTarget(_ run: DashboardPageRun, connections: Int, backend: String) -> Target {
        Target(
            what: "dashboard connections page (100 rows) p99 vs the JSON list's at \(connections.formatted())",
            backend: backend,
            target: "≤ 2×",
            measured: String(format: "%.2f ms vs %.2f ms = %.2f×", run.page.p99, run.json.p99, run.ratio),
            met: run.ratio <= 2
        )
    }

    static func dashboardMarkdown(_ run: DashboardPageRun) -> String {
        String(
            format: """

                Dashboard: `GET /dashboard/connections?limit=100` (signed in with a session cookie: the page, its filters, two SVG charts from counts cached 30 s) against `GET /unified/connection?limit=100` with the same key, back to back on the same server and concurrency.

                | Request | req/s | p50 ms | p99 ms | p99.9 ms | bytes |
                |---|---:|---:|---:|---:|---:|
                | JSON list | %.0f | %.2f | %.2f | %.2f | %d |
                | connections page | %.0f | %.2f | %.2f | %.2f | %d |

                """,
            run.json.requestsPerSecond,
            run.json.p50,
            run.json.p99,
            run.json.p999,
            run.jsonBytes,
            run.page.requestsPerSecond,
            run.page.p50,
            run.page.p99,
            run.page.p999,
            run.pageBytes
        )
    }
}
