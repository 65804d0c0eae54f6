/// What the HTTP server needs beyond the runtime, resolved from flags by the CLI.
///
/// Configuration keys (flag · default); the database, master key and log level are read by the
/// CLI for `Runtime.run` (see docs/configuration.md):
/// - `--host` · `127.0.0.1`
/// - `--port` · `8080`
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Request bodies larger than this get a 413.
    public var maximumBodySize: Int
    /// Serves the benchmark's HTTP ceiling route (`/__bench/ceiling`); `switchboard bench` only.
    public var benchmarkCeiling = false

    public static let defaultMaximumBodySize = 1 << 20

    public init(host: String = "127.0.0.1", port: Int = 8080, maximumBodySize: Int = defaultMaximumBodySize) {
        self.host = host
        self.port = port
        self.maximumBodySize = maximumBodySize
    }
}
