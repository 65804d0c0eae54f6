import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardEgress

/// Azure Key Vault secrets, through its REST API with an access token from Microsoft Entra ID
/// (the OAuth 2 client-credentials grant for the Key Vault scope), cached until shortly before it
/// expires and fetched again when the vault refuses it.
///
/// A value is stored as the secret's text when it is valid UTF-8, and base64-encoded with the
/// content type `application/octet-stream;base64` otherwise. Writes make a new version; delete
/// removes the secret and then purges it, so the name can be used again at once. With purge
/// protection on (or without the purge permission) the secret stays soft-deleted until the
/// vault's retention period ends, and a new secret of that name is refused meanwhile.
public struct AzureKeyVaultClient: SecretsManagerClient {
    public struct Configuration: Sendable, CustomStringConvertible {
        /// `https://NAME.vault.azure.net`.
        public var vaultURL: String
        public var tenantID: String
        public var clientID: String
        public var clientSecret: String
        /// Microsoft Entra's authority; sovereign clouds (and tests) set their own.
        public var authorityHost: String
        public var apiVersion: String
        /// Bounds a whole call, from sending to the last byte of the answer.
        public var requestTimeout: TimeAmount

        public static let publicCloudAuthority = "https://login.microsoftonline.com"

        public init(
            vaultURL: String,
            tenantID: String,
            clientID: String,
            clientSecret: String,
            authorityHost: String = publicCloudAuthority,
            apiVersion: String = "7.4",
            requestTimeout: TimeAmount = .seconds(10)
        ) {
            self.vaultURL = vaultURL
            self.tenantID = tenantID
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.authorityHost = authorityHost
            self.apiVersion = apiVersion
            self.requestTimeout = requestTimeout
        }

        public var description: String {
            "AzureKeyVaultClient.Configuration(vaultURL: \(vaultURL), tenantID: \(tenantID), clientID: \(clientID), clientSecret: <redacted>, authorityHost: \(authorityHost))"
        }
    }

    public let managerName = "azure-key-vault"
    /// The scope of the Key Vault data plane, in every Azure cloud's public form.
    static let scope = "https://vault.azure.net/.default"
    static let binaryContentType = "application/octet-stream;base64"

    private let httpClient: EgressClient
    private let configuration: Configuration
    private let vault: String
    private let tokenURL: String
    private let tokens: AccessTokenCache
    private let tokenKey: String

    /// `httpClient` is owned by the caller, which shuts it down after the last request; `tokens`
    /// is shared by every client the caller makes.
    public init(httpClient: EgressClient, configuration: Configuration, tokens: AccessTokenCache) throws {
        self.vault = try SecretsManagerHTTP.normalizedEndpoint(configuration.vaultURL, manager: "azure vault_url")
        let authority = try SecretsManagerHTTP.normalizedEndpoint(
            configuration.authorityHost,
            manager: "azure authority_host"
        )
        // A tenant is a GUID or a domain name; either way, one plain path segment.
        guard Self.isPlainSegment(configuration.tenantID, allowing: "-.") else {
            throw SecretsManagerConfigurationError("azure tenant_id must be a tenant GUID or domain name")
        }
        guard Self.isPlainSegment(configuration.clientID, allowing: "-") else {
            throw SecretsManagerConfigurationError("azure client_id must be an application (client) GUID")
        }
        guard !configuration.clientSecret.isEmpty else {
            throw SecretsManagerConfigurationError("azure client_secret is empty")
        }
        self.tokenURL = "\(authority)/\(configuration.tenantID)/oauth2/v2.0/token"
        self.httpClient = httpClient
        self.configuration = configuration
        self.tokens = tokens
        self.tokenKey = AccessTokenCache.key("azure", tokenURL, configuration.clientID, configuration.clientSecret)
    }

    static func isPlainSegment(_ text: String, allowing extra: String) -> Bool {
        !text.isEmpty && text.count <= 256
            && text.unicodeScalars.allSatisfy {
                ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
                    || extra.unicodeScalars.contains($0)
            }
    }

    // MARK: Operations

    public func put(name: String, value: [UInt8]) async throws {
        let response = try await send(.PUT, "/secrets/\(try secretName(name))", body: body(value))
        guard response.status == .ok else { throw rejection(response, secret: value) }
    }

    /// Key Vault has no create-if-absent: the name is read first, and a secret there (live, or
    /// deleted but not yet purged) is `alreadyExists`.
    public func create(name: String, value: [UInt8]) async throws {
        let path = "/secrets/\(try secretName(name))"
        let existing = try await send(.GET, path + "/")
        guard Self.isMissing(existing) else {
            guard
                existing.status == .ok || existing.status == .forbidden && Self.innerCode(existing) == "SecretDisabled"
            else { throw rejection(existing, secret: nil) }
            throw SecretsManagerError.alreadyExists(manager: managerName)
        }
        let response = try await send(.PUT, path, body: body(value))
        if response.status == .conflict { throw SecretsManagerError.alreadyExists(manager: managerName) }
        guard response.status == .ok else { throw rejection(response, secret: value) }
    }

