import Crypto
import SwitchboardCore

/// AES-256-GCM with a random 96-bit nonce per seal, binding the row (workspace and connection ids)
/// as associated data.
///
/// The keys come from a `KeyRingSource`, so a rotation that adds a key reaches a running process:
/// a ciphertext under a key id the ring does not hold makes it reload once before giving up.
public struct AESGCMSealer: SecretSealer {
    private let keys: any KeyRingSource

    public init(keys: any KeyRingSource) { self.keys = keys }

    public var activeKeyID: String { keys.current().active.id }

    public func seal(_ plaintext: [UInt8], context: SealContext) throws -> SealedSecret {
        let active = keys.current().active
        let box = try AES.GCM.seal(plaintext, using: active.key, authenticating: context.associatedData)
        // `combined` is always present for the default 12-byte nonce.
        return SealedSecret(keyID: active.id, ciphertext: Array(box.combined!))
    }

    public func open(_ sealed: SealedSecret, context: SealContext) throws -> [UInt8] {
        guard let masterKey = keys.current().key(id: sealed.keyID) ?? keys.reload().key(id: sealed.keyID) else {
            throw SealingError.unknownKey(keyID: sealed.keyID)
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.ciphertext)
            return Array(try AES.GCM.open(box, using: masterKey.key, authenticating: context.associatedData))
        } catch {
            throw SealingError.authenticationFailed
        }
    }
}
