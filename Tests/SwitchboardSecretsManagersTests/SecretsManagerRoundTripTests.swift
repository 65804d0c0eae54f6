import Foundation
import SwitchboardCore
import SwitchboardSecretsManagers
import Testing

/// One contract, run against every configured manager: moto (AWS Secrets Manager), OpenBao
/// (Vault KV v2) and the Azure Key Vault and Google Secret Manager fakes, all on loopback
/// (scripts/secrets-up.sh).
@Suite("Secrets manager round trips")
struct SecretsManagerRoundTripTests {
    @Test(arguments: TestManager.enabled)
    func putGetOverwriteDelete(_ manager: TestManager) async throws {
        try await manager.withClient { client in
            let name = manager.uniqueName("conn_1")
            let first = Array(#"{"access_token":"at-1","refresh_token":"rt-1"}"#.utf8)
            let second = Array(#"{"access_token":"at-2"}"#.utf8)

            try await client.put(name: name, value: first)
            #expect(try await client.get(name: name) == first)

            try await client.put(name: name, value: second)
            #expect(try await client.get(name: name) == second)

            try await client.delete(name: name)
            #expect(try await client.get(name: name) == nil)

            // Deleting what is gone succeeds, and the name can be used again.
            try await client.delete(name: name)
            try await client.put(name: name, value: first)
            #expect(try await client.get(name: name) == first)
            try await client.delete(name: name)
        }
    }

    @Test(arguments: TestManager.enabled)
    func getOfANameNeverWrittenIsNil(_ manager: TestManager) async throws {
        try await manager.withClient { client in
            #expect(try await client.get(name: manager.uniqueName("never-written")) == nil)
            try await client.delete(name: manager.uniqueName("never-written"))
        }
    }

    @Test(arguments: TestManager.enabled)
    func namesWithSlashesAndPunctuationAreDistinct(_ manager: TestManager) async throws {
        guard manager.namesArePaths else { return }  // Azure and Google names hold no slash.
        try await manager.withClient { client in
            let base = manager.uniqueName("workspace_1")
            let names = [base + "/conn_1", base + "/conn_2", base + "/nested/deeper/conn_1", base + "/a+b=c.d@e-f_g"]
            for (index, name) in names.enumerated() {
                try await client.put(name: name, value: Array("value \(index)".utf8))
            }
            for (index, name) in names.enumerated() {
                #expect(try await client.get(name: name) == Array("value \(index)".utf8), "\(name)")
            }
            for name in names { try await client.delete(name: name) }
            for name in names { #expect(try await client.get(name: name) == nil) }
        }
    }

    /// Vault paths take any character; AWS names take only letters, digits and `/_+=.@-`, so
    /// the AWS client refuses a unicode name before sending anything.
    @Test(arguments: TestManager.enabled)
    func unicodeNames(_ manager: TestManager) async throws {
        try await manager.withClient { client in
            // (Built past `uniqueName`, which would make the label fit Azure's and Google's rules.)
            let name =
                manager.namesArePaths
                ? manager.uniqueName("ünïcødé ✓ 名前 %2F?#") : manager.uniqueName("x") + "-ünïcødé-名前"
            let value = Array("välüe ✓".utf8)
            switch manager {
            case .vault:
                try await client.put(name: name, value: value)
                #expect(try await client.get(name: name) == value)
                // The percent sign and the question mark were sent encoded: no other path was touched.
                #expect(try await client.get(name: manager.uniqueName("ünïcødé ✓ 名前 ")) == nil)
                try await client.delete(name: name)
                #expect(try await client.get(name: name) == nil)
            case .aws, .azure, .gcp:
                do {
                    try await client.put(name: name, value: value)
                    Issue.record("a unicode name was accepted by the \(manager) client")
                } catch SecretsManagerError.invalidName(manager: client.managerName, _) {
                    // Refused locally, as the service would refuse it.
                }
            }
        }
    }

    /// 64 KiB is AWS's and Google's limit for a secret value; Key Vault's is 25 KiB.
    @Test(arguments: TestManager.enabled)
    func largeValueAtTheLimit(_ manager: TestManager) async throws {
        try await manager.withClient { client in
            let name = manager.uniqueName("large")
            let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789{}\":,".utf8)
            var generator = SystemRandomNumberGenerator()
            let size = manager == .azure ? 25 * 1024 : 65_536
            let value = (0..<size).map { _ in alphabet.randomElement(using: &generator)! }
            try await client.put(name: name, value: value)
            #expect(try await client.get(name: name) == value)
            try await client.delete(name: name)
        }
    }

    /// Bytes that are not UTF-8 go as AWS SecretBinary / Vault value_base64 and come back intact.
    @Test(arguments: TestManager.enabled)
    func binaryValueRoundTrips(_ manager: TestManager) async throws {
        try await manager.withClient { client in
            let name = manager.uniqueName("binary")
            let value = (0...255).map(UInt8.init) + [0xff, 0xfe, 0x00]
            try await client.put(name: name, value: value)
            #expect(try await client.get(name: name) == value)
            // Overwriting binary with text switches the representation back.
            try await client.put(name: name, value: Array("text".utf8))
            #expect(try await client.get(name: name) == Array("text".utf8))
            try await client.delete(name: name)
        }
    }

    @Test(arguments: TestManager.enabled)
    func concurrentWritersOfDistinctNames(_ manager: TestManager) async throws {
        try await manager.withClient { client in
            let base = manager.uniqueName("parallel")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<16 {
                    group.addTask {
                        let name = manager.child(base, "conn-\(index)")
                        try await client.put(name: name, value: Array("v\(index)".utf8))
                        #expect(try await client.get(name: name) == Array("v\(index)".utf8))
                    }
                }
                try await group.waitForAll()
            }
            // Deleted one after another: moto's DeleteSecret iterates its store unguarded, and a
            // concurrent write makes it answer 500 ("dictionary changed size during iteration").
            for index in 0..<16 {
                let name = manager.child(base, "conn-\(index)")
                try await client.delete(name: name)
                #expect(try await client.get(name: name) == nil)
            }
        }
    }

    @Test(arguments: TestManager.enabled)
    func invalidNamesAreRefusedBeforeAnyRequest(_ manager: TestManager) async throws {
        try await manager.withClient { client in
            for name in ["", "/leading", "trailing/", "double//slash", "dot/./segment", "dot/../segment"] {
                if manager == .aws && !name.isEmpty { continue }  // AWS allows these characters.
                await #expect(throws: SecretsManagerError.self, "\(name)") {
                    try await client.put(name: name, value: [1])
                }
            }
        }
    }
}
