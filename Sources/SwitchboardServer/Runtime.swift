import HTTPTypes
import Logging
import SwitchboardCore
import SwitchboardCrypto
import SwitchboardDashboard
import SwitchboardEgress
import SwitchboardEvents
import SwitchboardOAuth
import SwitchboardPassthrough
import SwitchboardPostgres
import SwitchboardSQLite
import SwitchboardSecretsManagers

/// The composition root: the one place that turns configuration into a store, a sealer and the
/// services. `serve`, every CLI command and every HTTP test go through `Runtime.run`.
public struct Runtime: Sendable {
    package let store: any SwitchboardStore
    public let connections: ConnectionService
    public let workspaces: WorkspaceService
    public let audit: AuditService
    public let secretsManagers: SecretsManagerService
    public let integrations: IntegrationService
    public let environments: EnvironmentService
    public let authorization: AuthorizationService
    public let refresher: TokenRefresher
    public let passthrough: PassthroughService
    /// The API call log: passthrough calls and token requests, written in batches.
    public let apiCalls: APICallLog
    /// Events, notifications and the event webhook's settings.
    public let events: EventService
    /// Sends events to event webhooks (run by `serve`).
    public let deliverer: EventDeliverer
    public let eventSettings: EventSettings
    /// Dashboard sessions, sign-in links and hosted Connect sessions.
    public let dashboard: DashboardService
    /// The server's address as browsers reach it (`--public-url`): links the dashboard and the
    /// Connect API hand out start with it.
    public let publicURL: String
    /// The master keys and where they came from (for `switchboard keys`).
    public let masterKeys: MasterKeyLoader.Keys
    public let keyRotation: KeyRotation
    /// The sealer `connections` uses; `switchboard bench` seals its bulk-loaded rows with it.
    package let sealer: any SecretSealer
    public let logger: Logger

