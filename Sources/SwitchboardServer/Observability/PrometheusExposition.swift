import CoreMetrics
import HTTPTypes
import Hummingbird
import Prometheus
import SwitchboardCore
import Synchronization

/// The process's Prometheus registry: swift-metrics' backend, and what `GET /metrics` serves in
/// the text exposition format. Modules record through swift-metrics (`Counter`, `Timer`...);
/// `serve` bootstraps this once, before anything records.
public final class PrometheusExposition: Sendable {
    let registry: PrometheusCollectorRegistry
    /// The bearer token a scrape must present; nil: none.
    let token: String?

    init(registry: PrometheusCollectorRegistry, token: String?) {
        self.registry = registry
        self.token = token
    }

    /// Latency buckets, in seconds: sub-millisecond reads up to slow upstream calls.
    static let durationBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2.5), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    /// Makes the registry swift-metrics' backend for the whole process. Call once, first.
    /// Records `switchboard_build_info` for `backend` (`DatabaseLocation.backendName`).
    public static func bootstrap(token: String?, backend: String) -> PrometheusExposition {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = durationBuckets
        // Seconds after a token fell due that its refresh ran.
        factory.valueHistogramBuckets["switchboard_token_refresh_lag_seconds"] = [
            1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600,
        ]
        // An event delivery's round trip to the receiver, and how long after it fell due it ran.
        factory.valueHistogramBuckets["switchboard_event_delivery_duration_seconds"] = [
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 30,
        ]
        factory.valueHistogramBuckets["switchboard_event_delivery_lag_seconds"] = [
            0.05, 0.1, 0.25, 0.5, 1, 5, 30, 60, 300, 3600,
        ]
        MetricsSystem.bootstrap(factory)
        HTTPMetrics.recordBuild(backend: backend)
        return PrometheusExposition(registry: registry, token: token)
    }

    /// `GET /metrics`, no API key (Prometheus sends none); `Authorization: Bearer <token>` when a
    /// token is set. The database's gauges are brought up to date first.
    func register(on router: Router<AppRequestContext>, runtime: Runtime) {
        let gauges = DatabaseGauges(
            store: runtime.store,
            refreshMargin: runtime.refresher.policy.margin,
            keyRotation: runtime.keyRotation,
            logger: runtime.logger
        )
        router.get("/metrics") { request, _ in
            if let token = self.token {
                let presented = request.headers[.authorization].map { Array($0.utf8) } ?? []
                guard constantTimeEquals(presented, Array("Bearer \(token)".utf8)) else {
                    throw APIError(
                        status: .unauthorized,
                        code: "unauthorized",
                        message: "/metrics needs Authorization: Bearer <the metrics token>",
                        headers: [.wwwAuthenticate: "Bearer"]
                    )
                }
            }
            await gauges.update()
            var buffer: [UInt8] = []
            buffer.reserveCapacity(64 * 1024)
            self.registry.emit(into: &buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer))
            )
        }
    }
}

/// Metrics recorded at the HTTP edge.
enum HTTPMetrics {
    static let inFlight = Meter(label: "switchboard_http_requests_in_flight")

    /// The handles of each (route, method, status) seen, made once: making one looks it up in the
    /// registry under its lock, validating names and sorting labels, on every request otherwise.
    private static let handles = HandleCache()

    private final class HandleCache: Sendable {
        struct Key: Hashable {
            var route: String
            var method: String
            var status: Int
        }
        let entries = Mutex<[Key: (requests: CoreMetrics.Counter, duration: CoreMetrics.Timer)]>([:])
    }

    /// One finished request: `route` is the template (`/unified/connection/{id}`), never a path.
    static func finished(route: String, method: String, status: Int, duration: Duration) {
        let key = HandleCache.Key(route: route, method: method, status: status)
        let (requests, timer) = handles.entries.withLock { entries in
            if let found = entries[key] { return found }
            let made = (
                requests: Counter(
                    label: "switchboard_http_requests_total",
                    dimensions: [("route", route), ("method", method), ("status", String(status))]
                ),
                duration: Timer(
                    label: "switchboard_http_request_duration_seconds",
                    dimensions: [("route", route), ("method", method)]
                )
            )
            entries[key] = made
            return made
        }
        requests.increment()
        timer.record(duration: duration)
    }

    /// A request refused before any route ran: `missing_header`, `invalid_key` (unknown,
    /// malformed, revoked or wrong secret: the API does not tell them apart), or `locked_out`
    /// (the address failed too often and got a 429).
    static func authenticationFailed(_ reason: String) {
        Counter(label: "switchboard_authentication_failures_total", dimensions: [("reason", reason)]).increment()
    }

    /// The build: `version` and the storage `backend`, value 1.
    static func recordBuild(backend: String) {
        Gauge(
            label: "switchboard_build_info",
            dimensions: [("version", SwitchboardVersion.current), ("backend", backend)]
        ).record(1)
    }
}
