import Logging
import ServiceLifecycle
import SwitchboardCore

/// Services that run beside the HTTP server for the life of `serve`.
public func backgroundServices(runtime: Runtime, configuration: ServerConfiguration) -> [any Service] {
    guard let interval = configuration.refreshInterval else { return [] }
    return [
        BackgroundTokenRefresh(
            refresher: runtime.refresher,
            store: runtime.store,
            interval: interval,
            logger: runtime.logger
        )
    ]
}

/// Refreshes OAuth tokens before they expire, so callers rarely wait for a token endpoint, and
/// purges spent or expired authorization states. With several replicas each pass claims rows the
/// others are not claiming (`claimDueRefreshes` skips locked rows), so every connection is
/// refreshed by one of them.
struct BackgroundTokenRefresh: Service {
    let refresher: TokenRefresher
    let store: any AuthorizationStore
    let interval: Duration
    let logger: Logger

    /// Rows claimed per pass; a full batch is followed at once by another.
    static let batchSize = 25

    func run() async throws {
        var lastPurge = ContinuousClock.now
        while !Task.isShuttingDownGracefully {
            await pass()
            if ContinuousClock.now - lastPurge > .seconds(600) {
                lastPurge = ContinuousClock.now
                do {
                    // Kept a day past expiry so a late callback is told "expired", not "unknown".
                    let cutoff = Timestamp.now().adding(seconds: -86_400)
                    _ = try await store.purgeExpiredAuthorizations(before: cutoff)
                } catch {
                    logger.warning("Purging expired authorization states failed", metadata: ["error": "\(error)"])
                }
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }

    /// Claims and refreshes due rows until a pass finds less than a full batch. Errors are
    /// logged: a database outage must not stop the service, only skip a pass.
    private func pass() async {
        do {
            while !Task.isShuttingDownGracefully {
                let (claimed, failed) = try await refresher.refreshDue(limit: Self.batchSize)
                if claimed > 0 {
                    logger.info("Refreshed OAuth tokens", metadata: ["claimed": "\(claimed)", "failed": "\(failed)"])
                }
                if claimed < Self.batchSize { return }
            }
        } catch {
            logger.warning("Background token refresh pass failed", metadata: ["error": "\(error)"])
        }
    }
}