    /// Opens the database, applies pending migrations (append-only, safe on every start and from
    /// several replicas at once), runs `body`, and closes everything when it returns.
    ///
    /// PostgreSQL's connection pool runs as a child task for exactly the duration of `body`.
    public static func run<T: Sendable>(
        database: DatabaseLocation,
        masterKeys settings: MasterKeySettings,
        oauth: OAuthSettings = OAuthSettings(),
        egress: EgressPolicy = EgressPolicy(),
        passthrough passthroughSettings: PassthroughSettings = PassthroughSettings(),
        events eventSettings: EventSettings = EventSettings(),
        dashboard dashboardSettings: DashboardSettings = DashboardSettings(),
        logger: Logger,
        now: @escaping @Sendable () -> Timestamp = Timestamp.now,
        _ body: @Sendable (Runtime) async throws -> T
    ) async throws -> T {
        // Resolve the keys first: a missing key must fail before anything touches the database.
        let keys = try MasterKeyLoader(settings: settings, dataDirectory: database.dataDirectory).load(logger: logger)
        let sealer = AESGCMSealer(keys: keys.source)
        // One egress client for every secrets manager and token endpoint: the policy every
        // outbound call goes through. Shut down after the last request.
        let egressClient = EgressClient(policy: egress)
        let factory = HTTPSecretsManagerClientFactory(httpClient: egressClient)
        // Provider API calls get a client of their own under the same policy: their timeouts
        // and connection pool are passthrough's.
        let passthroughClient = EgressClient(
            policy: egress,
            configuration: PassthroughService.clientConfiguration(passthroughSettings)
        )
        // Event webhook receivers get a third, with the delivery timeout.
        let webhookClient = EgressClient(
            policy: egress,
            configuration: EventDeliverer.clientConfiguration(eventSettings)
        )
        do {
            let result = try await withStore(database, logger: logger, now: now) { store in
                let apiCalls = APICallLog(store: store)
                let tokenClient = LoggedTokenClient(HTTPOAuthTokenClient(httpClient: egressClient), log: apiCalls)
                let secretsManagers = SecretsManagerService(store: store, sealer: sealer, factory: factory, now: now)
                let integrations = IntegrationService(catalog: oauth.catalog, store: store, sealer: sealer, now: now)
                let refresher = TokenRefresher(
                    catalog: oauth.catalog,
                    integrations: integrations,
                    store: store,
                    sealer: sealer,
                    client: tokenClient,
                    policy: oauth.refreshPolicy,
                    now: now
                )
                let connections = ConnectionService(
                    store: store,
                    audit: store,
                    sealer: sealer,
                    secretsManagers: secretsManagers,
                    refresher: refresher,
                    now: now
                )
                // Keys and their use are operational records on the wall clock; `now` stamps connections.
                let workspaces = WorkspaceService(store: store, hasher: SHA256TokenHasher(), now: Timestamp.now)
                let authorization = AuthorizationService(
                    catalog: oauth.catalog,
                    integrations: integrations,
                    connections: connections,
                    store: store,
                    hasher: SHA256TokenHasher(),
                    tokenClient: tokenClient,
                    callbackURL: oauth.callbackURL,
                    stateLifetime: oauth.stateLifetime,
                    now: now
                )
                let result = try await body(
                    Runtime(
                        store: store,
                        connections: connections,
                        workspaces: workspaces,
                        audit: AuditService(store: store),
                        secretsManagers: secretsManagers,
                        integrations: integrations,
                        environments: EnvironmentService(store: store, now: now),
                        authorization: authorization,
                        refresher: refresher,
                        passthrough: PassthroughService(
                            connections: connections,
                            catalog: oauth.catalog,
                            integrations: integrations,
                            client: passthroughClient,
                            log: apiCalls,
                            status: { Int(APIError(mapping: $0).status.code) },
                            settings: passthroughSettings
                        ),
                        apiCalls: apiCalls,
                        events: EventService(
                            store: store,
                            sealer: sealer,
                            egress: webhookClient,
                            settings: eventSettings,
                            now: now
                        ),
                        deliverer: EventDeliverer(
                            store: store,
                            sealer: sealer,
                            client: webhookClient,
                            settings: eventSettings,
                            logger: logger
                        ),
                        eventSettings: eventSettings,
                        dashboard: DashboardService(
                            store: store,
                            workspaces: workspaces,
                            connections: connections,
                            authorization: authorization,
                            integrations: integrations,
                            hasher: SHA256TokenHasher(),
                            settings: dashboardSettings
                        ),
                        publicURL: oauth.publicURL,
                        masterKeys: keys,
                        keyRotation: KeyRotation(store: store, sealer: sealer),
                        sealer: sealer,
                        logger: logger
                    )
                )
                // What the last requests recorded, before the store closes (a graceful stop
                // loses no call).
                do { try await apiCalls.flush() } catch {
                    logger.error(
                        "Writing the last API calls failed; they are lost",
                        metadata: ["count": "\(apiCalls.pendingCount)", "error.type": "\(type(of: error))"]
                    )
                }
                return result
            }
            try await egressClient.shutdown()
            try await passthroughClient.shutdown()
            try await webhookClient.shutdown()
            return result
        } catch {
            try? await egressClient.shutdown()
            try? await passthroughClient.shutdown()
            try? await webhookClient.shutdown()
            throw error
        }
    }

    /// Opens and migrates the store alone, with no key: for work that never decrypts, such as
    /// `switchboard copy`. PostgreSQL's connection pool runs for exactly the duration of `body`.
    public static func withStore<T: Sendable>(
        _ database: DatabaseLocation,
        logger: Logger,
        now: @escaping @Sendable () -> Timestamp = Timestamp.now,
        _ body: @Sendable (any SwitchboardStore) async throws -> T
    ) async throws -> T {
        switch database {
        case .sqlite(let path):
            let store = try SQLiteStore(path: path, logger: logger, now: now)
            defer { try? store.close() }
            try await migrate(store, logger: logger)
            return try await body(store)
        case .postgres(let settings):
            let store = PostgresStore(settings: settings, logger: logger, now: now)
            return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
                group.addTask { await store.run() }
                defer { group.cancelAll() }
                try await migrate(store, logger: logger)
                return try await body(store)
            }
        }
    }

    private static func migrate(_ store: any SwitchboardStore, logger: Logger) async throws {
        let applied = try await store.migrate()
        if !applied.isEmpty { logger.info("Applied migrations", metadata: ["migrations": "\(applied)"]) }
    }
}
