import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardEgress
import Synchronization

/// Limits of passthrough calls (`--passthrough-body-limit`, `--passthrough-timeout`).
public struct PassthroughSettings: Sendable, Equatable {
    public static let defaultBodyLimit: Int64 = 50 * 1024 * 1024
    public static let defaultTimeoutSeconds: Int64 = 60
    /// Request bodies up to this size are held in memory so that the call can be sent again after
    /// a forced token refresh; larger ones stream through once.
    public static let replayableBodyLimit: Int64 = 1024 * 1024

    /// Largest request body forwarded.
    public var bodyLimit: Int64
    /// How long the provider has to start answering, and the longest pause while its body streams.
    public var timeoutSeconds: Int64

    public init(bodyLimit: Int64 = Self.defaultBodyLimit, timeoutSeconds: Int64 = Self.defaultTimeoutSeconds) {
        self.bodyLimit = bodyLimit
        self.timeoutSeconds = timeoutSeconds
    }
}

/// One call to relay: the caller's method, the raw path after `/passthrough/{connection_id}/`,
/// the raw query string, and the caller's headers (filtered here).
public struct PassthroughRequest: Sendable {
    public var method: String
    public var connectionID: ConnectionID
    public var path: String
    public var query: String?
    public var headers: [(name: String, value: String)]
    /// The request body's length when the caller declared it (`Content-Length`).
    public var contentLength: Int64?
    /// The caller's address and user agent, for the API call log.
    public var clientAddress: String?
    public var userAgent: String?

    public init(
        method: String,
        connectionID: ConnectionID,
        path: String,
        query: String?,
        headers: [(name: String, value: String)],
        contentLength: Int64?,
        clientAddress: String? = nil,
        userAgent: String? = nil
    ) {
        self.method = method
        self.connectionID = connectionID
        self.path = path
        self.query = query
        self.headers = headers
        self.contentLength = contentLength
        self.clientAddress = clientAddress
        self.userAgent = userAgent
    }
}

/// The provider's answer: status, headers (hop-by-hop and CORS headers removed) and the body,
/// streamed as it arrives.
public struct PassthroughResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: PassthroughResponseBody
}

/// The provider's response body, chunk by chunk as it arrives (backpressure reaches the provider).
/// Its end (or failure, or the caller going away) completes the call's log record.
public struct PassthroughResponseBody: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    let body: HTTPClientResponse.Body
    let recorder: CallRecorder

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: HTTPClientResponse.Body.AsyncIterator
        let recorder: CallRecorder

        public mutating func next() async throws -> ByteBuffer? {
            do {
                guard let chunk = try await base.next() else {
                    recorder.finished()
                    return nil
                }
                recorder.relayed(chunk.readableBytes)
                return chunk
            } catch {
                recorder.failed(error)
                throw error
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: body.makeAsyncIterator(), recorder: recorder)
    }
}

/// Calls a connection's provider API with the connection's credentials, which never reach the
/// caller: the one seam of the passthrough capability.
///
/// - The destination is the integration's `api.base_url` filled from the connection, with the
///   caller's path and query appended; every call goes through the egress policy (refused
///   destinations are never contacted, redirects are relayed, not followed).
/// - A token about to expire is refreshed first. When the provider answers 401 and the connection
///   has a refresh token, the token is refreshed once (single-flight across callers and replicas)
///   and the call sent again, if its body was small enough to keep (`replayableBodyLimit`).
/// - Bodies stream both ways: memory stays bounded whatever their size.
public struct PassthroughService: Sendable {
    let connections: ConnectionService
    let catalog: IntegrationCatalog
    let overrides: BaseURLOverrides
    let client: EgressClient
    let log: APICallLog
    /// The status Switchboard answers an error with (the HTTP layer's one mapping), for the log.
    let status: @Sendable (any Error) -> Int
    public let settings: PassthroughSettings

    public init(
        connections: ConnectionService,
        catalog: IntegrationCatalog,
        integrations: IntegrationService,
        client: EgressClient,
        log: APICallLog,
        status: @escaping @Sendable (any Error) -> Int,
        settings: PassthroughSettings
    ) {
        self.connections = connections
        self.catalog = catalog
        self.overrides = BaseURLOverrides(integrations: integrations)
        self.client = client
        self.log = log
        self.status = status
        self.settings = settings
    }

