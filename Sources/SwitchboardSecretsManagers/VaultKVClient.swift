import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardEgress

/// HashiCorp Vault (or OpenBao) KV secrets engine, version 2.
///
/// A value is stored as the secret's data `{"value": "<text>"}` when it is valid UTF-8, and as
/// `{"value_base64": "<base64>"}` otherwise. Writes create a new version; delete removes the
/// metadata, so every version goes.
public struct VaultKVClient: SecretsManagerClient {
    public struct Configuration: Sendable, CustomStringConvertible {
        /// e.g. `https://vault.example.com:8200`.
        public var address: String
        public var token: String
        /// Where the KV v2 engine is mounted (`secret` in dev servers).
        public var mount: String
        /// Vault Enterprise / OpenBao namespace, sent as `X-Vault-Namespace`.
        public var namespace: String?
        /// Bounds a whole call, from sending to the last byte of the answer.
        public var requestTimeout: TimeAmount

        public init(
            address: String,
            token: String,
            mount: String = "secret",
            namespace: String? = nil,
            requestTimeout: TimeAmount = .seconds(10)
        ) {
            self.address = address
            self.token = token
            self.mount = mount
            self.namespace = namespace
            self.requestTimeout = requestTimeout
        }

        public var description: String {
            "VaultKVClient.Configuration(address: \(address), token: <redacted>, mount: \(mount), namespace: \(namespace ?? "none"))"
        }
    }

    public let managerName = "vault"
    private let httpClient: EgressClient
    private let configuration: Configuration
    private let address: String
    private let mountPath: String

    /// `httpClient` is owned by the caller, which shuts it down after the last request.
    public init(httpClient: EgressClient, configuration: Configuration) throws {
        self.address = try SecretsManagerHTTP.normalizedEndpoint(configuration.address, manager: "vault")
        guard !configuration.token.isEmpty else {
            throw SecretsManagerConfigurationError("vault token is empty")
        }
        let mount = configuration.mount.split(separator: "/")
        guard !mount.isEmpty, !mount.contains(where: { $0 == "." || $0 == ".." }) else {
            throw SecretsManagerConfigurationError("vault mount must be a path such as secret")
        }
        self.mountPath = mount.map(URLEncoding.percentEncoded).joined(separator: "/")
        self.httpClient = httpClient
        self.configuration = configuration
    }

    // MARK: Operations

    public func put(name: String, value: [UInt8]) async throws {
        try await write(name: name, value: value, createOnly: false)
    }

    /// Check-and-set with version 0: Vault writes only if the secret has no version yet.
    public func create(name: String, value: [UInt8]) async throws {
        try await write(name: name, value: value, createOnly: true)
    }

    private func write(name: String, value: [UInt8], createOnly: Bool) async throws {
        let path = try secretPath(name)
        let data: JSONValue =
            if let text = String(validating: value, as: UTF8.self) {
                .object([("value", .string(text))])
            } else {
                .object([("value_base64", .string(Data(value).base64EncodedString()))])
            }
        var document: [String: JSONValue] = ["data": data]
        if createOnly { document["options"] = .object([("cas", .number("0"))]) }
        let body = SecretsManagerHTTP.object(document)
        let response = try await send(.POST, "/v1/\(mountPath)/data/\(path)", body: body, secret: value)
        if createOnly, Self.isCheckAndSetMismatch(response) {
            throw SecretsManagerError.alreadyExists(manager: managerName)
        }
        guard (200..<300).contains(response.status.code) else { throw rejection(response, secret: value) }
    }

    /// Vault's answer to a check-and-set write whose version did not match: a 400 saying so.
    static func isCheckAndSetMismatch(_ response: SecretsManagerHTTP.Response) -> Bool {
        guard response.status == .badRequest, let errors = SecretsManagerHTTP.errors(in: response.body) else {
            return false
        }
        return errors.contains { $0.contains("check-and-set") }
    }

