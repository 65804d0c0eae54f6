import Foundation
import HTTPTypes
import Hummingbird
import SwitchboardCore

/// `/unified/connection`: list, create, get, update (PUT and PATCH alike) and delete.
struct ConnectionRoutes: Sendable {
    let connections: ConnectionService
    let maximumBodySize: Int

    var routes: [Route] {
        let common: Set<Int> = [401, 500, 503]
        return [
            Route(
                method: .get,
                path: "/unified/connection",
                operationID: "listUnifiedConnections",
                statuses: common.union([200, 400]),
                requiresAPIKey: true,
                handler: list
            ),
            Route(
                method: .post,
                path: "/unified/connection",
                operationID: "createUnifiedConnection",
                statuses: common.union([200, 400, 413, 415]),
                requiresAPIKey: true,
                handler: create
            ),
            Route(
                method: .get,
                path: "/unified/connection/{id}",
                operationID: "getUnifiedConnection",
                statuses: common.union([200, 404]),
                requiresAPIKey: true,
                handler: get
            ),
            Route(
                method: .put,
                path: "/unified/connection/{id}",
                operationID: "updateUnifiedConnection",
                statuses: common.union([200, 400, 404, 413, 415]),
                requiresAPIKey: true,
                handler: update
            ),
            Route(
                method: .patch,
                path: "/unified/connection/{id}",
                operationID: "patchUnifiedConnection",
                statuses: common.union([200, 400, 404, 413, 415]),
                requiresAPIKey: true,
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
        let page = try await connections.list(query)
        var writer = JSONWriter(reservingCapacity: 64 + page.count * 1024)
        writer.beginArray()
        for connection in page { ConnectionWire.write(connection, to: &writer) }
        writer.endArray()
        var response = Response.json(writer.bytes)
        // A full page may have a successor: point at it with a keyset cursor (RFC 8288), so the body
        // stays the bare array Unified's clients expect.
        if page.count == query.limit, let last = page.last {
            response.headers[HTTPField.Name("Link")!] = "<\(query.nextPageURL(after: last.connection))>; rel=\"next\""
        }
        return response
    }

    @Sendable func create(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let input = try ConnectionWire.input(fromBody: try await jsonBody(request))
        return Self.respond(with: try await connections.create(input, in: principal.workspaceID))
    }

    @Sendable func get(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        return Self.respond(with: try await connections.get(try Self.id(context), in: principal.workspaceID))
    }

    @Sendable func update(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        let id = try Self.id(context)
        let input = try ConnectionWire.input(fromBody: try await jsonBody(request))
        return Self.respond(with: try await connections.update(id, with: input, in: principal.workspaceID))
    }

    @Sendable func remove(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        try await connections.delete(try Self.id(context), in: principal.workspaceID)
        return Response(status: .ok)
    }

    private static func respond(with connection: RevealedConnection) -> Response {
        var writer = JSONWriter(reservingCapacity: 1024)
        ConnectionWire.write(connection, to: &writer)
        return .json(writer.bytes)
    }

    private static func id(_ context: AppRequestContext) throws -> ConnectionID {
        // The router only matches a non-empty segment; ids are opaque, so any unknown one is a 404.
        let raw = context.parameters.get("id") ?? ""
        return ConnectionID(rawValue: raw.removingPercentEncoding ?? raw)
    }

    /// The request body, bounded, as JSON. A declared oversize body is refused before reading it.
    private func jsonBody(_ request: Request) async throws -> [UInt8] {
        if let type = request.headers[.contentType] {
            let mediaType = type.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            guard mediaType == "application/json" else {
                throw APIError(
                    status: .unsupportedMediaType,
                    code: "unsupported_media_type",
                    message: "Content-Type must be application/json, got \"\(type.prefix(64))\""
                )
            }
        }
        let tooLarge = APIError(
            status: .contentTooLarge,
            code: "payload_too_large",
            message: "the request body is larger than \(maximumBodySize) bytes"
        )
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maximumBodySize {
            throw tooLarge
        }
        do {
            let buffer = try await request.body.collect(upTo: maximumBodySize)
            return Array(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw tooLarge
        }
    }
}
