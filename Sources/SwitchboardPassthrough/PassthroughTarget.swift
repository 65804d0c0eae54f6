import Foundation
import SwitchboardCore
import SwitchboardEgress

/// Where one passthrough call goes and what it carries: the integration's `api` section filled in
/// from the connection's `auth`, the caller's path appended to the base URL, its query string kept
/// byte for byte.
struct PassthroughTarget: Sendable, CustomStringConvertible {
    /// The provider URL. Holds a credential when the credential goes in the query: never logged.
    var url: String
    var host: String
    /// Set on the request, replacing any caller header of the same name: the credential and the
    /// integration's fixed headers.
    var headers: [(name: String, value: String)]

    var description: String { "PassthroughTarget(\(host), <redacted>)" }

    init(
        api: IntegrationDefinition.API,
        integrationType: String,
        auth: JSONValue,
        path: String,
        query: String?
    ) throws(PassthroughError) {
        let path = try Self.forwardedPath(path)
        let filler = Filler(auth: auth, integrationType: integrationType)
        var base = try filler.baseURL(api)
        while base.hasSuffix("/") { base.removeLast() }
        guard let destination = Destination(base) else {
            throw PassthroughError.invalidValue(
                placeholder: "",
                field: "api.base_url",
                reason: "the base URL of integration \"\(integrationType)\" is not an absolute http(s) URL"
            )
        }
        var url = base + "/" + path
        var query = query ?? ""
        var headers: [(name: String, value: String)] = []
        switch api.credential {
        case .bearer(let value):
            headers.append(("authorization", "Bearer " + (try filler.header(value, field: "api.credential.value"))))
        case .basic(let username, let password):
            let user = try filler.header(username, field: "api.credential.username")
            let pass = try filler.header(password, field: "api.credential.password")
            headers.append(("authorization", "Basic " + Data("\(user):\(pass)".utf8).base64EncodedString()))
        case .header(let name, let value):
            headers.append((name, try filler.header(value, field: "api.credential.value")))
        case .query(let name, let value):
            let filled = try filler.fill(value, field: "api.credential.value", encode: Self.percentEncoded)
            // The credential wins: a caller's parameter of the same name is dropped.
            let kept = query.split(separator: "&", omittingEmptySubsequences: true).filter { pair in
                let key = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
                return key != name && String(key).removingPercentEncoding != name
            }
            query = (kept.map(String.init) + ["\(Self.percentEncoded(name))=\(filled)"]).joined(separator: "&")
        }
        for (name, value) in api.headers.sorted(by: { $0.key < $1.key }) {
            headers.append((name, try filler.header(value, field: "api.headers.\(name)")))
        }
        if !query.isEmpty { url += "?" + query }
        self.url = url
        self.host = destination.host
        self.headers = headers
    }

    /// The caller's path as it is forwarded: leading slashes collapsed (the SDK's `//v1/x` is the
    /// vendor path `/v1/x`), percent-escapes kept. Dot segments (plain or escaped), backslashes,
    /// control characters and bytes outside ASCII are refused, so a path cannot climb out of the
    /// base URL's path.
    static func forwardedPath(_ raw: String) throws(PassthroughError) -> String {
        let path = String(raw.drop { $0 == "/" })
        for scalar in path.unicodeScalars where scalar.value <= 0x20 || scalar.value >= 0x7F || scalar == "\\" {
            throw PassthroughError.invalidPath(
                scalar == "\\"
                    ? "the path contains a backslash"
                    : "the path contains a control character, a space or a non-ASCII byte: percent-encode it"
            )
        }
        for segment in path.split(separator: "/", omittingEmptySubsequences: false) {
            let decoded = segment.replacingOccurrences(of: "%2e", with: ".", options: .caseInsensitive)
            if decoded == "." || decoded == ".." {
                throw PassthroughError.invalidPath("the path contains a \"\(decoded)\" segment")
            }
        }
        return path
    }

    /// Everything but RFC 3986's unreserved characters percent-encoded.
    static func percentEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(
            CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(0x80))
        )
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}

/// Fills templates from one connection's `auth`, naming the placeholder and field when it cannot.
private struct Filler {
    let auth: JSONValue
    let integrationType: String

    func template(_ text: String, field: String) throws(PassthroughError) -> APITemplate {
        do { return try APITemplate(parsing: text) } catch {
            // Validated when the catalog was loaded; reached only by a definition built in code.
            throw PassthroughError.invalidValue(placeholder: "", field: field, reason: error.message)
        }
    }

    func value(_ names: [String], field: String) throws(PassthroughError) -> String {
        guard let value = APITemplate.value(names, in: auth) else {
            throw PassthroughError.missingValue(
                placeholder: APITemplate.describe(names),
                field: field,
                integrationType: integrationType
            )
        }
        return value
    }

    func fill(
        _ text: String,
        field: String,
        encode: (String) throws(PassthroughError) -> String
    ) throws(PassthroughError)
        -> String
    {
        var result = ""
        for part in try template(text, field: field).parts {
            switch part {
            case .literal(let literal): result += literal
            case .placeholder(let names): result += try encode(try value(names, field: field))
            }
        }
        return result
    }

    /// A header value: a filled value may not break the header (no CR, LF or NUL).
    func header(_ text: String, field: String) throws(PassthroughError) -> String {
        try fill(text, field: field) { value throws(PassthroughError) in
            guard !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw PassthroughError.invalidValue(
                    placeholder: "",
                    field: field,
                    reason: "a value filled into \(field) contains a control character"
                )
            }
            return value
        }
    }

    /// The base URL. A placeholder in the host must be one DNS label; one in the path is
    /// percent-encoded; one that starts the URL must be a whole http(s) URL (no query, no user
    /// information) whose host the definition's `hosts` admits.
    func baseURL(_ api: IntegrationDefinition.API) throws(PassthroughError) -> String {
        let parts = try template(api.baseURL, field: "api.base_url").parts
        var result = ""
        for (index, part) in parts.enumerated() {
            switch part {
            case .literal(let literal): result += literal
            case .placeholder(let names):
                let value = try value(names, field: "api.base_url")
                let described = APITemplate.describe(names)
                func invalid(_ reason: String) -> PassthroughError {
                    .invalidValue(placeholder: described, field: "api.base_url", reason: reason)
                }
                if index == 0 {
                    guard let destination = Destination(value), !destination.hasUserInfo,
                        !value.contains("?"), !value.contains("#")
                    else {
                        throw invalid("\(described) must be an absolute http(s) URL without query or user information")
                    }
                    guard Self.matches(destination.host, api.hosts) else {
                        throw invalid("\(described) names a host the integration's api.hosts does not list")
                    }
                    result += value
                } else if Self.inAuthority(result) {
                    guard AuthorizationService.isDNSLabel(value) else {
                        throw invalid("\(described) must be a single DNS label (letters, digits and hyphens)")
                    }
                    result += value
                } else {
                    result += PassthroughTarget.percentEncoded(value)
                }
            }
        }
        return result
    }

    /// True while `prefix` (a URL being built) has not reached its path.
    static func inAuthority(_ prefix: String) -> Bool {
        guard let range = prefix.range(of: "://") else { return true }
        return !prefix[range.upperBound...].contains("/")
    }

    static func matches(_ host: String, _ patterns: [String]) -> Bool {
        patterns.contains { pattern in
            let pattern = pattern.lowercased()
            return pattern.hasPrefix("*.") ? host.hasSuffix(pattern.dropFirst(1)) : host == pattern
        }
    }
}
