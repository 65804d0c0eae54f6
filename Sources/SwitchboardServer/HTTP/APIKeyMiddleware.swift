import HTTPTypes
import Hummingbird
import SwitchboardCore

/// Authenticates `Authorization: <key>` or `Authorization: Bearer <key>` (the official SDK sends the
/// key bare; Unified's docs show Bearer) and records the caller in the context. Addresses that keep
/// failing are refused for a while (`RateLimiter`). On routes whose read confirms the key
/// itself (`Route.keyConfirmedByRead`), the revocation check is left to that read.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let workspaces: WorkspaceService
    let limiter: RateLimiter
    var deferringRevocationCheck = false

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        let address = context.clientAddress ?? "unknown"
        // A locked-out address may still present a valid key: only failing attempts are
        // throttled, so a flood of bad keys from a shared address (a proxy, a NAT) never locks
        // out the clients whose keys work. A failing attempt from it is a 429, not a 401.
        let lockedOut = limiter.retryAfter(address)
        do {
            guard let header = request.headers[.authorization], !header.isEmpty else {
                throw APIError.unauthorized(
                    "missing Authorization header: send the API key, optionally as \"Bearer <key>\""
                )
            }
            var key = Substring(header)
            // A caller's own Authorization header (meant for a provider, on passthrough) is merged
            // by the SDK's HTTP client after the key: `<key>, <theirs>`. Keys hold no comma.
            if let comma = key.firstIndex(of: ",") { key = key[..<comma] }
            if key.count > 7, key.prefix(7).lowercased() == "bearer " { key = key.dropFirst(7) }
            key = key.drop { $0 == " " }
            var context = context
            context.principal = try await workspaces.authenticate(
                String(key),
                clientAddress: context.clientAddress,
                deferringRevocationCheck: deferringRevocationCheck
            )
            if let principal = context.principal {
                context.caller.set(workspace: principal.workspaceID.rawValue, key: principal.keyID)
            }
            return try await next(request, context)
        } catch let error as APIError where error.status == .unauthorized {
            limiter.record(address)
            HTTPMetrics.authenticationFailed(lockedOut == nil ? "missing_header" : "locked_out")
            throw lockedOut.map(Self.tooManyFailures) ?? error
        } catch ServiceError.unauthenticated {
            limiter.record(address)
            HTTPMetrics.authenticationFailed(lockedOut == nil ? "invalid_key" : "locked_out")
            throw lockedOut.map(Self.tooManyFailures) ?? ServiceError.unauthenticated
        }
    }

    static func tooManyFailures(retryAfter seconds: Int) -> APIError {
        APIError(
            status: .tooManyRequests,
            code: "too_many_failed_authentications",
            message: "too many requests with an invalid API key from this address; retry in \(seconds) s",
            headers: [.retryAfter: String(seconds)]
        )
    }
}
