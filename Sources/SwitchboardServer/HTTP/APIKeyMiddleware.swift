import HTTPTypes
import Hummingbird
import SwitchboardCore

/// Authenticates `Authorization: <key>` or `Authorization: Bearer <key>` (the official SDK sends the
/// key bare; Unified's docs show Bearer) and records the caller in the context.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let workspaces: WorkspaceService

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        guard let header = request.headers[.authorization], !header.isEmpty else {
            throw APIError.unauthorized(
                "missing Authorization header: send the API key, optionally as \"Bearer <key>\""
            )
        }
        var key = Substring(header)
        if key.count > 7, key.prefix(7).lowercased() == "bearer " { key = key.dropFirst(7) }
        key = key.drop { $0 == " " }
        var context = context
        context.principal = try await workspaces.authenticate(String(key))
        return try await next(request, context)
    }
}
