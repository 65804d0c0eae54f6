/// Failures a store reports in domain terms (drivers' errors are mapped inside the backend).
public enum StoreError: Error, Sendable, Equatable {
    /// A unique constraint was violated (for example an id generated twice).
    case duplicate(String)
    /// The row is still referenced (a secrets manager that connections use).
    case inUse(String)
    /// The database is unreachable or refused the operation; the request may be retried later.
    case unavailable(String)
}

extension StoreError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .duplicate(let detail): "already exists: \(detail)"
        case .inUse(let detail): "still in use: \(detail)"
        case .unavailable(let detail): "the database is unavailable: \(detail)"
        }
    }
}
