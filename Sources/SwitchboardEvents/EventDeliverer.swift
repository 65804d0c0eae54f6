import AsyncHTTPClient
import CoreMetrics
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardEgress
import Synchronization

/// Delivers events to workspaces' event webhooks: claims due events under a lease, POSTs each,
/// signed, through the egress policy, and records every attempt and its outcome.
///
/// Every replica runs one. At most `maximumInFlight` deliveries run at once, and at most
/// `maximumInFlightPerWorkspace` to one workspace: a workspace at its limit is left out of the
/// next claim, so a slow or dead endpoint holds up only its own events. Outcomes are written in
/// batches; a deliverer that dies before writing one leaves the event leased until the lease
/// ends, and then another deliverer sends it again (same `webhook-id`).
public final class EventDeliverer: Sendable {
    private let store: any EventStore
    private let sealer: any SecretSealer
    private let client: EgressClient
    private let settings: EventSettings
    private let owner: String
    private let logger: Logger
    private let now: @Sendable () -> Timestamp
    private let pollInterval: Duration

    public init(
        store: any EventStore,
        sealer: any SecretSealer,
        client: EgressClient,
        settings: EventSettings,
        logger: Logger,
        pollInterval: Duration = .milliseconds(200),
        now: @escaping @Sendable () -> Timestamp = Timestamp.now
    ) {
        self.store = store
        self.sealer = sealer
        self.client = client
        self.settings = settings
        self.owner = "deliverer-" + UUID().uuidString.lowercased()
        self.logger = logger
        self.pollInterval = pollInterval
        self.now = now
    }

    /// The HTTP client settings for receivers: the delivery timeout for connecting and reading.
    public static func clientConfiguration(_ settings: EventSettings) -> HTTPClient.Configuration {
        var configuration = EgressClient.defaultConfiguration(
            connectTimeout: .seconds(min(10, settings.timeoutSeconds)),
            readTimeout: .seconds(settings.timeoutSeconds)
        )
        // As many connections to one host as deliveries run at once: workspaces whose endpoints
        // share a host (a hosted webhook service) must not queue behind a slow one in the pool.
        // The deliverer's own limits (per workspace, in all) are what bound the load.
        configuration.connectionPool = .init(
            idleTimeout: .seconds(30),
            concurrentHTTP1ConnectionsPerHostSoftLimit: settings.maximumInFlight
        )
        return configuration
    }

    /// What a child task hands back: a delivery's outcome, the tick that paces claims and
    /// writes, a claim's events (nil when it failed), or the end of a write (with the outcomes to
    /// write again when it failed).
    private enum Step: Sendable {
        case done(DeliveryOutcome)
        case tick
        case claimed([DeliveryClaim]?, at: Timestamp)
        case written(failed: [DeliveryOutcome])
    }

