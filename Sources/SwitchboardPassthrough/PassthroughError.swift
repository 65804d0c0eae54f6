import SwitchboardEgress

/// Why a passthrough call was not relayed from the provider. The HTTP layer maps each case once;
/// no message carries a credential, a path or a query string.
public enum PassthroughError: Error, Sendable, Equatable {
    /// The connection's integration has no `api` section.
    case unsupported(integrationType: String)
    /// A placeholder of the integration's `api` section has no value in the connection's `auth`.
    case missingValue(placeholder: String, field: String, integrationType: String)
    /// A value filled into the `api` section cannot be used there (the reason says why).
    case invalidValue(placeholder: String, field: String, reason: String)
    /// The connection holds no credentials to put on the call.
    case noCredentials
    /// The path after the connection id cannot be forwarded (the reason says why).
    case invalidPath(String)
    /// The egress policy refused the destination: nothing was sent.
    case refused(EgressRefusal)
    /// The provider could not be reached (`host` only).
    case unreachable(host: String)
    /// The provider did not answer within the upstream timeout.
    case timedOut(host: String, seconds: Int64)
    /// The request body is larger than the passthrough body limit.
    case bodyTooLarge(limit: Int64)
}

extension PassthroughError {
    /// The HTTP status Switchboard answers with (the HTTP layer and the API call log use it).
    public var status: Int {
        switch self {
        case .unsupported, .missingValue, .invalidValue, .noCredentials, .invalidPath: 400
        case .refused: 403
        case .bodyTooLarge: 413
        case .unreachable: 502
        case .timedOut: 504
        }
    }

    /// A stable code naming the failure (the error body's `code`, the API call log's `error`).
    public var code: String {
        switch self {
        case .unsupported: "passthrough_unsupported"
        case .missingValue: "missing_placeholder"
        case .invalidValue: "invalid_placeholder"
        case .noCredentials: "no_credentials"
        case .invalidPath: "invalid_parameter"
        case .refused: "egress_refused"
        case .unreachable: "provider_unreachable"
        case .timedOut: "provider_timeout"
        case .bodyTooLarge: "payload_too_large"
        }
    }
}