    /// The egress client configuration passthrough uses: the upstream timeout as the read timeout,
    /// and enough pooled connections per provider for a busy proxy.
    public static func clientConfiguration(_ settings: PassthroughSettings) -> HTTPClient.Configuration {
        var configuration = EgressClient.defaultConfiguration(
            connectTimeout: .seconds(min(10, settings.timeoutSeconds)),
            readTimeout: .seconds(settings.timeoutSeconds)
        )
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        return configuration
    }

    /// Relays `request` with `body` (nil: none) to the provider of connection
    /// `request.connectionID`, for a key with `connections:proxy`. The call is recorded in the API
    /// call log when its answer has been relayed (or has failed), whatever the outcome, once the
    /// connection is known.
    public func forward<Body: AsyncSequence & Sendable>(
        _ request: PassthroughRequest,
        body: Body?,
        by principal: Principal
    ) async throws -> PassthroughResponse where Body.Element == ByteBuffer {
        let recorder = CallRecorder(request: request, log: log, status: status)
        do {
            return try await forward(request, body: body, by: principal, recorder: recorder)
        } catch {
            recorder.failed(error)
            throw error
        }
    }

    private func forward<Body: AsyncSequence & Sendable>(
        _ request: PassthroughRequest,
        body: Body?,
        by principal: Principal,
        recorder: CallRecorder
    ) async throws -> PassthroughResponse where Body.Element == ByteBuffer {
        if let length = request.contentLength, length > settings.bodyLimit {
            throw PassthroughError.bodyTooLarge(limit: settings.bodyLimit)
        }
        // The caller's path is judged before anything is read.
        _ = try PassthroughTarget.forwardedPath(request.path)
        var credentials = try await connections.proxyCredentials(request.connectionID, by: principal)
        recorder.connection = credentials.connection
        let type = credentials.connection.fields.integrationType
        guard let definition = catalog.definition(type), var api = definition.api else {
            throw PassthroughError.unsupported(integrationType: type)
        }
        if let base = try await overrides.baseURL(type: type, workspace: credentials.connection.workspaceID) {
            api.baseURL = base
        }
        let method = HTTPMethod(rawValue: request.method)
        // A body small enough is read first, so that it can be sent again after a refresh.
        var replayable: ByteBuffer?
        var stream: Body?
        if let body {
            if let length = request.contentLength, length <= PassthroughSettings.replayableBodyLimit {
                replayable = try await Self.collect(body, upTo: Int(PassthroughSettings.replayableBodyLimit))
            } else {
                stream = body
            }
        }
        func send(_ credentials: ProxyCredentials) async throws -> HTTPClientResponse {
            guard let auth = credentials.auth else { throw PassthroughError.noCredentials }
            let target = try PassthroughTarget(
                api: api,
                integrationType: type,
                auth: auth.parsed(),
                path: request.path,
                query: request.query
            )
            var outbound = HTTPClientRequest(url: target.url)
            outbound.method = method
            outbound.headers = PassthroughHeaders.forwarded(request.headers, setting: target.headers)
            if let replayable {
                outbound.body = .bytes(replayable)
            } else if let stream {
                let limited = LimitedBody(base: stream, limit: settings.bodyLimit)
                outbound.body = .stream(limited, length: request.contentLength.map { .known($0) } ?? .unknown)
            }
            let sent = ContinuousClock.now
            defer { recorder.providerTime += ContinuousClock.now - sent }
            do {
                return try await client.execute(outbound, deadline: .now() + .seconds(settings.timeoutSeconds))
            } catch let error as EgressRefusal {
                throw PassthroughError.refused(error)
            } catch let error as PassthroughError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch let error as HTTPClientError
                where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout
            {
                if error == .connectTimeout { throw PassthroughError.unreachable(host: target.host) }
                throw PassthroughError.timedOut(host: target.host, seconds: settings.timeoutSeconds)
            } catch {
                throw PassthroughError.unreachable(host: target.host)
            }
        }

        var response = try await send(credentials)
        if response.status == .unauthorized {
            // The provider refused the token: one forced refresh (a failed one leaves the 401 to
            // be relayed), then the call once more when its body could be kept.
            var renewed: ProxyCredentials?
            var renewalFailed = false
            do { renewed = try await connections.renewRejected(credentials) } catch is CancellationError {
                throw CancellationError()
            } catch {
                // The database or another replica's refresh did not answer in time: the 401 is
                // relayed, and the connection's health is left as it is.
                renewalFailed = true
            }
            if let renewed, stream == nil {
                await Self.discard(response.body)
                credentials = renewed
                response = try await send(renewed)
                if response.status == .unauthorized || response.status == .forbidden {
                    try? await connections.recordProxyHealth(
                        of: credentials.connection,
                        healthy: false,
                        code: String(response.status.code)
                    )
                }
            } else if renewed == nil, !renewalFailed {
                try? await connections.recordProxyHealth(of: credentials.connection, healthy: false, code: "401")
            }
        }
        if (200..<300).contains(response.status.code) {
            try? await connections.recordProxyHealth(of: credentials.connection, healthy: true)
        }
        recorder.status = Int(response.status.code)
        // An answer that has no body by definition is complete now: nothing will read its body.
        if method == .HEAD || [204, 304].contains(response.status.code) { recorder.finished() }
        return PassthroughResponse(
            status: Int(response.status.code),
            headers: PassthroughHeaders.relayed(response.headers),
            body: PassthroughResponseBody(body: response.body, recorder: recorder)
        )
    }