    /// Runs until cancelled. On cancellation the outcomes known are written and the events still
    /// in flight are given back (their receivers may have them already: they come again with
    /// the same `webhook-id`).
    ///
    /// One loop owns the state; claims and writes run as child tasks, one of each at a time, so
    /// deliveries keep starting and finishing while the database answers.
    public func run() async {
        var inFlight: [String: DeliveryClaim] = [:]
        var perWorkspace: [WorkspaceID: Int] = [:]
        var finished: [DeliveryOutcome] = []
        var failingSince: ContinuousClock.Instant?
        await withTaskGroup(of: Step.self) { group in
            group.addTask { [pollInterval] in
                try? await Task.sleep(for: pollInterval)
                return .tick
            }
            var claimNow = true
            var claiming = false
            var finishedSinceClaim = 0
            var writing = false
            func startClaim() {
                guard !claiming, inFlight.count < settings.maximumInFlight else { return }
                let saturated = perWorkspace.filter { $0.value >= settings.maximumInFlightPerWorkspace }.map(\.key)
                let limit = settings.maximumInFlight - inFlight.count
                claiming = true
                claimNow = false
                finishedSinceClaim = 0
                group.addTask { [store, owner, now, settings] in
                    let time = now()
                    let claims = try? await store.claimDueDeliveries(
                        owner: owner,
                        at: time,
                        until: time.adding(seconds: settings.leaseSeconds),
                        limit: limit,
                        perWorkspace: settings.maximumInFlightPerWorkspace,
                        excluding: saturated
                    )
                    return .claimed(claims, at: time)
                }
            }
            func startWrite() {
                guard !writing, !finished.isEmpty else { return }
                let batch = finished
                finished.removeAll(keepingCapacity: true)
                writing = true
                group.addTask { [store, owner, now, logger] in
                    do {
                        try await store.finishDeliveries(batch, owner: owner, at: now())
                        return .written(failed: [])
                    } catch {
                        // Kept for the next write; if the lease ends first, the events are sent again.
                        logger.warning(
                            "Recording event deliveries failed; retrying",
                            metadata: ["count": "\(batch.count)", "error.type": "\(type(of: error))"]
                        )
                        return .written(failed: batch)
                    }
                }
            }
            while !Task.isCancelled {
                if claimNow { startClaim() }
                guard let step = await group.next() else { break }
                switch step {
                case .claimed(let claims, let time):
                    claiming = false
                    guard let claims else {
                        if Task.isCancelled { break }
                        if failingSince == nil {
                            logger.warning("Claiming event deliveries failed; retrying")
                            failingSince = .now
                        }
                        continue
                    }
                    if failingSince != nil { logger.notice("Claiming event deliveries works again") }
                    failingSince = nil
                    var excess: [DeliveryClaim] = []
                    for claim in claims {
                        let workspace = claim.event.workspaceID
                        guard perWorkspace[workspace, default: 0] < settings.maximumInFlightPerWorkspace,
                            inFlight.count < settings.maximumInFlight
                        else {
                            excess.append(claim)
                            continue
                        }
                        perWorkspace[workspace, default: 0] += 1
                        inFlight[claim.event.id] = claim
                        EventMetrics.lag(due: claim.dueAt, at: time)
                        group.addTask { .done(await self.deliver(claim)) }
                    }
                    // Rare: deliveries that started meanwhile filled a workspace's slots.
                    if !excess.isEmpty { try? await store.releaseDeliveries(excess, owner: owner) }
                case .done(let outcome):
                    finished.append(outcome)
                    inFlight[outcome.claim.event.id] = nil
                    let workspace = outcome.claim.event.workspaceID
                    perWorkspace[workspace, default: 1] -= 1
                    if perWorkspace[workspace] == 0 { perWorkspace[workspace] = nil }
                    // Claim again every few completions (a claim is a write: one per delivery
                    // would cost more than the delivery), or at once when nothing is in flight.
                    finishedSinceClaim += 1
                    if finishedSinceClaim >= Self.claimEvery || inFlight.isEmpty { claimNow = true }
                    if finished.count >= Self.writeBatch { startWrite() }
                case .written(let failed):
                    writing = false
                    finished = failed + finished
                    if finished.count >= Self.writeBatch { startWrite() }
                case .tick:
                    startWrite()
                    claimNow = true
                    group.addTask { [pollInterval] in
                        try? await Task.sleep(for: pollInterval)
                        return .tick
                    }
                }
            }
            group.cancelAll()
            // Outcomes that finished while cancelling are kept; the rest is given back.
            while let step = await group.next() {
                switch step {
                case .done(let outcome) where outcome.attempt.error != Self.cancelled:
                    finished.append(outcome)
                    inFlight[outcome.claim.event.id] = nil
                case .written(let failed): finished = failed + finished
                case .claimed(let claims?, _):
                    for claim in claims { inFlight[claim.event.id] = claim }
                case .done, .tick, .claimed: break
                }
            }
        }
        let unfinished = Array(inFlight.values)
        let outcomes = finished
        // A detached task: this one is cancelled, and the database calls must still run.
        await Task.detached { [store, owner, now, logger] in
            do {
                try await store.finishDeliveries(outcomes, owner: owner, at: now())
                try await store.releaseDeliveries(unfinished, owner: owner)
            } catch {
                logger.warning(
                    "Recording the last event deliveries failed; they will be sent again",
                    metadata: ["count": "\(outcomes.count + unfinished.count)", "error.type": "\(type(of: error))"]
                )
            }
        }.value
    }

    static let cancelled = "cancelled"
    /// Completions between claims while deliveries run; the tick claims in any case.
    static let claimEvery = 4
    /// Outcomes written together (the tick writes whatever there is).
    static let writeBatch = 64

