import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardEgress
import SwitchboardPassthrough

/// An error as the client sees it: a status, a stable code and a message naming what was wrong.
/// Written as `{"error": {"status": N, "code": "...", "message": "..."}}`.
struct APIError: Error, Sendable, Equatable {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var headers: HTTPFields = [:]

    static func invalidParameter(_ message: String) -> APIError {
        APIError(status: .badRequest, code: "invalid_parameter", message: message)
    }
    static func invalidBody(_ message: String) -> APIError {
        APIError(status: .badRequest, code: "invalid_body", message: message)
    }
    static func unauthorized(_ message: String) -> APIError {
        APIError(status: .unauthorized, code: "unauthorized", message: message)
    }
    static func notFound(_ message: String) -> APIError {
        APIError(status: .notFound, code: "not_found", message: message)
    }
    static let serverFault = APIError(
        status: .internalServerError,
        code: "internal_error",
        message: "the server failed to handle this request; it has been logged"
    )

    func response() -> Response {
        var writer = JSONWriter(reservingCapacity: 128 + message.utf8.count)
        writer.beginObject()
        writer.key("error")
        writer.beginObject()
        writer.key("status")
        writer.number(String(status.code))
        writer.key("code")
        writer.string(code)
        writer.key("message")
        writer.string(message)
        writer.endObject()
        writer.endObject()
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(
            status: status,
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: writer.bytes))
        )
    }
}

extension APIError {
    /// The one mapping from errors raised anywhere below the HTTP edge to what the client sees.
    /// Anything unexpected becomes a 500 whose body carries no driver or secret text.
    init(mapping error: any Error) {
        switch error {
        case let error as APIError:
            self = error
        case let error as ServiceError:
            switch error {
            case .invalid(let validation):
                self = APIError(status: .badRequest, code: "invalid_field", message: validation.message)
            case .connectionNotFound(let id):
                self = .notFound("no connection with id \"\(id.rawValue)\" in this workspace")
            case .workspaceNotFound(let id):
                self = .notFound("no workspace with id \"\(id)\"")
            case .apiKeyNotFound(let id):
                self = .notFound(
                    id.isEmpty
                        ? "no API key with that reference: send the key's id or its sbk_<id> prefix"
                        : "no API key \"\(id)\" in this workspace"
                )
            case .unauthenticated:
                self = .unauthorized("the API key is not valid")
            case .secretsManagerNotFound(let id):
                self = .notFound(
                    "no secrets manager with id \"\(id.prefix(64))\" in this workspace (register one with POST /unified/secretsmanager)"
                )
            case .conflict(let message):
                self = APIError(status: .conflict, code: "conflict", message: message)
            case .secretsManagerFailed(let manager, let failure):
                self = APIError(secretsManager: manager, failure)
            case .missingScope(let scope):
                self = APIError(
                    status: .forbidden,
                    code: "insufficient_scope",
                    message: "this API key lacks the scope \"\(scope.rawValue)\" that this operation needs"
                )
            case .notFound(let message):
                self = .notFound(message)
            case .forbidden(let message):
                self = APIError(status: .forbidden, code: "forbidden", message: message)
            case .integrationNotFound:
                self = .notFound(error.description)
            case .gone(let message):
                self = APIError(status: .gone, code: "gone", message: message)
            case .tokenRefreshFailed(let retryAfter, _):
                // The provider is failing for now; the connection is not dead. Retry later.
                self = APIError(
                    status: .serviceUnavailable,
                    code: "token_refresh_failed",
                    message: error.description,
                    headers: [.retryAfter: String(retryAfter)]
                )
            }
        case let error as PassthroughError:
            self = APIError(passthrough: error)
        case let error as StoreError:
            switch error {
            case .unavailable:
                self = APIError(
                    status: .serviceUnavailable,
                    code: "unavailable",
                    message: "the database is unavailable; retry later",
                    headers: [.retryAfter: "1"]
                )
            case .duplicate:
                // Ids are generated server-side, so a collision is a server fault, not the client's.
                self = .serverFault
            case .inUse(let detail):
                self = APIError(status: .conflict, code: "in_use", message: "still in use: \(detail)")
            }
        case is SealingError:
            // Stored credentials that do not open: a key missing from configuration, or a ciphertext
            // tampered with or moved from another row. The server's fault, and never the key's text.
            self = APIError(
                status: .internalServerError,
                code: "credentials_unreadable",
                message: "the stored credentials of this connection cannot be opened with the configured master keys"
            )
        case is CancellationError:
            // Only a shutdown cancels a request: past the drain timeout, or on a second signal.
            self = APIError(
                status: .serviceUnavailable,
                code: "shutting_down",
                message: "the server is shutting down; retry",
                headers: [.retryAfter: "1"]
            )
        case is NIOTooManyBytesError:
            // A body streamed past the limit (chunked, so no Content-Length to refuse up front).
            self = APIError(
                status: .contentTooLarge,
                code: "payload_too_large",
                message: "the request body is larger than allowed"
            )
        case is HTTPParserError:
            self = .unreadableBody
        case let error as HTTPError:
            // Raised by Hummingbird itself (unknown route, body too large, ...).
            switch error.status {
            case .notFound: self = .notFound("no route for this method and path")
            case .contentTooLarge:
                self = APIError(
                    status: .contentTooLarge,
                    code: "payload_too_large",
                    message: "the request body is larger than allowed"
                )
            default:
                self = APIError(
                    status: error.status,
                    code: "http_error",
                    message: error.body ?? error.status.reasonPhrase
                )
            }
        default:
            self = .serverFault
        }
    }
}

