import CoreMetrics
import Synchronization

/// Latency and concurrency of a store's operations, through swift-metrics (the executable picks
/// the backend; without one these cost next to nothing). Each backend wraps every operation in
/// `measure`, named after the store method (`list`, `insert`...): a fixed set of label values.
package final class StoreMetrics: Sendable {
    private let backend: String
    private let inFlight: Meter
    private let timers = Mutex<[String: Timer]>([:])

    /// `poolSize` is the number of connections the backend may open (1 writer for SQLite).
    package init(backend: String, poolSize: Int) {
        self.backend = backend
        inFlight = Meter(label: "switchboard_db_operations_in_flight", dimensions: [("backend", backend)])
        Gauge(label: "switchboard_db_pool_size", dimensions: [("backend", backend)]).record(poolSize)
    }

    /// Runs `body`, counting it in flight and recording its duration (waiting for a pooled
    /// connection included) under `operation`, the calling method's name by default.
    package func measure<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        let timer = timer(operation)
        inFlight.increment()
        let started = ContinuousClock.now
        defer {
            inFlight.decrement()
            timer.record(duration: ContinuousClock.now - started)
        }
        return try await body()
    }

    private func timer(_ function: String) -> Timer {
        timers.withLock { timers in
            if let timer = timers[function] { return timer }
            // `list(_:)` → `list`
            let operation = String(function.prefix { $0 != "(" })
            let timer = Timer(
                label: "switchboard_db_operation_duration_seconds",
                dimensions: [("backend", backend), ("operation", operation)]
            )
            timers[function] = timer
            return timer
        }
    }
}

extension Timer {
    package func record(duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