    /// One attempt: sign, POST, read at most 1 KiB of the answer, and decide what comes next.
    func deliver(_ claim: DeliveryClaim) async -> DeliveryOutcome {
        let started = ContinuousClock.now
        let time = now()
        var status: Int?
        var problem: String?
        var body: String?
        var retryAfter: Int64?
        do {
            let secrets = try EventService.signingSecrets(claim.webhook, sealer: sealer, at: time)
            let payload = NotificationJSON.deliveryBody(claim.event)
            let timestamp = time.millisecondsSinceEpoch / 1000
            var request = HTTPClientRequest(url: claim.webhook.url)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.headers.add(name: "user-agent", value: "Switchboard-Webhooks/1")
            request.headers.add(name: "webhook-id", value: claim.event.id)
            request.headers.add(name: "webhook-timestamp", value: String(timestamp))
            request.headers.add(
                name: "webhook-signature",
                value: WebhookSignature.header(
                    id: claim.event.id,
                    timestamp: timestamp,
                    body: payload,
                    secrets: secrets
                )
            )
            request.body = .bytes(ByteBuffer(bytes: payload))
            let deadline = NIODeadline.now() + .seconds(settings.timeoutSeconds)
            let response = try await client.execute(request, deadline: deadline)
            let code = Int(response.status.code)
            status = code
            var collected: [UInt8] = []
            for try await chunk in response.body {
                collected += chunk.readableBytesView.prefix(DeliveryAttempt.responseBodyLimit - collected.count)
                if collected.count >= DeliveryAttempt.responseBodyLimit { break }
            }
            if !collected.isEmpty { body = String(decoding: collected, as: UTF8.self) }
            if !(200..<300).contains(code) {
                problem = "HTTP \(code)"
                if code == 429 || code >= 500, let value = response.headers.first(name: "retry-after") {
                    retryAfter = RetryAfter.seconds(value)
                }
            }
        } catch let refusal as EgressRefusal {
            problem = refusal.description
        } catch let failure as HTTPClientError {
            problem =
                switch failure {
                case .deadlineExceeded, .readTimeout: "timeout after \(settings.timeoutSeconds) s"
                case .connectTimeout: "connect timeout"
                case .cancelled: Self.cancelled
                default: "connection failed (\(failure.shortDescription))"
                }
        } catch is CancellationError {
            problem = Self.cancelled
        } catch let failure as SealingError {
            problem = "the signing secret cannot be opened (\(failure))"
        } catch {
            problem = "connection failed (\(Self.shortDescription(of: error)))"
        }
        if Task.isCancelled { problem = Self.cancelled }
        let latency = ContinuousClock.now - started
        let attempt = DeliveryAttempt(
            eventID: claim.event.id,
            workspaceID: claim.event.workspaceID,
            at: time,
            status: status,
            latencyMilliseconds: latency.components.seconds * 1000 + latency.components.attoseconds
                / 1_000_000_000_000_000,
            error: problem,
            responseBody: body,
            redelivery: claim.failures == 0 && claim.event.attempts > 0
        )
        let next: DeliveryOutcome.Next
        if problem == nil {
            next = .delivered
        } else if status == 410 {
            next = .gone
        } else if let at = settings.schedule.next(afterFailures: claim.failures + 1, retryAfter: retryAfter, at: now())
        {
            next = .retry(at: at)
        } else {
            next = .exhausted(reason: "retries exhausted: \(problem ?? "failed")")
        }
        EventMetrics.attempted(next, seconds: Double(attempt.latencyMilliseconds) / 1000)
        return DeliveryOutcome(claim: claim, attempt: attempt, next: next)
    }

    /// An error's kind and words, without anything that could be a URL.
    static func shortDescription(of error: any Error) -> String {
        let text = String(describing: error)
        return text.contains("://") ? String(describing: type(of: error)) : String(text.prefix(200))
    }
}

extension HTTPClientError {
    /// The error's name without payload (async-http-client's descriptions can carry a URL).
    var shortDescription: String {
        let text = String(describing: self)
        return text.contains("://") ? "HTTPClientError" : String(text.prefix(120))
    }
}

/// The deliverer's metrics, through swift-metrics.
enum EventMetrics {
    static func attempted(_ next: DeliveryOutcome.Next, seconds: Double) {
        let outcome =
            switch next {
            case .delivered: "delivered"
            case .retry: "retry"
            case .exhausted: "exhausted"
            case .gone: "gone"
            }
        Counter(label: "switchboard_event_deliveries_total", dimensions: [("outcome", outcome)]).increment()
        Recorder(label: "switchboard_event_delivery_duration_seconds").record(seconds)
    }

    /// Seconds from when the event was due (its last change: creation, a retry's time, a
    /// redelivery) to its attempt.
    static func lag(due: Timestamp, at time: Timestamp) {
        let milliseconds = time.millisecondsSinceEpoch - due.millisecondsSinceEpoch
        Recorder(label: "switchboard_event_delivery_lag_seconds").record(Double(max(0, milliseconds)) / 1000)
    }
}
