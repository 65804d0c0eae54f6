import Logging
import ServiceLifecycle
import UnixSignals

/// Runs `services` (the HTTP application and background work) until SIGTERM or SIGINT, then shuts it down in bounded
/// time:
///
/// 0. The first signal marks `readiness` draining, so `/health/ready` answers 503 while the
///    server still serves for `drainDelay` (time for a load balancer to stop routing here).
/// 1. Then a graceful shutdown starts: the listener closes, idle keep-alive
///    connections are closed, and requests already being read or answered run to completion.
/// 2. If that takes longer than `shutdownTimeout`, or a second signal arrives, the remaining
///    requests are cancelled. Cancellation cannot tear a write: each one is a single database
///    transaction, which either commits before its response or rolls back.
/// 3. Whatever still runs `cancellationTimeout` after that is abandoned and `run` returns, so the
///    process always exits.
///
/// ServiceLifecycle's own signal handling starts a graceful shutdown but ignores a repeated
/// signal, so the signals are read here and escalated by hand.
public func runUntilSignalled(
    _ services: [any Service],
    shutdownTimeout: Duration,
    cancellationTimeout: Duration = .seconds(3),
    readiness: Readiness = Readiness(),
    drainDelay: Duration = .zero,
    logger: Logger
) async throws {
    var configuration = ServiceGroupConfiguration(services: services, logger: logger)
    configuration.maximumGracefulShutdownDuration = shutdownTimeout
    configuration.maximumCancellationDuration = cancellationTimeout
    let group = ServiceGroup(configuration: configuration)
    let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)

    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        tasks.addTask {
            var received = 0
            var shutdown: Task<Void, Never>?
            for await signal in signals {
                received += 1
                if received == 1 {
                    readiness.startDraining()
                    logger.notice(
                        "Shutting down: not ready, then finishing in-flight requests",
                        metadata: [
                            "signal": "\(signal)", "delay": "\(drainDelay)", "timeout": "\(shutdownTimeout)",
                        ]
                    )
                    // Still serving, reported not ready, for `drainDelay`; then the graceful
                    // shutdown. (A second signal, meanwhile or later, cancels everything.)
                    shutdown = Task {
                        if drainDelay > .zero { try? await Task.sleep(for: drainDelay) }
                        await group.triggerGracefulShutdown()
                    }
                } else {
                    shutdown?.cancel()
                    logger.warning("Second signal: cancelling in-flight requests", metadata: ["signal": "\(signal)"])
                    return
                }
            }
        }
        // Whichever ends first: the service group (stopped, or failed) or a second signal.
        defer { tasks.cancelAll() }
        try await tasks.next()
    }
}
