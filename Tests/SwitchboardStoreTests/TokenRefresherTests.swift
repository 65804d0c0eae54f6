import Foundation
import SwitchboardCore
import SwitchboardCrypto
import Synchronization
import Testing

/// Token refresh against each real backend, with a scripted token endpoint and a clock the test
/// moves: one call per expiry however many callers and "replicas" ask, rotation, and how each
/// kind of failure is classified.
@Suite struct TokenRefresherTests {
    /// A token endpoint that issues numbered tokens, rotates refresh tokens (an old one gets
    /// `invalid_grant`, as real rotating providers answer), and plays queued failures first.
    final class ScriptedEndpoint: OAuthTokenClient {
        struct State {
            var calls = 0
            var issued = 0
            var currentRefreshToken = "rt-0"
            var failures: [TokenEndpointError] = []
            var presented: [String] = []
        }
        let state = Mutex(State())
        let delay: Duration

        init(delay: Duration = .milliseconds(50)) { self.delay = delay }

        var calls: Int { state.withLock { $0.calls } }

        func fail(with errors: [TokenEndpointError]) { state.withLock { $0.failures = errors } }

        func requestToken(_ request: TokenRequest) async throws -> TokenResponse {
            let presented = request.parameters.first { $0.0 == "refresh_token" }?.1 ?? ""
            let failure: TokenEndpointError? = state.withLock { state in
                state.calls += 1
                state.presented.append(presented)
                return state.failures.isEmpty ? nil : state.failures.removeFirst()
            }
            // Widen the window in which other callers could slip in a second request.
            try await Task.sleep(for: delay)
            if let failure { throw failure }
            return try state.withLock { state in
                guard presented == state.currentRefreshToken else {
                    throw TokenEndpointError.rejected(status: 400, error: "invalid_grant")
                }
                state.issued += 1
                state.currentRefreshToken = "rt-\(state.issued)"
                return TokenResponse(
                    accessToken: "at-\(state.issued)",
                    refreshToken: state.currentRefreshToken,
                    expiresIn: 3600,
                    tokenType: "Bearer"
                )
            }
        }
    }

    final class Clock: Sendable {
        let milliseconds = Mutex<Int64>(1_800_000_000_000)
        @Sendable func now() -> Timestamp { Timestamp(millisecondsSinceEpoch: milliseconds.withLock { $0 }) }
        func advance(seconds: Int64) { milliseconds.withLock { $0 += seconds * 1000 } }
    }

    struct Fixture {
        let store: any SwitchboardStore
        let sealer: AESGCMSealer
        let endpoint: ScriptedEndpoint
        let clock: Clock
        let workspace: WorkspaceID
        let catalog: IntegrationCatalog

        /// One refresher per simulated replica: each has its own identity, they share only the database.
        func refresher(policy: RefreshPolicy = RefreshPolicy(margin: 60)) -> TokenRefresher {
            let integrations = IntegrationService(catalog: catalog, store: store, sealer: sealer, now: clock.now)
            return TokenRefresher(
                catalog: catalog,
                integrations: integrations,
                store: store,
                sealer: sealer,
                client: endpoint,
                policy: policy,
                now: clock.now,
                sleep: { try await Task.sleep(for: min($0, .milliseconds(20))) }
            )
        }

        /// A connection whose token expired a minute ago, holding refresh token `rt-0`.
        func expiredConnection() async throws -> Connection {
            let time = clock.now()
            let id = ConnectionID.generate(at: time)
            let expiry = Timestamp(millisecondsSinceEpoch: time.millisecondsSinceEpoch - 60_000)
            let auth = #"{"access_token":"at-0","refresh_token":"rt-0","expiry_date":"\#(expiry.rfc3339)"}"#
            let connection = Connection(
                id: id,
                workspaceID: workspace,
                fields: ConnectionFields(
                    integrationType: "mock",
                    permissions: [Permission("crm_contact_read")!],
                    categories: [Category("crm")!]
                ),
                sealedAuth: try sealer.seal(
                    Array(auth.utf8),
                    context: SealContext(workspaceID: workspace, connectionID: id)
                ),
                refresh: TokenRefreshState(status: .active, expiresAt: expiry),
                createdAt: time,
                updatedAt: time
            )
            try await store.insert(connection)
            return connection
        }

        func accessToken(_ connection: Connection) throws -> String? {
            guard let sealed = connection.sealedAuth else { return nil }
            let bytes = try sealer.open(
                sealed,
                context: SealContext(workspaceID: workspace, connectionID: connection.id)
            )
            guard case .string(let token)? = ConnectionAuth(trustedJSON: bytes).parsed()["access_token"] else {
                return nil
            }
            return token
        }

        func reload(_ connection: Connection) async throws -> Connection {
            try #require(try await store.connection(id: connection.id, workspace: workspace))
        }
    }

