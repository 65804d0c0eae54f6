import Foundation

/// Query strings and form bodies (`application/x-www-form-urlencoded`) for the OAuth flow.
public enum FormEncoding {
    /// `url` with `parameters` appended to its query, form-encoded.
    public static func appending(_ parameters: [(String, String)], to url: String) -> String {
        let encoded = parameters.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
        guard !encoded.isEmpty else { return url }
        var base = url
        var fragment = ""
        if let hash = base.firstIndex(of: "#") {
            fragment = String(base[hash...])
            base = String(base[..<hash])
        }
        let separator = base.contains("?") ? (base.hasSuffix("?") || base.hasSuffix("&") ? "" : "&") : "?"
        return base + separator + encoded + fragment
    }

    /// Percent-encoding for a query component: everything but RFC 3986 unreserved characters.
    public static func encode(_ value: String) -> String {
        var out = ""
        for byte in value.utf8 {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E:
                out.unicodeScalars.append(UnicodeScalar(byte))
            default: out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
