/// Identifiers are UUIDv7 strings: random enough to be unguessable (74 random bits), and ordered by
/// creation time so new rows append to the primary-key index instead of splitting pages at random.
public struct ConnectionID: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static func generate(at now: Timestamp) -> ConnectionID { ConnectionID(rawValue: makeUUIDv7(now)) }
    public var description: String { rawValue }
}

public struct WorkspaceID: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static func generate(at now: Timestamp) -> WorkspaceID { WorkspaceID(rawValue: makeUUIDv7(now)) }
    public var description: String { rawValue }
}

public struct SecretsManagerID: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static func generate(at now: Timestamp) -> SecretsManagerID { SecretsManagerID(rawValue: makeUUIDv7(now)) }
    public var description: String { rawValue }
}

func makeUUIDv7(_ now: Timestamp) -> String {
    var generator = SystemRandomNumberGenerator()
    var bytes = [UInt8](repeating: 0, count: 16)
    let ms = UInt64(max(0, now.millisecondsSinceEpoch))
    for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: ms >> (8 * (5 - UInt64(i)))) }
    // Two draws (each a system call) rather than one per byte.
    let random: (UInt64, UInt16) = (generator.next(), generator.next())
    for i in 6..<14 { bytes[i] = UInt8(truncatingIfNeeded: random.0 >> (8 * UInt64(i - 6))) }
    bytes[14] = UInt8(truncatingIfNeeded: random.1)
    bytes[15] = UInt8(truncatingIfNeeded: random.1 >> 8)
    bytes[6] = (bytes[6] & 0x0F) | 0x70  // version 7
    bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 9562 variant
    return hexString(bytes, dashesAfter: [3, 5, 7, 9])
}

func hexString(_ bytes: [UInt8], dashesAfter dashes: Set<Int> = []) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2 + dashes.count)
    for (i, byte) in bytes.enumerated() {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
        if dashes.contains(i) { out.append(UInt8(ascii: "-")) }
    }
    return String(decoding: out, as: UTF8.self)
}
