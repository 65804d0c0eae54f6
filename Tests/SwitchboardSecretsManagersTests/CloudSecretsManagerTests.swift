import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardEgress
import Testing
import _CryptoExtras

@testable import SwitchboardSecretsManagers

/// A service-account key file with a new RSA key (its `token_uri` as given).
func serviceAccountJSON(
    tokenURI: String,
    email: String = "switchboard@project.iam.gserviceaccount.com"
) throws
    -> String
{
    let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
    var writer = JSONWriter()
    writer.value(
        .object([
            ("type", .string("service_account")), ("project_id", .string("project")),
            ("private_key_id", .string("0123456789abcdef")), ("private_key", .string(key.pemRepresentation)),
            ("client_email", .string(email)), ("client_id", .string("1")), ("token_uri", .string(tokenURI)),
        ])
    )
    return String(decoding: writer.bytes, as: UTF8.self)
}

/// The Azure Key Vault and Google Secret Manager clients against their loopback fakes: the
/// access token is fetched once and reused, fetched again when the service refuses it or it
/// expires, and each kind of refusal reaches the caller as the same `SecretsManagerError` the
/// AWS and Vault clients give.
@Suite("Azure and Google secrets managers")
struct CloudSecretsManagerTests {
    static let cloud = TestManager.enabled.filter { !$0.namesArePaths }

    /// The fake's base URL (its `/_fake/` controls).
    static func fakeURL(_ manager: TestManager) throws -> String {
        try TestManager.required(manager == .azure ? "SWITCHBOARD_TEST_AZURE_URL" : "SWITCHBOARD_TEST_GCP_URL")
    }

