import AsyncHTTPClient
import Foundation
import Instrumentation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Tracing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one way Switchboard calls out over HTTP. Each request's URL is checked by the
/// `EgressPolicy`; its host is resolved here, every address it resolves to is checked, and the
/// connection goes to that checked address (async-http-client's DNS override, which keeps the
/// host name for TLS and `Host`), so a name cannot be rebound to another address between the
/// check and the connect. Redirects are never followed. A refusal throws `EgressRefusal`
/// before any connection attempt.
///
/// One `HTTPClient` is kept per pinned (host, address) pair, so connections are pooled per
/// destination; at most `maximumClients` are kept, the least recently used retired after a
/// grace period longer than any request's deadline.
public final class EgressClient: Sendable {
    public let policy: EgressPolicy
    private let configuration: HTTPClient.Configuration
    private let resolve: @Sendable (String, Int) async throws -> [IPAddress]
    private let state = Mutex(State())
    let maximumClients: Int
    private let retirementDelay: Duration

    private struct State {
        var clients: [String: (client: HTTPClient, lastUsed: UInt64)] = [:]
        var retired: [HTTPClient] = []
        var tick: UInt64 = 0
        var closed = false
    }

    /// `configuration` is the base for every pinned client; its redirect setting is forced to
    /// refuse redirects. `resolve` is the system resolver unless a test supplies one.
    public init(
        policy: EgressPolicy,
        configuration: HTTPClient.Configuration = EgressClient.defaultConfiguration(),
        maximumClients: Int = 128,
        retirementDelay: Duration = .seconds(300),
        resolve: (@Sendable (String, Int) async throws -> [IPAddress])? = nil
    ) {
        self.policy = policy
        var configuration = configuration
        configuration.redirectConfiguration = .disallow
        self.configuration = configuration
        self.maximumClients = maximumClients
        self.retirementDelay = retirementDelay
        self.resolve = resolve ?? { host, port in try await EgressClient.systemResolve(host, port: port) }
    }

