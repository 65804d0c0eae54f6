/// The format of API keys: `sbk_<16 hex id>_<64 hex secret>`.
///
/// The id is public (it names the key in listings and revocation, and finds its row); the secret is
/// 256 random bits, shown once and stored only as a hash.
public enum APIKey {
    static let scheme = "sbk_"
    static let idLength = 16
    static let secretLength = 64

    /// A fresh key: its public id and the full secret string.
    public static func generate() -> (id: String, key: String) {
        var generator = SystemRandomNumberGenerator()
        let id = hexString((0..<(idLength / 2)).map { _ in generator.next() })
        let secret = hexString((0..<(secretLength / 2)).map { _ in generator.next() })
        return (id, "\(scheme)\(id)_\(secret)")
    }

    /// The id inside a presented key, or nil if it does not have the key format.
    public static func id(inKey key: String) -> String? {
        let bytes = Array(key.utf8)
        guard bytes.count == scheme.utf8.count + idLength + 1 + secretLength, key.hasPrefix(scheme) else { return nil }
        let idStart = scheme.utf8.count
        guard bytes[idStart + idLength] == UInt8(ascii: "_") else { return nil }
        let isHex = { (b: UInt8) in (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) }
        guard bytes[idStart..<(idStart + idLength)].allSatisfy(isHex),
            bytes[(idStart + idLength + 1)...].allSatisfy(isHex)
        else { return nil }
        return String(decoding: bytes[idStart..<(idStart + idLength)], as: UTF8.self)
    }

    /// Accepts what an operator may paste to name a key: the id, the `sbk_<id>` prefix, or the whole key.
    public static func id(fromReference reference: String) -> String? {
        if let id = id(inKey: reference) { return id }
        var candidate = Substring(reference)
        if candidate.hasPrefix(scheme) { candidate = candidate.dropFirst(scheme.count) }
        if candidate.hasSuffix("_") { candidate = candidate.dropLast() }
        guard candidate.utf8.count == idLength,
            candidate.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else { return nil }
        return String(candidate)
    }

    /// The non-secret prefix shown in listings and logs.
    public static func displayPrefix(id: String) -> String { "\(scheme)\(id)" }
}

/// Compares two byte strings in time that depends only on their lengths.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for i in 0..<a.count { difference |= a[i] ^ b[i] }
    return difference == 0
}
