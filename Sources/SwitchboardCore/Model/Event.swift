/// Unified's workspace event names (`Notification.event`, `event_webhook_events`). Switchboard
/// records the connection, integration and webhook ones; the others are accepted in filters and
/// subscriptions, as Unified's are.
public enum EventType: String, Sendable, CaseIterable {
    case userCreated = "USER_CREATED"
    case userDeleted = "USER_DELETED"
    case connectionHealthy = "CONNECTION_HEALTHY"
    case connectionUnhealthy = "CONNECTION_UNHEALTHY"
    case connectionCreated = "CONNECTION_CREATED"
    case connectionUpdated = "CONNECTION_UPDATED"
    case connectionDeleted = "CONNECTION_DELETED"
    case connectionPaused = "CONNECTION_PAUSED"
    case connectionUnpaused = "CONNECTION_UNPAUSED"
    case integrationActivated = "INTEGRATION_ACTIVATED"
    case integrationDeactivated = "INTEGRATION_DEACTIVATED"
    case integrationUpdated = "INTEGRATION_UPDATED"
    case workspaceUpdated = "WORKSPACE_UPDATED"
    case workspaceOverLimit = "WORKSPACE_OVER_LIMIT"
    case workspace80PercentLimit = "WORKSPACE_80PERCENT_LIMIT"
    case webhookCreated = "WEBHOOK_CREATED"
    case webhookDeleted = "WEBHOOK_DELETED"
    case webhookUnhealthy = "WEBHOOK_UNHEALTHY"
    case webhookPaused = "WEBHOOK_PAUSED"
    case webhookUnpaused = "WEBHOOK_UNPAUSED"

    /// Parses a comma-separated list (or one name); an unknown or empty name is an error naming it.
    public static func parseList(_ values: [String], field: String) throws(ValidationError) -> [EventType] {
        var types: [EventType] = []
        for value in values {
            for part in value.split(separator: ",", omittingEmptySubsequences: false) {
                guard let type = EventType(rawValue: String(part)) else {
                    throw ValidationError(
                        field: field,
                        message: "\(field) has an unknown event \"\(part.prefix(64))\"; known events: "
                            + EventType.allCases.map(\.rawValue).joined(separator: ", ")
                    )
                }
                if !types.contains(type) { types.append(type) }
            }
        }
        return types
    }
}

/// Where an event stands with the workspace's event webhook.
public enum DeliveryStatus: String, Sendable, CaseIterable {
    /// No webhook wanted it (no URL, or a type it does not subscribe to).
    case none
    /// Waiting for its next attempt.
    case pending
    /// The receiver answered 2xx.
    case delivered
    /// Its retries were exhausted.
    case failed
    /// Recorded while the endpoint was disabled; `resume` sends it.
    case held
}

/// One recorded event: a notification (`/unified/notification`) and, while its delivery status
/// is `pending`, an entry in the webhook outbox. Never a credential.
public struct Event: Sendable, Equatable {
    /// A UUIDv7: ordered by time, and the `webhook-id` of every delivery.
    public var id: String
    public var workspaceID: WorkspaceID
    public var type: EventType
    public var createdAt: Timestamp
    /// Changes with the delivery state.
    public var updatedAt: Timestamp
    public var connectionID: ConnectionID?
    public var integrationType: String?
    public var environment: String?
    public var externalXref: String?
    public var description: String?
    public var delivery: DeliveryStatus
    /// Attempts made, redeliveries included.
    public var attempts: Int
    /// When the receiver accepted it.
    public var sentAt: Timestamp?

    public init(
        id: String,
        workspaceID: WorkspaceID,
        type: EventType,
        createdAt: Timestamp,
        updatedAt: Timestamp? = nil,
        connectionID: ConnectionID? = nil,
        integrationType: String? = nil,
        environment: String? = nil,
        externalXref: String? = nil,
        description: String? = nil,
        delivery: DeliveryStatus = .none,
        attempts: Int = 0,
        sentAt: Timestamp? = nil
    ) {
        self.id = id
        self.workspaceID = workspaceID
        self.type = type
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.connectionID = connectionID
        self.integrationType = integrationType
        self.environment = environment
        self.externalXref = externalXref
        self.description = description
        self.delivery = delivery
        self.attempts = attempts
        self.sentAt = sentAt
    }

    /// A new event about `connection`.
    public init(_ type: EventType, about connection: Connection, at time: Timestamp, description: String? = nil) {
        self.init(
            id: makeUUIDv7(time),
            workspaceID: connection.workspaceID,
            type: type,
            createdAt: time,
            connectionID: connection.id,
            integrationType: connection.fields.integrationType,
            environment: connection.fields.environment,
            externalXref: connection.fields.externalXref,
            description: description
        )
    }

    /// A new workspace-level event (integrations, the webhook itself).
    public init(
        _ type: EventType,
        workspace: WorkspaceID,
        at time: Timestamp,
        integrationType: String? = nil,
        description: String? = nil
    ) {
        self.init(
            id: makeUUIDv7(time),
            workspaceID: workspace,
            type: type,
            createdAt: time,
            integrationType: integrationType,
            description: description
        )
    }
}

/// Filters and order for `/unified/notification`.
public struct EventQuery: Sendable, Equatable {
    public enum Sort: String, Sendable {
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    public var workspaceID: WorkspaceID
    public var limit: Int
    public var offset: Int
    public var sort: Sort
    public var descending: Bool
    public var updatedGTE: Timestamp?
    public var types: [EventType]
    public var connectionID: ConnectionID?
    public var environment: String?
    public var delivery: DeliveryStatus?

    public static let defaultLimit = 100
    public static let maximumLimit = 100
    public static let maximumOffset = 10_000

