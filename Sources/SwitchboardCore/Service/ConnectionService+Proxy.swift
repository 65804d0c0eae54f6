/// A connection's credentials as a passthrough call uses them: put on the provider request, never
/// shown to the caller.
public struct ProxyCredentials: Sendable, CustomStringConvertible {
    public let connection: Connection
    /// Nil when the connection holds no credentials.
    public let auth: ConnectionAuth?

    public var description: String { "ProxyCredentials(\(connection.id.rawValue), <redacted>)" }
}

extension ConnectionService {
    /// How long a passthrough call's success keeps `last_healthy_at` current before the next one
    /// writes it again: a busy connection is not written on every call.
    public static let healthStampInterval: Int64 = 60

    /// The credentials of connection `id` for a passthrough call by a key with `connections:proxy`:
    /// an OAuth token about to expire is refreshed first (one token request per expiry across
    /// replicas), and credentials held by a secrets manager are read from it. Not audited as a
    /// credential read: nothing leaves Switchboard (the API call log records the call).
    public func proxyCredentials(_ id: ConnectionID, by principal: Principal) async throws -> ProxyCredentials {
        let key = try principal.requireScopeForConfirmingRead(.connectionsProxy)
        var connection: Connection
        switch try await store.connection(id: id, workspace: principal.workspaceID, confirmingKey: key) {
        case .keyNotLive: throw ServiceError.unauthenticated
        case .read(nil): throw ServiceError.connectionNotFound(id)
        case .read(let read?): connection = read
        }
        if connection.refresh != nil { connection = try await refresher.fresh(connection) }
        return try await credentials(of: connection)
    }

    /// After the provider refused `used`'s token: credentials different from the refused ones
    /// (refreshed once, single-flight, through the refresh lease), or nil when there is nothing new
    /// to retry with (no refresh token, the refresh failed, or re-authorization is needed).
    public func renewRejected(_ used: ProxyCredentials) async throws -> ProxyCredentials? {
        guard used.connection.refresh != nil else { return nil }
        let renewed = try await refresher.refreshRejected(used.connection)
        guard renewed.sealedAuth != used.connection.sealedAuth else { return nil }
        let credentials = try await credentials(of: renewed)
        return credentials.auth == used.auth ? nil : credentials
    }

    /// Records what a passthrough call showed of the connection's health: a provider success stamps
    /// `last_healthy_at`, a refusal that a refresh could not fix stamps `last_unhealthy_at` with
    /// `code`. A stamp that repeats the current state within `healthStampInterval` is skipped, so a
    /// busy connection is not written on every call. A change between healthy and unhealthy moves
    /// `updated_at` (a repeated stamp does not, so a busy connection does not reappear in every
    /// `updated_gte` sync); no stamp moves the version, which token refreshes hold to.
    public func recordProxyHealth(of connection: Connection, healthy: Bool, code: String? = nil) async throws {
        let time = now()
        func isFresh(_ stamp: Timestamp?) -> Bool {
            stamp.map { time < $0.adding(seconds: Self.healthStampInterval) } ?? false
        }
        let health = connection.health
        if healthy, health.isHealthy, isFresh(health.lastHealthyAt) { return }
        if !healthy, !health.isHealthy, health.lastUnhealthyCode == code, isFresh(health.lastUnhealthyAt) { return }
        _ = try await store.update(id: connection.id, workspace: connection.workspaceID, audit: nil) { current in
            var updated = current
            if healthy {
                updated.health.lastHealthyAt = time
            } else {
                updated.health.lastUnhealthyAt = time
                updated.health.lastUnhealthyCode = code
            }
            if updated.health.isHealthy != current.health.isHealthy {
                updated.updatedAt = max(time, current.updatedAt)
            }
            return updated
        }
    }

    private func credentials(of connection: Connection) async throws -> ProxyCredentials {
        if let external = try await externalCredentials(of: connection) {
            return ProxyCredentials(connection: connection, auth: try await external.get())
        }
        return ProxyCredentials(connection: connection, auth: try open(connection))
    }
}
