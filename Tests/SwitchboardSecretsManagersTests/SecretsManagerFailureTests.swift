import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SwitchboardCore
import SwitchboardEgress
import Testing

@testable import SwitchboardSecretsManagers

/// What callers see when a manager is down, silent or refuses them, and that no secret leaks
/// into the error.
@Suite("Secrets manager failures")
struct SecretsManagerFailureTests {
    static let value = Array(#"{"access_token":"leak-canary-value-91c2"}"#.utf8)

    /// A loopback port nothing listens on: bound once to get a free number, then closed.
    static func closedPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        try await channel.close()
        return port
    }

    static func clients(
        address: String,
        httpClient: EgressClient,
        requestTimeout: TimeAmount = .seconds(10)
    ) throws
        -> [any SecretsManagerClient]
    {
        [
            try AWSSecretsManagerClient(
                httpClient: httpClient,
                configuration: .init(
                    region: "us-east-1",
                    credentials: TestManager.awsCredentials,
                    endpoint: address,
                    requestTimeout: requestTimeout
                )
            ),
            try VaultKVClient(
                httpClient: httpClient,
                configuration: .init(address: address, token: "leak-canary-token-77ab", requestTimeout: requestTimeout)
            ),
            try AzureKeyVaultClient(
                httpClient: httpClient,
                configuration: .init(
                    vaultURL: address,
                    tenantID: "tenant",
                    clientID: "client",
                    clientSecret: "leak-canary-secret-5d1e",
                    authorityHost: address,
                    requestTimeout: requestTimeout
                ),
                tokens: AccessTokenCache()
            ),
            try GCPSecretManagerClient(
                httpClient: httpClient,
                configuration: .init(
                    projectID: "project",
                    serviceAccount: try .init(json: try serviceAccountJSON(tokenURI: address + "/token")),
                    endpoint: address,
                    requestTimeout: requestTimeout
                ),
                tokens: AccessTokenCache()
            ),
        ]
    }

    static func expectUnreachable(_ client: any SecretsManagerClient, _ call: () async throws -> Void) async {
        do {
            try await call()
            Issue.record("\(client.managerName): the call succeeded against a dead endpoint")
        } catch let error as SecretsManagerError {
            #expect(error == .unreachable(manager: client.managerName))
            #expect(error.description.contains(client.managerName))
            #expect(!error.description.contains("leak-canary"))
        } catch {
            Issue.record("\(client.managerName): expected SecretsManagerError.unreachable, got \(type(of: error))")
        }
    }