    static let mock = IntegrationDefinition(
        type: "mock",
        name: "Mock",
        categories: [Category("crm")!],
        authKind: .oauth2,
        oauth2: .init(
            authorizeURL: "http://127.0.0.1:1/authorize",
            tokenURL: "http://127.0.0.1:1/token",
            pkce: true,
            tokenEndpointAuth: .clientSecretBasic,
            defaultScopes: [],
            permissionScopes: ["crm_contact_read": ["contacts.read"]]
        )
    )

    func withFixture(
        _ backend: StoreBackend,
        endpoint: ScriptedEndpoint = ScriptedEndpoint(),
        _ body: @Sendable (Fixture) async throws -> Void
    ) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let sealer = AESGCMSealer(
                keys: KeyRing(
                    active: try KeyRing.masterKey(base64: Data(repeating: 3, count: 32).base64EncodedString())
                )
            )
            let catalog = IntegrationCatalog([Self.mock])
            let clock = Clock()
            let integrations = IntegrationService(catalog: catalog, store: store, sealer: sealer, now: clock.now)
            _ = try await integrations.enable(
                type: "mock",
                clientID: "client",
                clientSecret: "secret",
                isActive: true,
                extraScopes: [],
                by: .cli(workspace: workspace)
            )
            try await body(
                Fixture(
                    store: store,
                    sealer: sealer,
                    endpoint: endpoint,
                    clock: clock,
                    workspace: workspace,
                    catalog: catalog
                )
            )
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func twoHundredConcurrentCallersOnTwoReplicasCauseOneTokenCallAndAllGetTheNewToken(
        _ backend: StoreBackend
    ) async throws {
        try await withFixture(backend) { f in
            let connection = try await f.expiredConnection()
            let replicas = [f.refresher(), f.refresher()]
            let tokens = try await withThrowingTaskGroup(of: String?.self, returning: [String?].self) { group in
                for i in 0..<200 {
                    group.addTask { try f.accessToken(try await replicas[i % 2].fresh(connection)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(f.endpoint.calls == 1)
            #expect(Set(tokens) == ["at-1"])
            let stored = try await f.reload(connection)
            #expect(stored.refresh?.status == .active)
            #expect(stored.health.lastHealthyAt != nil)

            // The next expiry: the rotated refresh token was stored, so the second refresh works too.
            f.clock.advance(seconds: 3600)
            let again = try await withThrowingTaskGroup(of: String?.self, returning: [String?].self) { group in
                for i in 0..<50 {
                    group.addTask { try f.accessToken(try await replicas[i % 2].fresh(stored)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(f.endpoint.calls == 2)
            #expect(Set(again) == ["at-2"])
            #expect(f.endpoint.state.withLock { $0.presented } == ["rt-0", "rt-1"])
        }
    }

    /// Passthrough's forced refresh: a token the provider refused is replaced once however many
    /// callers saw the refusal, a row that changed meanwhile is used as it is, and a failed refresh's
    /// backoff is respected.
    @Test(arguments: StoreBackend.enabled)
    func aRefusedTokenIsRefreshedOnceForEveryCallerThatSawIt(_ backend: StoreBackend) async throws {
        try await withFixture(backend) { f in
            // Fresh for another hour: only a refusal makes it worth refreshing.
            let connection = try await f.refresher().fresh(try await f.expiredConnection())
            #expect(f.endpoint.calls == 1)
            let replicas = [f.refresher(), f.refresher()]
            let tokens = try await withThrowingTaskGroup(of: String?.self, returning: [String?].self) { group in
                for i in 0..<100 {
                    group.addTask { try f.accessToken(try await replicas[i % 2].refreshRejected(connection)) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(f.endpoint.calls == 2)
            #expect(Set(tokens) == ["at-2"])

            // Someone who still holds the old row gets the new one, without a token request.
            let late = try await replicas[0].refreshRejected(connection)
            #expect(try f.accessToken(late) == "at-2")
            #expect(f.endpoint.calls == 2)

            // A refusal of the new token forces one more refresh; within a minute of it, this
            // process forces no other (the provider refuses for a reason a token does not fix).
            let solo = f.refresher()
            let third = try await solo.refreshRejected(try await f.reload(connection))
            #expect(try f.accessToken(third) == "at-3")
            let again = try await solo.refreshRejected(third)
            #expect(try f.accessToken(again) == "at-3")
            #expect(f.endpoint.calls == 3)
            f.clock.advance(seconds: TokenRefresher.forcedRefreshCooldown + 1)

            // A refusal while the token endpoint fails: the failure is recorded, and the next
            // refusals wait out its backoff instead of each asking the endpoint again.
            f.endpoint.fail(with: [.unavailable(status: 503, retryAfter: 30, reason: "")])
            let failed = try await solo.refreshRejected(try await f.reload(connection))
            #expect(try f.accessToken(failed) == "at-3")
            #expect(failed.refresh?.status == .retrying)
            #expect(f.endpoint.calls == 4)
            _ = try await replicas[1].refreshRejected(try await f.reload(connection))
            #expect(f.endpoint.calls == 4)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func invalidGrantMarksTheConnectionForReauthorizationAndStopsAttempts(_ backend: StoreBackend) async throws {
        try await withFixture(backend) { f in
            let connection = try await f.expiredConnection()
            f.endpoint.fail(with: [.rejected(status: 400, error: "invalid_grant")])
            let refresher = f.refresher()
            let answered = try await refresher.fresh(connection)
            #expect(answered.refresh?.status == .needsReauth)
            #expect(answered.health.lastUnhealthyCode == "400")
            #expect(answered.health.lastUnhealthyAt == f.clock.now())
            for _ in 0..<5 {
                f.clock.advance(seconds: 600)
                let again = try await refresher.fresh(try await f.reload(connection))
                #expect(again.refresh?.status == .needsReauth)
                _ = try await refresher.refreshDue(limit: 10)
            }
            #expect(f.endpoint.calls == 1)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aTransientFailureRetriesLaterAndNeverNeedsReauthorization(_ backend: StoreBackend) async throws {
        try await withFixture(backend) { f in
            let connection = try await f.expiredConnection()
            f.endpoint.fail(with: [.unavailable(status: 503, retryAfter: nil, reason: "")])
            let refresher = f.refresher()
            await #expect(throws: ServiceError.self) { _ = try await refresher.fresh(connection) }
            var stored = try await f.reload(connection)
            #expect(stored.refresh?.status == .retrying)
            #expect(stored.health.lastUnhealthyCode == "503")
            let next = try #require(stored.refresh?.nextAttemptAt)
            // Within the backoff nobody calls the provider again: callers get the 503 at once.
            await #expect(throws: ServiceError.self) { _ = try await refresher.fresh(stored) }
            #expect(f.endpoint.calls == 1)
            f.clock.advance(seconds: (next.millisecondsSinceEpoch - f.clock.now().millisecondsSinceEpoch) / 1000 + 1)
            let recovered = try await refresher.fresh(stored)
            #expect(try f.accessToken(recovered) == "at-1")
            stored = try await f.reload(connection)
            #expect(stored.refresh?.status == .active)
            #expect(stored.refresh?.attempts == 0)
            #expect(try #require(stored.health.lastHealthyAt) > (try #require(stored.health.lastUnhealthyAt)))
            #expect(f.endpoint.calls == 2)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func retryAfterIsHonoured(_ backend: StoreBackend) async throws {
        try await withFixture(backend) { f in
            let connection = try await f.expiredConnection()
            f.endpoint.fail(with: [.unavailable(status: 429, retryAfter: 120, reason: "")])
            await #expect(throws: ServiceError.self) { _ = try await f.refresher().fresh(connection) }
            let stored = try await f.reload(connection)
            let next = try #require(stored.refresh?.nextAttemptAt)
            #expect(next.millisecondsSinceEpoch >= f.clock.now().millisecondsSinceEpoch + 120_000)
            #expect(stored.refresh?.status == .retrying)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aProviderDownForAnHourGetsABoundedNumberOfAttempts(_ backend: StoreBackend) async throws {
        try await withFixture(backend, endpoint: ScriptedEndpoint(delay: .zero)) { f in
            let connection = try await f.expiredConnection()
            f.endpoint.fail(
                with: Array(
                    repeating: .unavailable(status: nil, retryAfter: nil, reason: "connection failed"),
                    count: 1000
                )
            )
            let refresher = f.refresher()
            // An hour in 10 s steps; at every step both the background pass and an impatient
            // caller ask for a refresh.
            for _ in 0..<360 {
                _ = try await refresher.refreshDue(limit: 10)
                _ = try? await refresher.fresh(try await f.reload(connection))
                f.clock.advance(seconds: 10)
            }
            let stored = try await f.reload(connection)
            // Exponential backoff from 5 s, capped at 10 min, jitter in [d/2, d]: about 14 attempts
            // in an hour instead of 720 asks.
            #expect((8...20).contains(f.endpoint.calls), "attempts: \(f.endpoint.calls)")
            print("[\(backend)] a provider down for an hour: \(f.endpoint.calls) token calls for 720 asks")
            #expect(stored.refresh?.status == .retrying)
            #expect(stored.health.lastUnhealthyCode == "unreachable")
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func theBackgroundPassRefreshesDueRowsOnceAcrossReplicas(_ backend: StoreBackend) async throws {
        try await withFixture(backend, endpoint: ScriptedEndpoint(delay: .milliseconds(5))) { f in
            var connections: [Connection] = []
            for _ in 0..<12 { connections.append(try await f.expiredConnection()) }
            // (The scripted endpoint accepts rt-0 once, so later rows get invalid_grant: what counts
            // here is that each due row is claimed by exactly one replica and called exactly once.)
            let replicas = [f.refresher(), f.refresher()]
            let claimed = try await withThrowingTaskGroup(of: Int.self, returning: Int.self) { group in
                for replica in replicas { group.addTask { try await replica.refreshDue(limit: 25).claimed } }
                return try await group.reduce(0, +)
            }
            #expect(claimed == 12)
            #expect(f.endpoint.calls == 12)
        }
    }
}
