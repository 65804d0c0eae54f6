import HTTPTypes
import Hummingbird

/// Refuses oversized request targets (414) and header sections (431) before any route, key
/// check or database work. The HTTP parser already bounds a request head at 80 KiB (anything
/// larger is answered 400 and the connection closed); these tighter limits say what was wrong.
struct RequestLimitsMiddleware<Context: RequestContext>: RouterMiddleware {
    let maximumURILength: Int
    let maximumHeaderBytes: Int

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        let uriLength = request.head.path?.utf8.count ?? 0
        if uriLength > maximumURILength {
            throw APIError(
                status: .uriTooLong,
                code: "uri_too_long",
                message: "the request target is \(uriLength) bytes; at most \(maximumURILength) are accepted"
            )
        }
        var headerBytes = 0
        for field in request.headers {
            headerBytes += field.name.rawName.utf8.count + field.value.utf8.count + 4  // ": " and CRLF
        }
        if headerBytes > maximumHeaderBytes {
            throw APIError(
                status: .requestHeaderFieldsTooLarge,
                code: "headers_too_large",
                message: "the request headers are \(headerBytes) bytes; at most \(maximumHeaderBytes) are accepted"
            )
        }
        return try await next(request, context)
    }
}
