import Foundation
import Synchronization

/// Refreshes OAuth access tokens so that exactly one token request is made per expiry, however
/// many callers, processes and replicas ask at once.
///
/// The database serializes it: whoever takes the row's refresh lease (a conditional UPDATE) reads
/// the row again, calls the token endpoint only if the token still needs it, and writes the new
/// tokens and releases the lease in one statement. Everyone else waits for the row to change and
/// reads the new token. A rotated refresh token is thus stored before the lease is free, so nobody
/// can present the old one again. See `docs/oauth.md` for the states.
public struct TokenRefresher: Sendable {
    private let catalog: IntegrationCatalog
    private let integrations: IntegrationService
    private let store: any TokenRefreshStore & ConnectionStore
    private let sealer: any SecretSealer
    private let client: any OAuthTokenClient
    public let policy: RefreshPolicy
    private let now: @Sendable () -> Timestamp
    private let sleep: @Sendable (Duration) async throws -> Void
    private let forced = ForcedRefreshes()

    public init(
        catalog: IntegrationCatalog,
        integrations: IntegrationService,
        store: any TokenRefreshStore & ConnectionStore,
        sealer: any SecretSealer,
        client: any OAuthTokenClient,
        policy: RefreshPolicy,
        now: @escaping @Sendable () -> Timestamp,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.catalog = catalog
        self.integrations = integrations
        self.store = store
        self.sealer = sealer
        self.client = client
        self.policy = policy
        self.now = now
        self.sleep = sleep
    }

    /// The refresh state for credentials just written: tracked when the integration is OAuth 2 in
    /// the catalog and `auth` has a refresh token and an expiry date. Writing credentials starts
    /// over, so new credentials clear `needs_reauth`.
    public func initialState(integrationType: String, auth: ConnectionAuth?) -> TokenRefreshState? {
        guard let auth, catalog.definition(integrationType)?.authKind == .oauth2 else { return nil }
        let parsed = auth.parsed()
        guard case .string(let refreshToken)? = parsed["refresh_token"], !refreshToken.isEmpty,
            case .string(let expiry)? = parsed["expiry_date"], let expiresAt = Timestamp(rfc3339: expiry)
        else { return nil }
        return TokenRefreshState(status: .active, expiresAt: expiresAt)
    }

    /// True when the connection's token expires within the margin and a refresh may be tried.
    func isDue(_ connection: Connection, at time: Timestamp) -> Bool {
        guard let refresh = connection.refresh, refresh.status != .needsReauth else { return false }
        return refresh.expiresAt <= time.adding(seconds: policy.margin)
    }

    /// The connection with a token that is not about to expire: refreshed now if it was due (or
    /// waited for, when another caller is refreshing it). A connection that needs re-authorization
    /// comes back as stored. Throws `ServiceError.tokenRefreshFailed` when the token has expired and
    /// cannot be refreshed for now.
    public func fresh(_ connection: Connection) async throws -> Connection {
        guard isDue(connection, at: now()) else { return connection }
        let owner = Self.newOwner()
        let deadline = now().adding(seconds: policy.waitSeconds)
        var row = connection
        while true {
            // The row may have settled meanwhile (refreshed by another caller, or backing off).
            if let settled = try settled(row, at: now()) { return settled }
            let time = now()
            let lease = try await store.acquireRefreshLease(
                id: row.id,
                workspace: row.workspaceID,
                owner: owner,
                at: time,
                until: time.adding(seconds: policy.leaseSeconds)
            )
            switch lease {
            case nil: throw ServiceError.connectionNotFound(row.id)
            case .acquired(let current): return try await refresh(current, owner: owner)
            case .heldElsewhere(let current):
                // Someone else is calling the token endpoint: wait for the row to change.
                let wait = try await waitWhileRefreshing(current, deadline: deadline) { try settled($0, at: now()) }
                switch wait {
                case .done(let settled): return settled
                case .changed(let next): row = next
                }
            }
        }
    }

