/// What a service call can fail with, in domain terms. The HTTP layer maps each case once.
public enum ServiceError: Error, Sendable, Equatable {
    case invalid(ValidationError)
    case connectionNotFound(ConnectionID)
    case workspaceNotFound(String)
    case apiKeyNotFound(String)
    case unauthenticated
    /// The API key lacks the scope this operation needs.
    case missingScope(Scope)
}

extension ServiceError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalid(let error): error.message
        case .connectionNotFound(let id): "no connection with id \"\(id.rawValue)\""
        case .workspaceNotFound(let id): "no workspace with id \"\(id)\""
        case .apiKeyNotFound(let reference): "no API key \"\(reference)\""
        case .unauthenticated: "the API key is not valid"
        case .missingScope(let scope): "this API key lacks the scope \"\(scope.rawValue)\""
        }
    }
}
