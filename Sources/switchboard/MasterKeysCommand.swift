import ArgumentParser
import Foundation
import SwitchboardCore
import SwitchboardCrypto
import SwitchboardServer

/// `switchboard keys`: the master keys that seal stored credentials (not API keys: see `key`).
struct MasterKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage the master keys that seal stored credentials: list, rotate, retire, generate.",
        discussion: """
            With a key file (the embedded default's master.key, or $SWITCHBOARD_MASTER_KEY_FILE), `rotate` adds \
            a new active key to the file, running servers pick it up within a second, and every stored \
            credential is re-sealed under it. With $SWITCHBOARD_MASTER_KEYS, put a new key (`keys generate`) \
            first in the variable on every replica, then run `rotate` to re-seal. See docs/security.md.
            """,
        subcommands: [List.self, Rotate.self, Retire.self, Generate.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the configured key ids (active first) and how many credentials each seals."
        )
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            let (ring, counts) = try await options.withRuntime { runtime in
                (runtime.masterKeys.source.current(), try await runtime.keyRotation.counts())
            }
            for key in ring.all {
                let role = key.id == ring.active.id ? "active" : "open-only"
                print("\(key.id)  \(role)  \(counts[key.id] ?? 0) sealed credential(s)")
            }
            for (id, count) in counts.sorted(by: { $0.key < $1.key }) where ring.key(id: id) == nil {
                print("\(id)  NOT CONFIGURED  \(count) sealed credential(s) cannot be opened")
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new active key (key file only) and re-seal every credential under the active key."
        )
        @Flag(name: .long, help: "Do not add a key; only re-seal under the current active key.")
        var noNewKey = false
        @Option(name: .long, help: "Rows per transaction.") var batchSize = 500
        @Option(name: .long, help: "Give up if rows remain under older keys after this many passes.")
        var maxPasses = 20
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            guard batchSize > 0, maxPasses > 0 else {
                throw ValidationError("--batch-size and --max-passes must be positive")
            }
            let (noNewKey, batchSize, maxPasses) = (noNewKey, batchSize, maxPasses)
            try await options.withRuntime { runtime in
                let keys = runtime.masterKeys
                if !noNewKey {
                    switch keys.origin {
                    case .file(let file):
                        let current = try file.read()
                        let added = try KeyRing.masterKey(base64: KeyRing.generateMasterKeyBase64())
                        try file.save(KeyRing(active: added, others: current.all))
                        _ = keys.source.reload()
                        print("Added master key \(added.id) to \(file.path); it is now the active key.")
                    case .environment:
                        print(
                            "Keys come from \(MasterKeySettings.keysVariable): re-sealing under its first key, \(keys.source.current().active.id)."
                        )
                    }
                }
                for number in 1...maxPasses {
                    let pass = try await runtime.keyRotation.resealPass(batchSize: batchSize)
                    print("Pass \(number): \(pass.resealed) of \(pass.examined) credential(s) re-sealed.")
                    if pass.examined == 0 {
                        print("Every stored credential is sealed under \(runtime.keyRotation.activeKeyID).")
                        return
                    }
                    // Servers that still sealed with the old key re-read the key file within a second.
                    try await Task.sleep(for: .seconds(1.5))
                }
                throw ValidationError(
                    "credentials under older keys remain after \(maxPasses) passes: is a server still configured with another active key?"
                )
            }
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an old key from the key file; refused while any credential is still sealed under it."
        )
        @Argument(help: "The key id (mk_...).") var keyID: String
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            let keyID = keyID
            try await options.withRuntime { runtime in
                try await runtime.keyRotation.checkRetirable(keyID)
                guard runtime.masterKeys.source.current().key(id: keyID) != nil else {
                    throw ValidationError("\(keyID) is not a configured key")
                }
                switch runtime.masterKeys.origin {
                case .file(let file):
                    let current = try file.read()
                    try file.save(KeyRing(active: current.active, others: current.all.filter { $0.id != keyID }))
                    print("Removed \(keyID) from \(file.path). No stored credential used it.")
                case .environment:
                    print(
                        "No stored credential uses \(keyID): remove it from \(MasterKeySettings.keysVariable) on every replica."
                    )
                }
            }
        }
    }

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a new random master key (base64) for \(MasterKeySettings.keysVariable); touches nothing."
        )

        func run() throws {
            let encoded = KeyRing.generateMasterKeyBase64()
            FileHandle.standardError.write(Data("key id: \(try KeyRing.masterKey(base64: encoded).id)\n".utf8))
            print(encoded)
        }
    }
}
