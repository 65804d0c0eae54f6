import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import SwitchboardCore
import SwitchboardDashboard

/// Builds the HTTP application over an opened runtime. `serve` and the HTTP tests both call this.
/// `extraRoutes` adds routes beside the API's: only `switchboard bench-server` uses it (the
/// benchmark's HTTP ceiling), so `serve` answers nothing but the API.
/// `readiness` is what `/health/ready` reports beside its own checks; `serve` marks it draining
/// when a shutdown begins (`runUntilSignalled`).
/// `metrics`, when given, serves `/metrics` on the API port unless the configuration gives it a
/// port of its own (`metricsApplication`).
public func buildApplication(
    runtime: Runtime,
    configuration: ServerConfiguration,
    readiness: Readiness = Readiness(),
    metrics: PrometheusExposition? = nil,
    extraRoutes: (Router<AppRequestContext>) -> Void = { _ in }
) throws
    -> some ApplicationProtocol
{
    let router = try buildRouter(
        runtime: runtime,
        configuration: configuration,
        readiness: readiness,
        metrics: configuration.metrics?.port == nil ? metrics : nil
    )
    extraRoutes(router)
    let maximumConnections =
        configuration.maximumConnections
        ?? ServerConfiguration.defaultMaximumConnections(fileDescriptors: FileDescriptorLimit.current)
    return Application(
        router: router,
        server: .http1(
            configuration: HTTP1Channel.Configuration(
                additionalChannelHandlers: [UnreadBodyDeadlineHandler()],
                idleTimeout: TimeAmount(configuration.idleTimeout)
            )
        ),
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: "switchboard",
            availableConnectionsDelegate: MaximumAvailableConnections(maximumConnections, logger: runtime.logger)
        ),
        logger: runtime.logger
    )
}

/// `/metrics` alone, on the configured metrics port (same address as the API), for installs that
/// keep it off the API port.
public func metricsApplication(
    _ metrics: PrometheusExposition,
    runtime: Runtime,
    configuration: ServerConfiguration
) -> (some ApplicationProtocol)? {
    guard let port = configuration.metrics?.port else { return nil as Application<RouterResponder<AppRequestContext>>? }
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    metrics.register(on: router, runtime: runtime)
    return Application(
        router: router,
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: port),
            serverName: "switchboard"
        ),
        logger: runtime.logger
    )
}

/// Every route, its middleware, and a 405 with `Allow` for methods a known path does not support.
func buildRouter(
    runtime: Runtime,
    configuration: ServerConfiguration,
    readiness: Readiness = Readiness(),
    metrics: PrometheusExposition? = nil
) throws -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    let routes = apiRoutes(
        runtime: runtime,
        bodyLimits: configuration.bodyLimits,
        authorizeLimiter: RateLimiter(limit: configuration.authorizeRateLimit)
    )
    var allowed: [String: Set<HTTPRequest.Method>] = ["/openapi.yaml": [.get]]
    for path in HealthRoutes.paths { allowed[path] = [.get] }
    if metrics != nil { allowed["/metrics"] = [.get] }
    for route in routes { allowed[route.routerPath, default: []].insert(route.method) }

    // Outermost: it logs the answer ErrorMiddleware made of any error, with its request id.
    router.add(middleware: RequestLogMiddleware(logger: runtime.logger))
    // Outside ErrorMiddleware too, so the span records the status the client gets.
    if configuration.otelEndpoint != nil { router.add(middleware: RequestTracingMiddleware()) }
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: ClientAddressMiddleware(proxies: configuration.trustedProxies))
    router.add(
        middleware: RequestLimitsMiddleware(
            maximumURILength: configuration.maximumURILength,
            maximumHeaderBytes: configuration.maximumHeaderBytes
        )
    )
    router.add(middleware: MethodNotAllowedMiddleware(allowed: allowed))

    let openAPI = try OpenAPIDocument.load()
    let (store, keyRotation) = (runtime.store, runtime.keyRotation)
    HealthRoutes(
        knownMigrations: store.migrationIDs,
        appliedMigrations: { try await store.appliedMigrations() },
        activeKeyID: { keyRotation.activeKeyID },
        readiness: readiness
    ).register(on: router)
    metrics?.register(on: router, runtime: runtime)
    router.get("/openapi.yaml") { _, _ in
        Response(
            status: .ok,
            headers: [.contentType: "application/yaml"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: openAPI))
        )
    }

    let limiter = RateLimiter(limit: configuration.authenticationFailureLimit)
    let authenticated = router.group().add(
        middleware: APIKeyMiddleware(workspaces: runtime.workspaces, limiter: limiter)
    )
    let confirmedByRead = router.group().add(
        middleware: APIKeyMiddleware(workspaces: runtime.workspaces, limiter: limiter, deferringRevocationCheck: true)
    )
    for route in routes {
        let handler = route.handler
        if route.requiresAPIKey {
            let group = route.keyConfirmedByRead ? confirmedByRead : authenticated
            let scope = route.scope
            group.on(RouterPath(route.routerPath), method: route.method) { request, context in
                try checkPathParameters(context.parameters)
                // An early refusal only: the service checks the scope again, with revocation.
                if let scope, !(try context.requirePrincipal().scopes.contains(scope)) {
                    throw ServiceError.missingScope(scope)
                }
                return try await handler(request, context)
            }
        } else {
            router.on(RouterPath(route.routerPath), method: route.method) { request, context in
                try checkPathParameters(context.parameters)
                return try await handler(request, context)
            }
        }
    }
    // The dashboard and the hosted Connect page: HTML, outside the API's document.
    let pages = try DashboardPages()
    let web = WebPolicy(publicURL: runtime.publicURL)
    DashboardRoutes(runtime: runtime, pages: pages, web: web, limiter: limiter).register(on: router)
    ConnectPageRoutes(dashboard: runtime.dashboard, pages: pages, web: web).register(on: router)
    return router
}

/// All operations of the API (the document's paths, minus `/health` and `/openapi.yaml`).
func apiRoutes(
    runtime: Runtime,
    bodyLimits: BodyLimits,
    authorizeLimiter: RateLimiter = RateLimiter(limit: ServerConfiguration.defaultAuthorizeRateLimit)
) -> [Route] {
    ConnectionRoutes(connections: runtime.connections, bodyLimits: bodyLimits).routes
        + KeyRoutes(workspaces: runtime.workspaces, bodyLimits: bodyLimits).routes
        + AuditRoutes(audit: runtime.audit).routes
        + SecretsManagerRoutes(secretsManagers: runtime.secretsManagers, bodyLimits: bodyLimits).routes
        + IntegrationRoutes(integrations: runtime.integrations, events: runtime.events, bodyLimits: bodyLimits).routes
        + EnvironmentRoutes(environments: runtime.environments, bodyLimits: bodyLimits).routes
        + OAuthRoutes(authorization: runtime.authorization, bodyLimits: bodyLimits, limiter: authorizeLimiter).routes
        + PassthroughRoutes(passthrough: runtime.passthrough).routes
        + APICallRoutes(log: runtime.apiCalls).routes
        + EventRoutes(events: runtime.events).routes
        + ConnectSessionRoutes(
            dashboard: runtime.dashboard,
            web: WebPolicy(publicURL: runtime.publicURL),
            bodyLimits: bodyLimits
        ).routes
}
