import HTTPTypes
import Hummingbird
import SwitchboardCore

/// Authenticates `Authorization: <key>` or `Authorization: Bearer <key>` (the official SDK sends the
/// key bare; Unified's docs show Bearer) and records the caller in the context. Addresses that keep
/// failing are refused for a while (`AuthFailureLimiter`). On routes whose read confirms the key
/// itself (`Route.keyConfirmedByRead`), the revocation check is left to that read.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let workspaces: WorkspaceService
    let limiter: AuthFailureLimiter
    var deferringRevocationCheck = false

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        let address = context.clientAddress ?? "unknown"
        if let seconds = limiter.retryAfter(address) {
            throw APIError(
                status: .tooManyRequests,
                code: "too_many_failed_authentications",
                message: "too many requests with an invalid API key from this address; retry in \(seconds) s",
                headers: [.retryAfter: String(seconds)]
            )
        }
        do {
            guard let header = request.headers[.authorization], !header.isEmpty else {
                throw APIError.unauthorized(
                    "missing Authorization header: send the API key, optionally as \"Bearer <key>\""
                )
            }
            var key = Substring(header)
            if key.count > 7, key.prefix(7).lowercased() == "bearer " { key = key.dropFirst(7) }
            key = key.drop { $0 == " " }
            var context = context
            context.principal = try await workspaces.authenticate(
                String(key),
                clientAddress: context.clientAddress,
                deferringRevocationCheck: deferringRevocationCheck
            )
            return try await next(request, context)
        } catch let error as APIError where error.status == .unauthorized {
            limiter.recordFailure(address)
            throw error
        } catch ServiceError.unauthenticated {
            limiter.recordFailure(address)
            throw ServiceError.unauthenticated
        }
    }
}
