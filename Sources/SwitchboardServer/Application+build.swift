import HTTPTypes
import Hummingbird
import Logging
import SwitchboardCore

/// Builds the HTTP application over an opened runtime. `serve` and the HTTP tests both call this.
public func buildApplication(
    runtime: Runtime,
    configuration: ServerConfiguration
) throws
    -> some ApplicationProtocol
{
    let router = try buildRouter(runtime: runtime, maximumBodySize: configuration.maximumBodySize)
    if configuration.benchmarkCeiling { BenchmarkCeiling().register(on: router) }
    return Application(
        router: router,
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: "switchboard"
        ),
        logger: runtime.logger
    )
}

/// Every route, its middleware, and a 405 with `Allow` for methods a known path does not support.
func buildRouter(runtime: Runtime, maximumBodySize: Int) throws -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: ErrorMiddleware())

    let openAPI = try OpenAPIDocument.load()
    router.get("/health") { _, _ in Response.json(Array(#"{"status":"ok"}"#.utf8)) }
    router.get("/openapi.yaml") { _, _ in
        Response(
            status: .ok,
            headers: [.contentType: "application/yaml"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: openAPI))
        )
    }

    let routes = apiRoutes(runtime: runtime, maximumBodySize: maximumBodySize)
    let authenticated = router.group().add(middleware: APIKeyMiddleware(workspaces: runtime.workspaces))
    for route in routes {
        let handler = route.handler
        if route.requiresAPIKey {
            authenticated.on(RouterPath(route.routerPath), method: route.method) { try await handler($0, $1) }
        } else {
            router.on(RouterPath(route.routerPath), method: route.method) { try await handler($0, $1) }
        }
    }

    var allowed: [String: Set<HTTPRequest.Method>] = ["/health": [.get], "/openapi.yaml": [.get]]
    for route in routes { allowed[route.routerPath, default: []].insert(route.method) }
    for (path, methods) in allowed {
        var allow = methods
        if allow.contains(.get) { allow.insert(.head) }
        let allowHeader = allow.map(\.rawValue).sorted().joined(separator: ", ")
        for method in methodsAnsweredWith405 where !allow.contains(method) {
            router.on(RouterPath(path), method: method) { request, _ -> Response in
                throw APIError(
                    status: .methodNotAllowed,
                    code: "method_not_allowed",
                    message: "\(request.method) is not supported on this path; allowed: \(allowHeader)",
                    headers: [.allow: allowHeader]
                )
            }
        }
    }
    return router
}

/// All operations of the API (the document's paths, minus `/health` and `/openapi.yaml`).
func apiRoutes(runtime: Runtime, maximumBodySize: Int) -> [Route] {
    ConnectionRoutes(connections: runtime.connections, maximumBodySize: maximumBodySize).routes
}

private let methodsAnsweredWith405: [HTTPRequest.Method] = [
    .get, .head, .post, .put, .patch, .delete, .options, .trace, .connect,
]