    /// async-http-client retries a refused connection until the connect timeout, so that bounds
    /// how long a call to a dead manager takes, well before the request deadline.
    @Test func closedPortIsUnreachableWithinTheConnectTimeout() async throws {
        let port = try await Self.closedPort()
        try await withHTTPClient(connectTimeout: .milliseconds(500)) { httpClient in
            for client in try Self.clients(
                address: "http://127.0.0.1:\(port)",
                httpClient: httpClient,
                requestTimeout: .seconds(20)
            ) {
                let started = ContinuousClock.now
                await Self.expectUnreachable(client) { try await client.put(name: "conn-1", value: Self.value) }
                await Self.expectUnreachable(client) { _ = try await client.get(name: "conn-1") }
                await Self.expectUnreachable(client) { try await client.delete(name: "conn-1") }
                #expect(
                    ContinuousClock.now - started < .seconds(10),
                    "\(client.managerName) waited past its connect timeout"
                )
            }
        }
    }

    /// A server that accepts the connection and never answers: the request timeout ends the call.
    @Test func silentServerTimesOutAsUnreachable() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { _ in MultiThreadedEventLoopGroup.singleton.any().makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        defer { server.close(promise: nil) }
        try await withHTTPClient { httpClient in
            for client in try Self.clients(
                address: "http://127.0.0.1:\(port)",
                httpClient: httpClient,
                requestTimeout: .milliseconds(500)
            ) {
                let started = ContinuousClock.now
                await Self.expectUnreachable(client) { _ = try await client.get(name: "conn-1") }
                #expect(ContinuousClock.now - started < .seconds(5), "\(client.managerName) waited past its deadline")
            }
        }
    }

    @Test(.enabled(if: TestManager.enabled.contains(.vault)))
    func vaultWithABadTokenIsRejected() async throws {
        let address = try #require(
            TestManager.value("SWITCHBOARD_TEST_VAULT_URL"),
            "SWITCHBOARD_TEST_VAULT_URL is not set (run scripts/secrets-up.sh)"
        )
        try await withHTTPClient { httpClient in
            let client = try VaultKVClient(
                httpClient: httpClient,
                configuration: .init(address: address, token: "leak-canary-token-77ab")
            )
            for call in [
                { try await client.put(name: uniqueName("conn-1"), value: Self.value) },
                { _ = try await client.get(name: uniqueName("conn-1")) },
                { try await client.delete(name: uniqueName("conn-1")) },
            ] as [() async throws -> Void] {
                do {
                    try await call()
                    Issue.record("a bad token was accepted")
                } catch let error as SecretsManagerError {
                    guard case .rejected(manager: "vault", status: 403, _) = error else {
                        Issue.record("expected .rejected(vault, 403), got \(error)")
                        continue
                    }
                    #expect(!error.description.contains("leak-canary"))
                }
            }
        }
    }

    /// Writing through an ARN needs the secret to exist (CreateSecret takes no ARN).
    @Test(.enabled(if: TestManager.enabled.contains(.aws)))
    func awsPutThroughAnUnknownARNIsNotFound() async throws {
        try await TestManager.aws.withClient { client in
            let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:switchboard-missing-AbCdEf"
            await #expect(throws: SecretsManagerError.notFound(manager: "aws-secrets-manager")) {
                try await client.put(name: arn, value: Self.value)
            }
            #expect(try await client.get(name: arn) == nil)
            try await client.delete(name: arn)
        }
    }

    @Test(
        arguments: [
            (
                [("x-amzn-ErrorType", "ResourceNotFoundException:http://internal.amazon.com/")], "",
                "ResourceNotFoundException"
            ),
            (
                [], #"{"__type":"com.amazonaws.secretsmanager#ResourceExistsException","message":"m"}"#,
                "ResourceExistsException"
            ),
            (
                [], #"{"__type":"UnrecognizedClientException","message":"The security token is invalid"}"#,
                "UnrecognizedClientException"
            ),
            ([], "<html>bad gateway</html>", nil),
        ] as [([(String, String)], String, String?)]
    )
    func awsErrorCodesAreReadFromHeaderOrBody(_ headers: [(String, String)], _ body: String, _ expected: String?) {
        #expect(AWSSecretsManagerClient.errorType(headers: HTTPHeaders(headers), body: Array(body.utf8)) == expected)
    }

    @Test func misconfigurationIsRefusedAtCreation() async throws {
        try await withHTTPClient { httpClient in
            #expect(throws: SecretsManagerConfigurationError.self) {
                try VaultKVClient(httpClient: httpClient, configuration: .init(address: "127.0.0.1:8200", token: "t"))
            }
            #expect(throws: SecretsManagerConfigurationError.self) {
                try VaultKVClient(
                    httpClient: httpClient,
                    configuration: .init(address: "http://127.0.0.1:8200", token: "")
                )
            }
            #expect(throws: SecretsManagerConfigurationError.self) {
                try AWSSecretsManagerClient(
                    httpClient: httpClient,
                    configuration: .init(region: "US East", credentials: TestManager.awsCredentials)
                )
            }
            // A `?` or `#` would move every request path into the query or fragment (any path on
            // the host); user information and odd path characters are refused the same way.
            for address in [
                "http://127.0.0.1:8200/v1/sys/raw?", "http://127.0.0.1:8200#", "http://user:pw@127.0.0.1:8200",
                "http://127.0.0.1:8200/a b", "http://127.0.0.1:8200\\@evil", "ftp://127.0.0.1", "http://",
                "http://127.0.0.1:8200/%2e%2e/",
            ] {
                #expect(throws: SecretsManagerConfigurationError.self, "\(address)") {
                    try VaultKVClient(httpClient: httpClient, configuration: .init(address: address, token: "t"))
                }
                #expect(throws: SecretsManagerConfigurationError.self, "\(address)") {
                    try AWSSecretsManagerClient(
                        httpClient: httpClient,
                        configuration: .init(
                            region: "us-east-1",
                            credentials: TestManager.awsCredentials,
                            endpoint: address
                        )
                    )
                }
            }
        }
    }

    @Test func vaultConfigurationNeverPrintsItsToken() {
        let configuration = VaultKVClient.Configuration(
            address: "http://127.0.0.1:8200",
            token: "leak-canary-token-77ab"
        )
        #expect(!"\(configuration)".contains("leak-canary"))
    }
}
