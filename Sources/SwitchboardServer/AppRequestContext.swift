import HTTPTypes
import Hummingbird
import NIOCore
import SwitchboardCore

/// Per-request state: Hummingbird's core storage, the peer's address and the authenticated caller.
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer. Forwarding headers are believed only from `--trusted-proxy` addresses.
    public let remoteAddress: SocketAddress?
    /// Set by `APIKeyMiddleware` on every `/unified` route.
    public var principal: Principal?

    /// The client's IP address as text (the audit log's and the rate limiters' key): the TCP
    /// peer, or what a trusted proxy reports (`ClientAddressMiddleware`).
    var clientAddress: String?
    /// The workspace and key that authenticated the request, for its log line.
    let caller = RequestCaller()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        clientAddress = remoteAddress?.ipAddress
        principal = nil
    }

    /// The matched route's template (`/unified/connection/{id}`), `unmatched` when no route
    /// matched (Hummingbird names its not-found endpoint `NotFound`): what request logs, metrics
    /// and spans name a request by, never its path.
    var routeTemplate: String {
        endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
    }

    /// The caller; only `APIKeyMiddleware`-guarded routes may ask.
    func requirePrincipal() throws -> Principal {
        guard let principal else { throw APIError.unauthorized("an API key is required") }
        return principal
    }
}
