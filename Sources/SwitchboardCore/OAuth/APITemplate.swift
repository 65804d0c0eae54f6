import Foundation

/// A value of an integration's `api` section with `{placeholders}` filled from a connection's
/// `auth`: `https://{subdomain}.zendesk.com/api/v2`, `{key|token}`. A placeholder names a string
/// member of `auth` or of `auth.meta` (`auth` first); `{a|b}` takes the first name present.
public struct APITemplate: Sendable, Equatable {
    public enum Part: Sendable, Equatable {
        case literal(String)
        /// Alternatives, first present wins.
        case placeholder([String])
    }

    public let text: String
    public let parts: [Part]

    /// Parses `text`; the error says what is wrong (an unbalanced brace, a bad name).
    public init(parsing text: String) throws(ValidationError) {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(where: { $0 == "{" || $0 == "}" }) {
            guard rest[open] == "{", let close = rest[open...].firstIndex(of: "}") else {
                throw ValidationError(field: "template", message: "has an unbalanced brace")
            }
            if open > rest.startIndex { parts.append(.literal(String(rest[..<open]))) }
            let names = rest[rest.index(after: open)..<close].split(separator: "|", omittingEmptySubsequences: false)
                .map(String.init)
            for name in names where !Self.isName(name) {
                throw ValidationError(
                    field: "template",
                    message: "has the placeholder name \"\(name.prefix(64))\"; names match ^[a-z0-9_]{1,64}$"
                )
            }
            parts.append(.placeholder(names))
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        self.text = text
        self.parts = parts
    }

    public var hasPlaceholders: Bool {
        parts.contains { if case .placeholder = $0 { true } else { false } }
    }

    /// `names` as written in errors: `auth.subdomain` or `auth.key|auth.token`.
    public static func describe(_ names: [String]) -> String {
        names.map { "auth.\($0)" }.joined(separator: " or ")
    }

    /// The value of the first present name among `names`: a non-empty string member of `auth`, or
    /// else of `auth.meta`.
    public static func value(_ names: [String], in auth: JSONValue) -> String? {
        for name in names {
            if case .string(let value)? = auth[name], !value.isEmpty { return value }
            if case .string(let value)? = auth["meta"]?[name], !value.isEmpty { return value }
        }
        return nil
    }

    /// Checks a base URL template: an absolute `https` URL (`http` only on a loopback host), no
    /// user information, query or fragment, once each placeholder reads `x`. A URL that starts
    /// with a placeholder (a whole URL from the connection) passes only when `wholeURLAllowed`.
    public static func checkBaseURL(_ text: String, field: String, wholeURLAllowed: Bool) throws(ValidationError) {
        let template: APITemplate
        do { template = try APITemplate(parsing: text) } catch {
            throw ValidationError(field: field, message: "\(field) \(error.message)")
        }
        if case .placeholder? = template.parts.first {
            guard wholeURLAllowed else {
                throw ValidationError(
                    field: field,
                    message: "\(field) must start with its scheme and host, not a placeholder"
                )
            }
            return
        }
        var sample = ""
        for part in template.parts {
            switch part {
            case .literal(let literal): sample += literal
            case .placeholder: sample += "x"
            }
        }
        guard !sample.contains(where: { $0.isWhitespace }), let url = URLComponents(string: sample),
            let scheme = url.scheme?.lowercased(), var host = url.host, !host.isEmpty
        else {
            throw ValidationError(
                field: field,
                message: "\(field) must be an absolute URL, got \"\(text.prefix(200))\""
            )
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard url.user == nil, url.password == nil, url.query == nil, url.fragment == nil else {
            throw ValidationError(
                field: field,
                message: "\(field) must not carry user information, a query or a fragment"
            )
        }
        guard scheme == "https" || (scheme == "http" && ["127.0.0.1", "::1", "localhost"].contains(host.lowercased()))
        else {
            throw ValidationError(
                field: field,
                message: "\(field) must use https (http is allowed only for 127.0.0.1, ::1 and localhost)"
            )
        }
    }

    static func isName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }
}
