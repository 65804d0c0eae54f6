import HTTPTypes
import Hummingbird

/// Turns the router's 404 for a known path into a 405 with `Allow`, for any method the path does
/// not support, including ones no route table can list in advance (TRACE, QUERY, PROPFIND...).
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Router-form paths (`/unified/connection/:id`) and the methods each supports, the most
    /// specific first: as in the router, a fixed segment (`/unified/secretsmanager/instructions`)
    /// wins over a parameter (`/unified/secretsmanager/:id`).
    private let paths: [(segments: [Substring], allow: String)]

    init(allowed: [String: Set<HTTPRequest.Method>]) {
        paths = allowed.map { path, methods in
            var methods = methods
            if methods.contains(.get) { methods.insert(.head) }
            return (path.split(separator: "/"), methods.map(\.rawValue).sorted().joined(separator: ", "))
        }.sorted { a, b in
            let (pa, pb) = (a.segments.count { $0.hasPrefix(":") }, b.segments.count { $0.hasPrefix(":") })
            return pa != pb ? pa < pb : a.segments.joined(separator: "/") < b.segments.joined(separator: "/")
        }
    }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let segments = request.uri.path.split(separator: "/")
            guard let allow = paths.first(where: { Self.matches($0.segments, segments) })?.allow else { throw error }
            throw APIError(
                status: .methodNotAllowed,
                code: "method_not_allowed",
                message: "\(request.method) is not supported on this path; allowed: \(allow)",
                headers: [.allow: allow]
            )
        }
    }

    /// `:name` segments match any one segment, and a final `**` one or more, as in the router.
    private static func matches(_ pattern: [Substring], _ path: [Substring]) -> Bool {
        if pattern.last == "**" {
            return path.count >= pattern.count
                && zip(pattern.dropLast(), path).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
        }
        return pattern.count == path.count && zip(pattern, path).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
    }
}
