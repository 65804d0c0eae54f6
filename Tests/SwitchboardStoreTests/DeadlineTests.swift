import Synchronization
import Testing

@testable import SwitchboardPostgres

@Suite struct DeadlineTests {
    struct TimedOut: Error {}
    let timedOut: @Sendable () -> any Error = { TimedOut() }

    @Test func returnsTheResultWhenTheBodyIsInTime() async throws {
        let value = try await withDeadline(.seconds(5), onTimeout: timedOut) { 42 }
        #expect(value == 42)
    }

    @Test func passesTheBodysErrorThrough() async {
        struct Failed: Error {}
        await #expect(throws: Failed.self) {
            try await withDeadline(.seconds(5), onTimeout: timedOut) { () async throws -> Int in throw Failed() }
        }
    }

    @Test func throwsAtTheDeadlineEvenWhenTheBodyNeverEndsNorHonoursCancellation() async {
        // A call that ignores cancellation and does not return, like a driver call on a dead
        // connection; released only after the assertion so the test leaves nothing behind.
        let stuck = Mutex<CheckedContinuation<Int, Never>?>(nil)
        let started = ContinuousClock.now
        await #expect(throws: TimedOut.self) {
            try await withDeadline(.milliseconds(200), onTimeout: timedOut) { () async -> Int in
                await withCheckedContinuation { continuation in stuck.withLock { $0 = continuation } }
            }
        }
        // Without the deadline this would never return; the bound is loose because the whole suite
        // runs in parallel on a loaded 2-core machine (it once took 4.8 s for a 200 ms deadline).
        #expect(ContinuousClock.now - started < .seconds(30))
        stuck.withLock { $0?.resume(returning: 0) }
    }

    @Test func finishedCallsAreNoLongerWatchedAndTheWatchdogStopsWhenIdle() async throws {
        let watchdog = DeadlineWatchdog(tick: .milliseconds(20))
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
