import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import SwitchboardCore
import SwitchboardCrypto
import SwitchboardTestSupport
import Testing

@testable import SwitchboardServer

@Suite struct KeyRotationTests {
    @Test func resealingMovesEveryCredentialToTheNewKeyAndTheOldOneCanThenBeRetired() async throws {
        try await withApp { api in
            var ids: [String] = []
            for i in 0..<7 {
                let body = connectionBody(extra: #""auth":{"access_token":"token-\#(i)"}"#)
                ids.append(try #require(try await api.create(body)["id"] as? String))
            }
            _ = try await api.create(connectionBody())
            // A secrets manager's settings are sealed too, and rotate with the rest.
            let manager = try await api.send(
                .post,
                "/unified/secretsmanager",
                body: #"{"name":"v","type":"hashicorp","auth":{"address":"http://127.0.0.1:9","token":"t"}}"#
            )
            let managerID = try #require(try manager.jsonObject()["id"] as? String)
            // Azure's client secret and Google's service-account key likewise.
            var cloudIDs: [String] = []
            let gcpSettings = SecretsManagerTests.json([
                "project_id": "p", "endpoint": "http://127.0.0.1:9",
                "service_account_json": try serviceAccountJSON(tokenURI: "http://127.0.0.1:9/token"),
            ])
            for body in [
                #"{"name":"a","type":"azure","auth":{"vault_url":"http://127.0.0.1:9","authority_host":"http://127.0.0.1:9","tenant_id":"t","client_id":"c","client_secret":"azure-secret"}}"#,
                #"{"name":"g","type":"gcp","auth":\#(gcpSettings)}"#,
            ] {
                let registered = try await api.send(.post, "/unified/secretsmanager", body: body)
                cloudIDs.append(try #require(try registered.jsonObject()["id"] as? String, "\(registered.text)"))
            }
            let created = ids
            let managers = cloudIDs
            let oldID = try KeyRing.masterKey(base64: testMasterKey).id
            let newKey = KeyRing.generateMasterKeyBase64()
            let settings = MasterKeySettings(inlineKeys: "\(newKey), \(testMasterKey)")
            try await Runtime.run(database: api.database, masterKeys: settings, logger: testLogger) { rotated in
                let newID = rotated.keyRotation.activeKeyID
                #expect(newID != oldID)
                await #expect(throws: KeyRotation.RetireFailure.inUse(keyID: oldID, rows: 10)) {
                    try await rotated.keyRotation.checkRetirable(oldID)
                }
                let pass = try await rotated.keyRotation.resealPass(batchSize: 3)
                #expect(pass == KeyRotation.Pass(examined: 10, resealed: 10))
                #expect(try await rotated.keyRotation.counts() == [newID: 10])
                #expect(try await rotated.keyRotation.resealPass() == KeyRotation.Pass())
                try await rotated.keyRotation.checkRetirable(oldID)
                await #expect(throws: KeyRotation.RetireFailure.active(keyID: newID)) {
                    try await rotated.keyRotation.checkRetirable(newID)
                }
                // Every credential opens under the new ring alone.
                let newOnly = MasterKeySettings(inlineKeys: newKey)
                try await Runtime.run(database: api.database, masterKeys: newOnly, logger: testLogger) { runtime in
                    for (i, id) in created.enumerated() {
                        let revealed = try await runtime.connections.get(
                            ConnectionID(rawValue: id),
                            by: .cli(workspace: api.workspace)
                        )
                        let json = String(decoding: revealed.auth?.json ?? [], as: UTF8.self)
                        #expect(json.contains("token-\(i)"))
                    }
                    let view = try await runtime.secretsManagers.get(
                        SecretsManagerID(rawValue: managerID),
                        by: .cli(workspace: api.workspace)
                    )
                    #expect(view.publicAuth == ["address": "http://127.0.0.1:9"])
                    // The cloud managers' settings open, and make clients, under the new key alone.
                    for id in managers {
                        _ = try await runtime.secretsManagers.client(
                            for: SecretsManagerID(rawValue: id),
                            workspace: api.workspace
                        )
                    }
                }
            }
        }
    }
}

@Suite struct MasterKeyConfigurationTests {
    @Test func theKeyFileIsWrittenPrivateAndReadBackActiveFirst() async throws {
        try await withTemporaryDirectory { directory in
            let file = KeyFile(path: directory + "/keys")
            let a = try KeyRing.masterKey(base64: KeyRing.generateMasterKeyBase64())
            let b = try KeyRing.masterKey(base64: KeyRing.generateMasterKeyBase64())
            try file.save(KeyRing(active: a, others: [b]))
            let ring = try file.read()
            #expect(ring.all.map(\.id) == [a.id, b.id])
            let mode = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? NSNumber
            #expect(mode?.intValue == 0o600)
            try "garbage\n".write(toFile: file.path, atomically: true, encoding: .utf8)
            #expect(throws: MasterKeyLoader.Failure.self) { try file.read() }
        }
    }

