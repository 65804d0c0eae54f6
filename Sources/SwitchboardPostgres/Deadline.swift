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
            race.setWork(work)
            Task {
                try? await Task.sleep(for: timeout)
                race.finish(.failure(onTimeout()))
            }
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

    func setWork(_ work: Task<Void, Never>) {
        let cancel = state.withLock { state in
            state.work = work
            return state.finished
        }
        if cancel { work.cancel() }
    }

    func finish(_ outcome: Result<T, any Error>) {
        let (continuation, work): (CheckedContinuation<T, any Error>?, Task<Void, Never>?) = state.withLock { state in
            guard !state.finished, state.outcome == nil else { return (nil, nil) }
            guard let continuation = state.continuation else {
                // Finished before the continuation was installed (cancelled up front).
                state.outcome = outcome
                return (nil, nil)
            }
            state.finished = true
            state.continuation = nil
            return (continuation, state.work)
        }
        guard let continuation else { return }
        work?.cancel()
        continuation.resume(with: outcome)
    }
}
