import ServiceLifecycle
import SwitchboardEvents

/// Everything `serve` runs: the API server, `/metrics` on its own port when configured so, and the
/// background services.
/// `tracing` is the trace exporter (`TracingExport.bootstrap`), when on.
public func serveServices(
    runtime: Runtime,
    configuration: ServerConfiguration,
    readiness: Readiness,
    metrics: PrometheusExposition?,
    tracing: (any Service)?
) throws -> [any Service] {
    var services: [any Service] = tracing.map { [$0] } ?? []
    // Before the server: services stop in reverse order, so the log is written after the last
    // request has recorded its call.
    services.append(apiCallLogWriter(runtime: runtime, configuration: configuration))
    services += [
        try buildApplication(runtime: runtime, configuration: configuration, readiness: readiness, metrics: metrics)
    ]
    if let metrics, let application = metricsApplication(metrics, runtime: runtime, configuration: configuration) {
        services.append(application)
    }
    return services + backgroundServices(runtime: runtime, configuration: configuration)
}

/// Services that run beside the HTTP server for the life of `serve`.
func backgroundServices(runtime: Runtime, configuration: ServerConfiguration) -> [any Service] {
    var services: [any Service] = [
        AuthorizationStatePurge(store: runtime.store, logger: runtime.logger),
        eventDelivery(runtime: runtime),
        EventPurge(store: runtime.store, retentionDays: runtime.eventSettings.retentionDays, logger: runtime.logger),
    ]
    if let interval = configuration.refreshInterval {
        services.append(
            BackgroundTokenRefresh(
                refresher: runtime.refresher,
                interval: interval,
                logger: runtime.logger
            )
        )
    }
    return services
}

/// The API call log's writer (`APICallLogWriter`); `bench-server` runs it beside its application as
/// `serve` does, ahead of it so that it stops after it.
public func apiCallLogWriter(runtime: Runtime, configuration: ServerConfiguration) -> any Service {
    APICallLogWriter(
        log: runtime.apiCalls,
        retentionDays: configuration.apiCallRetentionDays,
        logger: runtime.logger
    )
}

/// The event deliverer (`EventDelivery`); `bench-server` runs it as `serve` does.
public func eventDelivery(runtime: Runtime) -> any Service {
    EventDelivery(deliverer: runtime.deliverer)
}
