import Logging
import ServiceLifecycle
import UnixSignals

/// Runs `services` (the HTTP application and background work) until SIGTERM or SIGINT, then shuts it down in bounded
/// time:
///
/// 1. The first signal starts a graceful shutdown: the listener closes, idle keep-alive
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
            for await signal in signals {
                received += 1
                if received == 1 {
                    logger.notice(
                        "Shutting down: finishing in-flight requests",
                        metadata: ["signal": "\(signal)", "timeout": "\(shutdownTimeout)"]
                    )
                    await group.triggerGracefulShutdown()
                } else {
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
