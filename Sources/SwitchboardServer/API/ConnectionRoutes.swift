import Foundation
import HTTPTypes
import Hummingbird
import SwitchboardCore

/// `/unified/connection`: list, create, get, update (PUT and PATCH alike) and delete.
struct ConnectionRoutes: Sendable {
    let connections: ConnectionService
    let bodyLimits: BodyLimits

    var routes: [Route] {
        // 502: a secrets manager that holds a connection's credentials failed.
        let common = Route.authenticatedStatuses.union([502])
        return [
            Route(
                method: .get,
                path: "/unified/connection",
                operationID: "listUnifiedConnections",
                statuses: common.union([200, 400]),
                requiresAPIKey: true,
                keyConfirmedByRead: true,
                handler: list
            ),
            Route(
                method: .post,
                path: "/unified/connection",
                operationID: "createUnifiedConnection",
                statuses: common.union([200, 400, 404, 408, 413, 415]),
                requiresAPIKey: true,
                scope: .connectionsWrite,
                handler: create
            ),
            Route(
                method: .get,
                path: "/unified/connection/{id}",
                operationID: "getUnifiedConnection",
                statuses: common.union([200, 404]),
                requiresAPIKey: true,
                keyConfirmedByRead: true,
                handler: get
            ),
            Route(
                method: .put,
                path: "/unified/connection/{id}",
                operationID: "updateUnifiedConnection",
                statuses: common.union([200, 400, 404, 408, 409, 413, 415]),
                requiresAPIKey: true,
                scope: .connectionsWrite,
                handler: update
            ),
            Route(
                method: .patch,
                path: "/unified/connection/{id}",
                operationID: "patchUnifiedConnection",
                statuses: common.union([200, 400, 404, 408, 409, 413, 415]),
                requiresAPIKey: true,
                scope: .connectionsWrite,
                handler: update
            ),
            Route(
                method: .delete,
                path: "/unified/connection/{id}",
                operationID: "removeUnifiedConnection",
                statuses: common.union([200, 404]),
                requiresAPIKey: true,
                handler: remove
            ),
        ]
    }

    @Sendable func list(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let query = try ConnectionQuery(
            parameters: try QueryParameters(query: request.uri.query),
            workspaceID: principal.workspaceID
        )
        let page = try await connections.listJSON(query, by: principal)
        var response = Response.json(page.bytes)
        // A full page may have a successor: point at it with a keyset cursor (RFC 8288), so the body
        // stays the bare array Unified's clients expect.
        if let last = page.lastOfFullPage {
            response.headers[.link] = "<\(query.nextPageURL(after: last))>; rel=\"next\""
        }
        return response
    }

    @Sendable func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let input = try ConnectionWire.input(fromBody: try await request.jsonBody(bodyLimits))
        return Self.respond(with: try await connections.create(input, by: principal))
    }

    @Sendable func get(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        return .json(try await connections.getJSON(try Self.id(context), by: principal))
    }

    @Sendable func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let id = try Self.id(context)
        let input = try ConnectionWire.input(fromBody: try await request.jsonBody(bodyLimits))
        return Self.respond(with: try await connections.update(id, with: input, by: principal))
    }

    @Sendable func remove(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        try await connections.delete(try Self.id(context), by: principal)
        return Response(status: .ok)
    }

    private static func respond(with connection: RevealedConnection) -> Response {
        var writer = JSONWriter(reservingCapacity: 1024)
        ConnectionJSON.write(connection, to: &writer)
        return .json(writer.bytes)
    }

    private static func id(_ context: AppRequestContext) throws -> ConnectionID {
        // The router only matches a non-empty segment; ids are opaque, so any unknown one is a 404.
        let raw = context.parameters.get("id") ?? ""
        return ConnectionID(rawValue: percentDecoded(raw[...], plusIsSpace: false) ?? raw)
    }
}
