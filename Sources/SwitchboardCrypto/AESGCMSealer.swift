import Crypto
import SwitchboardCore

/// AES-256-GCM with a random 96-bit nonce per seal, binding the row (workspace and connection ids)
/// as associated data.
public struct AESGCMSealer: SecretSealer {
    private let keyRing: KeyRing

    public init(keyRing: KeyRing) { self.keyRing = keyRing }

    public func seal(_ plaintext: [UInt8], context: SealContext) throws -> SealedSecret {
        let box = try AES.GCM.seal(plaintext, using: keyRing.active.key, authenticating: context.associatedData)
        // `combined` is always present for the default 12-byte nonce.
        return SealedSecret(keyID: keyRing.active.id, ciphertext: Array(box.combined!))
    }

    public func open(_ sealed: SealedSecret, context: SealContext) throws -> [UInt8] {
        guard let masterKey = keyRing.key(id: sealed.keyID) else { throw SealingError.unknownKey(keyID: sealed.keyID) }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.ciphertext)
            return Array(try AES.GCM.open(box, using: masterKey.key, authenticating: context.associatedData))
        } catch {
            throw SealingError.authenticationFailed
        }
    }
}

/// SHA-256 of the whole key string. API keys carry 256 random bits, so no slow hash is needed.
public struct SHA256APIKeyHasher: APIKeyHasher {
    public init() {}

    public func hash(_ key: String) -> [UInt8] { Array(SHA256.hash(data: Array(key.utf8))) }
}
