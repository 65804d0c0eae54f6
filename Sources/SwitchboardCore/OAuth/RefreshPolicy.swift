/// Timing of token refresh. Seconds throughout; defaults suit real providers.
public struct RefreshPolicy: Sendable, Equatable {
    /// A token expiring within this many seconds is refreshed.
    public var margin: Int64
    /// How long a lease lets one caller refresh a row alone; longer than a token request may take
    /// (the HTTP client's deadline), so a lease never lapses while its holder is still calling.
    public var leaseSeconds: Int64
    /// First retry delay after a transient failure; doubles per consecutive failure.
    public var baseBackoff: Int64
    public var maximumBackoff: Int64
    /// A provider's `Retry-After` is honoured up to this.
    public var maximumRetryAfter: Int64
    /// How long a caller waits for another caller's refresh before giving up with a 503.
    public var waitSeconds: Int64

    public init(
        margin: Int64 = 300,
        leaseSeconds: Int64 = 30,
        baseBackoff: Int64 = 5,
        maximumBackoff: Int64 = 600,
        maximumRetryAfter: Int64 = 3600,
        waitSeconds: Int64 = 20
    ) {
        self.margin = margin
        self.leaseSeconds = leaseSeconds
        self.baseBackoff = baseBackoff
        self.maximumBackoff = maximumBackoff
        self.maximumRetryAfter = maximumRetryAfter
        self.waitSeconds = waitSeconds
    }

    /// The delay before attempt `attempts + 1`, after `attempts` consecutive failures: exponential
    /// with jitter in [d/2, d], never less than the provider's `Retry-After` (capped).
    public func backoff(afterFailures attempts: Int, retryAfter: Int64?) -> Int64 {
        let exponent = min(max(attempts - 1, 0), 30)
        let ceiling = min(maximumBackoff, baseBackoff << Int64(exponent))
        var generator = SystemRandomNumberGenerator()
        let jittered = ceiling / 2 + Int64.random(in: 0...(ceiling - ceiling / 2), using: &generator)
        return max(jittered, min(retryAfter ?? 0, maximumRetryAfter), 1)
    }
}
