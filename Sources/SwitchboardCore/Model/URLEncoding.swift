/// Percent-encoding as RFC 3986 defines it, the one implementation every URL Switchboard writes
/// uses: query components, form bodies (OAuth), links, Vault paths and SigV4's canonical URI.
public enum URLEncoding {
    private static let hex = Array("0123456789ABCDEF".utf8)

    /// `value` with every byte but RFC 3986's unreserved characters (`A–Z a–z 0–9 - . _ ~`)
    /// written as `%XX`.
    public static func percentEncoded(_ value: some StringProtocol) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
