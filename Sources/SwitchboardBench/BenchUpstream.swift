import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// The provider the passthrough section relays to: a small HTTP/1.1 keep-alive server in the
/// bench process on a free 127.0.0.1 port, answering `GET /bytes/N` (N among `sizes`) with N
/// bytes built once, `Content-Length` set. It requires `Authorization: Bearer <credential>`, so a
/// call that arrives without the connection's credential fails the run (401) instead of counting.
/// The direct calls, nginx and Switchboard all reach this same server.
final class BenchUpstream: Sendable {
    let port: Int
    private let task: Task<Void, any Error>

    private init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = task
    }

    static func path(_ bytes: Int) -> String { "/bytes/\(bytes)" }

    static func start(sizes: [Int], credential: String, logger: Logger) async throws -> BenchUpstream {
        let router = Router()
        let expected = "Bearer " + credential
        for size in sizes {
            let body = ByteBuffer(repeating: UInt8(ascii: "x"), count: size)
            router.get(RouterPath(path(size))) { request, _ -> Response in
                guard request.headers[.authorization] == expected else { return Response(status: .unauthorized) }
                return Response(
                    status: .ok,
                    headers: [.contentType: "application/octet-stream"],
                    body: ResponseBody(byteBuffer: body)
                )
            }
        }
        let (port, task) = try await serveOnLoopback(router, name: "the loopback upstream", logger: logger)
        return BenchUpstream(port: port, task: task)
    }

    /// Serves `router` on a free 127.0.0.1 port in this process; returns the port and the task to
    /// cancel to stop it.
    static func serveOnLoopback(
        _ router: Router<BasicRequestContext>,
        name: String,
        logger: Logger
    ) async throws -> (port: Int, task: Task<Void, any Error>) {
        let bound = Mutex<Int?>(nil)
        // Critical only: cancelling the server at the end logs the connections it cut as errors.
        // A failure while it serves shows as failed requests in the load's count, which fails the run.
        var quiet = logger
        quiet.logLevel = .critical
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in bound.withLock { $0 = channel.localAddress?.port } },
            logger: quiet
        )
        let task = Task { try await application.runService(gracefulShutdownSignals: []) }
        for _ in 0..<100 {
            if let port = bound.withLock({ $0 }) { return (port, task) }
            try await Task.sleep(for: .milliseconds(100))
        }
        task.cancel()
        _ = await task.result
        throw BenchRunner.Failure(description: "\(name) did not start within 10 s")
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}
