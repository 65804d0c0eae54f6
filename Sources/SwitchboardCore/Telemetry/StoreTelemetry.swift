import CoreMetrics
import Synchronization
import Tracing

/// What a store's operations do, seen from outside: latency and concurrency through
/// swift-metrics, a client span each through swift-distributed-tracing (`serve` picks the
/// backends; without them these cost next to nothing). Each backend wraps every operation in
/// `measure`, named after the store method (`list`, `insert`...): a fixed set of names.
package final class StoreTelemetry: Sendable {
    private let backend: String
    private let inFlight: Meter
    private let timers = Mutex<[String: (operation: String, timer: Timer)]>([:])

    /// `poolSize` is the number of connections the backend may open (1 writer for SQLite).
    package init(backend: String, poolSize: Int) {
        self.backend = backend
        inFlight = Meter(label: "switchboard_db_operations_in_flight", dimensions: [("backend", backend)])
        Gauge(label: "switchboard_db_pool_size", dimensions: [("backend", backend)]).record(poolSize)
    }

    /// Runs `body` in a span named after the operation, counting it in flight and recording its
    /// duration (waiting for a pooled connection included) under `function`'s name (`list(_:)`
    /// is `list`).
    package func measure<T>(_ function: String, _ body: () async throws -> T) async throws -> T {
        let (operation, timer) = instruments(function)
        inFlight.increment()
        let started = ContinuousClock.now
        defer {
            inFlight.decrement()
            timer.record(duration: ContinuousClock.now - started)
        }
        return try await withSpan(operation, ofKind: .client) { span in
            span.attributes["db.system.name"] = backend
            span.attributes["db.operation.name"] = operation
            return try await body()
        }
    }

    private func instruments(_ function: String) -> (operation: String, timer: Timer) {
        timers.withLock { timers in
            if let found = timers[function] { return found }
            let operation = String(function.prefix { $0 != "(" })
            let timer = Timer(
                label: "switchboard_db_operation_duration_seconds",
                dimensions: [("backend", backend), ("operation", operation)]
            )
            timers[function] = (operation, timer)
            return (operation, timer)
        }
    }
}

extension Timer {
    package func record(duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
