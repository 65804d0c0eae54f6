import Synchronization

/// Runs `body` and returns its result, or throws `onTimeout()` once `timeout` has passed,
/// whichever comes first; cancelling the caller cancels `body` and returns at once.
///
/// Unlike a task group, this does not wait for `body` to finish after the deadline: a driver call
/// stuck on a connection that died mid-flight (seen with PostgreSQL killed under load) must not
/// hold a request, or graceful shutdown, forever. `body` is cancelled and left to end on its own.
func withDeadline<T: Sendable>(
    _ timeout: Duration,
    onTimeout: @escaping @Sendable () -> any Error,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = DeadlineRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.start(continuation)
            let work = Task {
                do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
            }
            // Cancelled as soon as the race is decided, so no timer outlives a quick query.
            let timer = Task {
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                race.finish(.failure(onTimeout()))
            }
            race.setTasks(work: work, timer: timer)
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The first outcome wins; later ones are dropped and the losing work is cancelled.
private final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
        var outcome: Result<T, any Error>?
        var finished = false
    }
    private let state = Mutex(State())

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

    func setTasks(work: Task<Void, Never>, timer: Task<Void, Never>) {
        let decided = state.withLock { state in
            state.work = work
            state.timer = timer
            return state.finished
        }
        if decided {
            work.cancel()
            timer.cancel()
        }
    }

    func finish(_ outcome: Result<T, any Error>) {
        let (continuation, tasks): (CheckedContinuation<T, any Error>?, [Task<Void, Never>]) = state.withLock {
            state in
            guard !state.finished, state.outcome == nil else { return (nil, []) }
            guard let continuation = state.continuation else {
                // Finished before the continuation was installed (cancelled up front).
                state.outcome = outcome
                return (nil, [])
            }
            state.finished = true
            state.continuation = nil
            return (continuation, [state.work, state.timer].compactMap { $0 })
        }
        guard let continuation else { return }
        // Cancelling the work that just finished, or the timer that just fired, is harmless.
        for task in tasks { task.cancel() }
        continuation.resume(with: outcome)
    }
}
