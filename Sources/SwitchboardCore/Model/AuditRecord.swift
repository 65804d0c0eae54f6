/// What happened, in the audit log's vocabulary. Stored as the raw value.
public enum AuditAction: String, Sendable, CaseIterable {
    case connectionCreate = "connection.create"
    case connectionUpdate = "connection.update"
    case connectionDelete = "connection.delete"
    /// A response carried this connection's decrypted `auth`.
    case credentialsRead = "connection.credentials.read"
    case apiKeyCreate = "apikey.create"
    case apiKeyRevoke = "apikey.revoke"
    case secretsManagerCreate = "secretsmanager.create"
    case secretsManagerDelete = "secretsmanager.delete"
    /// A single-use re-authorization token was issued for the connection.
    case reauthTokenCreate = "connection.reauth_token.create"
    /// An end user re-authorized the connection in place through the OAuth flow.
    case connectionReauthorize = "connection.reauthorize"
    /// Switchboard refreshed the connection's OAuth token (actor `refresh`).
    case tokenRefresh = "connection.token.refresh"
    case integrationEnable = "integration.enable"
    case integrationDisable = "integration.disable"
    case redirectOriginsUpdate = "workspace.redirect_origins.update"
    case authorizeTokenSettingUpdate = "workspace.authorize_requires_token.update"
    case authorizeTokenCreate = "authorize_token.create"
    /// Environments were declared (`target`: their names, one a line).
    case environmentCreate = "environment.create"
    /// An environment was removed (`target`: its name).
    case environmentRemove = "environment.remove"
    /// The event webhook's URL or event types were set or removed.
    case eventWebhookUpdate = "workspace.event_webhook.update"
    /// The event webhook's signing secret was rotated.
    case eventWebhookRotateSecret = "workspace.event_webhook.rotate_secret"
    /// A disabled event webhook was re-enabled.
    case eventWebhookResume = "workspace.event_webhook.resume"
    /// An event was queued for delivery again (`target`: its id).
    case eventRedeliver = "event.redeliver"
    /// A dashboard session began (`target`: how: `key` or `link`).
    case dashboardSignIn = "dashboard.sign_in"
    /// A dashboard session ended (`target`: `session`, or `everywhere` for all of the workspace's).
    case dashboardSignOut = "dashboard.sign_out"
    /// An operator printed a single-use dashboard sign-in link (`switchboard dashboard link`).
    case dashboardLinkCreate = "dashboard.link.create"
    /// A hosted Connect session was opened for an end user (`target`: its id).
    case connectSessionCreate = "connect_session.create"
}

/// One append-only audit entry: who (key id), what, which connection or key, when, from where.
/// Stores accept inserts only; the schema refuses UPDATE and DELETE on these rows.
public struct AuditRecord: Sendable, Equatable {
    /// Assigned by the store on insert: increasing, so it orders and pages the log.
    public var sequence: Int64?
    public var workspaceID: WorkspaceID
    public var at: Timestamp
    /// The API key's public id, or `cli`.
    public var actor: String
    public var action: AuditAction
    public var connectionID: ConnectionID?
    /// The other object acted on: an API key id or a secrets manager id.
    public var target: String?
    public var clientAddress: String?

    public init(
        sequence: Int64? = nil,
        workspaceID: WorkspaceID,
        at: Timestamp,
        actor: String,
        action: AuditAction,
        connectionID: ConnectionID? = nil,
        target: String? = nil,
        clientAddress: String? = nil
    ) {
        self.sequence = sequence
        self.workspaceID = workspaceID
        self.at = at
        self.actor = actor
        self.action = action
        self.connectionID = connectionID
        self.target = target
        self.clientAddress = clientAddress
    }

    /// A record of `principal` doing `action` now.
    public init(
        _ action: AuditAction,
        by principal: Principal,
        at time: Timestamp,
        connection: ConnectionID? = nil,
        target: String? = nil
    ) {
        self.init(
            workspaceID: principal.workspaceID,
            at: time,
            actor: principal.keyID,
            action: action,
            connectionID: connection,
            target: target,
            clientAddress: principal.clientAddress
        )
    }
}

/// Filters for reading the audit log, newest first.
public struct AuditQuery: Sendable, Equatable {
    public var workspaceID: WorkspaceID
    public var action: AuditAction?
    public var connectionID: ConnectionID?
    public var actor: String?
    public var since: Timestamp?
    public var until: Timestamp?
    /// Only records with a sequence below this one (the next page of a newest-first listing).
    public var before: Int64?
    public var limit: Int

    public static let defaultLimit = 100
    public static let maximumLimit = 1000

    public init(
        workspaceID: WorkspaceID,
        action: AuditAction? = nil,
        connectionID: ConnectionID? = nil,
        actor: String? = nil,
        since: Timestamp? = nil,
        until: Timestamp? = nil,
        before: Int64? = nil,
        limit: Int = AuditQuery.defaultLimit
    ) {
        self.workspaceID = workspaceID
        self.action = action
        self.connectionID = connectionID
        self.actor = actor
        self.since = since
        self.until = until
        self.before = before
        self.limit = limit
    }
}
