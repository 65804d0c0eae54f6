import HTTPTypes
import Hummingbird
import Instrumentation
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// A server span per request, continuing the caller's W3C trace (`traceparent`, `tracestate`),
/// named by method and route template, with the method, route and status as attributes: never
/// the path, the query or a header, which may carry ids or secrets. Store operations and
/// outbound calls made for the request become its children.
struct RequestTracingMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var parent = ServiceContext.current ?? .topLevel
        InstrumentationSystem.instrument.extract(request.headers, into: &parent, using: HTTPFieldsExtractor())
        let method = request.method.rawValue
        return try await withSpan("\(method) unmatched", context: parent, ofKind: .server) { span in
            span.attributes["http.request.method"] = method
            func finish(_ status: Int) {
                let route = context.routeTemplate
                span.operationName = "\(method) \(route)"
                span.attributes["http.route"] = route
                span.attributes["http.response.status_code"] = status
                if status >= 500 { span.setStatus(SpanStatus(code: .error)) }
            }
            do {
                let response = try await next(request, context)
                finish(Int(response.status.code))
                return response
            } catch {
                finish(Int((error as? any HTTPResponseError)?.status.code ?? 500))
                throw error
            }
        }
    }
}

struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from fields: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { fields[$0] }
    }
}

/// Exports spans over OTLP/HTTP (protobuf) with swift-otel, when `--otel-endpoint` is set.
public enum TracingExport {
    /// Makes swift-otel's tracer the process's, exporting to `endpoint` + `/v1/traces`; the
    /// standard `OTEL_*` variables (headers, sampler, batch delays...) refine it. Run the
    /// returned service for the life of the server: it batches, exports, and flushes at the end.
    public static func bootstrap(endpoint: String, logger: Logger) throws -> any Service {
        var configuration = OTel.Configuration.default
        configuration.serviceName = "switchboard"
        configuration.resourceAttributes["service.version"] = SwitchboardVersion.current
        configuration.diagnosticLogger = .custom(logger)
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        configuration.traces.otlpExporter.endpoint =
            (endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint) + "/v1/traces"
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(backend.factory)
        return backend.service
    }
}
