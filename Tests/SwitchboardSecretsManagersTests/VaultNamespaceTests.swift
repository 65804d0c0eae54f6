import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardEgress
import SwitchboardSecretsManagers
import Testing

/// Vault namespaces and mounts other than `secret/`, on a namespace and KV v2 mount this test
/// creates through Vault's own API (OpenBao supports namespaces).
@Suite("Vault namespaces and mounts")
struct VaultNamespaceTests {
    @Test(.enabled(if: TestManager.enabled.contains(.vault)))
    func namespaceAndMountAreHonouredAndAWrongMountIsNotAMissingSecret() async throws {
        let address = try #require(
            TestManager.value("SWITCHBOARD_TEST_VAULT_URL"),
            "SWITCHBOARD_TEST_VAULT_URL is not set (run scripts/secrets-up.sh)"
        )
        let token = try TestManager.vaultToken()
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let namespace = "switchboard-\(suffix)"
        let mount = "kv-\(suffix)"
        try await withHTTPClient { httpClient in
            func admin(_ path: String, namespace: String?, body: String) async throws {
                var request = HTTPClientRequest(url: address + path)
                request.method = .POST
                request.headers.add(name: "X-Vault-Token", value: token)
                if let namespace { request.headers.add(name: "X-Vault-Namespace", value: namespace) }
                request.body = .bytes(Array(body.utf8))
                let response = try await httpClient.execute(request, deadline: .now() + .seconds(10))
                #expect((200..<300).contains(response.status.code), "\(path): \(response.status)")
            }
            try await admin("/v1/sys/namespaces/\(namespace)", namespace: nil, body: "{}")
            try await admin(
                "/v1/sys/mounts/\(mount)",
                namespace: namespace,
                body: #"{"type":"kv","options":{"version":"2"}}"#
            )

            let inNamespace = try VaultKVClient(
                httpClient: httpClient,
                configuration: .init(address: address, token: token, mount: mount, namespace: namespace)
            )
            let name = uniqueName("conn_1")
            try await inNamespace.put(name: name, value: Array("in namespace".utf8))
            #expect(try await inNamespace.get(name: name) == Array("in namespace".utf8))

            // The same mount name outside the namespace does not exist: an error, not "no secret".
            let outside = try VaultKVClient(
                httpClient: httpClient,
                configuration: .init(address: address, token: token, mount: mount)
            )
            for call in [
                { _ = try await outside.get(name: name) },
                { try await outside.delete(name: name) },
                { try await outside.put(name: name, value: [1]) },
            ] as [() async throws -> Void] {
                do {
                    try await call()
                    Issue.record("a missing mount was taken for a missing secret")
                } catch SecretsManagerError.rejected(manager: "vault", status: 404, _) {
                    // Named as the manager's refusal.
                }
            }

            try await inNamespace.delete(name: name)
            #expect(try await inNamespace.get(name: name) == nil)
        }
    }
}
