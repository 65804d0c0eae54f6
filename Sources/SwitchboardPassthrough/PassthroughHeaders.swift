import NIOHTTP1

/// Which headers cross Switchboard in each direction.
enum PassthroughHeaders {
    /// Hop-by-hop headers (RFC 9110 §7.6.1), never forwarded in either direction.
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "proxy-connection",
        "proxy-authenticate", "proxy-authorization",
    ]
    /// Caller headers that are Switchboard's, not the provider's: the API key (`authorization`),
    /// the caller's cookies, the host, the body framing (set from the body sent), and `expect`.
    /// The forwarding headers (`Forwarded`, `X-Forwarded-*`, `X-Real-IP`) describe the network in
    /// front of Switchboard and its clients' addresses, which are not the provider's business.
    static let consumed: Set<String> = [
        "authorization", "cookie", "host", "content-length", "expect", "forwarded", "x-real-ip",
    ]

    /// The caller's headers as sent on: hop-by-hop, consumed and `x-switchboard-*` headers (and
    /// any the caller's `Connection` header names) dropped; `setting` then replaces any header of
    /// the same name, so the credential and the integration's fixed headers always win.
    static func forwarded(
        _ headers: [(name: String, value: String)],
        setting: [(name: String, value: String)]
    ) -> HTTPHeaders {
        let named = connectionNamed(headers)
        var result = HTTPHeaders()
        for (name, value) in headers {
            let lower = name.lowercased()
            if hopByHop.contains(lower) || consumed.contains(lower) || lower.hasPrefix("proxy-")
                || lower.hasPrefix("x-switchboard-") || lower.hasPrefix("x-forwarded-") || named.contains(lower)
            {
                continue
            }
            result.add(name: name, value: value)
        }
        for (name, value) in setting { result.replaceOrAdd(name: name, value: value) }
        return result
    }

    /// The provider's headers as relayed: hop-by-hop (and those its `Connection` header names),
    /// `access-control-*` (Switchboard's origin is not the provider's), `x-switchboard-*` and
    /// `set-cookie` dropped (a provider's session cookie is a credential, which a key with only
    /// `connections:proxy` must never obtain). `Content-Length` stays when the provider sent it; `Transfer-Encoding` never does,
    /// so the two are never both sent.
    static func relayed(_ headers: HTTPHeaders) -> [(name: String, value: String)] {
        let pairs = headers.map { (name: $0.name, value: $0.value) }
        let named = connectionNamed(pairs)
        return pairs.filter { header in
            let lower = header.name.lowercased()
            return !hopByHop.contains(lower) && !named.contains(lower) && !lower.hasPrefix("access-control-")
                && !lower.hasPrefix("x-switchboard-") && lower != "set-cookie"
        }
    }

    /// The header names a `Connection` header lists (hop-by-hop by declaration).
    static func connectionNamed(_ headers: [(name: String, value: String)]) -> Set<String> {
        var names: Set<String> = []
        for (name, value) in headers where name.lowercased() == "connection" {
            for token in value.split(separator: ",") {
                names.insert(
                    String(
                        token.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
                    ).lowercased()
                )
            }
        }
        return names
    }
}
