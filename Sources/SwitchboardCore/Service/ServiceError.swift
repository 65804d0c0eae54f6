/// What a service call can fail with, in domain terms. The HTTP layer maps each case once.
public enum ServiceError: Error, Sendable, Equatable {
    case invalid(ValidationError)
    case connectionNotFound(ConnectionID)
    case workspaceNotFound(String)
    case apiKeyNotFound(String)
    case secretsManagerNotFound(String)
    /// A registered secrets manager failed; `manager` names it (type and id).
    case secretsManagerFailed(manager: String, SecretsManagerError)
    /// The request conflicts with the current state (a secrets manager still in use, say).
    case conflict(String)
    case unauthenticated
    /// The API key lacks the scope this operation needs.
    case missingScope(Scope)
    /// Nothing of that name is available to this caller (the message says what was asked for,
    /// without telling which part was missing).
    case notFound(String)
    /// Refused for a reason other than a scope (the message says which), such as a missing or
    /// spent authorize token.
    case forbidden(String)
    /// No integration of this type in the catalog.
    case integrationNotFound(String)
    /// A single-use or short-lived token (a sign-in link, a connect session) that was spent or
    /// has expired.
    case gone(String)
    /// The token has expired and refreshing it failed for now; retry after this many seconds.
    case tokenRefreshFailed(retryAfter: Int64, TokenEndpointError?)
}

extension ServiceError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .invalid(let error): error.message
        case .connectionNotFound(let id): "no connection with id \"\(id.rawValue)\""
        case .workspaceNotFound(let id): "no workspace with id \"\(id)\""
        case .apiKeyNotFound(let reference): "no API key \"\(reference)\""
        case .secretsManagerNotFound(let id): "no secrets manager with id \"\(id)\""
        case .secretsManagerFailed(let manager, let error): "secrets manager \(manager): \(error)"
        case .conflict(let message): message
        case .unauthenticated: "the API key is not valid"
        case .missingScope(let scope): "this API key lacks the scope \"\(scope.rawValue)\""
        case .forbidden(let message): message
        case .notFound(let message): message
        case .gone(let message): message
        case .integrationNotFound(let type): "no integration of type \"\(type.prefix(64))\" in the catalog"
        case .tokenRefreshFailed(let retryAfter, let error):
            "the access token has expired and refreshing it failed"
                + (error.map { ": \($0)" } ?? "") + "; retry in \(retryAfter) s"
        }
    }
}