    public init(
        workspaceID: WorkspaceID,
        limit: Int = EventQuery.defaultLimit,
        offset: Int = 0,
        sort: Sort = .createdAt,
        descending: Bool = true,
        updatedGTE: Timestamp? = nil,
        types: [EventType] = [],
        connectionID: ConnectionID? = nil,
        environment: String? = nil,
        delivery: DeliveryStatus? = nil
    ) {
        self.workspaceID = workspaceID
        self.limit = limit
        self.offset = offset
        self.sort = sort
        self.descending = descending
        self.updatedGTE = updatedGTE
        self.types = types
        self.connectionID = connectionID
        self.environment = environment
        self.delivery = delivery
    }
}

/// A workspace's event webhook: where its events go and the key they are signed with.
public struct EventWebhook: Sendable, Equatable {
    public var workspaceID: WorkspaceID
    public var url: String
    /// The types sent; empty means all.
    public var types: [EventType]
    /// The `whsec_...` signing secret, sealed.
    public var secret: SealedSecret
    /// The secret before the last rotation, still used beside the new one until `previousUntil`.
    public var previousSecret: SealedSecret?
    public var previousUntil: Timestamp?
    public var disabledAt: Timestamp?
    public var disabledReason: String?
    public var updatedAt: Timestamp

    public init(
        workspaceID: WorkspaceID,
        url: String,
        types: [EventType],
        secret: SealedSecret,
        previousSecret: SealedSecret? = nil,
        previousUntil: Timestamp? = nil,
        disabledAt: Timestamp? = nil,
        disabledReason: String? = nil,
        updatedAt: Timestamp
    ) {
        self.workspaceID = workspaceID
        self.url = url
        self.types = types
        self.secret = secret
        self.previousSecret = previousSecret
        self.previousUntil = previousUntil
        self.disabledAt = disabledAt
        self.disabledReason = disabledReason
        self.updatedAt = updatedAt
    }

    public var isHealthy: Bool { disabledAt == nil }

    /// Whether an event of `type` is sent.
    public func wants(_ type: EventType) -> Bool { types.isEmpty || types.contains(type) }

    /// The stored form of `types`: comma-separated, empty for all.
    public var typesText: String { types.map(\.rawValue).joined(separator: ",") }

    public static func types(fromText text: String) -> [EventType] {
        text.split(separator: ",").compactMap { EventType(rawValue: String($0)) }
    }
}

/// An event claimed for delivery by one deliverer, with what it needs to send it.
public struct DeliveryClaim: Sendable, Equatable {
    public var event: Event
    public var webhook: EventWebhook
    /// Consecutive failed attempts since it was (re)queued: the place in the retry schedule.
    public var failures: Int
    /// When the attempt was due (creation, a retry's time, a redelivery).
    public var dueAt: Timestamp

    public init(event: Event, webhook: EventWebhook, failures: Int, dueAt: Timestamp) {
        self.event = event
        self.webhook = webhook
        self.failures = failures
        self.dueAt = dueAt
    }
}

/// One attempt to deliver an event: the delivery log.
public struct DeliveryAttempt: Sendable, Equatable {
    public var eventID: String
    public var workspaceID: WorkspaceID
    public var at: Timestamp
    /// The receiver's status, or nil when there was no answer.
    public var status: Int?
    public var latencyMilliseconds: Int64
    /// Why it failed; nil on success.
    public var error: String?
    /// The first 1 KiB of the answer's body.
    public var responseBody: String?
    public var redelivery: Bool

    public static let responseBodyLimit = 1024

    public init(
        eventID: String,
        workspaceID: WorkspaceID,
        at: Timestamp,
        status: Int?,
        latencyMilliseconds: Int64,
        error: String?,
        responseBody: String?,
        redelivery: Bool = false
    ) {
        self.eventID = eventID
        self.workspaceID = workspaceID
        self.at = at
        self.status = status
        self.latencyMilliseconds = latencyMilliseconds
        self.error = error
        self.responseBody = responseBody
        self.redelivery = redelivery
    }
}

/// What became of a claimed delivery, written back by `EventStore.finishDeliveries`.
public struct DeliveryOutcome: Sendable, Equatable {
    public enum Next: Sendable, Equatable {
        /// 2xx: done.
        case delivered
        /// Try again at this time.
        case retry(at: Timestamp)
        /// Retries exhausted: the event fails, the endpoint is disabled (reason given) and a
        /// `WEBHOOK_UNHEALTHY` event is recorded.
        case exhausted(reason: String)
        /// 410 Gone: the endpoint is disabled at once and this event is held for `resume`.
        case gone
    }

    public var claim: DeliveryClaim
    public var attempt: DeliveryAttempt
    public var next: Next

    public init(claim: DeliveryClaim, attempt: DeliveryAttempt, next: Next) {
        self.claim = claim
        self.attempt = attempt
        self.next = next
    }

    /// What the event's row holds after this outcome, written at `now` (ms): its delivery status,
    /// consecutive failures, next due time and the time the receiver accepted it.
    public func row(at now: Int64) -> (delivery: DeliveryStatus, failures: Int, dueAt: Int64?, sentAt: Int64?) {
        switch next {
        case .delivered: (.delivered, 0, nil, now)
        case .retry(let at): (.pending, claim.failures + 1, at.millisecondsSinceEpoch, nil)
        case .exhausted: (.failed, claim.failures + 1, nil, nil)
        case .gone: (.held, 0, nil, nil)
        }
    }

    /// Why the endpoint is disabled by this outcome, or nil when it is not.
    public var disablesEndpoint: String? {
        switch next {
        case .delivered, .retry: nil
        case .exhausted(let reason): reason
        case .gone: "410 Gone"
        }
    }
}