    public func get(name: String) async throws -> [UInt8]? {
        let response = try await send(.GET, "/secrets/\(try secretName(name))/")
        if Self.isMissing(response) { return nil }
        guard response.status == .ok else { throw rejection(response, secret: nil) }
        guard let bundle = try? JSONParser.parse(response.body), case .string(let text)? = bundle["value"] else {
            throw SecretsManagerError.invalidResponse(manager: managerName, reason: "the secret bundle has no value")
        }
        guard case .string(Self.binaryContentType)? = bundle["contentType"] else { return Array(text.utf8) }
        guard let bytes = Data(base64Encoded: text) else {
            throw SecretsManagerError.invalidResponse(manager: managerName, reason: "a base64 value is not base64")
        }
        return Array(bytes)
    }

    /// Deletes, then purges. A purge the vault refuses (purge protection, or no purge permission)
    /// leaves the secret soft-deleted, which is still a successful delete; one it cannot do yet
    /// (the delete is still in progress, a 409) is retried for a few seconds.
    public func delete(name: String) async throws {
        let name = try secretName(name)
        let response = try await send(.DELETE, "/secrets/\(name)")
        guard response.status == .ok || Self.isMissing(response) else { throw rejection(response, secret: nil) }
        for attempt in 0..<5 {
            let purge = try await send(.DELETE, "/deletedsecrets/\(name)")
            switch purge.status.code {
            case 200, 204, 404, 403: return
            case 409 where attempt < 4: try await Task.sleep(for: .milliseconds(500 * (attempt + 1)))
            case 409: return
            default: throw rejection(purge, secret: nil)
            }
        }
    }

    // MARK: Plumbing

    /// A bare name (`[0-9a-zA-Z-]`, at most 127), or a secret identifier of this vault
    /// (`https://NAME.vault.azure.net/secrets/NAME[/VERSION]`, as `auth_azure_keyvault_id` may hold).
    func secretName(_ name: String) throws -> String {
        var bare = name
        if name.hasPrefix("https://") || name.hasPrefix("http://") {
            guard name.hasPrefix(vault + "/secrets/") else {
                throw SecretsManagerError.invalidName(
                    manager: managerName,
                    reason: "a secret identifier must be a secret of this manager's vault (\(vault)/secrets/NAME)"
                )
            }
            let rest = name.dropFirst(vault.count + "/secrets/".count).split(separator: "/")
            guard (1...2).contains(rest.count) else {
                throw SecretsManagerError.invalidName(manager: managerName, reason: "not a secret identifier")
            }
            bare = String(rest[0])
        }
        guard (1...127).contains(bare.utf8.count),
            bare.utf8.allSatisfy({
                ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D
            })
        else {
            throw SecretsManagerError.invalidName(
                manager: managerName,
                reason: "a Key Vault secret name holds 1 to 127 letters, digits and hyphens"
            )
        }
        return bare
    }

    private func body(_ value: [UInt8]) -> [UInt8] {
        if let text = String(validating: value, as: UTF8.self) {
            return SecretsManagerHTTP.object(["value": .string(text)])
        }
        return SecretsManagerHTTP.object([
            "value": .string(Data(value).base64EncodedString()), "contentType": .string(Self.binaryContentType),
        ])
    }

    /// One call with the cached token (a new one after a 401, once).
    private func send(
        _ method: HTTPMethod,
        _ path: String,
        body: [UInt8]? = nil
    ) async throws -> SecretsManagerHTTP.Response {
        try await SecretsManagerHTTP.sendWithBearer(
            method,
            "\(vault)\(path)?api-version=\(configuration.apiVersion)",
            body: body,
            tokens: tokens,
            key: tokenKey,
            fetch: {
                try await SecretsManagerHTTP.fetchToken(
                    url: tokenURL,
                    form: [
                        ("grant_type", "client_credentials"), ("client_id", configuration.clientID),
                        ("client_secret", configuration.clientSecret), ("scope", Self.scope),
                    ],
                    with: httpClient,
                    timeout: configuration.requestTimeout,
                    manager: managerName,
                    secrets: [configuration.clientSecret]
                )
            },
            with: httpClient,
            timeout: configuration.requestTimeout,
            manager: managerName
        )
    }

    /// A 404 naming the secret (`SecretNotFound`), not a wrong path or vault.
    static func isMissing(_ response: SecretsManagerHTTP.Response) -> Bool {
        guard response.status == .notFound,
            case .string(let code)? = (try? JSONParser.parse(response.body))?["error"]?["code"]
        else { return false }
        return code == "SecretNotFound"
    }

    static func innerCode(_ response: SecretsManagerHTTP.Response) -> String? {
        guard case .string(let code)? = (try? JSONParser.parse(response.body))?["error"]?["innererror"]?["code"] else {
            return nil
        }
        return code
    }

    /// The vault's `error.code` and `error.message`, shortened, with the value blanked out should
    /// the service ever quote it.
    private func rejection(_ response: SecretsManagerHTTP.Response, secret: [UInt8]?) -> SecretsManagerError {
        var message = "no error text"
        if let error = (try? JSONParser.parse(response.body))?["error"] {
            let code = if case .string(let code)? = error["code"] { code } else { "" }
            let text = if case .string(let text)? = error["message"] { text } else { "" }
            message = [code, text].filter { !$0.isEmpty }.joined(separator: ": ")
        }
        if let secret, let text = String(validating: secret, as: UTF8.self), text.count >= 4 {
            message = message.replacingOccurrences(of: text, with: "<redacted>")
        }
        if message.count > 200 { message = String(message.prefix(200)) + "…" }
        return .rejected(manager: managerName, status: Int(response.status.code), message: message)
    }
}