extension APIError {
    /// A passthrough call Switchboard did not relay. None of the messages carries a credential,
    /// a path or a query string.
    init(passthrough failure: PassthroughError) {
        let message: String
        switch failure {
        case .unsupported(let type):
            message =
                "integration \"\(type.prefix(64))\" has no api section, so passthrough cannot call it; an operator can add one with --integrations-dir"
        case .missingValue(let placeholder, let field, let type):
            message =
                "the connection has no \(placeholder), which \(field) of integration \"\(type.prefix(64))\" needs; set it on the connection (auth.meta holds custom values)"
        case .invalidValue(_, let field, let reason): message = "\(field): \(reason)"
        case .noCredentials: message = "the connection holds no credentials to call its provider with"
        case .invalidPath(let reason): message = "the passthrough path cannot be forwarded: \(reason)"
        case .refused(let refusal): message = refusal.description
        case .unreachable(let host): message = "the provider at \(host.prefix(253)) could not be reached"
        case .timedOut(let host, let seconds):
            message = "the provider at \(host.prefix(253)) did not answer within \(seconds) s"
        case .bodyTooLarge(let limit):
            message = "the request body is larger than the passthrough limit of \(limit / 1024 / 1024) MiB"
        }
        self = APIError(status: HTTPResponse.Status(code: failure.status), code: failure.code, message: message)
    }

    /// A registered secrets manager failed. Unreachable is a 503 (retry later; nothing was
    /// changed); an answer Switchboard cannot use is a 502; a name the manager refuses is the
    /// client's 400. Messages name the manager, never a secret.
    init(secretsManager manager: String, _ failure: SecretsManagerError) {
        switch failure {
        case .unreachable:
            self = APIError(
                status: .serviceUnavailable,
                code: "secrets_manager_unavailable",
                message: "the secrets manager \(manager) is unreachable; nothing was changed, retry later",
                headers: [.retryAfter: "5"]
            )
        case .invalidName(_, let reason):
            self = APIError(
                status: .badRequest,
                code: "invalid_field",
                message: "the secret name is not valid for the secrets manager \(manager): \(reason)"
            )
        case .rejected(_, let status, _):
            // The manager's own error text is never relayed: it may be any service's answer.
            self = APIError(
                status: .badGateway,
                code: "secrets_manager_error",
                message: "the secrets manager \(manager) refused the request (HTTP \(status))"
            )
        case .notFound, .invalidResponse:
            self = APIError(
                status: .badGateway,
                code: "secrets_manager_error",
                message: "the secrets manager \(manager) failed: \(failure)"
            )
        case .alreadyExists:
            self = APIError(
                status: .conflict,
                code: "secret_exists",
                message:
                    "the secrets manager \(manager) already holds a secret under that name, and Switchboard writes only secrets it created: name another secret, or omit auth to adopt this one"
            )
        case .refused(_, let reason):
            self = APIError(
                status: .forbidden,
                code: "egress_refused",
                message: "the secrets manager \(manager) was not called: \(reason)"
            )
        }
    }
}
