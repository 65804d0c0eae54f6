import HTTPTypes
import Hummingbird
import SwitchboardCore

/// One operation of the HTTP API, as declared in openapi.yaml. The router is built from these
/// values, and a test checks them against the document both ways.
struct Route: Sendable {
    typealias Handler = @Sendable (Request, AppRequestContext) async throws -> Response

    let method: HTTPRequest.Method
    /// OpenAPI form: `/unified/connection/{id}`.
    let path: String
    let operationID: String
    /// Every status this operation can answer with.
    let statuses: Set<Int>
    let requiresAPIKey: Bool
    /// The handler's database read confirms the key is unrevoked (`KeyCheck.deferredTo`), so
    /// authentication need not read it first.
    var keyConfirmedByRead = false
    /// The scope the operation needs, checked before the handler runs (and so before it reads a
    /// body): a key that may not call the route gets its 403 without the server reading a megabyte.
    /// The service checks it again, with the revocation check.
    var scope: Scope? = nil
    let handler: Handler

    /// What every API-key route can answer besides its own statuses: a malformed parameter (a
    /// control character in an id or filter) or body framing, no or bad key, a key without the
    /// scope, a request target too long, too many failed attempts, a server fault, the database down.
    static let authenticatedStatuses: Set<Int> = [400, 401, 403, 414, 429, 500, 503]

    /// Hummingbird's form of `path`: `{id}` becomes `:id`; a final `{path}` is the rest of the
    /// path, any number of segments (`**`).
    var routerPath: String {
        let segments = path.split(separator: "/")
        return segments.enumerated().map { index, segment in
            if segment == "{path}", index == segments.count - 1 { return "**" }
            return segment.hasPrefix("{") && segment.hasSuffix("}")
                ? ":" + segment.dropFirst().dropLast() : String(segment)
        }.joined(separator: "/")
    }
}

extension Response {
    /// A 200 `application/json` response with pre-encoded bytes.
    static func json(_ bytes: [UInt8]) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }
}
