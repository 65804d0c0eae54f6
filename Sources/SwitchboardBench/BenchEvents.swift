import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SwitchboardCore
import SwitchboardEvents
import SwitchboardServer
import Synchronization

/// The events section: connections created through the API of a server of its own, their
/// `CONNECTION_CREATED` events delivered to a loopback receiver in the bench process that checks
/// every Standard Webhooks signature and measures commit-to-receipt latency from the event's
/// `created_at` (written just before its transaction commits) to the moment the POST arrives.
///
/// 1. Throughput: wrk creates connections as fast as it can for `seconds`; the receiver counts
///    deliveries until all have arrived.
/// 2. Latency: one client creates 200 connections a second for `seconds`.
/// 3. Isolation: the throughput run again while another workspace's receiver takes 5 s to
///    answer each delivery (its connections created 20 a second beside).
extension BenchRunner {
    static let eventsSection = "events"
    static let eventsPacedRate = 200
    static let eventsSlowRate = 20
    static let eventsSlowAnswer: Duration = .seconds(5)

    var runsEvents: Bool {
        options.scenarioPrefixes?.contains(where: { Self.eventsSection.hasPrefix($0) }) ?? true
    }

    func measureEvents(runtime: Runtime, childEnvironment: [String: String], wrk: Wrk) async throws -> EventsRun {
        let receiver = try await EventReceiver.start(logger: logger)
        do {
            let result = try await measureEvents(
                receiver: receiver,
                runtime: runtime,
                childEnvironment: childEnvironment,
                wrk: wrk
            )
            await receiver.stop()
            return result
        } catch {
            await receiver.stop()
            throw error
        }
    }

