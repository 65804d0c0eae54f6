import SwitchboardCore

/// The raw query string, decoded by hand so that repeated keys, `+` for space and malformed
/// percent-encoding are all visible to validation.
struct QueryParameters: Sendable {
    var values: [String: [String]] = [:]

    init(query: String?) throws(APIError) {
        guard let query, !query.isEmpty else { return }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.decode(parts[0])
            let value = parts.count > 1 ? try Self.decode(parts[1]) : ""
            // Filter values may match stored text holding tabs or newlines (an external_xref
            // can), but never NUL, which PostgreSQL text cannot hold and SQLite would cut at.
            guard !name.utf8.contains(0), !value.utf8.contains(0) else {
                throw APIError.invalidParameter(
                    "the query parameter \"\(name.filter { $0 != "\u{0}" }.prefix(40))\" contains a NUL character (%00), which no parameter accepts"
                )
            }
            values[name, default: []].append(value)
        }
    }

    private static func decode(_ component: Substring) throws(APIError) -> String {
        guard let decoded = percentDecoded(component, plusIsSpace: true) else {
            throw APIError.invalidParameter(
                "the query string has invalid percent-encoding near \"\(component.prefix(40))\""
            )
        }
        return decoded
    }

    /// The single value of `name`; a repeated scalar parameter is ambiguous and refused.
    func single(_ name: String) throws(APIError) -> String? {
        guard let all = values[name] else { return nil }
        guard all.count == 1 else {
            throw APIError.invalidParameter("\(name) is given \(all.count) times; give it once")
        }
        return all[0]
    }

    func all(_ name: String) -> [String] { values[name] ?? [] }

    /// The parameters as a query string (names sorted, values percent-encoded), for building links.
    var encoded: String {
        values.keys.sorted().flatMap { name in
            values[name, default: []].map { "\(URLEncoding.percentEncoded(name))=\(URLEncoding.percentEncoded($0))" }
        }.joined(separator: "&")
    }
}
