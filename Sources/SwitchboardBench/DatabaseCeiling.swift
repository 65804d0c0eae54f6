import Foundation
import Synchronization

/// The database ceiling D: one scenario's database work run in a loop in this process, with the
/// same driver and as many concurrent callers as the load generator has connections.
enum DatabaseCeiling {
    /// Runs `operation(i)` from `concurrency` tasks for `seconds`, `i` counting up per task from a
    /// task-specific offset. Returns operations per second.
    static func measure(
        concurrency: Int,
        seconds: Double,
        _ operation: @escaping @Sendable (Int) async throws -> Void
    ) async throws -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .milliseconds(Int(seconds * 1000))
        let total = try await withThrowingTaskGroup(of: Int.self, returning: Int.self) { group in
            for task in 0..<concurrency {
                group.addTask {
                    var done = 0
                    var i = task * 7919
                    while clock.now < deadline {
                        try await operation(i)
                        done += 1
                        i += 1
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = clock.now - start
        let secondsElapsed = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(total) / secondsElapsed
    }
}
