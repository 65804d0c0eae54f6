import Hummingbird
import SwitchboardEgress

/// Proxies whose `X-Forwarded-For` Switchboard believes (`--trusted-proxy`).
public struct TrustedProxies: Sendable, Equatable {
    public var networks: [IPNetwork]

    public init(networks: [IPNetwork] = []) { self.networks = networks }

    /// Parses a comma-separated list of CIDR blocks or addresses.
    public init(parsing text: String) throws(TrustedProxiesError) {
        var networks: [IPNetwork] = []
        for item in text.split(separator: ",") {
            let trimmed = item.filter { $0 != " " && $0 != "\t" }
            guard !trimmed.isEmpty else { continue }
            guard let network = IPNetwork(trimmed) else {
                throw TrustedProxiesError(
                    "\"\(trimmed.prefix(64))\" is not an address or CIDR block such as 10.0.0.0/8"
                )
            }
            networks.append(network)
        }
        self.init(networks: networks)
    }

    func trusts(_ address: String) -> Bool {
        guard let parsed = IPAddress(address) else { return false }
        return networks.contains { $0.contains(parsed) }
    }

    /// The client's address: the TCP peer, unless the peer is a trusted proxy; then the
    /// right-most `X-Forwarded-For` entry that is not itself a trusted proxy (entries further
    /// left were written by the client and prove nothing).
    func clientAddress(peer: String?, forwardedFor: [String]) -> String? {
        guard let peer, !networks.isEmpty, trusts(peer) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map {
            String($0.filter { $0 != " " && $0 != "\t" })
        }
        for hop in hops.reversed() {
            guard let address = IPAddress(hop) else { return peer }  // garbage: fall back to the proxy
            if !trusts(hop) { return address.description }
        }
        return hops.first.flatMap { IPAddress($0)?.description } ?? peer
    }
}

public struct TrustedProxiesError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Resolves the client's address once per request (`AppRequestContext.clientAddress`), for the
/// rate limiters and the audit log.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let proxies: TrustedProxies

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard !proxies.networks.isEmpty else { return try await next(request, context) }
        var context = context
        context.clientAddress = proxies.clientAddress(
            peer: context.clientAddress,
            forwardedFor: request.headers[values: .xForwardedFor]
        )
        return try await next(request, context)
    }
}