    /// After a provider refused `used`'s access token (a passthrough 401): the connection with a
    /// token other than the refused one. One caller takes the lease and refreshes; every other
    /// caller that saw the same refusal waits for the row to change and uses what it got, so any
    /// number of concurrent refusals make one token request. A row whose credentials changed since
    /// `used` was read is returned as it is (someone already replaced the token).
    ///
    /// Nothing is requested, and the row comes back as stored, when the connection cannot be
    /// refreshed (no refresh token, re-authorization needed), when a failed refresh's backoff is
    /// still running, or when this process forced a refresh of it less than
    /// `forcedRefreshCooldown` seconds ago: a provider that refuses every call, whatever the token,
    /// must not turn each one into a token request.
    public func refreshRejected(_ used: Connection) async throws -> Connection {
        guard let state = used.refresh, state.status != .needsReauth else { return used }
        let time = now()
        if let next = state.nextAttemptAt, next > time { return used }
        let owner = Self.newOwner()
        let deadline = time.adding(seconds: policy.waitSeconds)
        let lease = try await store.acquireRefreshLease(
            id: used.id,
            workspace: used.workspaceID,
            owner: owner,
            at: time,
            until: time.adding(seconds: policy.leaseSeconds)
        )
        switch lease {
        case nil: throw ServiceError.connectionNotFound(used.id)
        case .acquired(let current):
            let backingOff = current.refresh?.nextAttemptAt.map { $0 > time } ?? false
            let cooling = forced.isRecent(used.id, at: time, within: Self.forcedRefreshCooldown)
            guard current.sealedAuth == used.sealedAuth, current.refresh?.status != .needsReauth, !backingOff,
                !cooling
            else {
                try await store.releaseRefreshLease(id: used.id, owner: owner)
                return current
            }
            defer { forced.note(used.id, at: now()) }
            return try await refresh(current, owner: owner, force: true)
        case .heldElsewhere(let current):
            // Someone is refreshing: every refresh ends by bumping the version.
            let wait = try await waitWhileRefreshing(current, deadline: deadline) {
                $0.version != used.version ? $0 : nil
            }
            switch wait {
            case .done(let row), .changed(let row): return row
            }
        }
    }

    private enum Wait {
        /// `until` gave this answer.
        case done(Connection)
        /// The row changed (a refresh or a write ended): the caller looks at it again.
        case changed(Connection)
    }

    /// While another caller holds the row's refresh lease: polls the row (20 ms, doubling up to
    /// 200 ms) until `until` answers for it or its version changes, and gives up at `deadline`
    /// with `tokenRefreshFailed`.
    private func waitWhileRefreshing(
        _ start: Connection,
        deadline: Timestamp,
        until: (Connection) throws -> Connection?
    ) async throws -> Wait {
        var row = start
        var pause = Duration.milliseconds(20)
        while true {
            if let done = try until(row) { return .done(done) }
            guard now() < deadline else { throw ServiceError.tokenRefreshFailed(retryAfter: 1, nil) }
            try await sleep(pause)
            pause = min(pause * 2, .milliseconds(200))
            guard let next = try await store.connection(id: row.id, workspace: row.workspaceID) else {
                throw ServiceError.connectionNotFound(row.id)
            }
            if next.version != row.version { return .changed(next) }
            row = next
        }
    }

    /// Seconds after a forced refresh during which this process forces no other for the connection.
    public static let forcedRefreshCooldown: Int64 = 60

    /// One background pass: takes the leases of up to `limit` rows due for refresh and refreshes
    /// them. Returns how many rows it took (a full batch means more may be due).
    public func refreshDue(limit: Int) async throws -> (claimed: Int, failed: Int) {
        let owner = Self.newOwner()
        let time = now()
        let rows = try await store.claimDueRefreshes(
            owner: owner,
            at: time,
            dueBy: time.adding(seconds: policy.margin),
            until: time.adding(seconds: policy.leaseSeconds),
            limit: limit
        )
        var failed = 0
        for row in rows {
            do { _ = try await refresh(row, owner: owner) } catch { failed += 1 }
        }
        return (rows.count, failed)
    }

