import HTTPTypes
import Hummingbird
import Logging

/// Outermost middleware: renders every error as the JSON error body, and logs server faults
/// (type only: an error's text may carry driver detail).
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            let apiError = APIError(mapping: error)
            logFault(apiError, error, request, context.logger)
            // Switchboard's own answer, not a provider's (which passthrough marks `vendor`).
            var response = apiError.response()
            response.headers[PassthroughRoutes.originHeader] = "switchboard"
            return response
        }
    }
}

/// Logs a server fault (5xx) once, by the error's type only: its text may carry driver detail.
/// The HTTP edge's error middlewares (JSON here, HTML for the web pages) all log through it.
func logFault(_ apiError: APIError, _ error: any Error, _ request: Request, _ logger: Logger) {
    guard apiError.status.code >= 500 else { return }
    logger.error(
        "Request failed",
        metadata: [
            "http.method": "\(request.method)", "http.path": "\(request.uri.path)",
            "error.type": "\(type(of: error))", "http.status": "\(apiError.status.code)",
        ]
    )
}