    private func measureEvents(
        receiver: EventReceiver,
        runtime: Runtime,
        childEnvironment: [String: String],
        wrk: Wrk
    ) async throws -> EventsRun {
        let server = try BenchServer.start(
            executable: options.executable,
            environment: childEnvironment,
            directory: options.workDirectory,
            arguments: ["--egress-allow", "127.0.0.1", "--deliver-events"],
            logName: "server-events.log"
        )
        defer { server.stop() }

        // Two workspaces, each with its event webhook at its own path of the receiver.
        func workspace(_ label: String) async throws -> String {
            let key = try await runtime.workspaces.createWorkspace(name: "events-\(label)").apiKey
            let response = try LoopbackHTTPClient(port: server.port).request(
                "PATCH",
                "/switchboard/workspace",
                headers: [("Authorization", key), ("Content-Type", "application/json")],
                body: Array(#"{"event_webhook_url":"http://127.0.0.1:\#(receiver.port)/hook/\#(label)"}"#.utf8)
            )
            guard response.status == 200,
                let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                let secret = object["event_webhook_secret"] as? String
            else { throw Failure(description: "events section: setting the webhook answered \(response.status)") }
            receiver.register(label, secret: secret, delay: label == "slow" ? Self.eventsSlowAnswer : nil)
            return key
        }
        let fastKey = try await workspace("fast")
        let slowKey = try await workspace("slow")
        let body =
            #"{"integration_type":"hubspot","categories":["crm"],"permissions":[],"auth":{"access_token":"bench"}}"#

        // 1. Throughput.
        let alone = try await throughput(receiver: receiver, server: server, key: fastKey, body: body, wrk: wrk)
        progress(
            String(
                format: "events: %.0f created/s, %.0f delivered/s, drained %.2f s after the load",
                alone.createdPerSecond,
                alone.deliveredPerSecond,
                alone.drainSeconds
            )
        )

        // 2. Latency at a steady 200 events/s.
        receiver.reset("fast")
        let count = Self.eventsPacedRate * options.seconds
        let created = try Self.paced(
            port: server.port,
            key: fastKey,
            body: body,
            rate: Self.eventsPacedRate,
            count: count
        )
        try await receiver.waitFor("fast", count: created, timeout: .seconds(60))
        let paced = receiver.stats("fast")
        progress(
            String(
                format: "events at %d/s: commit-to-receipt p50 %.1f ms, p99 %.1f ms, max %.1f ms",
                Self.eventsPacedRate,
                paced.percentile(50),
                paced.percentile(99),
                paced.latencies.max() ?? 0
            )
        )

        // 3. Isolation: the throughput run beside a workspace whose receiver answers in 5 s.
        let stop = StopFlag()
        let slowLoad = Thread {
            _ = try? Self.paced(
                port: server.port,
                key: slowKey,
                body: body,
                rate: Self.eventsSlowRate,
                count: Int.max,
                stop: stop
            )
        }
        slowLoad.start()
        // Let the slow endpoint fill its delivery slots first.
        try await Task.sleep(for: .seconds(2))
        let beside: EventsRun.Throughput
        do {
            beside = try await throughput(receiver: receiver, server: server, key: fastKey, body: body, wrk: wrk)
        } catch {
            stop.value.store(true, ordering: .relaxed)
            throw error
        }
        stop.value.store(true, ordering: .relaxed)
        let slow = receiver.stats("slow")
        progress(
            String(
                format: "events beside a 5 s receiver: %.0f delivered/s (%.0f alone); the slow one got %d",
                beside.deliveredPerSecond,
                alone.deliveredPerSecond,
                slow.count
            )
        )
        let bad = receiver.badSignatures
        guard bad == 0 else { throw Failure(description: "events section: \(bad) deliveries had a bad signature") }
        return EventsRun(
            alone: alone,
            pacedRate: Self.eventsPacedRate,
            pacedCount: paced.ids.count,
            pacedP50: paced.percentile(50),
            pacedP99: paced.percentile(99),
            pacedMax: paced.latencies.max() ?? 0,
            besideSlow: beside,
            slowDelivered: slow.count
        )
    }

    /// wrk creates connections for `seconds`; then waits until every created one's event arrived.
    private func throughput(
        receiver: EventReceiver,
        server: BenchServer,
        key: String,
        body: String,
        wrk: Wrk
    ) async throws -> EventsRun.Throughput {
        receiver.reset("fast")
        let started = Date()
        let result = try wrk.run(
            port: server.port,
            method: "POST",
            paths: ["/unified/connection"],
            body: body,
            key: key,
            seconds: options.seconds
        )
        let loadEnd = Date()
        guard result.socketErrors == 0, result.non2xx == 0 else {
            throw Failure(
                description: "events section: \(result.non2xx) creates failed, \(result.socketErrors) socket errors"
            )
        }
        try await receiver.waitFor("fast", count: result.requests, timeout: .seconds(120))
        let stats = receiver.stats("fast")
        let last = stats.lastReceipt ?? loadEnd
        return EventsRun.Throughput(
            created: result.requests,
            createdPerSecond: result.requestsPerSecond,
            delivered: stats.ids.count,
            deliveredPerSecond: Double(stats.ids.count) / max(0.001, last.timeIntervalSince(started)),
            drainSeconds: max(0, last.timeIntervalSince(loadEnd)),
            p50: stats.percentile(50),
            p99: stats.percentile(99)
        )
    }

    /// Creates up to `count` connections at `rate` a second with one client; returns how many.
    private static func paced(
        port: Int,
        key: String,
        body: String,
        rate: Int,
        count: Int,
        stop: StopFlag? = nil
    ) throws -> Int {
        let client = LoopbackHTTPClient(port: port)
        let start = Date()
        var created = 0
        while created < count, stop?.value.load(ordering: .relaxed) != true {
            let due = start.addingTimeInterval(Double(created) / Double(rate))
            let wait = due.timeIntervalSinceNow
            if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
            let response = try client.request(
                "POST",
                "/unified/connection",
                headers: [("Authorization", key), ("Content-Type", "application/json")],
                body: Array(body.utf8)
            )
            guard response.status == 200 else {
                throw Failure(description: "events section: a paced create answered \(response.status)")
            }
            created += 1
        }
        return created
    }
}

/// The events section's results for one backend.
struct EventsRun: Sendable {
    struct Throughput: Sendable {
        var created: Int
        var createdPerSecond: Double
        var delivered: Int
        /// Deliveries over the time from the start of the load to the last receipt.
        var deliveredPerSecond: Double
        /// From the end of the load to the last receipt.
        var drainSeconds: Double
        var p50: Double
        var p99: Double
    }

    var alone: Throughput
    var pacedRate: Int
    var pacedCount: Int
    var pacedP50: Double
    var pacedP99: Double
    var pacedMax: Double
    var besideSlow: Throughput
    var slowDelivered: Int

