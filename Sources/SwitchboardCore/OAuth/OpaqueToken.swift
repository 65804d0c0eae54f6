/// Random tokens handed to browsers and callers (`state`, re-authorization tokens), and the PKCE
/// values derived from them.
public enum OpaqueToken {
    /// 256 random bits, base64url without padding (43 characters).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return base64URL((0..<32).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
    }

    /// The PKCE verifier (RFC 7636 §4.1) of a flow, derived from its `state` so nothing secret is
    /// stored: the callback recomputes it from the `state` it receives.
    public static func pkceVerifier(state: String, hasher: any TokenHasher) -> String {
        base64URL(hasher.hash("switchboard/pkce-verifier/v1\u{0}\(state)"))
    }

    /// `S256` challenge of a verifier: base64url(SHA-256(verifier)).
    public static func pkceChallenge(verifier: String, hasher: any TokenHasher) -> String {
        base64URL(hasher.hash(verifier))
    }

    /// Plausible shape of a token we issued, checked before any lookup.
    public static func isWellFormed(_ token: String) -> Bool {
        token.utf8.count == 43
            && token.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D
                    || b == 0x5F
            }
    }

    /// base64url without padding.
    public static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[Int((n >> UInt32(shift)) & 63)]) }
            i += 3
        }
        let rest = bytes.count - i
        if rest > 0 {
            let n = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
            out.append(alphabet[Int((n >> 18) & 63)])
            out.append(alphabet[Int((n >> 12) & 63)])
            if rest == 2 { out.append(alphabet[Int((n >> 6) & 63)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
