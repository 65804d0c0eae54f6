import Synchronization

/// Runs `body` and returns its result, or throws `onTimeout()` once `timeout` has passed,
/// whichever comes first; cancelling the caller cancels `body` and returns at once.
///
/// Unlike a task group, this does not wait for `body` to finish after the deadline: a driver call
/// stuck on a connection that died mid-flight (seen with PostgreSQL killed under load) must not
/// hold a request, or graceful shutdown, forever. `body` is cancelled and left to end on its own.
/// Deadlines are kept by the store's `DeadlineWatchdog`, not a timer task per call, because every
/// query passes through here. `body` runs in a task of its own for that reason: it is the one
/// piece of work the caller must be able to abandon.
func withDeadline<T: Sendable>(
    _ timeout: Duration,
    onTimeout: @escaping @Sendable () -> any Error,
    watchdog: DeadlineWatchdog,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = DeadlineRace<T>(watchdog: watchdog)
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.start(continuation)
            let watch = watchdog.watch(until: .now + timeout) {
                race.finish(.failure(onTimeout()))
            }
            let work = Task {
                do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
            }
            race.setWork(work, watch: watch)
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The first outcome wins; later ones are dropped, the losing work is cancelled and the deadline
/// is no longer watched.
private final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var watch: DeadlineWatchdog.Watch?
        var outcome: Result<T, any Error>?
        var finished = false
    }
    private let state = Mutex(State())
    private let watchdog: DeadlineWatchdog

    init(watchdog: DeadlineWatchdog) { self.watchdog = watchdog }

    func start(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLock { state in
            if let outcome = state.outcome {
                state.finished = true
                return outcome
            }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func setWork(_ work: Task<Void, Never>, watch: DeadlineWatchdog.Watch) {
        let decided = state.withLock { state in
            state.work = work
            state.watch = watch
            return state.finished
        }
        if decided { release(work, watch) }
    }

    func finish(_ outcome: Result<T, any Error>) {
        let (continuation, work, watch) = state.withLock { state in
            guard !state.finished, state.outcome == nil else {
                return (CheckedContinuation<T, any Error>?.none, Task<Void, Never>?.none, DeadlineWatchdog.Watch?.none)
            }
            guard let continuation = state.continuation else {
                // Finished before the continuation was installed (cancelled up front).
                state.outcome = outcome
                return (nil, nil, nil)
            }
            state.finished = true
            state.continuation = nil
            return (continuation, state.work, state.watch)
        }
        guard let continuation else { return }
        // Cancelling the work that just finished is harmless.
        release(work, watch)
        continuation.resume(with: outcome)
    }

    private func release(_ work: Task<Void, Never>?, _ watch: DeadlineWatchdog.Watch?) {
        work?.cancel()
        if let watch { watchdog.release(watch) }
    }
}

/// Fires each watched call's expiry once its deadline has passed, checking every `tick` while
/// anything is watched. Its loop (`run()`) belongs to its owner: `PostgresStore.run()` runs it
/// beside the connection pool, for exactly as long. While nothing is watched the loop waits for the
/// next watch instead of ticking, so an idle process keeps no timer; the price is that a deadline
/// fires up to one tick late.
final class DeadlineWatchdog: Sendable {
    struct Watch: Sendable, Hashable { fileprivate let id: UInt64 }

    private struct Pending {
        var deadline: ContinuousClock.Instant
        var expire: @Sendable () -> Void
    }
    private struct State {
        var pending: [UInt64: Pending] = [:]
        var nextID: UInt64 = 0
        var ticking = false
        /// The loop, waiting for the first watch.
        var waiter: CheckedContinuation<Void, Never>?
        var cancelled = false
    }
    private let state = Mutex(State())
    private let tick: Duration

    init(tick: Duration = .milliseconds(50)) { self.tick = tick }

    func watch(until deadline: ContinuousClock.Instant, expire: @escaping @Sendable () -> Void) -> Watch {
        let (id, waiter) = state.withLock { state in
            state.nextID += 1
            state.pending[state.nextID] = Pending(deadline: deadline, expire: expire)
            defer { state.waiter = nil }
            return (state.nextID, state.waiter)
        }
        waiter?.resume()
        return Watch(id: id)
    }

    func release(_ watch: Watch) {
        state.withLock { _ = $0.pending.removeValue(forKey: watch.id) }
    }

    /// For tests: how many calls are watched, and whether the loop is ticking.
    var status: (watched: Int, running: Bool) { state.withLock { ($0.pending.count, $0.ticking) } }

    /// Expires watched calls until the calling task is cancelled.
    func run() async {
        while !Task.isCancelled {
            await waitForWatches()
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                let now = ContinuousClock.now
                let expired: [@Sendable () -> Void]? = state.withLock { state in
                    guard !state.pending.isEmpty else {
                        state.ticking = false
                        return nil
                    }
                    let due = state.pending.filter { $0.value.deadline <= now }
                    for id in due.keys { state.pending[id] = nil }
                    return due.values.map(\.expire)
                }
                guard let expired else { break }
                for expire in expired { expire() }
            }
        }
        state.withLock { $0.ticking = false }
    }

    /// Returns once something is watched (at once if something is), or when the task is cancelled.
    private func waitForWatches() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if !state.pending.isEmpty || state.cancelled {
                        state.ticking = !state.pending.isEmpty
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            state.withLock { if !$0.pending.isEmpty { $0.ticking = true } }
        } onCancel: {
            let waiter = state.withLock { state in
                state.cancelled = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
