import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardEgress
import Synchronization

/// Access tokens of the cloud managers (Azure, Google), kept until shortly before they expire and
/// shared by every client the factory makes (a client is made per request). Entries are keyed by
/// a hash of what identifies the credential, so no secret is kept as a key.
public final class AccessTokenCache: Sendable {
    struct Entry {
        var token: String
        var refreshAt: ContinuousClock.Instant
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let fetchCount = Atomic<Int>(0)
    /// Credentials cached at most; past it, expired entries go first, then arbitrary ones.
    static let capacity = 1024

    public init() {}

    /// The cached token for `key`, or a new one from `fetch` (which also says how long it lives).
    func token(key: String, fetch: () async throws -> (token: String, lifetime: Duration)) async throws -> String {
        let now = ContinuousClock.now
        if let entry = entries.withLock({ $0[key] }), entry.refreshAt > now { return entry.token }
        let (token, lifetime) = try await fetch()
        fetchCount.add(1, ordering: .relaxed)
        // Renewed a minute before it expires, or halfway through a shorter life.
        let margin = min(Duration.seconds(60), lifetime / 2)
        entries.withLock { entries in
            if entries.count >= Self.capacity {
                entries = entries.filter { $0.value.refreshAt > now }
                if entries.count >= Self.capacity, let any = entries.keys.first { entries[any] = nil }
            }
            entries[key] = Entry(token: token, refreshAt: now + lifetime - margin)
        }
        return token
    }

    /// How many tokens were fetched (for tests: that they are reused).
    var fetches: Int { fetchCount.load(ordering: .relaxed) }

    /// Forgets `token` (the manager refused it), unless another caller already replaced it.
    func invalidate(key: String, token: String) {
        entries.withLock { if $0[key]?.token == token { $0[key] = nil } }
    }

    static func key(_ parts: String...) -> String {
        SHA256.hash(data: Data(parts.joined(separator: "\u{0}").utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

extension SecretsManagerHTTP {
    /// An OAuth 2 token request (`application/x-www-form-urlencoded`), its access token and
    /// lifetime read from the answer. A refusal names the endpoint's `error` code (and the start
    /// of its description, with `secrets` blanked out should it quote one).
    static func fetchToken(
        url: String,
        form: [(String, String)],
        with client: EgressClient,
        timeout: TimeAmount,
        manager: String,
        secrets: [String]
    ) async throws -> (token: String, lifetime: Duration) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: FormEncoding.encoded(form)))
        let response = try await send(request, with: client, timeout: timeout, manager: manager)
        let document = try? JSONParser.parse(response.body)
        guard response.status == .ok else {
            var message = "token endpoint"
            if case .string(let code)? = document?["error"] { message += ": \(code)" }
            if case .string(let description)? = document?["error_description"] {
                message += ": \(description.prefix(160))"
            }
            for secret in secrets where secret.count >= 4 {
                message = message.replacingOccurrences(of: secret, with: "<redacted>")
            }
            throw SecretsManagerError.rejected(manager: manager, status: Int(response.status.code), message: message)
        }
        guard case .string(let token)? = document?["access_token"], !token.isEmpty else {
            throw SecretsManagerError.invalidResponse(manager: manager, reason: "the token answer has no access_token")
        }
        var seconds: Int64 = 300
        switch document?["expires_in"] {
        case .number(let lexeme)?: seconds = Int64(lexeme) ?? Int64(Double(lexeme) ?? 300)
        case .string(let text)?: seconds = Int64(text) ?? 300
        default: break
        }
        return (token, .seconds(max(seconds, 1)))
    }
}

extension SecretsManagerHTTP {
    /// Sends `method url` (a JSON `body`, if any) with the cached access token as its bearer
    /// (`fetch` gets a new one); if the service refuses the token (401: expired early, revoked),
    /// forgets it and sends once more with a new one. A second refusal is the caller's answer.
    static func sendWithBearer(
        _ method: HTTPMethod,
        _ url: String,
        body: [UInt8]?,
        tokens: AccessTokenCache,
        key: String,
        fetch: () async throws -> (token: String, lifetime: Duration),
        with client: EgressClient,
        timeout: TimeAmount,
        manager: String
    ) async throws -> Response {
        func make(_ bearer: String) -> HTTPClientRequest {
            var request = HTTPClientRequest(url: url)
            request.method = method
            request.headers.add(name: "Authorization", value: "Bearer \(bearer)")
            request.headers.add(name: "Accept", value: "application/json")
            if let body {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(body)
            }
            return request
        }
        let bearer = try await tokens.token(key: key, fetch: fetch)
        let response = try await send(make(bearer), with: client, timeout: timeout, manager: manager)
        guard response.status == .unauthorized else { return response }
        tokens.invalidate(key: key, token: bearer)
        let renewed = try await tokens.token(key: key, fetch: fetch)
        return try await send(make(renewed), with: client, timeout: timeout, manager: manager)
    }
}
