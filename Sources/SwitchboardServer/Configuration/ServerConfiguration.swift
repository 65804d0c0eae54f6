/// What the HTTP server needs beyond the runtime, resolved from flags by the CLI.
///
/// Configuration keys (flag · default); the database, master key and log level are read by the
/// CLI for `Runtime.run` (see docs/configuration.md):
/// - `--host` · `127.0.0.1`
/// - `--port` · `8080`
/// - `--auth-failure-limit` · `30` (per client address and minute)
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Request bodies larger than this get a 413.
    public var maximumBodySize: Int

    /// Failed authentications one client address may make per minute before it gets 429s.
    public var authenticationFailureLimit: Int

    public static let defaultMaximumBodySize = 1 << 20
    public static let defaultAuthenticationFailureLimit = 30

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        maximumBodySize: Int = defaultMaximumBodySize,
        authenticationFailureLimit: Int = defaultAuthenticationFailureLimit
    ) {
        self.host = host
        self.port = port
        self.maximumBodySize = maximumBodySize
        self.authenticationFailureLimit = authenticationFailureLimit
    }
}
