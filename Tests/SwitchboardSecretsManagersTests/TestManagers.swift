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
///   `SWITCHBOARD_TEST_VAULT_TOKEN_FILE`: a Vault or OpenBao server with KV v2 at `secret/`.
///
/// A manager that is not configured is left out, unless `SWITCHBOARD_TEST_REQUIRE_SECRETS=1`
/// (CI sets it): then its tests run and fail, naming what is missing.
enum TestManager: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case aws
    case vault

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

    func makeClient(httpClient: EgressClient) throws -> any SecretsManagerClient {
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

/// A name no other test (or earlier run against the same server) uses.
func uniqueName(_ label: String) -> String {
    "switchboard-e2e/\(UUID().uuidString.lowercased())/\(label)"
}