    static func collect<Body: AsyncSequence>(_ body: Body, upTo limit: Int) async throws -> ByteBuffer
    where Body.Element == ByteBuffer {
        var collected = ByteBuffer()
        for try await var chunk in body {
            guard collected.readableBytes + chunk.readableBytes <= limit else {
                throw PassthroughError.bodyTooLarge(limit: Int64(limit))
            }
            collected.writeBuffer(&chunk)
        }
        return collected
    }

    /// Reads and drops a refused answer's body (bounded), so its connection can be reused.
    static func discard(_ body: HTTPClientResponse.Body) async {
        var seen = 0
        do {
            for try await chunk in body {
                seen += chunk.readableBytes
                if seen > 1024 * 1024 { break }
            }
        } catch {}
    }
}

/// A request body that fails once it passes `limit` bytes (a body without Content-Length).
struct LimitedBody<Base: AsyncSequence & Sendable>: AsyncSequence, Sendable where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let limit: Int64

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let limit: Int64
        var seen: Int64 = 0

        mutating func next() async throws -> ByteBuffer? {
            guard let chunk = try await base.next() else { return nil }
            seen += Int64(chunk.readableBytes)
            if seen > limit { throw PassthroughError.bodyTooLarge(limit: limit) }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), limit: limit) }
}

/// The workspaces' own base URLs (`api_base_url` of `PUT /switchboard/integration/{type}`), read
/// at most every `lifetime` per workspace and integration: a change reaches every replica within
/// that time, and a busy proxy does not read the row on every call.
final class BaseURLOverrides: Sendable {
    private struct Key: Hashable {
        let workspace: WorkspaceID
        let type: String
    }

    private let integrations: IntegrationService
    private let cache = Mutex<[Key: (value: String?, until: ContinuousClock.Instant)]>([:])
    let lifetime: Duration
    static let maximumEntries = 10_000

    init(integrations: IntegrationService, lifetime: Duration = .seconds(5)) {
        self.integrations = integrations
        self.lifetime = lifetime
    }

    func baseURL(type: String, workspace: WorkspaceID) async throws -> String? {
        let key = Key(workspace: workspace, type: type)
        let now = ContinuousClock.now
        if let hit = cache.withLock({ $0[key] }), hit.until > now { return hit.value }
        let value = try await integrations.apiBaseURL(type: type, workspace: workspace)
        cache.withLock { cache in
            if cache.count >= Self.maximumEntries { cache.removeAll(keepingCapacity: true) }
            cache[key] = (value, now + lifetime)
        }
        return value
    }
}