    /// What a caller gets from a row without refreshing it: the row when nothing needs doing (or
    /// nothing can be done), an error when its token has expired and a retry is scheduled, nil when
    /// a refresh is still needed.
    private func settled(_ row: Connection, at time: Timestamp) throws -> Connection? {
        guard let refresh = row.refresh, refresh.status != .needsReauth, isDue(row, at: time) else { return row }
        if let next = refresh.nextAttemptAt, next > time {
            if refresh.expiresAt > time { return row }
            throw ServiceError.tokenRefreshFailed(retryAfter: Self.seconds(from: time, to: next), nil)
        }
        return nil
    }

    /// With the lease held: refresh if the re-read row still needs it, record the outcome, release.
    /// `force` refreshes a token that is not due (the provider refused it).
    private func refresh(_ row: Connection, owner: String, force: Bool = false) async throws -> Connection {
        let time = now()
        let settledRow: Connection?
        do { settledRow = force ? nil : try settled(row, at: time) } catch {
            try await store.releaseRefreshLease(id: row.id, owner: owner)
            throw error
        }
        if let settledRow {
            try await store.releaseRefreshLease(id: row.id, owner: owner)
            return settledRow
        }
        guard let refresh = row.refresh else { return row }
        if !force {
            RefreshMetrics.lag(
                milliseconds: time.millisecondsSinceEpoch
                    - refresh.expiresAt.adding(seconds: -policy.margin).millisecondsSinceEpoch
            )
        }

        var updated = row
        var failure: TokenEndpointError?
        do {
            let (auth, response) = try await requestRefresh(row)
            let expiresAt = response.expiresIn.map { time.adding(seconds: $0) } ?? time.adding(seconds: 3600)
            let merged = Self.merge(auth, response, expiresAt: expiresAt)
            updated.sealedAuth = try sealer.seal(
                merged.json,
                context: SealContext(workspaceID: row.workspaceID, connectionID: row.id)
            )
            updated.refresh = TokenRefreshState(status: .active, expiresAt: expiresAt)
            updated.health.lastHealthyAt = time
        } catch let error as TokenEndpointError {
            failure = error
            let attempts = refresh.attempts + 1
            updated.health.lastUnhealthyAt = time
            updated.health.lastUnhealthyCode = error.unhealthyCode
            if error.needsReauthorization {
                updated.refresh = TokenRefreshState(
                    status: .needsReauth,
                    expiresAt: refresh.expiresAt,
                    attempts: attempts
                )
            } else {
                var retryAfter: Int64?
                if case .unavailable(_, let seconds, _) = error { retryAfter = seconds }
                let delay = policy.backoff(afterFailures: attempts, retryAfter: retryAfter)
                updated.refresh = TokenRefreshState(
                    status: .retrying,
                    expiresAt: refresh.expiresAt,
                    attempts: attempts,
                    nextAttemptAt: time.adding(seconds: delay)
                )
            }
        } catch {
            RefreshMetrics.attempted(.error)
            try? await store.releaseRefreshLease(id: row.id, owner: owner)
            throw error
        }
        updated.updatedAt = max(time, row.updatedAt)
        updated.version = row.version + 1
        let record = AuditRecord(
            workspaceID: row.workspaceID,
            at: time,
            actor: "refresh",
            action: .tokenRefresh,
            connectionID: row.id,
            target: failure.map { "failed: \($0.unhealthyCode)" }
        )
        let finished: Bool
        do {
            finished = try await store.finishRefresh(updated, replacing: row, owner: owner, audit: record)
        } catch {
            RefreshMetrics.attempted(.error)
            throw error
        }
        RefreshMetrics.attempted(
            !finished ? .superseded : failure.map { $0.needsReauthorization ? .needsReauth : .retrying } ?? .success
        )
        guard finished else {
            // A concurrent write replaced the credentials meanwhile: it wins, and its row is the answer.
            guard let current = try await store.connection(id: row.id, workspace: row.workspaceID) else {
                throw ServiceError.connectionNotFound(row.id)
            }
            return current
        }
        if let failure, !failure.needsReauthorization, refresh.expiresAt <= time,
            let next = updated.refresh?.nextAttemptAt
        {
            throw ServiceError.tokenRefreshFailed(retryAfter: Self.seconds(from: time, to: next), failure)
        }
        return updated
    }