    public func get(name: String) async throws -> [UInt8]? {
        let path = try secretPath(name)
        let response = try await send(.GET, "/v1/\(mountPath)/data/\(path)")
        // 404 without errors: never written, or its latest version deleted or destroyed.
        if Self.isMissingSecret(response) { return nil }
        guard response.status == .ok else { throw rejection(response, secret: nil) }
        guard case .object(let outer)? = (try? JSONParser.parse(response.body))?["data"] else {
            throw SecretsManagerError.invalidResponse(manager: managerName, reason: "answer has no data object")
        }
        // A secret another tool wrote without our field reads as absent data, not as a crash.
        guard let data = outer.first(where: { $0.key == "data" })?.value, case .object = data else { return nil }
        if case .string(let text)? = data["value"] { return Array(text.utf8) }
        if case .string(let encoded)? = data["value_base64"] {
            guard let bytes = Data(base64Encoded: encoded) else {
                throw SecretsManagerError.invalidResponse(manager: managerName, reason: "value_base64 is not base64")
            }
            return Array(bytes)
        }
        throw SecretsManagerError.invalidResponse(
            manager: managerName,
            reason: "the secret has neither a value nor a value_base64 field"
        )
    }

    public func delete(name: String) async throws {
        let path = try secretPath(name)
        let response = try await send(.DELETE, "/v1/\(mountPath)/metadata/\(path)")
        // Vault answers 204 whether or not there was anything to delete.
        guard (200..<300).contains(response.status.code) || Self.isMissingSecret(response) else {
            throw rejection(response, secret: nil)
        }
    }

    // MARK: Plumbing

    /// Path segments percent-encoded one by one, so `/` keeps separating them and any other
    /// character (unicode included) reaches Vault as it was given.
    private func secretPath(_ name: String) throws -> String {
        guard !name.isEmpty, name.utf8.count <= 4096 else {
            throw SecretsManagerError.invalidName(manager: managerName, reason: "name must be 1 to 4096 bytes")
        }
        let segments = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw SecretsManagerError.invalidName(
                manager: managerName,
                reason: "name must not start or end with /, hold // or a . or .. segment"
            )
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw SecretsManagerError.invalidName(manager: managerName, reason: "name must not hold control characters")
        }
        return segments.map(URLEncoding.percentEncoded).joined(separator: "/")
    }

    private func send(
        _ method: HTTPMethod,
        _ path: String,
        body: [UInt8]? = nil,
        secret: [UInt8]? = nil
    ) async throws -> SecretsManagerHTTP.Response {
        var request = HTTPClientRequest(url: address + path)
        request.method = method
        request.headers.add(name: "X-Vault-Token", value: configuration.token)
        if let namespace = configuration.namespace, !namespace.isEmpty {
            request.headers.add(name: "X-Vault-Namespace", value: namespace)
        }
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(body)
        }
        return try await SecretsManagerHTTP.send(
            request,
            with: httpClient,
            timeout: configuration.requestTimeout,
            manager: managerName
        )
    }

    /// A missing secret is a 404 with an empty `errors` list; a 404 that names an error ("no
    /// handler for route": wrong mount or namespace) is a misconfiguration and must not read as
    /// "no secret".
    static func isMissingSecret(_ response: SecretsManagerHTTP.Response) -> Bool {
        guard response.status == .notFound else { return false }
        guard let object = try? JSONParser.parse(response.body), case .object = object else {
            return response.body.isEmpty
        }
        guard case .array(let errors)? = object["errors"] else { return true }
        return errors.isEmpty
    }

    /// Vault's `errors` strings, shortened, with the token and the value blanked out should the
    /// server ever quote them.
    private func rejection(_ response: SecretsManagerHTTP.Response, secret: [UInt8]?) -> SecretsManagerError {
        var message = "no error text"
        if let errors = SecretsManagerHTTP.errors(in: response.body), !errors.isEmpty {
            message = errors.joined(separator: "; ")
        }
        message = message.replacingOccurrences(of: configuration.token, with: "<redacted>")
        if let secret, let text = String(validating: secret, as: UTF8.self), text.count >= 4 {
            message = message.replacingOccurrences(of: text, with: "<redacted>")
        }
        if message.count > 200 { message = String(message.prefix(200)) + "…" }
        return .rejected(manager: managerName, status: Int(response.status.code), message: message)
    }
}
