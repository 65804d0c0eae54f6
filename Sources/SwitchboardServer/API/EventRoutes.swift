import HTTPTypes
import Hummingbird
import SwitchboardCore
import SwitchboardEvents

/// `/unified/notification`: events as Unified's SDK lists and reads them (scope
/// `connections:read`); `/switchboard/event/...`: an event's delivery log and redelivery;
/// `/switchboard/workspace/event-webhook/...`: the webhook's secret rotation and resume (scope
/// `integrations:admin`). The webhook's URL and types are set with `PATCH /switchboard/workspace`.
struct EventRoutes: Sendable {
    let events: EventService

    /// The list's parameters: Unified's, then Switchboard's filters (kept equal to openapi.yaml by a test).
    static let parameterNames: Set<String> = [
        "limit", "offset", "updated_gte", "sort", "order", "event", "connection_id", "env", "delivery_status",
    ]

    var routes: [Route] {
        let common = Route.authenticatedStatuses
        return [
            Route(
                method: .get,
                path: "/unified/notification",
                operationID: "listUnifiedNotifications",
                statuses: common.union([200]),
                requiresAPIKey: true,
                scope: .connectionsRead,
                handler: list
            ),
            Route(
                method: .get,
                path: "/unified/notification/{id}",
                operationID: "getUnifiedNotification",
                statuses: common.union([200, 404]),
                requiresAPIKey: true,
                scope: .connectionsRead,
                handler: get
            ),
            Route(
                method: .get,
                path: "/switchboard/event/{id}/deliveries",
                operationID: "listEventDeliveries",
                statuses: common.union([200, 404]),
                requiresAPIKey: true,
                scope: .connectionsRead,
                handler: deliveries
            ),
            Route(
                method: .post,
                path: "/switchboard/event/{id}/redeliver",
                operationID: "redeliverEvent",
                statuses: common.union([200, 404, 409]),
                requiresAPIKey: true,
                scope: .integrationsAdmin,
                handler: redeliver
            ),
            Route(
                method: .post,
                path: "/switchboard/workspace/event-webhook/rotate-secret",
                operationID: "rotateEventWebhookSecret",
                statuses: common.union([200, 404]),
                requiresAPIKey: true,
                scope: .integrationsAdmin,
                handler: rotateSecret
            ),
            Route(
                method: .post,
                path: "/switchboard/workspace/event-webhook/resume",
                operationID: "resumeEventWebhook",
                statuses: common.union([200, 404]),
                requiresAPIKey: true,
                scope: .integrationsAdmin,
                handler: resume
            ),
        ]
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = try Self.query(try QueryParameters(query: request.uri.query), workspace: principal.workspaceID)
        let events = try await events.list(query, by: principal)
        var writer = JSONWriter(reservingCapacity: 64 + events.count * 400)
        writer.beginArray()
        for event in events { NotificationJSON.write(event, form: .api, to: &writer) }
        writer.endArray()
        return .json(writer.bytes)
    }

    @Sendable func get(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let event = try await events.get(context.parameters.get("id") ?? "", by: try context.requirePrincipal())
        var writer = JSONWriter(reservingCapacity: 512)
        NotificationJSON.write(event, form: .api, to: &writer)
        return .json(writer.bytes)
    }

    @Sendable func deliveries(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let attempts = try await events.deliveries(
            of: context.parameters.get("id") ?? "",
            by: try context.requirePrincipal()
        )
        var writer = JSONWriter(reservingCapacity: 64 + attempts.count * 300)
        writer.beginArray()
        for (index, attempt) in attempts.enumerated() {
            NotificationJSON.write(attempt, number: index + 1, to: &writer)
        }
        writer.endArray()
        return .json(writer.bytes)
    }

    @Sendable func redeliver(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let event = try await events.redeliver(context.parameters.get("id") ?? "", by: try context.requirePrincipal())
        var writer = JSONWriter(reservingCapacity: 512)
        NotificationJSON.write(event, form: .api, to: &writer)
        return .json(writer.bytes)
    }

    @Sendable func rotateSecret(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        IntegrationRoutes.respond(webhook: try await events.rotateSecret(by: try context.requirePrincipal()))
    }

    @Sendable func resume(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        IntegrationRoutes.respond(webhook: try await events.resume(by: try context.requirePrincipal()))
    }

    static func query(_ parameters: QueryParameters, workspace: WorkspaceID) throws(APIError) -> EventQuery {
        var query = EventQuery(workspaceID: workspace)
        if let text = try parameters.single("limit") {
            query.limit = try ConnectionQuery.wholeNumber(text, name: "limit", range: 1...EventQuery.maximumLimit)
        }
        if let text = try parameters.single("offset") {
            query.offset = try ConnectionQuery.wholeNumber(text, name: "offset", range: 0...EventQuery.maximumOffset)
        }
        if let text = try parameters.single("updated_gte") {
            guard let time = Timestamp(rfc3339: text, rounding: .up) else {
                throw .invalidParameter(
                    "updated_gte must be an RFC 3339 date-time (2024-01-02T03:04:05Z) or a date; got \"\(text.prefix(64))\""
                )
            }
            query.updatedGTE = time
        }
        if let text = try parameters.single("sort") {
            guard let sort = EventQuery.Sort(rawValue: text) else {
                throw .invalidParameter("sort must be created_at or updated_at; got \"\(text.prefix(64))\"")
            }
            query.sort = sort
        }
        if let text = try parameters.single("order") {
            guard text == "asc" || text == "desc" else {
                throw .invalidParameter("order must be asc or desc; got \"\(text.prefix(64))\"")
            }
            query.descending = text == "desc"
        }
        do {
            query.types = try EventType.parseList(parameters.all("event"), field: "event")
        } catch {
            throw .invalidParameter(error.message)
        }
        query.connectionID = try parameters.single("connection_id").map(ConnectionID.init(rawValue:))
        query.environment = try parameters.single("env")
        if let text = try parameters.single("delivery_status") {
            guard let status = DeliveryStatus(rawValue: text) else {
                let known = DeliveryStatus.allCases.map(\.rawValue).joined(separator: ", ")
                throw .invalidParameter("delivery_status must be one of \(known); got \"\(text.prefix(64))\"")
            }
            query.delivery = status
        }
        return query
    }
}