    var isolationRatio: Double { besideSlow.deliveredPerSecond / alone.deliveredPerSecond }
}

/// The webhook receiver: `POST /hook/{label}` on a free 127.0.0.1 port. It verifies each
/// delivery's Standard Webhooks signature with the label's secret, and records receipt times and
/// commit-to-receipt latencies; a label with a delay answers only after it.
final class EventReceiver: Sendable {
    struct Stats: Sendable {
        /// Events created before this are stragglers of an earlier run: not counted.
        var since = Date.distantPast
        var count = 0
        var ids: Set<String> = []
        var latencies: [Double] = []
        var lastReceipt: Date?

        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            let sorted = latencies.sorted()
            return sorted[min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1)]
        }
    }

    struct Endpoint: Sendable {
        var secret: String
        var delay: Duration?
    }

    /// What the handler and the bench share.
    final class Shared: Sendable {
        let endpoints = Mutex<[String: Endpoint]>([:])
        let state = Mutex<[String: Stats]>([:])
        let bad = Atomic<Int>(0)
    }

    let port: Int
    private let task: Task<Void, any Error>
    private let shared: Shared

    private init(port: Int, task: Task<Void, any Error>, shared: Shared) {
        self.port = port
        self.task = task
        self.shared = shared
    }

    var badSignatures: Int { shared.bad.load(ordering: .relaxed) }

    func register(_ label: String, secret: String, delay: Duration?) {
        shared.endpoints.withLock { $0[label] = Endpoint(secret: secret, delay: delay) }
    }

    /// Starts counting afresh: only events created from now on.
    func reset(_ label: String) { shared.state.withLock { $0[label] = Stats(since: Date()) } }

    func stats(_ label: String) -> Stats { shared.state.withLock { $0[label] ?? Stats() } }

    func waitFor(_ label: String, count: Int, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while stats(label).ids.count < count {
            guard ContinuousClock.now < deadline else {
                throw BenchRunner.Failure(
                    description:
                        "events section: \(stats(label).ids.count) of \(count) events arrived within \(timeout)"
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func start(logger: Logger) async throws -> EventReceiver {
        let shared = Shared()
        let router = Router()
        router.post("/hook/:label") { request, context -> Response in
            let label = context.parameters.get("label") ?? ""
            let body = try await request.body.collect(upTo: 1 << 20)
            let bytes = Array(body.readableBytesView)
            let arrived = Date()
            guard let endpoint = shared.endpoints.withLock({ $0[label] }),
                let id = request.headers[HTTPField.Name("webhook-id")!],
                let timestamp = request.headers[HTTPField.Name("webhook-timestamp")!].flatMap({ Int64($0) }),
                let signature = request.headers[HTTPField.Name("webhook-signature")!]
            else {
                shared.bad.add(1, ordering: .relaxed)
                return Response(status: .badRequest)
            }
            let expected = WebhookSignature.header(
                id: id,
                timestamp: timestamp,
                body: bytes,
                secrets: [endpoint.secret]
            )
            guard signature.split(separator: " ").contains(Substring(expected)) else {
                shared.bad.add(1, ordering: .relaxed)
                return Response(status: .unauthorized)
            }
            guard case .object(let members)? = try? JSONParser.parse(bytes),
                case .string(let created)? = members.first(where: { $0.key == "created_at" })?.value,
                let time = Timestamp(rfc3339: created)
            else {
                shared.bad.add(1, ordering: .relaxed)
                return Response(status: .badRequest)
            }
            let createdAt = Double(time.millisecondsSinceEpoch)
            let latency = arrived.timeIntervalSince1970 * 1000 - createdAt
            shared.state.withLock { all in
                var stats = all[label] ?? Stats()
                // Milliseconds in the body: an event of this run can read as up to 1 ms early.
                guard createdAt >= stats.since.timeIntervalSince1970 * 1000 - 1 else { return }
                if stats.ids.insert(id).inserted { stats.latencies.append(latency) }
                stats.count += 1
                stats.lastReceipt = arrived
                all[label] = stats
            }
            if let delay = endpoint.delay { try await Task.sleep(for: delay) }
            return Response(status: .ok)
        }
        let (port, task) = try await BenchUpstream.serveOnLoopback(router, name: "the event receiver", logger: logger)
        return EventReceiver(port: port, task: task, shared: shared)
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}

/// Tells a load thread to stop.
final class StopFlag: Sendable {
    let value = Atomic<Bool>(false)
}
