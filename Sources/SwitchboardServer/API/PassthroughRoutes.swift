import HTTPTypes
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardPassthrough

/// `/passthrough/{connection_id}/{path}`: the caller's request relayed to the connection's
/// provider with the connection's credentials (see `PassthroughService`), as Unified's SDK sends
/// it (`sdk.passthrough.*`). Every answer says who made it: `x-switchboard-origin: vendor` on the
/// provider's, `switchboard` on Switchboard's own (`ErrorMiddleware` marks every error).
struct PassthroughRoutes: Sendable {
    static let path = "/passthrough/{connection_id}/{path}"
    static let originHeader = HTTPField.Name("x-switchboard-origin")!

    let passthrough: PassthroughService

    var routes: [Route] {
        // Besides the provider's own statuses, which are relayed as they are: 404 (no such
        // connection), 413 (body over the limit), 502 (provider unreachable), 504 (timeout).
        let statuses = Route.authenticatedStatuses.union([200, 404, 413, 502, 504])
        let operations: [(HTTPRequest.Method, String)] = [
            (.get, "listPassthroughs"), (.post, "createPassthroughJson"), (.put, "updatePassthroughJson"),
            (.patch, "patchPassthroughJson"), (.delete, "removePassthrough"),
        ]
        return operations.map { method, operationID in
            Route(
                method: method,
                path: Self.path,
                operationID: operationID,
                statuses: statuses,
                requiresAPIKey: true,
                keyConfirmedByRead: true,
                scope: .connectionsProxy,
                handler: forward
            )
        }
    }

    @Sendable func forward(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let principal = try context.requirePrincipal()
        // The raw path: `/passthrough/<id>/<rest>`, percent-escapes and a leading `/` of rest kept.
        let afterPrefix = request.uri.path.dropFirst("/passthrough/".count)
        guard let slash = afterPrefix.firstIndex(of: "/") else {
            throw APIError.invalidParameter("the path must be /passthrough/{connection_id}/{path}")
        }
        let rawID = afterPrefix[..<slash]
        let id = percentDecoded(rawID, plusIsSpace: false) ?? String(rawID)
        let contentLength = request.headers[.contentLength].flatMap { Int64($0) }
        let hasBody = contentLength.map { $0 > 0 } ?? (request.headers[.transferEncoding] != nil)
        let relayed = try await passthrough.forward(
            PassthroughRequest(
                method: request.method.rawValue,
                connectionID: ConnectionID(rawValue: id),
                path: String(afterPrefix[afterPrefix.index(after: slash)...]),
                query: request.uri.query,
                headers: request.headers.map { (name: $0.name.rawName, value: $0.value) },
                contentLength: hasBody ? contentLength : nil,
                clientAddress: context.clientAddress,
                userAgent: request.headers[.userAgent]
            ),
            body: hasBody ? request.body : nil,
            by: principal
        )
        var headers = HTTPFields()
        for (name, value) in relayed.headers {
            guard let name = HTTPField.Name(name) else { continue }
            headers.append(HTTPField(name: name, value: value))
        }
        headers[Self.originHeader] = "vendor"
        return Response(
            status: HTTPResponse.Status(code: relayed.status),
            headers: headers,
            body: ResponseBody(asyncSequence: relayed.body)
        )
    }
}
