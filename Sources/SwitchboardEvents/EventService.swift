import Foundation
import SwitchboardCore
import SwitchboardEgress

/// The events seam: reading events and their delivery log, and managing the workspace's event
/// webhook (URL, types, signing secret, resume, redelivery). Delivery itself is `EventDeliverer`.
public struct EventService: Sendable {
    public typealias Store = EventStore & WorkspaceStore

    private let store: any Store
    private let sealer: any SecretSealer
    /// Judges a webhook URL as a delivery would: the policy's address rules on every address the
    /// host resolves to.
    private let egress: EgressClient
    private let settings: EventSettings
    private let now: @Sendable () -> Timestamp

    public init(
        store: any Store,
        sealer: any SecretSealer,
        egress: EgressClient,
        settings: EventSettings,
        now: @escaping @Sendable () -> Timestamp = Timestamp.now
    ) {
        self.store = store
        self.sealer = sealer
        self.egress = egress
        self.settings = settings
        self.now = now
    }

    /// The webhook as its owner sees it: the secret opened.
    public struct WebhookSettings: Sendable, Equatable {
        public var url: String
        /// Empty: all types.
        public var types: [EventType]
        public var secret: String
        public var previousSecretExpiresAt: Timestamp?
        public var isHealthy: Bool
        public var disabledReason: String?
        public var disabledAt: Timestamp?
    }

    /// A change to one setting: left as it is, set, or removed.
    public enum Change<Value: Sendable>: Sendable {
        case keep
        case set(Value)
        case remove
    }

    // MARK: - Events

    public func list(_ query: EventQuery, by principal: Principal) async throws -> [Event] {
        var query = query
        query.workspaceID = principal.workspaceID
        return try await store.events(query)
    }

    public func get(_ id: String, by principal: Principal) async throws -> Event {
        guard let event = try await store.event(id: id, workspace: principal.workspaceID) else {
            throw ServiceError.notFound("no event with id \"\(id.prefix(64))\"")
        }
        return event
    }

    public func deliveries(of id: String, by principal: Principal) async throws -> [DeliveryAttempt] {
        _ = try await get(id, by: principal)
        return try await store.deliveryAttempts(eventID: id, workspace: principal.workspaceID)
    }

    /// Queues the event for delivery again (same `webhook-id`), whatever its state.
    public func redeliver(_ id: String, by principal: Principal) async throws -> Event {
        _ = try await get(id, by: principal)
        guard try await store.eventWebhook(workspace: principal.workspaceID) != nil else {
            throw ServiceError.conflict("the workspace has no event webhook to send to (set event_webhook_url first)")
        }
        let time = now()
        let record = AuditRecord(.eventRedeliver, by: principal, at: time, target: id)
        guard
            let event = try await store.redeliverEvent(
                id: id,
                workspace: principal.workspaceID,
                at: time,
                audit: record
            )
        else { throw ServiceError.notFound("no event with id \"\(id.prefix(64))\"") }
        return event
    }

    // MARK: - The webhook

    public func webhook(by principal: Principal) async throws -> WebhookSettings? {
        try await store.eventWebhook(workspace: principal.workspaceID).map(view)
    }

    /// Sets the URL and the types sent. Setting a URL creates the webhook (with a new secret)
    /// when there is none; removing it removes the webhook.
    public func configure(
        url: Change<String>,
        types: Change<[EventType]>,
        by principal: Principal
    ) async throws -> WebhookSettings? {
        let workspace = principal.workspaceID
        let time = now()
        let record = AuditRecord(.eventWebhookUpdate, by: principal, at: time)
        let current = try await store.eventWebhook(workspace: workspace)
        if case .remove = url {
            try await store.setEventWebhook(nil, workspace: workspace, audit: record)
            return nil
        }
        var webhook: EventWebhook
        if case .set(let text) = url {
            let checked = try await check(url: text)
            if let current {
                webhook = current
                webhook.url = checked
            } else {
                webhook = EventWebhook(
                    workspaceID: workspace,
                    url: checked,
                    types: [],
                    secret: try seal(WebhookSignature.newSecret(), workspace, slot: "current"),
                    updatedAt: time
                )
            }
        } else if let current {
            webhook = current
        } else {
            if case .keep = types { return nil }
            throw ServiceError.conflict(
                "the workspace has no event webhook: set event_webhook_url before (or with) event_webhook_events"
            )
        }
        switch types {
        case .keep: break
        case .set(let list): webhook.types = list
        case .remove: webhook.types = []
        }
        webhook.updatedAt = time
        try await store.setEventWebhook(webhook, workspace: workspace, audit: record)
        return try view(webhook)
    }

