/// Persistence of events (`/unified/notification`), the event webhook outbox and its delivery log.
///
/// Events are written by the connection and integration writes themselves, in their transactions
/// (`ConnectionEvents`, `IntegrationEvents`): an event is `pending` when the workspace's webhook
/// wants its type, `held` when that webhook is disabled, `none` otherwise.
public protocol EventStore: Sendable {
    /// The page of events matching `query`.
    func events(_ query: EventQuery) async throws -> [Event]

    /// The event with `id` in `workspace`, or nil.
    func event(id: String, workspace: WorkspaceID) async throws -> Event?

    /// The workspace's event webhook, or nil.
    func eventWebhook(workspace: WorkspaceID) async throws -> EventWebhook?

    /// Creates or replaces the workspace's webhook (nil removes it), and appends `audit`, in one
    /// transaction. Removing it takes its pending and held events out of the outbox (`none`).
    func setEventWebhook(_ webhook: EventWebhook?, workspace: WorkspaceID, audit: AuditRecord) async throws

    /// Re-enables a disabled webhook and queues the events held meanwhile; false if there is no webhook.
    func resumeEventWebhook(workspace: WorkspaceID, at time: Timestamp, audit: AuditRecord) async throws -> Bool

    /// Queues the event again at `time` with a fresh retry schedule; nil if there is no such event.
    func redeliverEvent(
        id: String,
        workspace: WorkspaceID,
        at time: Timestamp,
        audit: AuditRecord
    ) async throws
        -> Event?

    /// Leases up to `limit` pending events due at `time` (oldest due first), at most
    /// `perWorkspace` of one workspace, to `owner` until `until`, with their webhooks, skipping
    /// the workspaces in `excluding` and events another owner holds. An event is leased to one
    /// owner at a time, across processes.
    func claimDueDeliveries(
        owner: String,
        at time: Timestamp,
        until: Timestamp,
        limit: Int,
        perWorkspace: Int,
        excluding: [WorkspaceID]
    ) async throws -> [DeliveryClaim]

    /// Gives claimed events back before their lease ends (not attempted).
    func releaseDeliveries(_ claims: [DeliveryClaim], owner: String) async throws

    /// Records the attempts and applies their outcomes in one transaction. An outcome whose lease
    /// `owner` no longer holds (it expired and another deliverer took the event) only logs its attempt.
    func finishDeliveries(_ outcomes: [DeliveryOutcome], owner: String, at time: Timestamp) async throws

    /// For monitoring, across workspaces: events due for an attempt at `time` (pending, their time
    /// come, not leased), and the earliest due time among them.
    func deliveryBacklog(at time: Timestamp) async throws -> (due: Int, earliestDue: Timestamp?)

    /// The event's attempts, oldest first (empty for an unknown event).
    func deliveryAttempts(eventID: String, workspace: WorkspaceID) async throws -> [DeliveryAttempt]

    /// Deletes up to `limit` events (any workspace) created before `cutoff`, with their attempts,
    /// except those still pending; returns how many events.
    func purgeEvents(before cutoff: Timestamp, limit: Int) async throws -> Int

    /// Up to `limit` webhooks (any workspace) after `workspace` in id order with a secret sealed
    /// under a key other than `keyID`: key rotation's work list.
    func eventWebhooksSealed(
        notWith keyID: String,
        after workspace: WorkspaceID?,
        limit: Int
    ) async throws
        -> [EventWebhook]

    /// Replaces a webhook's sealed secrets if they are still `old`'s; returns whether it did.
    func replaceSealedWebhookSecrets(old: EventWebhook, new: EventWebhook) async throws -> Bool
}

extension EventStore {
    /// A claim with no limit per workspace but the claim's own.
    public func claimDueDeliveries(
        owner: String,
        at time: Timestamp,
        until: Timestamp,
        limit: Int,
        excluding: [WorkspaceID]
    ) async throws -> [DeliveryClaim] {
        try await claimDueDeliveries(
            owner: owner,
            at: time,
            until: until,
            limit: limit,
            perWorkspace: limit,
            excluding: excluding
        )
    }
}