    @Test func aRunningSourceSeesARotatedKeyFile() async throws {
        try await withTemporaryDirectory { directory in
            let file = KeyFile(path: directory + "/keys")
            let old = try KeyRing.masterKey(base64: KeyRing.generateMasterKeyBase64())
            try file.save(KeyRing(active: old))
            let source = try KeyFileSource(file: file)
            let sealer = AESGCMSealer(keys: source)
            let new = try KeyRing.masterKey(base64: KeyRing.generateMasterKeyBase64())
            try file.save(KeyRing(active: new, others: [old]))
            // A ciphertext under the new key opens at once: the unknown key id forces a re-read.
            let context = SealContext(
                workspaceID: WorkspaceID(rawValue: "w"),
                connectionID: ConnectionID(rawValue: "c")
            )
            let sealedByRotator = try AESGCMSealer(keys: try file.read()).seal([1, 2, 3], context: context)
            #expect(try sealer.open(sealedByRotator, context: context) == [1, 2, 3])
            #expect(sealer.activeKeyID == new.id)
        }
    }

    @Test func ambiguousOrMissingKeyConfigurationIsRefused() throws {
        let key = KeyRing.generateMasterKeyBase64()
        #expect(throws: SettingsError.self) {
            try Settings(environment: ["SWITCHBOARD_MASTER_KEYS": key, "SWITCHBOARD_MASTER_KEY": key]).masterKeys()
        }
        #expect(throws: SettingsError.self) {
            try Settings(environment: ["SWITCHBOARD_MASTER_KEY": key, "SWITCHBOARD_MASTER_KEY_FILE": "/k"]).masterKeys()
        }
        let loader = MasterKeyLoader(settings: MasterKeySettings(), dataDirectory: nil)
        #expect(throws: MasterKeyLoader.Failure.self) { try loader.load(logger: testLogger) }
        let bad = MasterKeyLoader(settings: MasterKeySettings(inlineKeys: "\(key),nope"), dataDirectory: nil)
        #expect(throws: MasterKeyLoader.Failure.self) { try bad.load(logger: testLogger) }
        let two = MasterKeyLoader(
            settings: MasterKeySettings(inlineKeys: "\(key) \(KeyRing.generateMasterKeyBase64())"),
            dataDirectory: nil
        )
        #expect(try two.load(logger: testLogger).source.current().all.count == 2)
    }
}

@Suite struct CiphertextBindingTests {
    @Test func aCiphertextCopiedOntoAnotherConnectionsRowDoesNotOpen() async throws {
        try await withApp { api in
            let a = try #require(
                try await api.create(connectionBody(extra: #""auth":{"access_token":"secret-a"}"#))["id"] as? String
            )
            let b = try #require(
                try await api.create(connectionBody(extra: #""auth":{"access_token":"secret-b"}"#))["id"] as? String
            )
            let stolen = try #require(
                try await api.runtime.store.connection(id: ConnectionID(rawValue: a), workspace: api.workspace)?
                    .sealedAuth
            )
            _ = try await api.runtime.store.update(id: ConnectionID(rawValue: b), workspace: api.workspace) { row in
                var row = row
                row.sealedAuth = stolen
                return row
            }
            let response = try await api.send(.get, "/unified/connection/\(b)")
            #expect(response.status == .internalServerError)
            #expect(
                try response.jsonObject()["error"].map { ($0 as? [String: Any])?["code"] as? String }
                    == "credentials_unreadable"
            )
            #expect(!response.text.contains("secret-a") && !response.text.contains("secret-b"))
            #expect(try await api.send(.get, "/unified/connection/\(a)").status == .ok)
        }
    }
}
