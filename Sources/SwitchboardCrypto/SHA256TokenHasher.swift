import Crypto
import SwitchboardCore

/// SHA-256 of the whole token string. The tokens carry 256 random bits, so no slow hash is needed.
public struct SHA256TokenHasher: TokenHasher {
    public init() {}

    public func hash(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }
}
