/// One request to a provider's token endpoint (RFC 6749 §4.1.3 and §6).
public struct TokenRequest: Sendable {
    public var tokenURL: String
    public var clientID: String
    public var clientSecret: String
    public var clientAuthentication: IntegrationDefinition.TokenEndpointAuth
    /// Form parameters besides the client's credentials, in order.
    public var parameters: [(String, String)]
    /// Whom the request is for, for the API call log; nil records nothing.
    public var context: TokenCallContext?

    public init(
        tokenURL: String,
        clientID: String,
        clientSecret: String,
        clientAuthentication: IntegrationDefinition.TokenEndpointAuth,
        parameters: [(String, String)],
        context: TokenCallContext? = nil
    ) {
        self.tokenURL = tokenURL
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.clientAuthentication = clientAuthentication
        self.parameters = parameters
        self.context = context
    }
}

/// The connection a token request is made for, as the API call log records it.
public struct TokenCallContext: Sendable, Equatable {
    /// `oauth.token` (the authorization code exchange) or `oauth.refresh`.
    public var name: String
    public var workspaceID: WorkspaceID
    public var connectionID: ConnectionID?
    public var integrationType: String
    public var environment: String
    public var externalXref: String?
    public var clientAddress: String?

    public init(
        name: String,
        workspaceID: WorkspaceID,
        connectionID: ConnectionID?,
        integrationType: String,
        environment: String,
        externalXref: String?,
        clientAddress: String? = nil
    ) {
        self.name = name
        self.workspaceID = workspaceID
        self.connectionID = connectionID
        self.integrationType = integrationType
        self.environment = environment
        self.externalXref = externalXref
        self.clientAddress = clientAddress
    }
}

/// A successful token response (RFC 6749 §5.1).
public struct TokenResponse: Sendable, Equatable {
    public var accessToken: String
    public var refreshToken: String?
    /// Seconds until the access token expires, when the provider says.
    public var expiresIn: Int64?
    public var tokenType: String?
    /// The scopes granted, when they differ from those requested (or the provider always says).
    public var scope: String?
    public var refreshTokenExpiresIn: Int64?
    /// Every other string member of the answer (`instance_url`, `api_domain`...), for the
    /// definition's `meta_from`; never logged.
    public var otherStrings: [String: String]

    public init(
        accessToken: String,
        refreshToken: String? = nil,
        expiresIn: Int64? = nil,
        tokenType: String? = nil,
        scope: String? = nil,
        refreshTokenExpiresIn: Int64? = nil,
        otherStrings: [String: String] = [:]
    ) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresIn = expiresIn
        self.tokenType = tokenType
        self.scope = scope
        self.refreshTokenExpiresIn = refreshTokenExpiresIn
        self.otherStrings = otherStrings
    }
}

/// Why a token request failed, classified for what to do next.
public enum TokenEndpointError: Error, Sendable, Equatable {
    /// The provider answered with an OAuth error (RFC 6749 §5.2), e.g. `invalid_grant`.
    case rejected(status: Int, error: String)
    /// Worth retrying later: no answer, a 5xx, or a 429. `retryAfter` in seconds when the provider said.
    case unavailable(status: Int?, retryAfter: Int64?, reason: String)
    /// An answer that is not a usable token response.
    case invalidResponse(status: Int, reason: String)
    /// Switchboard cannot make the request: the integration is not in the catalog or the workspace
    /// has no client for it. An operator's fix, not the end user's.
    case notConfigured(String)

    /// The provider no longer accepts the grant: only the end user can fix it by authorizing again.
    public var needsReauthorization: Bool {
        if case .rejected(_, "invalid_grant") = self { return true }
        return false
    }

    /// The HTTP status to record as `last_unhealthy_code`, or a word when there was no answer.
    public var unhealthyCode: String {
        switch self {
        case .rejected(let status, _), .invalidResponse(let status, _): String(status)
        case .unavailable(let status, _, _): status.map(String.init) ?? "unreachable"
        case .notConfigured: "not_configured"
        }
    }
}

extension TokenEndpointError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .rejected(let status, let error): "the token endpoint refused the request (\(status) \(error))"
        case .unavailable(let status?, _, _): "the token endpoint is unavailable (HTTP \(status))"
        case .unavailable(nil, _, let reason): "the token endpoint could not be reached (\(reason))"
        case .invalidResponse(let status, let reason): "the token endpoint's answer is unusable (\(status): \(reason))"
        case .notConfigured(let reason): reason
        }
    }
}

/// Calls token endpoints. The production client speaks HTTP; tests substitute doubles.
public protocol OAuthTokenClient: Sendable {
    /// Throws `TokenEndpointError` only.
    func requestToken(_ request: TokenRequest) async throws -> TokenResponse
}
