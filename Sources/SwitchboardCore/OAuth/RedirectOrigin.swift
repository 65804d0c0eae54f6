import Foundation

/// Origins of redirect URLs: `scheme://host[:port]`, lower-cased, default ports dropped.
public enum RedirectOrigin {
    /// The origin of `url`, or nil if it is not an absolute https URL (http only for loopback
    /// hosts) without user info. With `allowPath: false`, anything after the origin is refused.
    /// Only printable ASCII is accepted: a raw CR, LF, space, backslash or a character such as
    /// U+2028 is read differently by browsers, proxies and header writers, so it never passes.
    public static func normalize(_ url: String, allowPath: Bool = true) -> String? {
        guard url.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }) else { return nil }
        guard url.utf8.count <= 2048, let components = URLComponents(string: url),
            let scheme = components.scheme?.lowercased(), let host = components.host?.lowercased(), !host.isEmpty,
            components.user == nil, components.password == nil
        else { return nil }
        let loopback = ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host)
        guard scheme == "https" || (scheme == "http" && loopback) else { return nil }
        // DNS names and IPv4 addresses only (plus loopback IPv6): nothing a browser might read differently.
        let plainHost = host.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x2D
        }
        guard plainHost || loopback else { return nil }
        if !allowPath {
            guard components.path.isEmpty || components.path == "/", components.query == nil, components.fragment == nil
            else { return nil }
        }
        let defaultPort = scheme == "https" ? 443 : 80
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        if let port = components.port, port != defaultPort { return "\(scheme)://\(hostPart):\(port)" }
        return "\(scheme)://\(hostPart)"
    }
}