    /// A new signing secret; the previous one keeps signing beside it for the overlap.
    public func rotateSecret(by principal: Principal) async throws -> WebhookSettings {
        let workspace = principal.workspaceID
        guard var webhook = try await store.eventWebhook(workspace: workspace) else { throw Self.noWebhook }
        let time = now()
        let old = try open(webhook.secret, workspace, slot: "current")
        webhook.previousSecret = try seal(old, workspace, slot: "previous")
        webhook.previousUntil = time.adding(seconds: settings.secretOverlapHours * 3600)
        webhook.secret = try seal(WebhookSignature.newSecret(), workspace, slot: "current")
        webhook.updatedAt = time
        try await store.setEventWebhook(
            webhook,
            workspace: workspace,
            audit: AuditRecord(.eventWebhookRotateSecret, by: principal, at: time)
        )
        return try view(webhook)
    }

    /// Re-enables a disabled webhook and sends the events held meanwhile.
    public func resume(by principal: Principal) async throws -> WebhookSettings {
        let time = now()
        let record = AuditRecord(.eventWebhookResume, by: principal, at: time)
        guard try await store.resumeEventWebhook(workspace: principal.workspaceID, at: time, audit: record),
            let webhook = try await store.eventWebhook(workspace: principal.workspaceID)
        else { throw Self.noWebhook }
        return try view(webhook)
    }

    /// The secrets a delivery is signed with now: the current one, and the previous one during
    /// its overlap.
    static func signingSecrets(_ webhook: EventWebhook, sealer: any SecretSealer, at time: Timestamp) throws -> [String]
    {
        func open(_ sealed: SealedSecret, _ slot: String) throws -> String {
            let context = SealContext(workspaceID: webhook.workspaceID, eventWebhookSecret: slot)
            return String(decoding: try sealer.open(sealed, context: context), as: UTF8.self)
        }
        var secrets = [try open(webhook.secret, "current")]
        if let previous = webhook.previousSecret, let until = webhook.previousUntil, until > time {
            secrets.append(try open(previous, "previous"))
        }
        return secrets
    }

    // MARK: - Helpers

    private static let noWebhook = ServiceError.notFound("the workspace has no event webhook (set event_webhook_url)")

    private func view(_ webhook: EventWebhook) throws -> WebhookSettings {
        let time = now()
        let previousActive = webhook.previousSecret != nil && (webhook.previousUntil.map { $0 > time } ?? false)
        return WebhookSettings(
            url: webhook.url,
            types: webhook.types,
            secret: try open(webhook.secret, webhook.workspaceID, slot: "current"),
            previousSecretExpiresAt: previousActive ? webhook.previousUntil : nil,
            isHealthy: webhook.isHealthy,
            disabledReason: webhook.disabledReason,
            disabledAt: webhook.disabledAt
        )
    }

    private func seal(_ secret: String, _ workspace: WorkspaceID, slot: String) throws -> SealedSecret {
        try sealer.seal(Array(secret.utf8), context: SealContext(workspaceID: workspace, eventWebhookSecret: slot))
    }

    private func open(_ sealed: SealedSecret, _ workspace: WorkspaceID, slot: String) throws -> String {
        let context = SealContext(workspaceID: workspace, eventWebhookSecret: slot)
        return String(decoding: try sealer.open(sealed, context: context), as: UTF8.self)
    }

    /// An http(s) URL with a host that the egress policy allows (every address it resolves to
    /// now), at most 2,048 bytes. A name that does not resolve is refused as well: nothing could
    /// be delivered to it.
    func check(url text: String) async throws -> String {
        func invalid(_ message: String) -> ServiceError {
            .invalid(ValidationError(field: "event_webhook_url", message: "event_webhook_url " + message))
        }
        guard text.utf8.count <= 2048 else { throw invalid("is longer than 2048 bytes") }
        guard let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty
        else { throw invalid("must be an http or https URL with a host, such as https://app.example.com/hooks") }
        guard components.user == nil, components.password == nil else {
            throw invalid("must not carry user information (put a token in the path or query instead)")
        }
        do {
            _ = try await egress.destination(of: text)
        } catch let refusal as EgressRefusal {
            throw invalid("is refused by the egress policy: \(refusal)")
        }
        return text
    }
}
