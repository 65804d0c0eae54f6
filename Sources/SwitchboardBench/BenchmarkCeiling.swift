import HTTPTypes
import Hummingbird
import NIOCore
import SwitchboardServer
import Synchronization

/// The HTTP ceiling of `switchboard bench`: a plain route that answers with bytes set in advance,
/// touching no database and no JSON encoder, so the benchmark can compare each endpoint with what
/// this server process can do at all with the identical response. Registered only by the hidden
/// `switchboard bench-server` command the benchmark starts, through `buildApplication`'s
/// `extraRoutes` hook; `serve` never has it.
public struct BenchmarkCeiling: Sendable {
    static let path = "/__bench/ceiling"
    static let link = HTTPField.Name("Link")!

    private final class Stored: Sendable {
        let response = Mutex<(body: ByteBuffer, link: String?)>((ByteBuffer(), nil))
    }
    private let stored = Stored()

    public init() {}

    public func register(on router: Router<AppRequestContext>) {
        // PUT sets the body to serve (and, via a `Link` request header, the Link to send with it).
        router.put(RouterPath(Self.path)) { [stored] request, _ -> Response in
            let body = try await request.body.collect(upTo: 64 << 20)
            let link = request.headers[Self.link]
            stored.response.withLock { $0 = (body, link) }
            return Response(status: .noContent)
        }
        // Any other method answers with the stored bytes; a request body is read, as the real routes do.
        for method in [HTTPRequest.Method.get, .post, .patch] {
            router.on(RouterPath(Self.path), method: method) { [stored] request, _ -> Response in
                if method != .get { _ = try await request.body.collect(upTo: 1 << 20) }
                let (body, link) = stored.response.withLock { $0 }
                var headers: HTTPFields = [.contentType: "application/json"]
                if let link { headers[Self.link] = link }
                return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: body))
            }
        }
    }
}
