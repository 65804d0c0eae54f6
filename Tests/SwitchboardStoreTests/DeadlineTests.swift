import Synchronization
import Testing

@testable import SwitchboardPostgres

/// Runs `body` with a watchdog whose loop runs for exactly as long, as `PostgresStore.run()` does.
func withWatchdog<T: Sendable>(
    tick: Duration = .milliseconds(50),
    _ body: @Sendable (DeadlineWatchdog) async throws -> T
) async throws -> T {
    let watchdog = DeadlineWatchdog(tick: tick)
    return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
        group.addTask { await watchdog.run() }
        defer { group.cancelAll() }
        return try await body(watchdog)
    }
}

@Suite struct DeadlineTests {
    struct TimedOut: Error {}
    let timedOut: @Sendable () -> any Error = { TimedOut() }

    @Test func returnsTheResultWhenTheBodyIsInTime() async throws {
        let timedOut = timedOut
        let value = try await withWatchdog { watchdog in
            try await withDeadline(.seconds(5), onTimeout: timedOut, watchdog: watchdog) { 42 }
        }
        #expect(value == 42)
    }

    @Test func passesTheBodysErrorThrough() async {
        struct Failed: Error {}
        let timedOut = timedOut
        await #expect(throws: Failed.self) {
            try await withWatchdog { watchdog in
                try await withDeadline(.seconds(5), onTimeout: timedOut, watchdog: watchdog) {
                    () async throws -> Int in throw Failed()
                }
            }
        }
    }

    @Test func throwsAtTheDeadlineEvenWhenTheBodyNeverEndsNorHonoursCancellation() async {
        // A call that ignores cancellation and does not return, like a driver call on a dead
        // connection; released only after the assertion so the test leaves nothing behind.
        let stuck = Mutex<CheckedContinuation<Int, Never>?>(nil)
        let started = ContinuousClock.now
        let timedOut = timedOut
        await #expect(throws: TimedOut.self) {
            try await withWatchdog { watchdog in
                try await withDeadline(.milliseconds(200), onTimeout: timedOut, watchdog: watchdog) {
                    () async -> Int in
                    await withCheckedContinuation { continuation in stuck.withLock { $0 = continuation } }
                }
            }
        }
        // Without the deadline this would never return; the bound is loose because the whole suite
        // runs in parallel on a loaded 2-core machine (it once took 4.8 s for a 200 ms deadline).
        #expect(ContinuousClock.now - started < .seconds(30))
        stuck.withLock { $0?.resume(returning: 0) }
    }

    @Test func finishedCallsAreNoLongerWatchedAndTheWatchdogStopsWhenIdle() async throws {
        let timedOut = timedOut
        try await withWatchdog(tick: .milliseconds(20)) { watchdog in
            try await Self.watchManyThenIdle(watchdog, timedOut)
        }
    }

    static func watchManyThenIdle(
        _ watchdog: DeadlineWatchdog,
        _ timedOut: @escaping @Sendable () -> any Error
    ) async throws {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<500 {
                group.addTask { try await withDeadline(.seconds(5), onTimeout: timedOut, watchdog: watchdog) { i } }
            }
            var sum = 0
            for try await value in group { sum += value }
            #expect(sum == 500 * 499 / 2)
        }
        #expect(watchdog.status.watched == 0)
        await #expect(throws: TimedOut.self) {
            try await withDeadline(.milliseconds(50), onTimeout: timedOut, watchdog: watchdog) {
                () async throws -> Int in
                try await Task.sleep(for: .seconds(60))
                return 0
            }
        }
        #expect(watchdog.status.watched == 0)
        // Idle: the checking task ends within a tick or two (loosely bounded for a loaded machine).
        let started = ContinuousClock.now
        while watchdog.status.running, ContinuousClock.now - started < .seconds(30) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(!watchdog.status.running)
    }
}