    /// Calls the token endpoint with the row's refresh token and the workspace's client.
    private func requestRefresh(_ row: Connection) async throws -> (ConnectionAuth, TokenResponse) {
        guard let sealed = row.sealedAuth else {
            throw TokenEndpointError.notConfigured("the connection has no credentials")
        }
        let auth = ConnectionAuth(
            trustedJSON: try sealer.open(
                sealed,
                context: SealContext(workspaceID: row.workspaceID, connectionID: row.id)
            )
        )
        let parsed = auth.parsed()
        guard case .string(let refreshToken)? = parsed["refresh_token"] else {
            throw TokenEndpointError.notConfigured("the connection has no refresh token")
        }
        let type = row.fields.integrationType
        guard let oauth = catalog.definition(type)?.oauth2 else {
            throw TokenEndpointError.notConfigured(
                "integration \"\(type)\" is not an OAuth 2 integration of the catalog"
            )
        }
        guard let client = try await integrations.client(type: type, workspace: row.workspaceID, requireActive: false)
        else { throw TokenEndpointError.notConfigured("the workspace has no OAuth client for \"\(type)\"") }
        var subdomain: String?
        if case .string(let value)? = parsed["meta"]?["subdomain"] { subdomain = value }
        guard let tokenURL = AuthorizationService.fill(oauth.tokenURL, subdomain: subdomain) else {
            throw TokenEndpointError.notConfigured("the connection lacks a valid subdomain for \"\(type)\"")
        }
        let response = try await self.client.requestToken(
            TokenRequest(
                tokenURL: tokenURL,
                clientID: client.integration.clientID,
                clientSecret: client.secret,
                clientAuthentication: oauth.tokenEndpointAuth,
                parameters: [("grant_type", "refresh_token"), ("refresh_token", refreshToken)],
                context: TokenCallContext(
                    name: "oauth.refresh",
                    workspaceID: row.workspaceID,
                    connectionID: row.id,
                    integrationType: type,
                    environment: row.fields.environment,
                    externalXref: row.fields.externalXref
                )
            )
        )
        return (auth, response)
    }

    /// The stored `auth` with the new tokens: a refresh token the provider rotated replaces the
    /// old one; one it did not send keeps the old (RFC 6749 §6).
    static func merge(_ auth: ConnectionAuth, _ response: TokenResponse, expiresAt: Timestamp) -> ConnectionAuth {
        var members: [(key: String, value: JSONValue)] = []
        if case .object(let existing) = auth.parsed() { members = existing }
        func set(_ key: String, _ value: JSONValue?) {
            guard let value else { return }
            if let i = members.firstIndex(where: { $0.key == key }) {
                members[i].value = value
            } else {
                members.append((key, value))
            }
        }
        set("access_token", .string(response.accessToken))
        set("refresh_token", response.refreshToken.map(JSONValue.string))
        set("expires_in", response.expiresIn.map { .number(String($0)) })
        set("expiry_date", .string(expiresAt.rfc3339))
        set("refresh_token_expires_in", response.refreshTokenExpiresIn.map { .number(String($0)) })
        return ConnectionAuth(trustedJSON: ConnectionAuth.canonical(members))
    }

    static func seconds(from start: Timestamp, to end: Timestamp) -> Int64 {
        max(1, (end.millisecondsSinceEpoch - start.millisecondsSinceEpoch + 999) / 1000)
    }

    static func newOwner() -> String { OpaqueToken.generate() }
}

/// When this process last forced a refresh of each connection (passthrough's 401s), for
/// `TokenRefresher.forcedRefreshCooldown`. Bounded: past `maximumEntries` the oldest half goes.
final class ForcedRefreshes: Sendable {
    private let times = Mutex<[ConnectionID: Timestamp]>([:])
    static let maximumEntries = 10_000

    func isRecent(_ id: ConnectionID, at time: Timestamp, within seconds: Int64) -> Bool {
        guard let last = times.withLock({ $0[id] }) else { return false }
        return time < last.adding(seconds: seconds)
    }

    func note(_ id: ConnectionID, at time: Timestamp) {
        times.withLock { times in
            if times.count >= Self.maximumEntries {
                let cutoff = times.values.sorted()[times.count / 2]
                times = times.filter { $0.value > cutoff }
            }
            times[id] = time
        }
    }
}
