import Foundation
import SwitchboardCore
import SwitchboardCrypto
import Testing

@Suite struct SealingTests {
    private let ring = KeyRing(
        active: try! KeyRing.masterKey(base64: Data(repeating: 1, count: 32).base64EncodedString())
    )
    private let here = SealContext(workspaceID: WorkspaceID(rawValue: "w1"), connectionID: ConnectionID(rawValue: "c1"))

    @Test func sealsAndOpensUnderTheActiveKeyWithAFreshNonceEachTime() throws {
        let sealer = AESGCMSealer(keys: ring)
        let plaintext = Array(#"{"access_token":"at"}"#.utf8)
        let first = try sealer.seal(plaintext, context: here)
        let second = try sealer.seal(plaintext, context: here)
        #expect(first.keyID == ring.active.id)
        #expect(first.ciphertext != second.ciphertext)
        #expect(first.ciphertext.count == plaintext.count + 12 + 16)
        #expect(try sealer.open(first, context: here) == plaintext)
    }

    @Test func aCiphertextMovedToAnotherRowOrWorkspaceFailsToOpen() throws {
        let sealer = AESGCMSealer(keys: ring)
        let sealed = try sealer.seal(Array("secret".utf8), context: here)
        let otherRow = SealContext(workspaceID: here.workspaceID, connectionID: ConnectionID(rawValue: "c2"))
        let otherWorkspace = SealContext(
            workspaceID: WorkspaceID(rawValue: "w2"),
            connectionID: ConnectionID(rawValue: here.objectID)
        )
        // The same ids, but a secrets manager's row instead of a connection's.
        let otherKind = SealContext(
            workspaceID: here.workspaceID,
            secretsManagerID: SecretsManagerID(rawValue: here.objectID)
        )
        #expect(throws: SealingError.authenticationFailed) { try sealer.open(sealed, context: otherRow) }
        #expect(throws: SealingError.authenticationFailed) { try sealer.open(sealed, context: otherWorkspace) }
        #expect(throws: SealingError.authenticationFailed) { try sealer.open(sealed, context: otherKind) }
    }

    @Test func tamperingOrAnotherKeyFailsToOpen() throws {
        let sealer = AESGCMSealer(keys: ring)
        var sealed = try sealer.seal(Array("secret".utf8), context: here)
        let otherRing = KeyRing(
            active: try KeyRing.masterKey(base64: Data(repeating: 2, count: 32).base64EncodedString())
        )
        #expect(throws: SealingError.unknownKey(keyID: sealed.keyID)) {
            try AESGCMSealer(keys: otherRing).open(sealed, context: here)
        }
        sealed.ciphertext[14] ^= 1
        #expect(throws: SealingError.authenticationFailed) { try sealer.open(sealed, context: here) }
        #expect(throws: SealingError.authenticationFailed) {
            try sealer.open(SealedSecret(keyID: ring.active.id, ciphertext: [1, 2, 3]), context: here)
        }
    }

    @Test func masterKeysMustBe32BytesOfBase64AndIDsDoNotRevealThem() throws {
        #expect(throws: KeyRing.Failure.notBase64) { try KeyRing.masterKey(base64: "not base64!") }
        #expect(throws: KeyRing.Failure.wrongLength(16)) {
            try KeyRing.masterKey(base64: Data(count: 16).base64EncodedString())
        }
        let encoded = KeyRing.generateMasterKeyBase64()
        let key = try KeyRing.masterKey(base64: encoded)
        #expect(try KeyRing.masterKey(base64: encoded + "\n").id == key.id)
        #expect(key.id.hasPrefix("mk_"))
        #expect(!encoded.contains(String(key.id.dropFirst(3))))
    }
}
