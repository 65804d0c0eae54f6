import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardEgress

/// The HTTP plumbing both clients share.
///
/// The clients do not own an HTTP client: the composition root creates one `EgressClient`
/// (the egress policy every outbound call goes through), passes it to every client, and shuts
/// it down after the last request, so connections are pooled and no client leaks an event loop.
/// Redirects are refused there: a secret is never re-sent to a host it was not addressed to.
public enum SecretsManagerHTTP {
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
        with client: EgressClient,
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
        } catch let refusal as EgressRefusal {
            throw SecretsManagerError.refused(manager: manager, reason: refusal.description)
        } catch {
            throw SecretsManagerError.unreachable(manager: manager)
        }
    }

    /// A JSON object with these members, keys in sorted order (the project's one JSON writer).
    static func object(_ members: [String: JSONValue]) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 256)
        writer.value(.object(members.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) }))
        return writer.bytes
    }

    /// The strings of the answer's `errors` array (Vault's error form), nil when it has none.
    static func errors(in body: [UInt8]) -> [String]? {
        guard case .array(let items)? = (try? JSONParser.parse(body))?["errors"] else { return nil }
        return items.compactMap { if case .string(let text) = $0 { text } else { nil } }
    }

    /// An endpoint without a trailing slash, checked to be `http(s)://host[:port][/path]`: no user
    /// information, query or fragment (a `?` or `#` at its end would move every request's path
    /// into them, reaching any path on the host), and a path of plain characters only.
    static func normalizedEndpoint(_ endpoint: String, manager: String) throws -> String {
        var text = endpoint
        while text.hasSuffix("/") { text.removeLast() }
        let invalid = SecretsManagerConfigurationError(
            "\(manager) endpoint must be an http:// or https:// URL of the form scheme://host[:port][/path], without user information, query or fragment"
        )
        // `?`, `#` and `\` are refused anywhere: a parser that ends the authority at one of them
        // and one that does not would disagree about the host.
        guard !text.contains(where: { $0 == "?" || $0 == "#" || $0 == "\\" }),
            let destination = Destination(text), !destination.hasUserInfo
        else { throw invalid }
        let afterScheme = text.drop { $0 != ":" }.dropFirst(3)
        let path = afterScheme.drop { $0 != "/" }
        guard
            path.utf8.allSatisfy({ b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                    || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_")
                    || b == UInt8(ascii: "~") || b == UInt8(ascii: "/")
            }), !path.contains("//")
        else { throw invalid }
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
