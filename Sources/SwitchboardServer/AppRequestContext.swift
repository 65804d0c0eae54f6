import HTTPTypes
import Hummingbird
import NIOCore
import SwitchboardCore

/// Per-request state: Hummingbird's core storage, the peer's address and the authenticated caller.
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The TCP peer. Switchboard does not trust forwarding headers: behind a proxy this is the proxy.
    public let remoteAddress: SocketAddress?
    /// Set by `APIKeyMiddleware` on every `/unified` route.
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        principal = nil
    }

    /// The peer's IP address as text (the audit log's and the rate limiter's key).
    var clientAddress: String? { remoteAddress?.ipAddress }

    /// The caller; only `APIKeyMiddleware`-guarded routes may ask.
    func requirePrincipal() throws -> Principal {
        guard let principal else { throw APIError.unauthorized("an API key is required") }
        return principal
    }
}
