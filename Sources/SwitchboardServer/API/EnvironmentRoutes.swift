import HTTPTypes
import Hummingbird
import SwitchboardCore

/// `/unified/environment`: the workspace's environments as Unified's SDK reads and edits them,
/// every answer the whole list as a JSON array of names (`Production` first).
struct EnvironmentRoutes: Sendable {
    let environments: EnvironmentService
    let bodyLimits: BodyLimits

    var routes: [Route] {
        let common = Route.authenticatedStatuses
        return [
            Route(
                method: .get,
                path: "/unified/environment",
                operationID: "listUnifiedEnvironments",
                statuses: common.union([200]),
                requiresAPIKey: true,
                handler: list
            ),
            Route(
                method: .post,
                path: "/unified/environment",
                operationID: "createUnifiedEnvironment",
                statuses: common.union([200, 408, 409, 413, 415]),
                requiresAPIKey: true,
                scope: .connectionsWrite,
                handler: create
            ),
            Route(
                method: .delete,
                path: "/unified/environment/{env}",
                operationID: "removeUnifiedEnvironment",
                statuses: common.union([200, 404, 409]),
                requiresAPIKey: true,
                handler: remove
            ),
        ]
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        .json(Self.json(try await environments.list(by: try context.requirePrincipal())))
    }

    @Sendable func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let names = try JSONBody.strings(
            try await request.jsonBody(bodyLimits),
            maximumCount: EnvironmentService.maximumCount
        )
        return .json(Self.json(try await environments.create(names, by: principal)))
    }

    @Sendable func remove(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        // The SDK percent-encodes the name into the path (`My%20Env`).
        let raw = context.parameters.get("env") ?? ""
        let name = percentDecoded(raw[...], plusIsSpace: false) ?? raw
        return .json(Self.json(try await environments.remove(name, by: principal)))
    }

    static func json(_ names: [String]) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 32 + names.count * 24)
        writer.stringArray(names)
        return writer.bytes
    }
}
