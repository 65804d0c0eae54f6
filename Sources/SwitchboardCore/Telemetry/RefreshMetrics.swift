import CoreMetrics

/// What the token refresher did, through swift-metrics: attempts by outcome, and how long after
/// its due time (expiry minus the margin) each attempt ran.
enum RefreshMetrics {
    enum Outcome: String {
        /// New tokens stored.
        case success
        /// The token endpoint failed in a way worth retrying; a retry is scheduled.
        case retrying
        /// The provider refused the refresh token: the connection needs re-authorization.
        case needsReauth = "needs_reauth"
        /// A concurrent write replaced the credentials first; its row is the answer.
        case superseded
        /// Switchboard could not complete the attempt (the database, sealing).
        case error
    }

    static func attempted(_ outcome: Outcome) {
        Counter(label: "switchboard_token_refresh_attempts_total", dimensions: [("outcome", outcome.rawValue)])
            .increment()
    }

    /// Seconds between the moment the token became due for refresh and the attempt.
    static func lag(milliseconds: Int64) {
        Recorder(label: "switchboard_token_refresh_lag_seconds").record(Double(max(0, milliseconds)) / 1000)
    }
}