    /// Posts a control request to the fake.
    static func control(_ manager: TestManager, _ path: String, _ body: String = "{}") async throws {
        var request = HTTPClientRequest(url: try fakeURL(manager) + "/_fake/" + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        #expect(response.status == .ok, "/_fake/\(path)")
    }

    /// The path of a secret in the fake's API, for failures aimed at it alone.
    static func apiPath(_ manager: TestManager, _ name: String) throws -> String {
        manager == .azure
            ? "/secrets/\(name)"
            : "/v1/projects/\(try TestManager.required("SWITCHBOARD_TEST_GCP_PROJECT"))/secrets/\(name)"
    }

    @Test(arguments: cloud)
    func theTokenIsFetchedOnceAndAgainWhenRefusedOrExpired(_ manager: TestManager) async throws {
        try await withHTTPClient { httpClient in
            let tokens = AccessTokenCache()
            let client = try manager.makeClient(httpClient: httpClient, tokens: tokens)
            let name = manager.uniqueName("token")
            try await client.put(name: name, value: Array("one".utf8))
            #expect(try await client.get(name: name) == Array("one".utf8))
            try await client.put(name: name, value: Array("two".utf8))
            // Another client of the same credential (a request later) shares the token.
            let second = try manager.makeClient(httpClient: httpClient, tokens: tokens)
            #expect(try await second.get(name: name) == Array("two".utf8))
            #expect(tokens.fetches == 1)

            // Refused by the service (revoked, say): the call fetches a new token and is sent once
            // more. (The 401 is aimed at this secret's path alone: the fake is shared with other
            // tests running at the same time, which a global revocation would disturb.)
            let path = try Self.apiPath(manager, name)
            try await Self.control(manager, "fail", #"{"status": 401, "times": 1, "path_prefix": "\#(path)"}"#)
            #expect(try await client.get(name: name) == Array("two".utf8))
            #expect(tokens.fetches == 2)
            // Refused twice in a row: the caller gets the 401 (no loop).
            try await Self.control(manager, "fail", #"{"status": 401, "times": 2, "path_prefix": "\#(path)"}"#)
            await #expect(throws: SecretsManagerError.self) { _ = try await client.get(name: name) }
            #expect(tokens.fetches == 3)

            // A short-lived token is renewed before it expires (here: halfway through 2 s).
            try await Self.control(manager, "config", #"{"token_lifetime": 2}"#)
            try await Self.control(manager, "fail", #"{"status": 401, "times": 1, "path_prefix": "\#(path)"}"#)
            #expect(try await client.get(name: name) == Array("two".utf8))
            #expect(tokens.fetches == 4)
            try await Task.sleep(for: .milliseconds(1200))
            #expect(try await client.get(name: name) == Array("two".utf8))
            #expect(tokens.fetches == 5)
            try await Self.control(manager, "config", #"{"token_lifetime": 3600}"#)
            try await client.delete(name: name)
        }
    }

    /// Throttling, server errors and permission refusals are `rejected` with the status and the
    /// service's error code; nothing of the value is in the message.
    @Test(arguments: cloud)
    func refusalsAreRejectedWithTheServicesCode(_ manager: TestManager) async throws {
        try await withHTTPClient { httpClient in
            let client = try manager.makeClient(httpClient: httpClient)
            let name = manager.uniqueName("refused")
            let value = Array(#"{"access_token":"leak-canary-value-3f0a"}"#.utf8)
            try await client.put(name: name, value: value)
            for status in [429, 500, 503, 403] {
                try await Self.control(
                    manager,
                    "fail",
                    #"{"status": \#(status), "times": 1, "retry_after": 7, "path_prefix": "\#(try Self.apiPath(manager, name))"}"#
                )
                do {
                    _ = try await client.get(name: name)
                    Issue.record("\(manager): an injected \(status) was not reported")
                } catch let error as SecretsManagerError {
                    guard case .rejected(let reported, let code, let message) = error else {
                        Issue.record("\(manager): \(status) gave \(error)")
                        continue
                    }
                    #expect(reported == client.managerName)
                    #expect(code == status)
                    #expect(!message.isEmpty && !message.contains("leak-canary"))
                }
            }
            #expect(try await client.get(name: name) == value)
            try await client.delete(name: name)
        }
    }

    @Test(arguments: cloud)
    func badCredentialsAreRejectedAtTheTokenEndpoint(_ manager: TestManager) async throws {
        try await withHTTPClient { httpClient in
            let client: any SecretsManagerClient =
                switch manager {
                case .azure:
                    try AzureKeyVaultClient(
                        httpClient: httpClient,
                        configuration: try TestManager.azureConfiguration(clientSecret: "leak-canary-wrong-secret"),
                        tokens: AccessTokenCache()
                    )
                default:
                    // The fake's token URI and account, signed with another key.
                    try GCPSecretManagerClient(
                        httpClient: httpClient,
                        configuration: try TestManager.gcpConfiguration(
                            keyJSON: try serviceAccountJSON(
                                tokenURI: try TestManager.required("SWITCHBOARD_TEST_GCP_URL") + "/token",
                                email: try TestManager.gcpConfiguration().serviceAccount.clientEmail
                            )
                        ),
                        tokens: AccessTokenCache()
                    )
                }
            do {
                _ = try await client.get(name: manager.uniqueName("x"))
                Issue.record("\(manager): bad credentials were accepted")
            } catch let error as SecretsManagerError {
                guard case .rejected(_, let status, let message) = error else {
                    Issue.record("\(manager): \(error)")
                    return
                }
                #expect(status == (manager == .azure ? 401 : 400))
                #expect(
                    message.hasPrefix(
                        manager == .azure ? "token endpoint: invalid_client" : "token endpoint: invalid_grant"
                    )
                )
                #expect(!error.description.contains("leak-canary"))
            }
        }
    }

    /// `create` never overwrites: a live secret, or (Azure) one deleted but not purged, is
    /// `alreadyExists`.
    @Test(arguments: cloud)
    func createRefusesAnExistingName(_ manager: TestManager) async throws {
        try await withHTTPClient { httpClient in
            let client = try manager.makeClient(httpClient: httpClient)
            let name = manager.uniqueName("create")
            try await client.create(name: name, value: Array("first".utf8))
            await #expect(throws: SecretsManagerError.alreadyExists(manager: client.managerName)) {
                try await client.create(name: name, value: Array("second".utf8))
            }
            #expect(try await client.get(name: name) == Array("first".utf8))
            try await client.delete(name: name)
            // Deleted and purged: the name is free again.
            try await client.create(name: name, value: Array("third".utf8))
            #expect(try await client.get(name: name) == Array("third".utf8))
            try await client.delete(name: name)
        }
    }

    /// Purge protection (or no purge permission): the purge is refused, the delete still
    /// succeeds, the secret reads as gone, and its name stays taken until the vault purges it.
    @Test(.enabled(if: TestManager.enabled.contains(.azure)))
    func azureDeleteWithoutPurgeLeavesTheNameTaken() async throws {
        try await withHTTPClient { httpClient in
            let client = try TestManager.azure.makeClient(httpClient: httpClient)
            let name = TestManager.azure.uniqueName("protected")
            try await client.create(name: name, value: Array("v".utf8))
            try await Self.control(
                .azure,
                "fail",
                #"{"status": 403, "times": 1, "method": "DELETE", "path_prefix": "/deletedsecrets/\#(name)"}"#
            )
            try await client.delete(name: name)
            #expect(try await client.get(name: name) == nil)
            await #expect(throws: SecretsManagerError.alreadyExists(manager: client.managerName)) {
                try await client.create(name: name, value: Array("w".utf8))
            }
        }
    }

    @Test(arguments: cloud)
    func namesOfAnotherVaultOrProjectAreRefused(_ manager: TestManager) async throws {
        try await withHTTPClient { httpClient in
            let client = try manager.makeClient(httpClient: httpClient)
            let foreign =
                manager == .azure
                ? ["https://other.vault.azure.net/secrets/x", "under_score", String(repeating: "a", count: 128)]
                : [
                    "projects/other-project/secrets/x", "projects/p/keys/x", "dot.name",
                    String(repeating: "a", count: 256),
                ]
            for name in foreign {
                await #expect(throws: SecretsManagerError.self, "\(name)") {
                    try await client.put(name: name, value: [1])
                }
            }
            // The forms `auth_azure_keyvault_id` and `auth_gcp_secret_name` hold name the same secret.
            let bare = manager.uniqueName("qualified")
            let qualified =
                manager == .azure
                ? try TestManager.required("SWITCHBOARD_TEST_AZURE_URL") + "/secrets/" + bare
                : "projects/\(try TestManager.required("SWITCHBOARD_TEST_GCP_PROJECT"))/secrets/\(bare)"
            try await client.put(name: qualified, value: Array("q".utf8))
            #expect(try await client.get(name: bare) == Array("q".utf8))
            try await client.delete(name: qualified)
            #expect(try await client.get(name: bare) == nil)
        }
    }

    @Test func cloudConfigurationsNeverPrintTheirSecrets() throws {
        let azure = AzureKeyVaultClient.Configuration(
            vaultURL: "https://v.vault.azure.net",
            tenantID: "t",
            clientID: "c",
            clientSecret: "leak-canary-secret"
        )
        #expect(!azure.description.contains("leak-canary"))
        let json = try serviceAccountJSON(tokenURI: "https://oauth2.googleapis.com/token")
        let gcp = GCPSecretManagerClient.Configuration(projectID: "p", serviceAccount: try .init(json: json))
        #expect(!gcp.description.contains("PRIVATE KEY"))
        #expect(throws: SecretsManagerConfigurationError.self) {
            try GCPSecretManagerClient.ServiceAccount(json: #"{"type":"service_account"}"#)
        }
        #expect(throws: SecretsManagerConfigurationError.self) {
            try GCPSecretManagerClient.ServiceAccount(json: json.replacingOccurrences(of: "BEGIN", with: "BEGUN"))
        }
    }
}
