import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import SwitchboardCore

/// The HTTP plumbing both clients share.
///
/// The clients do not own an `HTTPClient`: the composition root creates one (with
/// `clientConfiguration()`), passes it to every client, and shuts it down after the last
/// request, so connections are pooled across managers and no client leaks an event loop.
public enum SecretsManagerHTTP {
    /// An `HTTPClient` configuration with redirects refused (a secret is never re-sent to a host
    /// it was not addressed to) and bounded timeouts. async-http-client retries a refused
    /// connection until `connectTimeout`, so that is how long a dead manager takes to report.
    /// `readTimeout` bounds a stall between two reads; each client's `requestTimeout` bounds a call.
    public static func clientConfiguration(
        connectTimeout: TimeAmount = .seconds(3),
        readTimeout: TimeAmount = .seconds(10)
    ) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: connectTimeout, read: readTimeout)
        )
        configuration.connectionPool = .init(idleTimeout: .seconds(30))
        return configuration
    }

    /// Largest answer read: a secret is at most 64 KiB in AWS; Vault wraps it in a little JSON.
    static let maximumResponseBytes = 1 << 20

    struct Response {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    /// Sends `request` and reads the whole answer within `timeout`. Every transport failure
    /// (refused, reset, DNS, TLS, timeout) becomes `.unreachable`: the caller learns which manager,
    /// not the driver's text, which may carry the URL with credentials in it.
    static func send(
        _ request: HTTPClientRequest,
        with client: HTTPClient,
        timeout: TimeAmount,
        manager: String
    ) async throws -> Response {
        let deadline = NIODeadline.now() + timeout
        do {
            let response = try await client.execute(request, deadline: deadline)
            let body = try await response.body.collect(upTo: maximumResponseBytes)
            return Response(status: response.status, headers: response.headers, body: Array(buffer: body))
        } catch is CancellationError {
            throw CancellationError()
        } catch is NIOTooManyBytesError {
            throw SecretsManagerError.invalidResponse(manager: manager, reason: "answer larger than 1 MiB")
        } catch {
            throw SecretsManagerError.unreachable(manager: manager)
        }
    }

    /// Percent-encodes one path segment (RFC 3986 unreserved characters stay as they are); also
    /// SigV4's URI encoding.
    static func encodePathSegment(_ segment: Substring) -> String {
        var out = ""
        for byte in segment.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += hex.count == 1 ? "%0\(hex)" : "%\(hex)"
            }
        }
        return out
    }

    /// An endpoint without a trailing slash, checked to be an http(s) URL with a host.
    static func normalizedEndpoint(_ endpoint: String, manager: String) throws -> String {
        var text = endpoint
        while text.hasSuffix("/") { text.removeLast() }
        guard text.hasPrefix("http://") || text.hasPrefix("https://"), text.split(separator: "/").count >= 2 else {
            throw SecretsManagerConfigurationError("\(manager) endpoint must be an http:// or https:// URL")
        }
        return text
    }
}

/// A client was configured wrongly (thrown when it is created, never by a request).
public struct SecretsManagerConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
