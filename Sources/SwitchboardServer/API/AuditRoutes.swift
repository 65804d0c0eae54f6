import HTTPTypes
import Hummingbird
import SwitchboardCore

/// `GET /switchboard/audit`: the workspace's audit log, newest first (scope `audit:read`). Read
/// only: no route edits or removes a record. Pages continue with `before` (a `Link: rel="next"`
/// header carries it).
struct AuditRoutes: Sendable {
    let audit: AuditService

    /// Links are built from this, never from the request's path (`//switchboard/audit` would
    /// otherwise yield a network-path reference to a host named `switchboard`).
    static let path = "/switchboard/audit"

    static let parameterNames: Set<String> = ["connection_id", "action", "actor", "since", "until", "before", "limit"]

    var routes: [Route] {
        [
            Route(
                method: .get,
                path: Self.path,
                operationID: "listAuditRecords",
                statuses: Route.authenticatedStatuses.union([200, 400]),
                requiresAPIKey: true,
                handler: list
            )
        ]
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let parameters = try QueryParameters(query: request.uri.query)
        let query = try Self.query(parameters, workspace: principal.workspaceID)
        let records = try await audit.records(query, by: principal)
        var writer = JSONWriter(reservingCapacity: 64 + records.count * 256)
        writer.beginArray()
        for record in records { Self.write(record, to: &writer) }
        writer.endArray()
        var response = Response.json(writer.bytes)
        if records.count == query.limit, let last = records.last?.sequence {
            var next = parameters
            next.values["before"] = [String(last)]
            response.headers[.link] = "<\(Self.path)?\(next.encoded)>; rel=\"next\""
        }
        return response
    }

    static func query(_ parameters: QueryParameters, workspace: WorkspaceID) throws(APIError) -> AuditQuery {
        var query = AuditQuery(workspaceID: workspace)
        if let text = try parameters.single("connection_id") { query.connectionID = ConnectionID(rawValue: text) }
        if let text = try parameters.single("actor") { query.actor = text }
        if let text = try parameters.single("action") {
            guard let action = AuditAction(rawValue: text) else {
                let known = AuditAction.allCases.map(\.rawValue).joined(separator: ", ")
                throw .invalidParameter("action must be one of \(known); got \"\(text.prefix(64))\"")
            }
            query.action = action
        }
        for (name, keyPath) in [("since", \AuditQuery.since), ("until", \AuditQuery.until)] {
            guard let text = try parameters.single(name) else { continue }
            guard let time = Timestamp(rfc3339: text, rounding: .up) else {
                throw .invalidParameter("\(name) must be an RFC 3339 date-time; got \"\(text.prefix(64))\"")
            }
            query[keyPath: keyPath] = time
        }
        if let text = try parameters.single("before") {
            guard let value = Int64(text), value > 0 else {
                throw .invalidParameter("before must be a positive record id; got \"\(text.prefix(64))\"")
            }
            query.before = value
        }
        if let text = try parameters.single("limit") {
            guard let value = Int(text), (1...AuditQuery.maximumLimit).contains(value) else {
                throw .invalidParameter(
                    "limit must be a whole number from 1 to \(AuditQuery.maximumLimit); got \"\(text.prefix(64))\""
                )
            }
            query.limit = value
        }
        return query
    }

    static func write(_ record: AuditRecord, to w: inout JSONWriter) {
        w.beginObject()
        w.member("id", ifPresent: record.sequence.map(String.init))
        w.member("created_at", record.at.rfc3339)
        w.member("workspace_id", record.workspaceID.rawValue)
        w.member("actor", record.actor)
        w.member("action", record.action.rawValue)
        w.member("connection_id", ifPresent: record.connectionID?.rawValue)
        w.member("target", ifPresent: record.target)
        w.member("client_address", ifPresent: record.clientAddress)
        w.endObject()
    }
}
