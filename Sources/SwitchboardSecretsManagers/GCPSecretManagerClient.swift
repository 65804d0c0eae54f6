import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardEgress
import _CryptoExtras

/// Google Cloud Secret Manager (REST API v1), with an access token from the service account's
/// signed-JWT grant (RS256, to the `token_uri` of its key file), cached until shortly before it
/// expires and fetched again when the API refuses it.
///
/// A secret is created with automatic replication; each write adds a version (with its CRC32C,
/// which the service checks) and reads take the latest (whose CRC32C is checked here). Delete
/// removes the secret with every version.
public struct GCPSecretManagerClient: SecretsManagerClient {
    /// The fields of a service-account key file (the JSON Google issues) a client needs.
    public struct ServiceAccount: Sendable {
        public var clientEmail: String
        public var privateKeyID: String
        public var tokenURI: String
        let privateKey: _RSA.Signing.PrivateKey

        /// Reads a key file's JSON; an error names the field at fault, never the key.
        public init(json: String) throws {
            guard let document = try? JSONParser.parse(Array(json.utf8)), case .object = document else {
                throw SecretsManagerConfigurationError("gcp service_account_json is not a JSON object")
            }
            func field(_ name: String) throws -> String {
                guard case .string(let value)? = document[name], !value.isEmpty else {
                    throw SecretsManagerConfigurationError("gcp service_account_json has no \(name)")
                }
                return value
            }
            guard try field("type") == "service_account" else {
                throw SecretsManagerConfigurationError(
                    "gcp service_account_json must be a service account key (type service_account)"
                )
            }
            clientEmail = try field("client_email")
            privateKeyID = try field("private_key_id")
            tokenURI = try field("token_uri")
            do { privateKey = try _RSA.Signing.PrivateKey(pemRepresentation: try field("private_key")) } catch let error
                as SecretsManagerConfigurationError
            {
                throw error
            } catch {
                throw SecretsManagerConfigurationError(
                    "gcp service_account_json's private_key is not an RSA key in PEM form"
                )
            }
        }

        /// The assertion of the JWT-bearer grant (RFC 7523), valid for an hour from `now`.
        func assertion(scope: String, now: Date) throws -> String {
            let issued = Int64(now.timeIntervalSince1970)
            let header = SecretsManagerHTTP.object([
                "alg": .string("RS256"), "typ": .string("JWT"), "kid": .string(privateKeyID),
            ])
            let claims = SecretsManagerHTTP.object([
                "iss": .string(clientEmail), "scope": .string(scope), "aud": .string(tokenURI),
                "iat": .number(String(issued)), "exp": .number(String(issued + 3600)),
            ])
            let signingInput = Self.base64URL(header) + "." + Self.base64URL(claims)
            let signature = try privateKey.signature(for: Array(signingInput.utf8), padding: .insecurePKCS1v1_5)
            return signingInput + "." + Self.base64URL(Array(signature.rawRepresentation))
        }

        static func base64URL(_ bytes: [UInt8]) -> String {
            Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
    }

    public struct Configuration: Sendable, CustomStringConvertible {
        public var projectID: String
        public var serviceAccount: ServiceAccount
        public var endpoint: String
        /// Bounds a whole call, from sending to the last byte of the answer.
        public var requestTimeout: TimeAmount

        public static let publicEndpoint = "https://secretmanager.googleapis.com"

        public init(
            projectID: String,
            serviceAccount: ServiceAccount,
            endpoint: String = publicEndpoint,
            requestTimeout: TimeAmount = .seconds(10)
        ) {
            self.projectID = projectID
            self.serviceAccount = serviceAccount
            self.endpoint = endpoint
            self.requestTimeout = requestTimeout
        }

        public var description: String {
            "GCPSecretManagerClient.Configuration(projectID: \(projectID), serviceAccount: \(serviceAccount.clientEmail), privateKey: <redacted>, endpoint: \(endpoint))"
        }
    }

