/// An external secrets manager that holds a connection's credentials instead of Switchboard's
/// database (AWS Secrets Manager, HashiCorp Vault / OpenBao KV v2, Azure Key Vault, Google Cloud
/// Secret Manager).
///
/// Values are opaque bytes stored under a name. Implementations never put a value or a
/// credential of the manager into an error, a log line or a description.
public protocol SecretsManagerClient: Sendable {
    /// The manager's name as errors show it, e.g. "aws-secrets-manager" or "vault".
    var managerName: String { get }
    /// Stores `value` under `name`, creating the secret or replacing its current value. Called
    /// only for secrets Switchboard created (`ExternalSecretRecord`).
    func put(name: String, value: [UInt8]) async throws
    /// Creates the secret `name` holding `value`, and fails with `alreadyExists` (writing nothing)
    /// when a secret of that name exists: Switchboard never overwrites a secret it did not create.
    func create(name: String, value: [UInt8]) async throws
    /// The current value stored under `name`, or nil when there is none.
    func get(name: String) async throws -> [UInt8]?
    /// Removes the secret and all its versions. Removing a missing secret succeeds.
    func delete(name: String) async throws
}

/// Why a secrets manager call failed. Messages name the manager and the kind of failure, never a
/// secret value, a token or a key.
public enum SecretsManagerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No answer: connection refused, DNS or TLS failure, connect or request timeout.
    /// Nothing is known to have been written (the HTTP edge answers 503).
    case unreachable(manager: String)
    /// The manager answered with an error: bad credentials (403), throttling, a server error.
    /// `message` is the manager's error code or text, scrubbed of credentials (the HTTP edge answers 502).
    case rejected(manager: String, status: Int, message: String)
    /// The secret must exist for this call and does not (an ARN that names no secret).
    case notFound(manager: String)
    /// The name cannot be used with this manager (`reason` says why; names are not secret).
    case invalidName(manager: String, reason: String)
    /// The manager answered 2xx but the body was not what its API documents.
    case invalidResponse(manager: String, reason: String)
    /// `create` found a secret of that name already there; nothing was written.
    case alreadyExists(manager: String)
    /// The egress policy refused the manager's address; nothing was sent (`reason` names the
    /// host and the rule).
    case refused(manager: String, reason: String)

    public var manager: String {
        switch self {
        case .unreachable(let manager), .rejected(let manager, _, _), .notFound(let manager),
            .invalidName(let manager, _), .invalidResponse(let manager, _), .refused(let manager, _),
            .alreadyExists(let manager):
            manager
        }
    }

    public var description: String {
        switch self {
        case .unreachable(let manager):
            "secrets manager \(manager) is unreachable"
        case .rejected(let manager, let status, let message):
            "secrets manager \(manager) refused the request (HTTP \(status)): \(message)"
        case .notFound(let manager):
            "secrets manager \(manager) holds no secret under that name"
        case .invalidName(let manager, let reason):
            "invalid secret name for secrets manager \(manager): \(reason)"
        case .invalidResponse(let manager, let reason):
            "secrets manager \(manager) sent an unexpected answer: \(reason)"
        case .alreadyExists(let manager):
            "secrets manager \(manager) already holds a secret under that name"
        case .refused(let manager, let reason):
            "secrets manager \(manager) not called: \(reason)"
        }
    }
}
