import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardEgress

/// Token-endpoint requests over HTTP (RFC 6749 §4.1.3, §6), classified for the refresher:
/// an OAuth error answer is `.rejected`, while no answer, a 5xx or a 429 is `.unavailable` with
/// the provider's `Retry-After`. Error texts never carry the request (it holds secrets).
///
/// It uses the composition root's shared `HTTPClient`, which refuses redirects: client secrets
/// and refresh tokens go only to the host named in the catalog.
public struct HTTPOAuthTokenClient: OAuthTokenClient {
    private let httpClient: EgressClient
    /// Bounds one request; shorter than the refresh lease so a lease never lapses mid-call.
    private let timeout: TimeAmount

    public init(httpClient: EgressClient, timeout: TimeAmount = .seconds(10)) {
        self.httpClient = httpClient
        self.timeout = timeout
    }

    static let maximumResponseBytes = 256 << 10

    public func requestToken(_ request: TokenRequest) async throws -> TokenResponse {
        var parameters = request.parameters
        var http = HTTPClientRequest(url: request.tokenURL)
        http.method = .POST
        http.headers.add(name: "Accept", value: "application/json")
        http.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        switch request.clientAuthentication {
        case .clientSecretBasic:
            // RFC 6749 §2.3.1: each part form-encoded before joining.
            let pair =
                "\(URLEncoding.percentEncoded(request.clientID)):\(URLEncoding.percentEncoded(request.clientSecret))"
            http.headers.add(name: "Authorization", value: "Basic \(Data(pair.utf8).base64EncodedString())")
        case .clientSecretPost:
            parameters.append(("client_id", request.clientID))
            parameters.append(("client_secret", request.clientSecret))
        }
        http.body = .bytes(ByteBuffer(string: FormEncoding.encoded(parameters)))

        let status: Int
        let headers: HTTPHeaders
        let bytes: [UInt8]
        do {
            let response = try await httpClient.execute(http, deadline: .now() + timeout)
            status = Int(response.status.code)
            headers = response.headers
            bytes = Array(buffer: try await response.body.collect(upTo: Self.maximumResponseBytes))
        } catch is CancellationError {
            throw CancellationError()
        } catch is NIOTooManyBytesError {
            throw TokenEndpointError.invalidResponse(status: 200, reason: "answer larger than 256 KiB")
        } catch let refusal as EgressRefusal {
            throw TokenEndpointError.notConfigured(refusal.description)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw TokenEndpointError.unavailable(status: nil, retryAfter: nil, reason: "timed out")
        } catch {
            throw TokenEndpointError.unavailable(status: nil, retryAfter: nil, reason: "connection failed")
        }
        return try Self.interpret(status: status, retryAfter: headers.first(name: "Retry-After"), body: bytes)
    }

    /// Classifies one answer of a token endpoint.
    static func interpret(status: Int, retryAfter: String?, body: [UInt8]) throws -> TokenResponse {
        if status == 429 || status >= 500 {
            throw TokenEndpointError.unavailable(
                status: status,
                retryAfter: retryAfter.flatMap { RetryAfter.seconds($0) },
                reason: ""
            )
        }
        let json = try? JSONParser.parse(body)
        if (200..<300).contains(status) {
            guard case .string(let accessToken)? = json?["access_token"], !accessToken.isEmpty else {
                throw TokenEndpointError.invalidResponse(status: status, reason: "no access_token in the answer")
            }
            return TokenResponse(
                accessToken: accessToken,
                refreshToken: json?["refresh_token"].flatMap(Self.string).flatMap { $0.isEmpty ? nil : $0 },
                expiresIn: json?["expires_in"].flatMap(Self.integer),
                tokenType: json?["token_type"].flatMap(Self.string),
                scope: json?["scope"].flatMap(Self.string),
                refreshTokenExpiresIn: json?["refresh_token_expires_in"].flatMap(Self.integer),
                otherStrings: Self.otherStrings(json)
            )
        }
        if case .string(let error)? = json?["error"], !error.isEmpty {
            throw TokenEndpointError.rejected(status: status, error: String(error.prefix(64)))
        }
        throw TokenEndpointError.invalidResponse(status: status, reason: "not an OAuth answer")
    }

    /// The answer's other string members, each at most 2,048 characters.
    static func otherStrings(_ json: JSONValue?) -> [String: String] {
        guard case .object(let members)? = json else { return [:] }
        let known: Set<String> = ["access_token", "refresh_token", "token_type", "scope", "id_token"]
        var strings: [String: String] = [:]
        for (key, value) in members where !known.contains(key) {
            if case .string(let text) = value, text.utf8.count <= 2048 { strings[key] = text }
        }
        return strings
    }

    private static func string(_ value: JSONValue) -> String? {
        if case .string(let text) = value { return text }
        return nil
    }

    /// Numbers, and numbers sent as strings (some providers do).
    private static func integer(_ value: JSONValue) -> Int64? {
        switch value {
        case .number(let lexeme): Double(lexeme).map { Int64($0) }
        case .string(let text): Int64(text)
        default: nil
        }
    }
}
