import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwitchboardCore
import SwitchboardTestSupport
import Testing

@testable import SwitchboardServer

@Suite struct SecretsAtRestTests {
    @Test func theDatabaseFilesHoldNoPlaintextCredentialOrAPIKey() async throws {
        try await withApp { api in
            let token = "plaintext-access-token-4f1c9a"
            let refresh = "plaintext-refresh-token-77ab02"
            let created = try await api.create(
                connectionBody(
                    extra:
                        #""auth":{"access_token":"\#(token)","refresh_token":"\#(refresh)","meta":{"note":"\#(token)"}}"#
                )
            )
            let id = try #require(created["id"] as? String)
            try await api.send(.patch, "/unified/connection/\(id)", body: #"{"auth":{"access_token":"\#(token)-2"}}"#)
            // A secrets manager's own credentials are sealed as well.
            let vaultToken = "plaintext-vault-token-5e0d11"
            let registered = try await api.send(
                .post,
                "/unified/secretsmanager",
                body: #"{"name":"v","type":"hashicorp","auth":{"address":"http://127.0.0.1:9","#
                    + #""token":"\#(vaultToken)"}}"#
            )
            #expect(registered.status == .ok && !registered.text.contains(vaultToken))
            let raw: Data
            switch api.database {
            case .sqlite(let path):
                // The WAL holds the newest pages until a checkpoint, so read every file of the database.
                var bytes = Data()
                for suffix in ["", "-wal", "-shm"] {
                    if let data = FileManager.default.contents(atPath: path + suffix) { bytes.append(data) }
                }
                raw = bytes
            case .postgres(let settings):
                raw = Data(try await TestPostgres.dumpRows(settings).utf8)
            }
            #expect(!raw.isEmpty)
            for secret in [token, refresh, vaultToken, api.key, api.otherKey, testMasterKey] {
                let hex = secret.utf8.map { String(format: "%02x", $0) }.joined()
                #expect(raw.range(of: Data(secret.utf8)) == nil, "found a secret in the \(api.database) database")
                #expect(
                    raw.range(of: Data(hex.utf8)) == nil,
                    "found a hex-encoded secret in the \(api.database) database"
                )
            }
            // ...while the API still returns it.
            let auth = try await api.send(.get, "/unified/connection/\(id)").jsonObject()["auth"] as? [String: Any]
            #expect(auth?["access_token"] as? String == "\(token)-2")
        }
    }
}
