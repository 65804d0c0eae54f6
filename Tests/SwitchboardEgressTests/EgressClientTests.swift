import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

@testable import SwitchboardEgress

/// The client against a real loopback HTTP server: refused before any connection by default,
/// reached when allowed, pinned to the address it checked, and never following a redirect.
@Suite("Egress client")
struct EgressClientTests {
    @Test func loopbackIsRefusedBeforeAnyConnection() async throws {
        try await LoopbackServer.with { server in
            let client = EgressClient(policy: EgressPolicy())
            defer { Task { try? await client.shutdown() } }
            for url in [
                "http://127.0.0.1:\(server.port)/", "http://localhost:\(server.port)/",
                "http://2130706433:\(server.port)/", "http://0177.0.0.1:\(server.port)/",
                "http://[::ffff:127.0.0.1]:\(server.port)/", "http://0:\(server.port)/",
                "http://user@127.0.0.1:\(server.port)/",
            ] {
                await #expect(throws: EgressRefusal.self, "\(url)") {
                    _ = try await client.execute(HTTPClientRequest(url: url), deadline: .now() + .seconds(5))
                }
            }
            #expect(server.requests.isEmpty, "a refused destination was connected to")
        }
    }

    @Test func allowedLoopbackIsReachedAndRedirectsAreNotFollowed() async throws {
        try await LoopbackServer.with { server in
            let client = EgressClient(policy: try EgressPolicy(parsing: "127.0.0.1"))
            let ok = try await client.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/ok"),
                deadline: .now() + .seconds(5)
            )
            #expect(ok.status == .ok)
            let redirect = try await client.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/redirect"),
                deadline: .now() + .seconds(5)
            )
            #expect(redirect.status == .found)
            #expect(server.requests == ["/ok", "/redirect"], "the redirect to /ok was followed")
            try await client.shutdown()
        }
    }

    /// A name is resolved once, checked, and the connection goes to that address with the
    /// name kept for `Host` (and TLS): a second lookup that answers differently (DNS rebinding)
    /// is never made.
    @Test func theCheckedAddressIsTheOneConnectedTo() async throws {
        try await LoopbackServer.with { server in
            let lookups = Mutex(0)
            let client = EgressClient(
                policy: try EgressPolicy(parsing: "127.0.0.1"),
                resolve: { host, _ in
                    lookups.withLock { $0 += 1 }
                    #expect(host == "rebind.test")
                    return [.v4(0x7F00_0001)]
                }
            )
            let response = try await client.execute(
                HTTPClientRequest(url: "http://rebind.test:\(server.port)/host"),
                deadline: .now() + .seconds(5)
            )
            #expect(response.status == .ok)
            #expect(server.hosts.last == "rebind.test:\(server.port)")
            #expect(lookups.withLock { $0 } == 1)
            try await client.shutdown()
        }
    }

    @Test func aNameWithAnyInternalAddressIsRefused() async throws {
        let client = EgressClient(
            policy: EgressPolicy(),
            resolve: { _, _ in [.v4(0x5DB8_D822), .v4(0x0A00_0001)] }  // 93.184.216.34 and 10.0.0.1
        )
        await #expect(throws: EgressRefusal.self) {
            _ = try await client.execute(HTTPClientRequest(url: "http://mixed.test/"), deadline: .now() + .seconds(5))
        }
        try await client.shutdown()
    }

    @Test func pinnedClientsAreBounded() async throws {
        try await LoopbackServer.with { server in
            let client = EgressClient(
                policy: try EgressPolicy(parsing: "127.0.0.0/8"),
                maximumClients: 2,
                retirementDelay: .milliseconds(100),
                resolve: { _, _ in [.v4(0x7F00_0001)] }
            )
            for name in ["a.test", "b.test", "c.test", "a.test"] {
                _ = try await client.execute(
                    HTTPClientRequest(url: "http://\(name):\(server.port)/ok"),
                    deadline: .now() + .seconds(5)
                )
            }
            #expect(client.clientCount == 2)
            // Retired clients are shut down after the delay and then forgotten, however many
            // destinations come and go.
            for _ in 0..<100 where client.retiredCount > 0 { try await Task.sleep(for: .milliseconds(50)) }
            #expect(client.retiredCount == 0)
            try await client.shutdown()
        }
    }
}

/// A loopback HTTP/1.1 server: `/redirect` answers 302 to `/ok`, anything else 200. It records
/// each request's path and `Host`.
final class LoopbackServer: Sendable {
    let port: Int
    private let log = Mutex<[(path: String, host: String)]>([])
    private let channel: any Channel

    var requests: [String] { log.withLock { $0.map(\.path) } }
    var hosts: [String] { log.withLock { $0.map(\.host) } }

    private init(channel: any Channel, port: Int) {
        self.channel = channel
        self.port = port
    }

    static func with(_ body: (LoopbackServer) async throws -> Void) async throws {
        let box = Mutex<LoopbackServer?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        Handler { path, host in
                            box.withLock { $0?.log.withLock { $0.append((path, host)) } }
                        }
                    )
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = LoopbackServer(channel: channel, port: channel.localAddress!.port!)
        box.withLock { $0 = server }
        do {
            try await body(server)
            try await channel.close()
        } catch {
            try? await channel.close()
            throw error
        }
    }

    final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let record: @Sendable (String, String) -> Void
        init(record: @escaping @Sendable (String, String) -> Void) { self.record = record }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .head(let head) = unwrapInboundIn(data) else {
                if case .end = unwrapInboundIn(data) {}
                return
            }
            record(head.uri, head.headers.first(name: "host") ?? "")
            var headers = HTTPHeaders([("content-length", "2")])
            let status: HTTPResponseStatus
            if head.uri == "/redirect" {
                status = .found
                headers.add(name: "location", value: "/ok")
            } else {
                status = .ok
            }
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
                promise: nil
            )
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