    public let managerName = "gcp-secret-manager"
    static let scope = "https://www.googleapis.com/auth/cloud-platform"

    private let httpClient: EgressClient
    private let configuration: Configuration
    private let endpoint: String
    private let tokenURL: String
    private let tokens: AccessTokenCache
    private let tokenKey: String

    /// `httpClient` is owned by the caller, which shuts it down after the last request; `tokens`
    /// is shared by every client the caller makes.
    public init(httpClient: EgressClient, configuration: Configuration, tokens: AccessTokenCache) throws {
        self.endpoint = try SecretsManagerHTTP.normalizedEndpoint(configuration.endpoint, manager: "gcp endpoint")
        self.tokenURL = try SecretsManagerHTTP.normalizedEndpoint(
            configuration.serviceAccount.tokenURI,
            manager: "gcp service_account_json's token_uri"
        )
        // Project ids: 6 to 30 lowercase letters, digits and hyphens (a project number is digits).
        let project = configuration.projectID
        guard (1...64).contains(project.utf8.count),
            project.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D })
        else { throw SecretsManagerConfigurationError("gcp project_id must be a project id such as my-project-123") }
        self.httpClient = httpClient
        self.configuration = configuration
        self.tokens = tokens
        let account = configuration.serviceAccount
        self.tokenKey = AccessTokenCache.key("gcp", tokenURL, account.clientEmail, account.privateKeyID)
    }

    // MARK: Operations

    public func put(name: String, value: [UInt8]) async throws {
        let secret = try secretPath(name)
        let added = try await addVersion(secret, value)
        if Self.status(added) == "NOT_FOUND" {
            try await create(name: name, value: value)
            return
        }
        guard added.status == .ok else { throw rejection(added) }
    }

    /// Creates the secret (automatic replication), then adds its first version; a secret of that
    /// name is `alreadyExists`. If the version cannot be added, the new empty secret is removed.
    public func create(name: String, value: [UInt8]) async throws {
        let secret = try secretPath(name)
        let id = String(secret.split(separator: "/").last!)
        let created = try await send(
            .POST,
            "/v1/projects/\(configuration.projectID)/secrets?secretId=\(id)",
            body: SecretsManagerHTTP.object(["replication": .object([("automatic", .object([]))])])
        )
        if created.status == .conflict { throw SecretsManagerError.alreadyExists(manager: managerName) }
        guard created.status == .ok else { throw rejection(created) }
        do {
            let added = try await addVersion(secret, value)
            guard added.status == .ok else { throw rejection(added) }
        } catch {
            _ = try? await send(.DELETE, "/v1/\(secret)")
            throw error
        }
    }

    public func get(name: String) async throws -> [UInt8]? {
        let response = try await send(.GET, "/v1/\(try secretPath(name))/versions/latest:access")
        if Self.status(response) == "NOT_FOUND" { return nil }
        guard response.status == .ok else { throw rejection(response) }
        guard let payload = (try? JSONParser.parse(response.body))?["payload"], case .object = payload else {
            throw SecretsManagerError.invalidResponse(manager: managerName, reason: "the answer has no payload")
        }
        // An empty payload has no `data` member at all.
        var bytes: [UInt8] = []
        if case .string(let encoded)? = payload["data"] {
            guard let data = Data(base64Encoded: encoded) else {
                throw SecretsManagerError.invalidResponse(manager: managerName, reason: "the payload is not base64")
            }
            bytes = Array(data)
        }
        if case .string(let text)? = payload["dataCrc32c"], UInt32(text) != CRC32C.checksum(bytes) {
            throw SecretsManagerError.invalidResponse(
                manager: managerName,
                reason: "the payload's CRC32C does not match"
            )
        }
        return bytes
    }

    public func delete(name: String) async throws {
        let response = try await send(.DELETE, "/v1/\(try secretPath(name))")
        guard response.status == .ok || Self.status(response) == "NOT_FOUND" else { throw rejection(response) }
    }

    // MARK: Plumbing

    private func addVersion(_ secret: String, _ value: [UInt8]) async throws -> SecretsManagerHTTP.Response {
        let payload: [(key: String, value: JSONValue)] = [
            ("data", .string(Data(value).base64EncodedString())),
            ("dataCrc32c", .string(String(CRC32C.checksum(value)))),
        ]
        return try await send(
            .POST,
            "/v1/\(secret):addVersion",
            body: SecretsManagerHTTP.object(["payload": .object(payload)])
        )
    }

    /// `projects/P/secrets/S` for a bare secret id `S` (`[a-zA-Z0-9_-]`, at most 255) or a
    /// resource name of this manager's project (as `auth_gcp_secret_name` may hold).
    func secretPath(_ name: String) throws -> String {
        var id = name
        if name.hasPrefix("projects/") {
            let parts = name.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 4, parts[2] == "secrets" else {
                throw SecretsManagerError.invalidName(
                    manager: managerName,
                    reason: "a resource name is projects/P/secrets/S"
                )
            }
            guard parts[1] == configuration.projectID else {
                throw SecretsManagerError.invalidName(
                    manager: managerName,
                    reason:
                        "the name is in project \(parts[1].prefix(64)), not this manager's \(configuration.projectID)"
                )
            }
            id = String(parts[3])
        }
        guard (1...255).contains(id.utf8.count),
            id.utf8.allSatisfy({
                ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D || $0 == 0x5F
            })
        else {
            throw SecretsManagerError.invalidName(
                manager: managerName,
                reason: "a Secret Manager secret id holds 1 to 255 letters, digits, hyphens and underscores"
            )
        }
        return "projects/\(configuration.projectID)/secrets/\(id)"
    }

    /// One call with the cached token (a new one after a 401, once).
    private func send(
        _ method: HTTPMethod,
        _ path: String,
        body: [UInt8]? = nil
    ) async throws
        -> SecretsManagerHTTP.Response
    {
        let account = configuration.serviceAccount
        return try await SecretsManagerHTTP.sendWithBearer(
            method,
            endpoint + path,
            body: body,
            tokens: tokens,
            key: tokenKey,
            fetch: {
                let assertion: String
                do { assertion = try account.assertion(scope: Self.scope, now: Date()) } catch {
                    throw SecretsManagerError.invalidResponse(
                        manager: managerName,
                        reason: "the service account key cannot sign"
                    )
                }
                return try await SecretsManagerHTTP.fetchToken(
                    url: tokenURL,
                    form: [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion)],
                    with: httpClient,
                    timeout: configuration.requestTimeout,
                    manager: managerName,
                    secrets: []
                )
            },
            with: httpClient,
            timeout: configuration.requestTimeout,
            manager: managerName
        )
    }

    /// Google's `error.status` (`NOT_FOUND`, `ALREADY_EXISTS`...), if the answer is an error.
    static func status(_ response: SecretsManagerHTTP.Response) -> String? {
        guard case .string(let status)? = (try? JSONParser.parse(response.body))?["error"]?["status"] else {
            return nil
        }
        return status
    }

    /// `error.status` and `error.message`, shortened (a payload is never quoted by the service,
    /// and this client never puts one in a URL).
    private func rejection(_ response: SecretsManagerHTTP.Response) -> SecretsManagerError {
        var message = "no error text"
        if let error = (try? JSONParser.parse(response.body))?["error"] {
            let status = if case .string(let status)? = error["status"] { status } else { "" }
            let text = if case .string(let text)? = error["message"] { text } else { "" }
            message = [status, text].filter { !$0.isEmpty }.joined(separator: ": ")
        }
        if message.count > 200 { message = String(message.prefix(200)) + "…" }
        return .rejected(manager: managerName, status: Int(response.status.code), message: message)
    }
}

/// CRC-32C (Castagnoli), the checksum Secret Manager keeps with each payload.
enum CRC32C {
    static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
