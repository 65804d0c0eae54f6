import Crypto
import Foundation
import SwitchboardCore

/// Master keys for sealing credentials: one active key that seals, and older keys that still open
/// what they sealed. A key's id is derived from the key itself, so the same key has the same id
/// however it is configured, and ids reveal nothing about the key.
public struct KeyRing: Sendable {
    public struct MasterKey: Sendable {
        public let id: String
        let key: SymmetricKey

        /// The key as configured (base64). Only for writing the key file; never log it.
        public var base64: String { key.withUnsafeBytes { Data($0).base64EncodedString() } }
    }

    public let active: MasterKey
    /// Every key in configured order, the active one first.
    public let all: [MasterKey]
    private let byID: [String: MasterKey]

    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case notBase64
        case wrongLength(Int)

        public var description: String {
            switch self {
            case .notBase64: "a master key must be base64 (standard alphabet) of 32 bytes"
            case .wrongLength(let n): "a master key must be 32 bytes; this one decodes to \(n)"
            }
        }
    }

    /// `active` seals; `others` only open.
    public init(active: MasterKey, others: [MasterKey] = []) {
        self.active = active
        var byID = [active.id: active]
        var all = [active]
        for key in others where byID[key.id] == nil {
            byID[key.id] = key
            all.append(key)
        }
        self.byID = byID
        self.all = all
    }

    public func key(id: String) -> MasterKey? { byID[id] }

    /// Decodes a base64 master key (the form of `SWITCHBOARD_MASTER_KEY` and the key file).
    public static func masterKey(base64: String) throws(Failure) -> MasterKey {
        guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw .notBase64
        }
        guard data.count == 32 else { throw .wrongLength(data.count) }
        return masterKey(bytes: Array(data))
    }

    static func masterKey(bytes: [UInt8]) -> MasterKey {
        // The id is a truncated hash under a fixed label: stable, short, and not the key.
        var hasher = SHA256()
        hasher.update(data: Array("switchboard master key id v1".utf8))
        hasher.update(data: bytes)
        let digest = Array(hasher.finalize())
        let hex = digest.prefix(6).map { String(format: "%02x", $0) }.joined()
        return MasterKey(id: "mk_\(hex)", key: SymmetricKey(data: bytes))
    }

    /// 32 fresh random bytes, base64: a new master key.
    public static func generateMasterKeyBase64() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }
}

/// Where a sealer gets its keys. A fixed ring (from the environment) never changes; a key file can
/// gain a key during a rotation, and its source re-reads it.
public protocol KeyRingSource: Sendable {
    /// The ring to use now. Cheap: called on every seal.
    func current() -> KeyRing
    /// Re-reads the origin at once (a ciphertext named a key the current ring lacks).
    func reload() -> KeyRing
}

extension KeyRing: KeyRingSource {
    public func current() -> KeyRing { self }
    public func reload() -> KeyRing { self }
}
