import SwitchboardPostgres

/// Where the data lives, parsed from `--database` / `SWITCHBOARD_DATABASE_URL`.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    /// The embedded default: a SQLite file.
    case sqlite(path: String)
    /// A PostgreSQL database shared by any number of replicas.
    case postgres(PostgresSettings)

    public static let defaultURL = "sqlite:./switchboard-data/switchboard.sqlite"

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Accepts `sqlite:PATH`, `sqlite://PATH` and `postgres[ql]://USER:PASSWORD@HOST:PORT/DB[?sslmode=...]`.
    public init(url: String) throws(Invalid) {
        if url.hasPrefix("sqlite:") {
            var path = String(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else { throw Invalid(description: "the database URL \"sqlite:\" names no file") }
            self = .sqlite(path: path)
            return
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            do { self = .postgres(try PostgresSettings(url: url)) } catch {
                throw Invalid(description: "invalid PostgreSQL URL: \(error.description)")
            }
            return
        }
        let scheme = url.split(separator: ":", maxSplits: 1).first.map(String.init) ?? url
        throw Invalid(description: "unsupported database URL scheme \"\(scheme)\"; use sqlite:PATH or postgres://...")
    }

    /// Safe to log: a PostgreSQL password is masked.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let settings): settings.redacted
        }
    }

    /// The directory that holds the SQLite file and, on the embedded default, its key file.
    /// PostgreSQL has none: its replicas must share a configured master key.
    /// `sqlite` or `postgresql`, as metrics label it.
    public var backendName: String {
        switch self {
        case .sqlite: "sqlite"
        case .postgres: "postgresql"
        }
    }

    public var dataDirectory: String? {
        switch self {
        case .sqlite(let path):
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count > 1 else { return "." }
            let directory = parts.dropLast().joined(separator: "/")
            return directory.isEmpty ? "/" : directory
        case .postgres: return nil
        }
    }
}
