/// What the HTTP server needs beyond the runtime. `serve` resolves it with `Settings.server()`
/// (flags, `SWITCHBOARD_*` variables and defaults: docs/configuration.md).
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Request bodies larger than this get a 413.
    public var maximumBodySize: Int
    /// A connection that sends nothing for this long (including one still sending its request
    /// head, such as a slowloris client) is closed; a request being answered is never cut off.
    public var idleTimeout: Duration
    /// On SIGTERM or SIGINT the server stops accepting, lets in-flight requests finish for up to
    /// this long, then cancels them. A second signal cancels at once.
    public var shutdownTimeout: Duration
    /// On the first shutdown signal, `/health/ready` answers 503 for this long while requests are
    /// still served, before the listener closes (`runUntilSignalled`).
    public var shutdownDelay: Duration = .zero
    /// Request targets (path and query) longer than this get a 414.
    public var maximumURILength: Int
    /// Request header sections (names and values) larger than this get a 431.
    public var maximumHeaderBytes: Int

    /// Failed authentications one client address may make per minute before it gets 429s.
    public var authenticationFailureLimit: Int
    /// Time between background token-refresh passes; nil runs no background refresher (tokens are
    /// then refreshed only when a caller asks for credentials).
    public var refreshInterval: Duration? = .seconds(30)
    /// A request body must arrive within this time; a trickling client gets a 408 and is closed.
    public var bodyReadTimeout: Duration = defaultBodyReadTimeout
    /// Open client connections at most; past it, new ones wait in the listen backlog until one
    /// closes (nil: `defaultMaximumConnections(fileDescriptors:)` of the process's limit).
    public var maximumConnections: Int?
    /// Proxies whose `X-Forwarded-For` is believed (CIDR blocks); empty: the TCP peer is the client.
    public var trustedProxies: TrustedProxies = TrustedProxies()
    /// Anonymous authorize-URL calls per client address and per workspace, per minute.
    public var authorizeRateLimit = defaultAuthorizeRateLimit
    /// `/metrics`; nil when turned off.
    public var metrics: MetricsConfiguration? = MetricsConfiguration()
    /// Where traces are exported (OTLP/HTTP); nil: tracing off.
    public var otelEndpoint: String?
    /// Days the API call log keeps a call (`--apicall-retention-days`).
    public var apiCallRetentionDays = 60

    var bodyLimits: BodyLimits { BodyLimits(maximumSize: maximumBodySize, readTimeout: bodyReadTimeout) }

    public static let defaultBodyReadTimeout = Duration.seconds(30)
    public static let defaultAuthorizeRateLimit = 60

    /// The connection cap for a process allowed `fileDescriptors` open files: what is left after
    /// a reserve for the database, the log and outbound calls, at most 4,096.
    public static func defaultMaximumConnections(fileDescriptors: Int) -> Int {
        max(16, min(4096, fileDescriptors - 96))
    }

    public static let defaultMaximumBodySize = 1 << 20
    public static let defaultIdleTimeout = Duration.seconds(30)
    public static let defaultShutdownTimeout = Duration.seconds(10)
    public static let defaultMaximumURILength = 8 * 1024
    public static let defaultMaximumHeaderBytes = 16 * 1024
    public static let defaultAuthenticationFailureLimit = 30

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        maximumBodySize: Int = defaultMaximumBodySize,
        idleTimeout: Duration = defaultIdleTimeout,
        shutdownTimeout: Duration = defaultShutdownTimeout,
        maximumURILength: Int = defaultMaximumURILength,
        maximumHeaderBytes: Int = defaultMaximumHeaderBytes,
        authenticationFailureLimit: Int = defaultAuthenticationFailureLimit
    ) {
        self.host = host
        self.port = port
        self.maximumBodySize = maximumBodySize
        self.idleTimeout = idleTimeout
        self.shutdownTimeout = shutdownTimeout
        self.maximumURILength = maximumURILength
        self.maximumHeaderBytes = maximumHeaderBytes
        self.authenticationFailureLimit = authenticationFailureLimit
    }
}

/// Where and how `/metrics` is served.
public struct MetricsConfiguration: Sendable, Equatable {
    /// A port of its own (on the API's address); nil: the API port.
    public var port: Int?
    /// The bearer token scrapes must present; nil: none.
    public var token: String?

    public init(port: Int? = nil, token: String? = nil) {
        self.port = port
        self.token = token
    }
}
