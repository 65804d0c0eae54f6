import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1
import SwitchboardPassthrough
import SwitchboardServer

/// The relay reference R of the passthrough section: the same server process relaying
/// `GET /__bench/relay/<path>` to `<upstream><path>` through AsyncHTTPClient configured as
/// passthrough's client is, the answer streamed back through an async sequence as passthrough
/// streams it, and nothing else: no key, no database, no unsealing, no egress check, no call log.
/// It is what this HTTP server and client cost for a relay at all, so the report can tell the
/// stack's share of passthrough's cost from Switchboard's own work. Registered only by the hidden
/// `switchboard bench-server` command, when the benchmark names an upstream; `serve` never has it.
public struct BenchmarkRelay: Sendable {
    static let prefix = "/__bench/relay"

    private let upstream: String
    private let client: HTTPClient

    /// `upstream`: the base URL relayed to (`http://127.0.0.1:<port>`).
    public init(upstream: String, settings: PassthroughSettings) {
        self.upstream = upstream
        self.client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: PassthroughService.clientConfiguration(settings)
        )
    }

    public func register(on router: Router<AppRequestContext>) {
        router.get(RouterPath(Self.prefix + "/**")) { [upstream, client] request, _ -> Response in
            var outbound = HTTPClientRequest(url: upstream + request.uri.path.dropFirst(Self.prefix.count))
            outbound.method = .GET
            if let authorization = request.headers[.authorization] {
                outbound.headers.add(name: "authorization", value: authorization)
            }
            let answer = try await client.execute(outbound, deadline: .now() + .seconds(60))
            var headers = HTTPFields()
            for header in answer.headers {
                guard let name = HTTPField.Name(header.name) else { continue }
                headers.append(HTTPField(name: name, value: header.value))
            }
            return Response(
                status: HTTPResponse.Status(code: Int(answer.status.code)),
                headers: headers,
                body: ResponseBody(asyncSequence: answer.body)
            )
        }
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }
}
