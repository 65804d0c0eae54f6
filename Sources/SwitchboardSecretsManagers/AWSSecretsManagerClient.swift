import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardEgress

/// AWS Secrets Manager over its JSON 1.1 API (`POST /` with `X-Amz-Target`), signed with SigV4.
///
/// Values are written as `SecretString` when they are valid UTF-8 (a connection's `auth` JSON is,
/// and it then reads well in the AWS console and to other tools) and as `SecretBinary` otherwise;
/// reads accept either.
public struct AWSSecretsManagerClient: SecretsManagerClient {
    public struct Configuration: Sendable {
        public var region: String
        public var credentials: AWSCredentials
        /// nil: `https://secretsmanager.<region>.amazonaws.com`. Set for moto or a VPC endpoint.
        public var endpoint: String?
        /// Bounds a whole call, from sending to the last byte of the answer.
        public var requestTimeout: TimeAmount

        public init(
            region: String,
            credentials: AWSCredentials,
            endpoint: String? = nil,
            requestTimeout: TimeAmount = .seconds(10)
        ) {
            self.region = region
            self.credentials = credentials
            self.endpoint = endpoint
            self.requestTimeout = requestTimeout
        }
    }

    public let managerName = "aws-secrets-manager"
    private let httpClient: EgressClient
    private let configuration: Configuration
    private let endpoint: String
    private let hostHeader: String
    private let signer: AWSSigV4Signer
    private let now: @Sendable () -> Date

