/// Where a connection stands with its OAuth token, for connections whose access token expires and
/// can be refreshed (nil on every other connection). See `docs/oauth.md` for the state machine.
public struct TokenRefreshState: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable {
        /// The token works or will be refreshed before it expires.
        case active
        /// The last refresh failed for a reason that may pass (network, 5xx, 429); retrying with backoff.
        case retrying
        /// The provider refused the refresh token (`invalid_grant`): no more attempts until the
        /// end user re-authorizes or new credentials are written.
        case needsReauth = "needs_reauth"
    }

    public var status: Status
    /// When the access token expires.
    public var expiresAt: Timestamp
    /// Consecutive failed attempts since the last success.
    public var attempts: Int
    /// No attempt before this time (backoff after a failure).
    public var nextAttemptAt: Timestamp?

    public init(status: Status, expiresAt: Timestamp, attempts: Int = 0, nextAttemptAt: Timestamp? = nil) {
        self.status = status
        self.expiresAt = expiresAt
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
    }
}

/// The outcome of asking for the refresh lease of one connection.
public enum RefreshLease: Sendable, Equatable {
    /// This caller holds the lease: it alone may call the token endpoint for this row until it
    /// finishes or the lease expires. The row is as read after acquiring.
    case acquired(Connection)
    /// Another caller (in this process or another replica) holds it; the row as read now.
    case heldElsewhere(Connection)
}
