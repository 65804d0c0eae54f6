/// What a service call can fail with, in domain terms. The HTTP layer maps each case once.
public enum ServiceError: Error, Sendable, Equatable {
    case invalid(ValidationError)
    case connectionNotFound(ConnectionID)
    case workspaceNotFound(String)
    case apiKeyNotFound(String)
    case unauthenticated
    /// An update kept losing compare-and-set races; the caller may retry.
    case conflict(ConnectionID)
}