    /// `httpClient` is owned by the caller, which shuts it down after the last request.
    public init(
        httpClient: EgressClient,
        configuration: Configuration,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        guard !configuration.region.isEmpty,
            configuration.region.utf8.allSatisfy({
                $0 == UInt8(ascii: "-") || ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7a)
            })
        else {
            throw SecretsManagerConfigurationError("aws-secrets-manager region must be like us-east-1")
        }
        let endpoint = try SecretsManagerHTTP.normalizedEndpoint(
            configuration.endpoint ?? Self.defaultEndpoint(region: configuration.region),
            manager: "aws-secrets-manager"
        )
        guard let url = URL(string: endpoint), let host = url.host, url.path.isEmpty || url.path == "/" else {
            throw SecretsManagerConfigurationError("aws-secrets-manager endpoint must be a URL without a path")
        }
        self.httpClient = httpClient
        self.configuration = configuration
        self.endpoint = endpoint + "/"
        // The Host header is signed, so it must be exactly what goes on the wire.
        self.hostHeader = url.port.map { "\(host):\($0)" } ?? host
        self.signer = AWSSigV4Signer(
            credentials: configuration.credentials,
            region: configuration.region,
            service: "secretsmanager"
        )
        self.now = now
    }

    static func defaultEndpoint(region: String) -> String { "https://secretsmanager.\(region).amazonaws.com" }

    // MARK: Operations

    public func put(name: String, value: [UInt8]) async throws {
        try validate(name)
        let payload = Self.payload(value)
        // An ARN names a secret that exists already; CreateSecret takes only a plain name.
        if !name.hasPrefix("arn:") {
            do {
                try await createSecret(name: name, payload: payload)
                return
            } catch SecretsManagerError.alreadyExists {}
        }
        var update = payload
        update["SecretId"] = .string(name)
        update["ClientRequestToken"] = .string(UUID().uuidString)
        let answer = try await call("PutSecretValue", update)
        if answer.isSuccess { return }
        if answer.errorType == "ResourceNotFoundException" { throw SecretsManagerError.notFound(manager: managerName) }
        throw rejection(answer)
    }

    public func create(name: String, value: [UInt8]) async throws {
        try validate(name)
        guard !name.hasPrefix("arn:") else {
            // An ARN can only name a secret that exists.
            throw SecretsManagerError.alreadyExists(manager: managerName)
        }
        try await createSecret(name: name, payload: Self.payload(value))
    }

    private func createSecret(name: String, payload: [String: JSONValue]) async throws {
        var create = payload
        create["Name"] = .string(name)
        create["ClientRequestToken"] = .string(UUID().uuidString)
        let answer = try await call("CreateSecret", create)
        if answer.isSuccess { return }
        if answer.errorType == "ResourceExistsException" {
            throw SecretsManagerError.alreadyExists(manager: managerName)
        }
        throw rejection(answer)
    }

    /// `SecretString` for UTF-8, `SecretBinary` otherwise.
    private static func payload(_ value: [UInt8]) -> [String: JSONValue] {
        if let text = String(validating: value, as: UTF8.self) { return ["SecretString": .string(text)] }
        return ["SecretBinary": .string(Data(value).base64EncodedString())]
    }

    public func get(name: String) async throws -> [UInt8]? {
        try validate(name)
        let answer = try await call("GetSecretValue", ["SecretId": .string(name)])
        if answer.errorType == "ResourceNotFoundException" { return nil }
        guard answer.isSuccess else { throw rejection(answer) }
        guard let decoded = try? JSONParser.parse(answer.body), case .object = decoded else {
            throw SecretsManagerError.invalidResponse(
                manager: managerName,
                reason: "GetSecretValue answer is not its JSON"
            )
        }
        if case .string(let text)? = decoded["SecretString"] { return Array(text.utf8) }
        if case .string(let binary)? = decoded["SecretBinary"] {
            guard let bytes = Data(base64Encoded: binary) else {
                throw SecretsManagerError.invalidResponse(manager: managerName, reason: "SecretBinary is not base64")
            }
            return Array(bytes)
        }
        throw SecretsManagerError.invalidResponse(manager: managerName, reason: "GetSecretValue returned no value")
    }

    public func delete(name: String) async throws {
        try validate(name)
        let answer = try await call(
            "DeleteSecret",
            ["SecretId": .string(name), "ForceDeleteWithoutRecovery": .bool(true)]
        )
        if answer.isSuccess || answer.errorType == "ResourceNotFoundException" { return }
        throw rejection(answer)
    }

    // MARK: Plumbing

    struct Answer {
        var status: HTTPResponseStatus
        var body: [UInt8]
        /// The AWS error code (`__type` or `x-amzn-ErrorType`, without its namespace), on errors.
        var errorType: String?

        var isSuccess: Bool { (200..<300).contains(status.code) }
    }

    private func call(_ operation: String, _ body: [String: JSONValue]) async throws -> Answer {
        let payload = SecretsManagerHTTP.object(body)
        let unsigned = AWSSigV4Signer.Request(
            method: "POST",
            path: "/",
            headers: [
                (name: "Host", value: hostHeader),
                (name: "Content-Type", value: "application/x-amz-json-1.1"),
                (name: "X-Amz-Target", value: "secretsmanager.\(operation)"),
            ],
            body: payload
        )
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        for (name, value) in signer.sign(unsigned, date: now()) {
            request.headers.add(name: name, value: value)
        }
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(payload)
        let response = try await SecretsManagerHTTP.send(
            request,
            with: httpClient,
            timeout: configuration.requestTimeout,
            manager: managerName
        )
        var answer = Answer(status: response.status, body: response.body, errorType: nil)
        if !answer.isSuccess {
            answer.errorType = Self.errorType(headers: response.headers, body: response.body)
        }
        return answer
    }

    /// AWS names the error in `x-amzn-ErrorType` and/or the body's `__type`, either possibly
    /// namespaced ("com.amazonaws.secretsmanager#ResourceNotFoundException") or suffixed (":http://...").
    static func errorType(headers: HTTPHeaders, body: [UInt8]) -> String? {
        var raw = headers.first(name: "x-amzn-ErrorType")
        if raw == nil, case .string(let type)? = (try? JSONParser.parse(body))?["__type"] {
            raw = type
        }
        guard var type = raw else { return nil }
        if let colon = type.firstIndex(of: ":") { type = String(type[..<colon]) }
        if let hash = type.lastIndex(of: "#") { type = String(type[type.index(after: hash)...]) }
        return type
    }

    /// Only AWS's error code and the HTTP status are kept: AWS messages can quote request fields.
    private func rejection(_ answer: Answer) -> SecretsManagerError {
        .rejected(manager: managerName, status: Int(answer.status.code), message: answer.errorType ?? "no error code")
    }

    /// Names: 1–512 of `A–Z a–z 0–9 / _ + = . @ -` (AWS's rule), or an ARN of this service.
    private func validate(_ name: String) throws {
        guard !name.isEmpty, name.utf8.count <= 2048 else {
            throw SecretsManagerError.invalidName(manager: managerName, reason: "name must be 1 to 512 characters")
        }
        if name.hasPrefix("arn:") {
            guard name.contains(":secretsmanager:"),
                name.utf8.allSatisfy({ Self.nameBytes.contains($0) || $0 == UInt8(ascii: ":") })
            else {
                throw SecretsManagerError.invalidName(manager: managerName, reason: "not a Secrets Manager ARN")
            }
            return
        }
        guard name.utf8.count <= 512 else {
            throw SecretsManagerError.invalidName(manager: managerName, reason: "name must be 1 to 512 characters")
        }
        guard name.utf8.allSatisfy({ Self.nameBytes.contains($0) }) else {
            throw SecretsManagerError.invalidName(
                manager: managerName,
                reason: "name may hold only letters, digits and / _ + = . @ -"
            )
        }
    }

    private static let nameBytes: Set<UInt8> = Set(
        Array(UInt8(ascii: "A")...UInt8(ascii: "Z")) + Array(UInt8(ascii: "a")...UInt8(ascii: "z"))
            + Array(UInt8(ascii: "0")...UInt8(ascii: "9")) + Array("/_+=.@-".utf8)
    )
}
