import HTTPTypes
import Hummingbird
import SwitchboardCore

/// `/switchboard/apikey`: list, create and revoke the workspace's API keys (scope `keys:admin`).
/// Not part of Unified's API, hence its own prefix. A key's secret appears once, in the answer to
/// its creation; listings show ids, scopes and dates only.
struct KeyRoutes: Sendable {
    let workspaces: WorkspaceService
    let bodyLimits: BodyLimits

    var routes: [Route] {
        let common = Route.authenticatedStatuses
        return [
            Route(
                method: .get,
                path: "/switchboard/apikey",
                operationID: "listApiKeys",
                statuses: common.union([200]),
                requiresAPIKey: true,
                handler: list
            ),
            Route(
                method: .post,
                path: "/switchboard/apikey",
                operationID: "createApiKey",
                statuses: common.union([200, 400, 408, 413, 415]),
                requiresAPIKey: true,
                scope: .keysAdmin,
                handler: create
            ),
            Route(
                method: .delete,
                path: "/switchboard/apikey/{id}",
                operationID: "revokeApiKey",
                statuses: common.union([200, 404, 409]),
                requiresAPIKey: true,
                handler: revoke
            ),
        ]
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let keys = try await workspaces.listKeys(by: try context.requirePrincipal())
        var writer = JSONWriter(reservingCapacity: 64 + keys.count * 256)
        writer.beginArray()
        for key in keys { Self.write(key, secret: nil, to: &writer) }
        writer.endArray()
        return .json(writer.bytes)
    }

    @Sendable func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let scopes = try Self.scopes(fromBody: try await request.jsonBody(bodyLimits))
        let (record, key) = try await workspaces.createKey(scopes: scopes, by: principal)
        var writer = JSONWriter(reservingCapacity: 384)
        Self.write(record, secret: key, to: &writer)
        return .json(writer.bytes)
    }

    @Sendable func revoke(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let reference = context.parameters.get("id") ?? ""
        let record = try await workspaces.revokeKey(reference, by: principal)
        var writer = JSONWriter(reservingCapacity: 256)
        Self.write(record, secret: nil, to: &writer)
        return .json(writer.bytes)
    }

    /// `{"scopes": ["connections:read", ...]}`: required, so a key never gets more than was asked for.
    static func scopes(fromBody body: [UInt8]) throws(APIError) -> ScopeSet {
        let document = try JSONBody(body, emptyHint: "send {\"scopes\": [...]}")
        guard case .array(let elements)? = document["scopes"] else {
            throw .invalidBody("scopes is required: an array of scope names (\(Self.knownScopes))")
        }
        var names: [String] = []
        for (i, element) in elements.enumerated() {
            guard case .string(let name) = element else {
                throw .invalidBody("scopes[\(i)] must be a string, got \(element.typeName)")
            }
            names.append(name)
        }
        do { return try ScopeSet(parsing: names.joined(separator: ",")) } catch {
            throw APIError(status: .badRequest, code: "invalid_field", message: error.message)
        }
    }

    private static let knownScopes = Scope.allCases.map(\.rawValue).joined(separator: ", ")

    static func write(_ key: APIKeyRecord, secret: String?, to w: inout JSONWriter) {
        w.beginObject()
        w.member("id", key.id)
        w.member("prefix", APIKey.displayPrefix(id: key.id))
        w.key("scopes")
        w.stringArray(key.scopes.sorted.map(\.rawValue))
        w.member("created_at", key.createdAt.rfc3339)
        w.member("last_used_at", ifPresent: key.lastUsedAt?.rfc3339)
        w.member("revoked_at", ifPresent: key.revokedAt?.rfc3339)
        w.member("key", ifPresent: secret)
        w.endObject()
    }
}
