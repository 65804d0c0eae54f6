import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwitchboardCore
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
            // The WAL holds the newest pages until a checkpoint, so read every file of the database.
            var bytes = Data()
            for suffix in ["", "-wal", "-shm"] {
                if let data = FileManager.default.contents(atPath: api.databasePath + suffix) { bytes.append(data) }
            }
            #expect(!bytes.isEmpty)
            for secret in [token, refresh, api.key, api.otherKey, testMasterKey] {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "found a secret in the database files")
            }
            // ...while the API still returns it.
            let auth = try await api.send(.get, "/unified/connection/\(id)").jsonObject()["auth"] as? [String: Any]
            #expect(auth?["access_token"] as? String == "\(token)-2")
        }
    }
}
