/// How events are delivered and kept: the `--event-*` settings.
public struct EventSettings: Sendable, Equatable {
    public static let defaultTimeoutSeconds: Int64 = 15
    public static let defaultRetentionDays = 30
    public static let defaultSecretOverlapHours: Int64 = 24

    /// Waits between attempts, after the first.
    public var schedule: RetrySchedule
    /// How long a receiver has to answer (connect, send, and read the answer's head and first KiB).
    public var timeoutSeconds: Int64
    /// How long a claimed event stays leased to its deliverer: after this a deliverer that died
    /// mid-delivery has its events taken by another. Longer than `timeoutSeconds`.
    public var leaseSeconds: Int64
    /// Events (and their attempts) older than this are purged, unless still pending.
    public var retentionDays: Int
    /// After a secret rotation, how long the previous secret still signs beside the new one.
    public var secretOverlapHours: Int64
    /// Deliveries a replica runs at once, in all and to one workspace's endpoint.
    public var maximumInFlight: Int
    public var maximumInFlightPerWorkspace: Int

    public init(
        schedule: RetrySchedule = .standard,
        timeoutSeconds: Int64 = Self.defaultTimeoutSeconds,
        leaseSeconds: Int64? = nil,
        retentionDays: Int = Self.defaultRetentionDays,
        secretOverlapHours: Int64 = Self.defaultSecretOverlapHours,
        maximumInFlight: Int = 64,
        maximumInFlightPerWorkspace: Int = 16
    ) {
        self.schedule = schedule
        self.timeoutSeconds = timeoutSeconds
        self.leaseSeconds = leaseSeconds ?? timeoutSeconds + 30
        self.retentionDays = retentionDays
        self.secretOverlapHours = secretOverlapHours
        self.maximumInFlight = maximumInFlight
        self.maximumInFlightPerWorkspace = maximumInFlightPerWorkspace
    }
}
