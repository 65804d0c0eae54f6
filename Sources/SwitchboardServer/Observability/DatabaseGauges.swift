import CoreMetrics
import Logging
import SwitchboardCore
import Synchronization

/// Gauges read from the database for the whole install (every replica reports the same), read
/// when `/metrics` is scraped rather than on a timer: the token refresher's backlog at most once
/// a second, and which master key seals how many records (key rotation's progress), a count over
/// every sealed row, at most once a minute. A scrape waits for them at most `deadline`; when
/// the database does not answer, the last values stay.
final class DatabaseGauges: Sendable {
    private let store: any SwitchboardStore
    private let refreshMargin: Int64
    private let keyRotation: KeyRotation
    private let logger: Logger
    private let deadline: Duration
    private let state = Mutex<
        (backlogAt: ContinuousClock.Instant?, keysAt: ContinuousClock.Instant?, keys: Set<String>)
    >(
        (nil, nil, [])
    )

    init(
        store: any SwitchboardStore,
        refreshMargin: Int64,
        keyRotation: KeyRotation,
        logger: Logger,
        deadline: Duration = .seconds(2)
    ) {
        self.store = store
        self.refreshMargin = refreshMargin
        self.keyRotation = keyRotation
        self.logger = logger
        self.deadline = deadline
    }

    /// Brings stale gauges up to date, waiting at most the deadline.
    func update() async {
        let now = ContinuousClock.now
        // Claimed before reading, so concurrent scrapes do not read twice.
        let (backlog, keys) = state.withLock { state in
            let backlog = state.backlogAt.map { now - $0 >= .seconds(1) } ?? true
            let keys = state.keysAt.map { now - $0 >= .seconds(60) } ?? true
            if backlog { state.backlogAt = now }
            if keys { state.keysAt = now }
            return (backlog, keys)
        }
        guard backlog || keys else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    if backlog { try await self.updateBacklog() }
                    if keys { try await self.updateKeys() }
                } catch {
                    self.logger.warning("Reading metrics from the database failed", metadata: ["error": "\(error)"])
                }
            }
            group.addTask { try? await Task.sleep(for: self.deadline) }
            // Whichever ends first: a read past the deadline is cancelled, and the last values stay.
            await group.next()
            group.cancelAll()
        }
    }

    private func updateBacklog() async throws {
        let time = Timestamp.now()
        let backlog = try await store.refreshBacklog(at: time, dueBy: time.adding(seconds: refreshMargin))
        Gauge(label: "switchboard_connections_needing_reauth").record(backlog.needsReauthorization)
        Gauge(label: "switchboard_token_refresh_due").record(backlog.due)
        // How far behind the refresher is: since the earliest token still unrefreshed fell due
        // (its expiry minus the margin); 0 when none is due.
        let overdue = backlog.earliestDueExpiry.map {
            max(0, time.millisecondsSinceEpoch - $0.adding(seconds: -refreshMargin).millisecondsSinceEpoch)
        }
        Gauge(label: "switchboard_token_refresh_overdue_seconds").record(Double(overdue ?? 0) / 1000)
        // The event outbox: deliveries due and not under way, and how long the oldest has waited.
        let events = try await store.deliveryBacklog(at: time)
        Gauge(label: "switchboard_event_deliveries_due").record(events.due)
        let waiting = events.earliestDue.map { max(0, time.millisecondsSinceEpoch - $0.millisecondsSinceEpoch) }
        Gauge(label: "switchboard_event_delivery_overdue_seconds").record(Double(waiting ?? 0) / 1000)
    }

    private func updateKeys() async throws {
        let counts = try await keyRotation.counts()
        let active = keyRotation.activeKeyID
        // Every key seen so far (a retired key drops to 0), and the active key even at 0.
        let keys = state.withLock { state in
            state.keys.formUnion(counts.keys)
            state.keys.insert(active)
            return state.keys
        }
        for key in keys {
            Gauge(label: "switchboard_sealed_records", dimensions: [("key", key)]).record(counts[key] ?? 0)
        }
        Gauge(label: "switchboard_key_rotation_pending_records")
            .record(counts.filter { $0.key != active }.values.reduce(0, +))
    }
}
