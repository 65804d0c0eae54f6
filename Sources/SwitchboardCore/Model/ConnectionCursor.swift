/// The opaque `cursor` of keyset paging: the last row's position plus a fingerprint of the query
/// that produced it (environment, filters, sort and order), so a cursor reused with another query
/// is refused instead of silently skipping or repeating rows. The page size may change between
/// pages. Encoded as base64url (no padding) of a small JSON array; it is not a secret and not
/// signed, since a forged position can only move within the caller's own workspace.
public struct ConnectionCursor: Sendable, Equatable {
    public var fingerprint: UInt64
    public var position: ConnectionQuery.Position

    static let version = "1"

    public init(query: ConnectionQuery, after connection: Connection) {
        self.init(query: query, after: ConnectionQuery.Position(of: connection, in: query.sort))
    }

    public init(query: ConnectionQuery, after position: ConnectionQuery.Position) {
        fingerprint = Self.fingerprint(of: query)
        self.position = position
    }

    public enum Failure: Error, Sendable, Equatable {
        /// Not a cursor this server issued (bad encoding or shape).
        case malformed
        /// A cursor of another query (other filters, sort or order).
        case otherQuery
    }

    /// Decodes `token` and checks it belongs to `query`; returns the position to continue after.
    public static func position(
        from token: String,
        for query: ConnectionQuery
    ) throws(Failure)
        -> ConnectionQuery.Position
    {
        guard token.utf8.count <= 4096, let bytes = Base64URL.decode(token),
            let value = try? JSONParser.parse(bytes), case .array(let items) = value, items.count >= 4,
            case .string(let version) = items[0], version == Self.version,
            case .string(let print) = items[1], let fingerprint = UInt64(print, radix: 16),
            case .string(let id) = items[items.count - 1], !id.isEmpty
        else { throw .malformed }
        guard fingerprint == Self.fingerprint(of: query) else { throw .otherQuery }
        let position: ConnectionQuery.Position
        switch items.count {
        case 4:
            guard case .number(let lexeme) = items[2], let time = Int64(lexeme) else { throw .malformed }
            position = .time(time, ConnectionID(rawValue: id))
        case 5:
            guard case .string(let name) = items[2], case .string(let type) = items[3] else { throw .malformed }
            position = .name(name, type, ConnectionID(rawValue: id))
        default:
            throw .malformed
        }
        // The fingerprint covers the sort, so a mismatch here means a hand-made token.
        guard position.fits(query.sort) else { throw .malformed }
        return position
    }

    /// `["1", fingerprint, time, id]` or `["1", fingerprint, name, type, id]`, base64url-encoded.
    public var token: String {
        var writer = JSONWriter(reservingCapacity: 128)
        writer.beginArray()
        writer.string(Self.version)
        writer.string(String(fingerprint, radix: 16))
        switch position {
        case .time(let time, let id):
            writer.number(String(time))
            writer.string(id.rawValue)
        case .name(let name, let type, let id):
            writer.string(name)
            writer.string(type)
            writer.string(id.rawValue)
        }
        writer.endArray()
        return Base64URL.encode(writer.bytes)
    }

    /// FNV-1a over the query's canonical filters, sort and order (not the page size or offset).
    static func fingerprint(of query: ConnectionQuery) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ text: String) {
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash &*= 0x0000_0100_0000_01b3
            }
            hash ^= 0xff  // field separator: no byte of UTF-8 text is 0xff
            hash &*= 0x0000_0100_0000_01b3
        }
        mix(query.environment)
        mix(query.externalXref.map { "=" + $0 } ?? "-")
        mix(query.updatedGTE.map { String($0.millisecondsSinceEpoch) } ?? "-")
        mix(String(query.categoryMask))
        mix(query.sort.rawValue)
        mix(query.order.rawValue)
        return hash
    }
}

/// base64url without padding (RFC 4648 §5), as cursors travel in a URL.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i])
            let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            if i + 1 < bytes.count { out.append(alphabet[Int(n >> 6 & 63)]) }
            if i + 2 < bytes.count { out.append(alphabet[Int(n & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        var values: [UInt8] = []
        values.reserveCapacity(text.utf8.count)
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): values.append(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): values.append(c - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): values.append(c - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "-"): values.append(62)
            case UInt8(ascii: "_"): values.append(63)
            default: return nil
            }
        }
        guard values.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 3 / 4)
        var i = 0
        while i < values.count {
            let chunk = values[i..<min(i + 4, values.count)]
            var n: UInt32 = 0
            for (k, v) in chunk.enumerated() { n |= UInt32(v) << (18 - 6 * UInt32(k)) }
            out.append(UInt8(n >> 16 & 0xff))
            if chunk.count > 2 { out.append(UInt8(n >> 8 & 0xff)) }
            if chunk.count > 3 { out.append(UInt8(n & 0xff)) }
            i += 4
        }
        return out
    }
}
