import Logging
import ServiceLifecycle
import SwitchboardCore
import SwitchboardEvents

/// Purges spent or expired authorization states, re-authorization tokens, and dashboard and Connect
/// sessions every few minutes, whether or not the token refresher runs: the anonymous authorize
/// URL stores a row per call.
struct AuthorizationStatePurge: Service {
    let store: any AuthorizationStore & DashboardStore
    let logger: Logger
    var interval: Duration = .seconds(300)

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                // Kept a day past expiry so a late callback is told "expired", not "unknown".
                let cutoff = Timestamp.now().adding(seconds: -86_400)
                _ = try await store.purgeExpiredAuthorizations(before: cutoff)
                // Dashboard sessions, sign-in links and Connect sessions likewise: a day late, a
                // Connect link still says "expired".
                _ = try await store.purgeExpiredDashboardSessions(before: cutoff)
            } catch {
                logger.warning("Purging expired authorization states failed", metadata: ["error": "\(error)"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }
}

/// Refreshes OAuth tokens before they expire, so callers rarely wait for a token endpoint. With
/// several replicas each pass claims rows the others are not claiming (`claimDueRefreshes` skips
/// locked rows), so every connection is refreshed by one of them.
struct BackgroundTokenRefresh: Service {
    let refresher: TokenRefresher
    let interval: Duration
    let logger: Logger

    /// Rows claimed per pass; a full batch is followed at once by another.
    static let batchSize = 25

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            await pass()
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

/// Writes the API call log: every second it flushes the calls requests recorded, and every ten
/// minutes it purges calls older than the retention, one batch a second until none is left (so a
/// large purge never holds up the flushes). `serve` starts it before the HTTP server, so at a
/// graceful stop it stops after the last request has finished, flushing once more.
struct APICallLogWriter: Service {
    let log: APICallLog
    let retentionDays: Int
    let logger: Logger
    var interval: Duration = .seconds(1)
    var purgeInterval: Duration = .seconds(600)
    var purgeBatch = 5_000

    func run() async throws {
        var nextPurge = ContinuousClock.now
        var purging = false
        var purged = 0
        var failing = false
        while true {
            do {
                try await log.flush()
                if failing { logger.notice("Writing the API call log works again") }
                failing = false
            } catch {
                // Logged once per outage; the calls stay queued for the next flush.
                if !failing {
                    logger.warning(
                        "Writing the API call log failed; calls are kept in memory and retried",
                        metadata: ["pending": "\(log.pendingCount)", "error.type": "\(type(of: error))"]
                    )
                }
                failing = true
            }
            if Task.isShuttingDownGracefully { return }
            if purging || ContinuousClock.now >= nextPurge {
                if !purging { nextPurge = ContinuousClock.now + purgeInterval }
                do {
                    let cutoff = Timestamp.now().adding(seconds: -Int64(retentionDays) * 86_400)
                    let deleted = try await log.purge(before: cutoff, limit: purgeBatch)
                    purged += deleted
                    purging = deleted == purgeBatch
                    if !purging, purged > 0 {
                        logger.info("Purged old API calls", metadata: ["count": "\(purged)"])
                        purged = 0
                    }
                } catch {
                    purging = false
                    logger.warning("Purging the API call log failed", metadata: ["error.type": "\(type(of: error))"])
                }
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                // A graceful stop: one last flush (the loop's first step), then return.
                try? await log.flush()
                return
            }
        }
    }
}

/// Sends events to event webhooks for the life of `serve`. At a graceful stop the deliverer
/// records what it finished and gives back what was in flight.
struct EventDelivery: Service {
    let deliverer: EventDeliverer

    func run() async throws {
        try? await cancelWhenGracefulShutdown { await deliverer.run() }
    }
}

/// Purges events (and their delivery attempts) older than the retention every ten minutes, one
/// batch a second while there are more. Pending events are kept whatever their age.
struct EventPurge: Service {
    let store: any EventStore
    let retentionDays: Int
    let logger: Logger
    var interval: Duration = .seconds(600)
    var batch = 5_000

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            var purged = 0
            do {
                let cutoff = Timestamp.now().adding(seconds: -Int64(retentionDays) * 86_400)
                while !Task.isShuttingDownGracefully {
                    let deleted = try await store.purgeEvents(before: cutoff, limit: batch)
                    purged += deleted
                    if deleted < batch { break }
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
                }
                if purged > 0 { logger.info("Purged old events", metadata: ["count": "\(purged)"]) }
            } catch {
                logger.warning("Purging old events failed", metadata: ["error.type": "\(type(of: error))"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }
}