    /// Redirects refused, bounded connect and read timeouts. async-http-client retries a refused
    /// connection until `connectTimeout`, so that is how long a dead peer takes to report.
    public static func defaultConfiguration(
        connectTimeout: TimeAmount = .seconds(3),
        readTimeout: TimeAmount = .seconds(10)
    ) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: connectTimeout, read: readTimeout)
        )
        configuration.connectionPool = .init(idleTimeout: .seconds(30))
        // Spans come from `execute`, which records no URL (a path or query may carry a secret).
        configuration.tracing.tracer = nil
        return configuration
    }

    /// Checks `request.url` against the policy, resolves and pins its host, and sends it, in a
    /// client span (method, host, port, status: never the path or query, which may carry a
    /// secret) whose W3C `traceparent` the request carries when tracing is on.
    public func execute(_ request: HTTPClientRequest, deadline: NIODeadline) async throws -> HTTPClientResponse {
        let (client, destination) = try await client(for: request.url)
        // The HTTP client parses the URL again with Foundation; it must find the host judged here,
        // or the pin (keyed by that host) would not apply and it would connect elsewhere.
        guard let parsed = URL(string: request.url), let host = parsed.host,
            Self.sameHost(host, destination.rawHost)
        else {
            throw EgressRefusal(
                host: destination.host,
                reason: "the URL is read differently by the HTTP client (user information or an escaped host)"
            )
        }
        return try await withSpan("HTTP \(request.method.rawValue)", ofKind: .client) { span in
            var request = request
            span.attributes["http.request.method"] = request.method.rawValue
            span.attributes["server.address"] = destination.host
            span.attributes["server.port"] = destination.port
            InstrumentationSystem.instrument.inject(span.context, into: &request.headers, using: HeadersInjector())
            let response = try await client.execute(request, deadline: deadline)
            span.attributes["http.response.status_code"] = Int(response.status.code)
            if response.status.code >= 500 { span.setStatus(SpanStatus(code: .error)) }
            return response
        }
    }

    static func sameHost(_ parsed: String, _ judged: String) -> Bool {
        var parsed = parsed.lowercased()
        if parsed.hasPrefix("["), parsed.hasSuffix("]") { parsed = String(parsed.dropFirst().dropLast()) }
        return parsed == judged.lowercased()
    }

    /// The address `url` would be sent to, after every check; throws `EgressRefusal` otherwise.
    public func destination(of url: String) async throws -> (destination: Destination, address: IPAddress) {
        let destination = try policy.checkURL(url)
        let addresses: [IPAddress]
        if let literal = IPAddress(destination.host) {
            addresses = [literal]
        } else {
            do { addresses = try await resolve(destination.host, destination.port) } catch is CancellationError {
                throw CancellationError()
            } catch {
                throw EgressRefusal(host: destination.host, reason: "the name does not resolve")
            }
        }
        guard let first = addresses.first else {
            throw EgressRefusal(host: destination.host, reason: "the name does not resolve")
        }
        // Every address must pass: a name that answers with one public and one internal
        // address could otherwise be steered to the internal one on a retry.
        for address in addresses { try policy.check(address, host: destination.host) }
        return (destination, first)
    }

    private func client(for url: String) async throws -> (HTTPClient, Destination) {
        let (destination, address) = try await destination(of: url)
        let key = destination.rawHost + "\u{0}" + address.description
        var retire: HTTPClient?
        let client = try state.withLock { state throws(EgressRefusal) -> HTTPClient in
            guard !state.closed else { throw EgressRefusal(host: destination.host, reason: "the server is stopping") }
            state.tick += 1
            if let found = state.clients[key] {
                state.clients[key]!.lastUsed = state.tick
                return found.client
            }
            var configuration = self.configuration
            // The URL's host as async-http-client sees it (brackets stripped, as it does).
            configuration.dnsOverride[destination.host] = address.description
            configuration.dnsOverride[destination.rawHost] = address.description
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            if state.clients.count >= maximumClients,
                let oldest = state.clients.min(by: { $0.value.lastUsed < $1.value.lastUsed })
            {
                state.clients[oldest.key] = nil
                retire = oldest.value.client
            }
            state.clients[key] = (client, state.tick)
            return client
        }
        if let retire {
            let delay = retirementDelay
            state.withLock { $0.retired.append(retire) }
            // Requests in flight on the retired client have deadlines well under the delay. Once
            // shut down it leaves the list, which only lets `shutdown()` reach clients still
            // waiting for their turn.
            Task.detached {
                try? await Task.sleep(for: delay)
                try? await retire.shutdown()
                self.state.withLock { $0.retired.removeAll { $0 === retire } }
            }
        }
        return (client, destination)
    }

    /// Number of pinned clients kept, and of retired ones not yet shut down (for tests).
    var clientCount: Int { state.withLock { $0.clients.count } }
    var retiredCount: Int { state.withLock { $0.retired.count } }

    /// Shuts every client down; later calls are refused.
    public func shutdown() async throws {
        let clients = state.withLock { state in
            state.closed = true
            defer {
                state.clients = [:]
                state.retired = []
            }
            return state.clients.values.map(\.client) + state.retired
        }
        for client in clients { try? await client.shutdown() }
    }

    /// The system resolver (`getaddrinfo`), off the event loops.
    static func systemResolve(_ host: String, port: Int) async throws -> [IPAddress] {
        try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            #if canImport(Darwin)
            hints.ai_socktype = SOCK_STREAM
            #else
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            #endif
            var result: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, String(port), &hints, &result)
            guard status == 0, let first = result else {
                throw EgressRefusal(host: host, reason: "the name does not resolve")
            }
            defer { freeaddrinfo(first) }
            var addresses: [IPAddress] = []
            var cursor: UnsafeMutablePointer<addrinfo>? = first
            while let info = cursor {
                if let sockaddr = info.pointee.ai_addr {
                    switch Int32(info.pointee.ai_family) {
                    case AF_INET:
                        let v4 = sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                            $0.pointee.sin_addr.s_addr
                        }
                        let address = IPAddress.v4(UInt32(bigEndian: v4))
                        if !addresses.contains(address) { addresses.append(address) }
                    case AF_INET6:
                        let bytes = sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                            withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                        }
                        let address = IPAddress.v6(bytes)
                        if !addresses.contains(address) { addresses.append(address) }
                    default:
                        break
                    }
                }
                cursor = info.pointee.ai_next
            }
            return addresses
        }
    }
}

/// Writes trace context (`traceparent`, `tracestate`) into an outbound request's headers.
struct HeadersInjector: Injector {
    func inject(_ value: String, forKey key: String, into headers: inout HTTPHeaders) {
        headers.replaceOrAdd(name: key, value: value)
    }
}
