import HTTPTypes
import Hummingbird
import SwitchboardCore

/// `/unified/apicall`: the API call log as Unified's SDK lists and reads it (scope
/// `connections:read`): passthrough calls and the OAuth token requests Switchboard made, newest
/// first. Rows are written within a second of the call (`APICallLog`).
struct APICallRoutes: Sendable {
    let log: APICallLog

    /// The list's parameters, as the SDK sends them (kept equal to openapi.yaml by a test).
    static let parameterNames: Set<String> = [
        "limit", "offset", "updated_gte", "sort", "order", "connection_id", "env", "error", "external_xref",
        "integration_type", "is_billable", "type", "webhook_id",
    ]

    var routes: [Route] {
        [
            Route(
                method: .get,
                path: "/unified/apicall",
                operationID: "listUnifiedApicalls",
                statuses: Route.authenticatedStatuses.union([200]),
                requiresAPIKey: true,
                scope: .connectionsRead,
                handler: list
            ),
            Route(
                method: .get,
                path: "/unified/apicall/{id}",
                operationID: "getUnifiedApicall",
                statuses: Route.authenticatedStatuses.union([200, 404]),
                requiresAPIKey: true,
                scope: .connectionsRead,
                handler: get
            ),
        ]
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let parameters = try QueryParameters(query: request.uri.query)
        guard let query = try Self.query(parameters, workspace: principal.workspaceID) else {
            return .json(Array("[]".utf8))
        }
        let calls = try await log.list(query, by: principal)
        var writer = JSONWriter(reservingCapacity: 64 + calls.count * 384)
        writer.beginArray()
        for call in calls { Self.write(call, to: &writer) }
        writer.endArray()
        return .json(writer.bytes)
    }

    @Sendable func get(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let id = context.parameters.get("id") ?? ""
        var writer = JSONWriter(reservingCapacity: 512)
        Self.write(try await log.get(id, by: principal), to: &writer)
        return .json(writer.bytes)
    }

    /// The list query; nil when a filter can match nothing Switchboard records (`is_billable=true`:
    /// no call is billable; `webhook_id`: no call comes from a webhook).
    static func query(_ parameters: QueryParameters, workspace: WorkspaceID) throws(APIError) -> APICallQuery? {
        var query = APICallQuery(workspaceID: workspace)
        if let text = try parameters.single("limit") {
            query.limit = try ConnectionQuery.wholeNumber(text, name: "limit", range: 1...APICallQuery.maximumLimit)
        }
        if let text = try parameters.single("offset") {
            query.offset = try ConnectionQuery.wholeNumber(text, name: "offset", range: 0...APICallQuery.maximumOffset)
        }
        if let text = try parameters.single("updated_gte") {
            guard let time = Timestamp(rfc3339: text, rounding: .up) else {
                throw .invalidParameter(
                    "updated_gte must be an RFC 3339 date-time (2024-01-02T03:04:05Z) or a date; got \"\(text.prefix(64))\""
                )
            }
            query.createdSince = time
        }
        if let text = try parameters.single("sort") {
            // Rows never change: created_at is their only time, and updated_at reads as it.
            guard ["created_at", "updated_at"].contains(text) else {
                throw .invalidParameter("sort must be created_at or updated_at; got \"\(text.prefix(64))\"")
            }
        }
        if let text = try parameters.single("order") {
            guard text == "asc" || text == "desc" else {
                throw .invalidParameter("order must be asc or desc; got \"\(text.prefix(64))\"")
            }
            query.ascending = text == "asc"
        }
        query.connectionID = try parameters.single("connection_id").map(ConnectionID.init(rawValue:))
        query.environment = try parameters.single("env")
        query.externalXref = try parameters.single("external_xref")
        query.integrationType = try parameters.single("integration_type")
        if let text = try parameters.single("type") {
            guard let kind = APICall.Kind(rawValue: text) else {
                let known = APICall.Kind.allCases.map(\.rawValue).joined(separator: ", ")
                throw .invalidParameter("type must be one of \(known); got \"\(text.prefix(64))\"")
            }
            query.kind = kind
        }
        query.isError = try boolean(parameters, "error")
        let billable = try boolean(parameters, "is_billable")
        let webhook = try parameters.single("webhook_id")
        if billable == true || webhook != nil { return nil }
        return query
    }

    static func boolean(_ parameters: QueryParameters, _ name: String) throws(APIError) -> Bool? {
        guard let text = try parameters.single(name) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: throw .invalidParameter("\(name) must be true or false; got \"\(text.prefix(64))\"")
        }
    }

    /// The wire's ApiCall: `status` a string, times in milliseconds.
    static func write(_ call: APICall, to w: inout JSONWriter) {
        w.beginObject()
        w.member("id", call.id)
        w.member("created_at", call.createdAt.rfc3339)
        w.member("workspace_id", call.workspaceID.rawValue)
        w.member("connection_id", ifPresent: call.connectionID?.rawValue)
        w.member("integration_type", call.integrationType)
        w.member("environment", call.environment)
        w.member("external_xref", ifPresent: call.externalXref)
        w.member("name", call.name)
        w.member("type", call.kind.rawValue)
        w.member("method", call.method)
        w.member("path", call.path)
        w.member("status", call.status)
        w.member("error", ifPresent: call.error)
        if let size = call.size {
            w.key("size")
            w.number(String(size))
        }
        w.key("unified_response_time")
        w.number(String(call.unifiedResponseTime))
        if let time = call.endapiResponseTime {
            w.key("endapi_response_time")
            w.number(String(time))
        }
        w.key("is_billable")
        w.bool(false)
        w.member("ip_address", ifPresent: call.ipAddress)
        w.member("user_agent", ifPresent: call.userAgent)
        w.endObject()
    }
}
