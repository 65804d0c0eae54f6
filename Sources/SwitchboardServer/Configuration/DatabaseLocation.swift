/// Where the data lives, parsed from `--database` / `SWITCHBOARD_DATABASE_URL`.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    /// The embedded default: a SQLite file.
    case sqlite(path: String)

    public static let defaultURL = "sqlite:./switchboard-data/switchboard.sqlite"

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Accepts `sqlite:PATH` and `sqlite://PATH`.
    public init(url: String) throws(Invalid) {
        if url.hasPrefix("sqlite:") {
            var path = String(url.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else { throw Invalid(description: "the database URL \"sqlite:\" names no file") }
            self = .sqlite(path: path)
            return
        }
        let scheme = url.split(separator: ":", maxSplits: 1).first.map(String.init) ?? url
        throw Invalid(description: "unsupported database URL scheme \"\(scheme)\"; this version supports sqlite:PATH")
    }

    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        }
    }

    /// The directory that holds the database file (and, on the embedded default, its key file).
    public var dataDirectory: String {
        switch self {
        case .sqlite(let path):
            let parts = path.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count > 1 else { return "." }
            let directory = parts.dropLast().joined(separator: "/")
            return directory.isEmpty ? "/" : directory
        }
    }
}
