import Foundation

/// An IPv4 or IPv6 address as its bytes, with the address classes the egress policy refuses.
public enum IPAddress: Sendable, Hashable, CustomStringConvertible {
    case v4(UInt32)
    case v6([UInt8])  // 16 bytes

    /// Parses the canonical text forms only: dotted-quad IPv4 (four decimal parts) and RFC 4291
    /// IPv6 (with `::` and an embedded dotted quad). Other spellings (decimal, octal, hex, short
    /// forms) are names to the policy: they are resolved, and what they resolve to is checked.
    public init?(_ text: some StringProtocol) {
        var text = Substring(text)
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        if let v4 = Self.parseV4(text) {
            self = .v4(v4)
        } else if let v6 = Self.parseV6(text) {
            self = .v6(v6)
        } else {
            return nil
        }
    }

    static func parseV4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                part.count == 1 || part.first != "0", let byte = UInt32(part), byte <= 255
            else { return nil }
            value = value << 8 | byte
        }
        return value
    }

    static func parseV6(_ text: Substring) -> [UInt8]? {
        guard text.contains(":"), text.utf8.count <= 45 else { return nil }
        // Zone ids (fe80::1%eth0) are not accepted: a URL cannot carry one unencoded anyway.
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawGap = false
        var pieces: [String] = []
        if let gap = text.range(of: "::") {
            pieces = [String(text[..<gap.lowerBound]), String(text[gap.upperBound...])]
            if pieces[1].contains("::") { return nil }
        } else {
            pieces = [String(text)]
        }
        guard pieces.count <= 2 else { return nil }
        func groups(_ piece: String, allowV4: Bool) -> [UInt16]? {
            if piece.isEmpty { return [] }
            var result: [UInt16] = []
            let parts = piece.split(separator: ":", omittingEmptySubsequences: false)
            for (i, part) in parts.enumerated() {
                if allowV4, i == parts.count - 1, part.contains(".") {
                    guard let v4 = parseV4(part) else { return nil }
                    result.append(UInt16(v4 >> 16))
                    result.append(UInt16(v4 & 0xFFFF))
                } else {
                    guard (1...4).contains(part.count), let group = UInt16(part, radix: 16) else { return nil }
                    result.append(group)
                }
            }
            return result
        }
        if pieces.count == 2 {
            sawGap = true
            guard let h = groups(pieces[0], allowV4: false), let t = groups(pieces[1], allowV4: true) else {
                return nil
            }
            head = h
            tail = t
            guard head.count + tail.count <= 7 else { return nil }
        } else {
            guard let h = groups(pieces[0], allowV4: true), h.count == 8 else { return nil }
            head = h
        }
        let all = head + Array(repeating: 0, count: sawGap ? 8 - head.count - tail.count : 0) + tail
        guard all.count == 8 else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    public var description: String {
        switch self {
        case .v4(let value):
            return [24, 16, 8, 0].map { String((value >> UInt32($0)) & 0xFF) }.joined(separator: ".")
        case .v6(let bytes):
            let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
            // Longest run of zero groups (at least two) becomes "::".
            var best = (start: -1, length: 0)
            var i = 0
            while i < 8 {
                guard groups[i] == 0 else {
                    i += 1
                    continue
                }
                var j = i
                while j < 8, groups[j] == 0 { j += 1 }
                if j - i > best.length, j - i >= 2 { best = (i, j - i) }
                i = j
            }
            let hex = groups.map { String($0, radix: 16) }
            guard best.start >= 0 else { return hex.joined(separator: ":") }
            let left = hex[..<best.start].joined(separator: ":")
            let right = hex[(best.start + best.length)...].joined(separator: ":")
            return left + "::" + right
        }
    }

    /// The IPv4 address an IPv6 address carries by a standard mapping (v4-mapped `::ffff:0:0/96`,
    /// v4-compatible `::/96`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`), so the policy judges what
    /// the packets would really reach.
    public var embeddedV4: UInt32? {
        guard case .v6(let b) = self else { return nil }
        func v4(at offset: Int) -> UInt32 {
            UInt32(b[offset]) << 24 | UInt32(b[offset + 1]) << 16 | UInt32(b[offset + 2]) << 8 | UInt32(b[offset + 3])
        }
        let first10Zero = b[0..<10].allSatisfy { $0 == 0 }
        if first10Zero, b[10] == 0xFF, b[11] == 0xFF { return v4(at: 12) }
        if first10Zero, b[10] == 0, b[11] == 0, !b[12..<16].allSatisfy({ $0 == 0 }), v4(at: 12) > 1 {
            return v4(at: 12)
        }
        if b[0] == 0x00, b[1] == 0x64, b[2] == 0xFF, b[3] == 0x9B, b[4..<12].allSatisfy({ $0 == 0 }) {
            return v4(at: 12)
        }
        if b[0] == 0x20, b[1] == 0x02 { return v4(at: 2) }
        return nil
    }

    /// The class of address that is refused by default, or nil for a public address.
    public var restrictedClass: String? {
        switch self {
        case .v4(let a):
            return Self.v4Class(a)
        case .v6(let b):
            if let v4 = embeddedV4, let inner = Self.v4Class(v4) { return inner }
            if b.allSatisfy({ $0 == 0 }) { return "unspecified" }
            if b[0..<15].allSatisfy({ $0 == 0 }), b[15] == 1 { return "loopback" }
            if b[0] & 0xFE == 0xFC { return "private" }  // fc00::/7
            if b[0] == 0xFE, b[1] & 0xC0 == 0x80 { return "link-local" }  // fe80::/10
            if b[0] == 0xFE, b[1] & 0xC0 == 0xC0 { return "private" }  // fec0::/10, deprecated site-local
            if b[0] == 0xFF { return "multicast" }
            return nil
        }
    }

    private static func v4Class(_ a: UInt32) -> String? {
        func within(_ base: UInt32, _ bits: UInt32) -> Bool { a >> (32 - bits) == base >> (32 - bits) }
        if within(0x0000_0000, 8) { return "unspecified" }  // 0.0.0.0/8, "this network"
        if within(0x7F00_0000, 8) { return "loopback" }
        if within(0x0A00_0000, 8) || within(0xAC10_0000, 12) || within(0xC0A8_0000, 16) { return "private" }
        if within(0xA9FE_0000, 16) { return "link-local" }  // metadata services live here
        if within(0x6440_0000, 10) { return "cgnat" }
        if within(0xC000_0000, 24) { return "private" }  // IETF protocol assignments
        if within(0xC612_0000, 15) { return "private" }  // benchmarking 198.18/15
        if within(0xE000_0000, 4) { return "multicast" }
        if within(0xF000_0000, 4) { return "reserved" }  // 240/4 and the broadcast address
        return nil
    }

    /// True when the first `bits` bits equal those of `network` (same family).
    func isWithin(_ network: IPAddress, bits: Int) -> Bool {
        switch (self, network) {
        case (.v4(let a), .v4(let n)):
            return bits == 0 || a >> UInt32(32 - bits) == n >> UInt32(32 - bits)
        case (.v6(let a), .v6(let n)):
            var remaining = bits
            for i in 0..<16 where remaining > 0 {
                let take = min(8, remaining)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - take))
                if a[i] & mask != n[i] & mask { return false }
                remaining -= take
            }
            return true
        default:
            return false
        }
    }
}

/// A CIDR block (`10.0.0.0/8`, `fd00::/8`; a bare address is its own block).
public struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    public var address: IPAddress
    public var bits: Int

    public init(address: IPAddress, bits: Int) {
        self.address = address
        self.bits = bits
    }

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = IPAddress(parts[0]) else { return nil }
        let maximum = if case .v4 = address { 32 } else { 128 }
        if parts.count == 2 {
            guard let bits = Int(parts[1]), (0...maximum).contains(bits) else { return nil }
            self.bits = bits
        } else {
            self.bits = maximum
        }
        self.address = address
    }

    public func contains(_ other: IPAddress) -> Bool {
        if other.isWithin(address, bits: bits) { return true }
        // A v4-mapped peer (::ffff:10.0.0.1 on a dual-stack socket) matches its IPv4 block.
        if let v4 = other.embeddedV4 { return IPAddress.v4(v4).isWithin(address, bits: bits) }
        return false
    }

    public var description: String { "\(address)/\(bits)" }
}
