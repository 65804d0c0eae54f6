import AsyncHTTPClient
import Foundation
import NIOCore
import SwitchboardCore
import SwitchboardEgress
import SwitchboardSecretsManagers
import Testing

/// The secrets managers the suite runs against, found through the environment that
/// scripts/secrets-up.sh prints:
///
/// - `SWITCHBOARD_TEST_MOTO_URL`: moto_server (AWS Secrets Manager);
/// - `SWITCHBOARD_TEST_VAULT_URL` with `SWITCHBOARD_TEST_VAULT_TOKEN` or
///   `SWITCHBOARD_TEST_VAULT_TOKEN_FILE`: a Vault or OpenBao server with KV v2 at `secret/`;
/// - `SWITCHBOARD_TEST_AZURE_URL`, `_TENANT`, `_CLIENT_ID`, `_CLIENT_SECRET_FILE`: the Azure Key
///   Vault and Entra fake (e2e/secrets-managers, proven against Microsoft's Python clients);
/// - `SWITCHBOARD_TEST_GCP_URL`, `_PROJECT`, `_KEY_FILE`: the Google Secret Manager fake (proven
///   against Google's Python client).
///
/// A manager that is not configured is left out, unless `SWITCHBOARD_TEST_REQUIRE_SECRETS=1`
/// (CI sets it): then its tests run and fail, naming what is missing.
enum TestManager: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case aws
    case vault
    case azure
    case gcp

    var testDescription: String { rawValue }

    struct NotConfigured: Error, CustomStringConvertible {
        var description: String
    }

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    static var isRequired: Bool { environment["SWITCHBOARD_TEST_REQUIRE_SECRETS"] == "1" }

    /// The managers whose tests run: configured ones, or all when they are required.
    static var enabled: [TestManager] {
        allCases.filter { isRequired || $0.isConfigured }
    }

    var isConfigured: Bool {
        switch self {
        case .aws: Self.value("SWITCHBOARD_TEST_MOTO_URL") != nil
        case .vault: Self.value("SWITCHBOARD_TEST_VAULT_URL") != nil && (try? Self.vaultToken()) != nil
        case .azure: Self.value("SWITCHBOARD_TEST_AZURE_URL") != nil
        case .gcp: Self.value("SWITCHBOARD_TEST_GCP_URL") != nil
        }
    }

    static func value(_ name: String) -> String? {
        let value = environment[name] ?? ""
        return value.isEmpty ? nil : value
    }

    static func vaultToken() throws -> String {
        if let token = value("SWITCHBOARD_TEST_VAULT_TOKEN") { return token }
        guard let file = value("SWITCHBOARD_TEST_VAULT_TOKEN_FILE") else {
            throw NotConfigured(
                description: "SWITCHBOARD_TEST_VAULT_TOKEN(_FILE) is not set (run scripts/secrets-up.sh)"
            )
        }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw NotConfigured(description: "SWITCHBOARD_TEST_VAULT_TOKEN_FILE cannot be read")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// moto accepts any credentials; these are AWS's documented example keys.
    static let awsCredentials = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    )

    /// A required variable, or a failure naming it.
    static func required(_ name: String) throws -> String {
        guard let value = value(name) else {
            throw NotConfigured(description: "\(name) is not set (run scripts/secrets-up.sh)")
        }
        return value
    }

    /// The content of the file a required variable names, trimmed.
    static func file(_ name: String) throws -> String {
        guard let text = try? String(contentsOfFile: try required(name), encoding: .utf8) else {
            throw NotConfigured(description: "\(name) cannot be read")
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func azureConfiguration(clientSecret: String? = nil) throws -> AzureKeyVaultClient.Configuration {
        let url = try required("SWITCHBOARD_TEST_AZURE_URL")
        return AzureKeyVaultClient.Configuration(
            vaultURL: url,
            tenantID: try required("SWITCHBOARD_TEST_AZURE_TENANT"),
            clientID: try required("SWITCHBOARD_TEST_AZURE_CLIENT_ID"),
            clientSecret: try clientSecret ?? file("SWITCHBOARD_TEST_AZURE_CLIENT_SECRET_FILE"),
            authorityHost: url
        )
    }

    static func gcpConfiguration(keyJSON: String? = nil) throws -> GCPSecretManagerClient.Configuration {
        GCPSecretManagerClient.Configuration(
            projectID: try required("SWITCHBOARD_TEST_GCP_PROJECT"),
            serviceAccount: try .init(json: try keyJSON ?? file("SWITCHBOARD_TEST_GCP_KEY_FILE")),
            endpoint: try required("SWITCHBOARD_TEST_GCP_URL")
        )
    }

    /// True where names are paths (`a/b/c`); Azure and Google names are single tokens.
    var namesArePaths: Bool { self == .aws || self == .vault }

    /// A name no other test (or earlier run against the same server) uses, in the form this
    /// manager accepts.
    func uniqueName(_ label: String) -> String {
        child(
            namesArePaths
                ? "switchboard-e2e/\(UUID().uuidString.lowercased())" : "e2e-\(UUID().uuidString.lowercased())",
            label
        )
    }

    /// `label` under `base`: a path segment, or a hyphenated suffix where names are single tokens.
    func child(_ base: String, _ label: String) -> String {
        if namesArePaths { return "\(base)/\(label)" }
        return base + "-" + String(label.map { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII ? $0 : "-" })
    }

    func makeClient(
        httpClient: EgressClient,
        tokens: AccessTokenCache = AccessTokenCache()
    ) throws
        -> any SecretsManagerClient
    {
        switch self {
        case .aws:
            guard let url = Self.value("SWITCHBOARD_TEST_MOTO_URL") else {
                throw NotConfigured(description: "SWITCHBOARD_TEST_MOTO_URL is not set (run scripts/secrets-up.sh)")
            }
            return try AWSSecretsManagerClient(
                httpClient: httpClient,
                configuration: .init(region: "us-east-1", credentials: Self.awsCredentials, endpoint: url)
            )
        case .vault:
            guard let url = Self.value("SWITCHBOARD_TEST_VAULT_URL") else {
                throw NotConfigured(description: "SWITCHBOARD_TEST_VAULT_URL is not set (run scripts/secrets-up.sh)")
            }
            return try VaultKVClient(
                httpClient: httpClient,
                configuration: .init(address: url, token: Self.vaultToken())
            )
        case .azure:
            return try AzureKeyVaultClient(
                httpClient: httpClient,
                configuration: Self.azureConfiguration(),
                tokens: tokens
            )
        case .gcp:
            return try GCPSecretManagerClient(
                httpClient: httpClient,
                configuration: Self.gcpConfiguration(),
                tokens: tokens
            )
        }
    }

    /// A client of `manager` on a shared `HTTPClient` that is shut down afterwards, as the
    /// composition root does.
    func withClient<T>(_ body: (any SecretsManagerClient) async throws -> T) async throws -> T {
        try await withHTTPClient { httpClient in
            try await body(try makeClient(httpClient: httpClient))
        }
    }
}

/// Runs `body` with an `HTTPClient` and shuts it down whatever happens.
func withHTTPClient<T>(
    connectTimeout: TimeAmount = .seconds(3),
    _ body: (EgressClient) async throws -> T
) async throws -> T {
    // Loopback peers (moto, OpenBao, fakes) are internal addresses: the tests allow them.
    let httpClient = EgressClient(
        policy: EgressPolicy(allowed: [.network(IPNetwork(address: .v4(0x7F00_0000), bits: 8))]),
        configuration: EgressClient.defaultConfiguration(connectTimeout: connectTimeout)
    )
    do {
        let result = try await body(httpClient)
        try await httpClient.shutdown()
        return result
    } catch {
        try? await httpClient.shutdown()
        throw error
    }
}

/// A name no other test (or earlier run against the same server) uses, for path-named managers.
func uniqueName(_ label: String) -> String {
    TestManager.aws.uniqueName(label)
}
