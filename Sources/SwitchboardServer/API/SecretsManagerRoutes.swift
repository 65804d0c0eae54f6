import HTTPTypes
import Hummingbird
import SwitchboardCore

/// `/unified/secretsmanager`: register, list, read and remove external secrets managers (scope
/// `secretsmanagers:admin`). A manager's own credentials go in, sealed; answers show only its
/// non-secret settings (region, endpoint, address, mount, namespace).
struct SecretsManagerRoutes: Sendable {
    let secretsManagers: SecretsManagerService
    let bodyLimits: BodyLimits

    static let parameterNames: Set<String> = ["limit", "offset"]

    var routes: [Route] {
        let common = Route.authenticatedStatuses
        return [
            Route(
                method: .get,
                path: "/unified/secretsmanager",
                operationID: "listUnifiedSecretsmanagers",
                statuses: common.union([200, 400]),
                requiresAPIKey: true,
                handler: list
            ),
            Route(
                method: .post,
                path: "/unified/secretsmanager",
                operationID: "createUnifiedSecretsmanager",
                statuses: common.union([200, 400, 408, 413, 415]),
                requiresAPIKey: true,
                scope: .secretsManagersAdmin,
                handler: create
            ),
            // A fixed segment: the router prefers it to `{id}`.
            Route(
                method: .get,
                path: "/unified/secretsmanager/instructions",
                operationID: "listUnifiedSecretsmanagerInstructions",
                statuses: common.union([200]),
                requiresAPIKey: true,
                handler: instructions
            ),
            Route(
                method: .get,
                path: "/unified/secretsmanager/{id}",
                operationID: "getUnifiedSecretsmanager",
                statuses: common.union([200, 404]),
                requiresAPIKey: true,
                handler: get
            ),
            Route(
                method: .delete,
                path: "/unified/secretsmanager/{id}",
                operationID: "removeUnifiedSecretsmanager",
                statuses: common.union([200, 404, 409]),
                requiresAPIKey: true,
                handler: remove
            ),
        ]
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let parameters = try QueryParameters(query: request.uri.query)
        var limit = 100
        var offset = 0
        if let text = try parameters.single("limit") {
            guard let value = Int(text), (1...1000).contains(value) else {
                throw APIError.invalidParameter(
                    "limit must be a whole number from 1 to 1000; got \"\(text.prefix(64))\""
                )
            }
            limit = value
        }
        if let text = try parameters.single("offset") {
            guard let value = Int(text), (0...1_000_000_000).contains(value) else {
                throw APIError.invalidParameter(
                    "offset must be a whole number from 0 to 1000000000; got \"\(text.prefix(64))\""
                )
            }
            offset = value
        }
        let views = try await secretsManagers.list(limit: limit, offset: offset, by: try context.requirePrincipal())
        var writer = JSONWriter(reservingCapacity: 64 + views.count * 256)
        writer.beginArray()
        for view in views { Self.write(view, to: &writer) }
        writer.endArray()
        return .json(writer.bytes)
    }

    @Sendable func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let input = try Self.input(fromBody: try await request.jsonBody(bodyLimits))
        return Self.respond(with: try await secretsManagers.create(input, by: principal))
    }

    @Sendable func instructions(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        _ = try context.requirePrincipal()
        let entries = secretsManagers.instructions()
        var writer = JSONWriter(reservingCapacity: 256 * entries.count)
        writer.beginArray()
        for entry in entries {
            writer.beginObject()
            writer.member("key", entry.key)
            writer.member("label", entry.label)
            writer.member("instructions", entry.instructions)
            writer.member("type", entry.type.rawValue)
            writer.endObject()
        }
        writer.endArray()
        return .json(writer.bytes)
    }

    @Sendable func get(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        Self.respond(with: try await secretsManagers.get(Self.id(context), by: try context.requirePrincipal()))
    }

    @Sendable func remove(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        try await secretsManagers.delete(Self.id(context), by: try context.requirePrincipal())
        return Response(status: .ok)
    }

    private static func id(_ context: AppRequestContext) -> SecretsManagerID {
        SecretsManagerID(rawValue: context.parameters.get("id") ?? "")
    }

    private static func respond(with view: SecretsManagerService.View) -> Response {
        var writer = JSONWriter(reservingCapacity: 256)
        write(view, to: &writer)
        return .json(writer.bytes)
    }

    /// `{"name", "type", "auth": {string: string}, "dcs": [string]}`; `dcs` is optional.
    static func input(fromBody body: [UInt8]) throws(APIError) -> SecretsManagerService.Input {
        let document = try JSONBody(body, emptyHint: "send a SecretsManager JSON object")
        guard case .object(let members)? = document["auth"] else {
            throw .invalidBody("auth is required: an object of string settings")
        }
        var auth: [String: String] = [:]
        for (key, value) in members {
            guard case .string(let text) = value else {
                throw .invalidBody("auth.\(key.prefix(64)) must be a string, got \(value.typeName)")
            }
            auth[key] = text
        }
        var dcs: [String] = []
        switch document["dcs"] {
        case nil, .null?: break
        case .array(let elements)?:
            for (i, element) in elements.enumerated() {
                guard case .string(let dc) = element else {
                    throw .invalidBody("dcs[\(i)] must be a string, got \(element.typeName)")
                }
                dcs.append(dc)
            }
        case let other?: throw .invalidBody("dcs must be an array of strings, got \(other.typeName)")
        }
        return SecretsManagerService.Input(
            name: try document.string("name"),
            type: try document.string("type"),
            auth: auth,
            dcs: dcs
        )
    }

    static func write(_ view: SecretsManagerService.View, to w: inout JSONWriter) {
        let m = view.manager
        w.beginObject()
        w.member("id", m.id.rawValue)
        w.member("created_at", m.createdAt.rfc3339)
        w.member("updated_at", m.updatedAt.rfc3339)
        w.member("workspace_id", m.workspaceID.rawValue)
        w.member("name", m.name)
        w.member("type", m.type.rawValue)
        w.key("auth")
        w.beginObject()
        for key in view.publicAuth.keys.sorted() { w.member(key, view.publicAuth[key]!) }
        w.endObject()
        w.key("dcs")
        w.stringArray(m.dcs)
        w.endObject()
    }
}
