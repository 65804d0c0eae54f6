/// Everything `serve` needs, resolved from flags and the environment by the CLI.
///
/// Configuration keys (flag · environment variable · default):
/// - `--host` · – · `127.0.0.1`
/// - `--port` · – · `8080`
/// - `--database` · `SWITCHBOARD_DATABASE_URL` · `sqlite:./switchboard-data/switchboard.sqlite`
/// - – · `SWITCHBOARD_MASTER_KEY` (secret) · generated key file on the SQLite default
/// - `--log-level` · `SWITCHBOARD_LOG_LEVEL` · `info`
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var database: DatabaseLocation
    /// Base64 of 32 bytes; nil selects the generated key file (SQLite only).
    public var masterKey: String?
    /// Request bodies larger than this get a 413.
    public var maximumBodySize: Int

    public static let defaultMaximumBodySize = 1 << 20

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        database: DatabaseLocation,
        masterKey: String?,
        maximumBodySize: Int = defaultMaximumBodySize
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.masterKey = masterKey
        self.maximumBodySize = maximumBodySize
    }
}
