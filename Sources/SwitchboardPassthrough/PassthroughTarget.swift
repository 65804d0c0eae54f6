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
        var query = try Self.forwardedQuery(query ?? "")
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
    /// vendor path `/v1/x`), percent-escapes kept, and any character a path may not hold
    /// percent-encoded (so the HTTP client never re-encodes it, which would double existing
    /// escapes). Refused: a malformed escape, an escaped NUL, backslashes, control characters,
    /// spaces and bytes outside ASCII, and any segment that is `.` or `..` once decoded, also
    /// across escaped separators (`..%2f`, `..%5c`) and before a `;` parameter, so a path cannot
    /// climb out of the base URL's path on any server.
    static func forwardedPath(_ raw: String) throws(PassthroughError) -> String {
        let path = String(raw.drop { $0 == "/" })
        for scalar in path.unicodeScalars where scalar.value <= 0x20 || scalar.value >= 0x7F || scalar == "\\" {
            throw PassthroughError.invalidPath(
                scalar == "\\"
                    ? "the path contains a backslash"
                    : "the path contains a control character, a space or a non-ASCII byte: percent-encode it"
            )
        }
        guard let decoded = percentDecoded(path) else {
            throw PassthroughError.invalidPath("the path has a malformed percent-escape")
        }
        guard !decoded.contains(0) else { throw PassthroughError.invalidPath("the path contains an escaped NUL") }
        for piece in decoded.split(omittingEmptySubsequences: false, whereSeparator: { $0 == 0x2F || $0 == 0x5C }) {
            let name = piece.prefix { $0 != 0x3B }  // before a `;` parameter
            if name.elementsEqual(".".utf8) || name.elementsEqual("..".utf8) {
                throw PassthroughError.invalidPath(
                    "the path contains a \"\(String(decoding: name, as: UTF8.self))\" segment"
                )
            }
        }
        return escapingInvalid(path, allowed: pathCharacters)
    }

    /// The caller's query string as it is forwarded: its bytes and escapes kept, any character a
    /// query may not hold percent-encoded (`[`, `]`, `|`...: the HTTP client would otherwise
    /// re-encode the whole query, doubling its escapes). A malformed escape is refused.
    static func forwardedQuery(_ raw: String) throws(PassthroughError) -> String {
        guard percentDecoded(raw) != nil else {
            throw PassthroughError.invalidPath("the query string has a malformed percent-escape")
        }
        return escapingInvalid(raw, allowed: queryCharacters)
    }

    /// RFC 3986's pchar and `/` (a path), and `?` besides (a query); `%` stands for its escapes.
    static let pathCharacters: Set<UInt8> = Set(
        Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/%".utf8)
    )
    static let queryCharacters: Set<UInt8> = pathCharacters.union(Array("?".utf8))

    static func escapingInvalid(_ text: String, allowed: Set<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            if allowed.contains(byte) {
                out.append(byte)
            } else {
                out += [0x25, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes `text` percent-decodes to; nil when an escape is malformed.
    static func percentDecoded(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var bytes = text.utf8.makeIterator()
        func value(_ b: UInt8) -> UInt8? {
            switch b {
            case 0x30...0x39: b - 0x30
            case 0x41...0x46: b - 0x41 + 10
            case 0x61...0x66: b - 0x61 + 10
            default: nil
            }
        }
        while let byte = bytes.next() {
            guard byte == 0x25 else {
                out.append(byte)
                continue
            }
            guard let high = bytes.next().flatMap(value), let low = bytes.next().flatMap(value) else { return nil }
            out.append(high << 4 | low)
        }
        return out
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
                    result += try Self.wholeURL(value, described: described, hosts: api.hosts)
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

    /// A whole base URL from the connection (Salesforce's `instance_url`), rebuilt from its parts:
    /// `https`, a host name `hosts` admits (letters, digits, hyphens and dots only: no escapes,
    /// no user information, no address), an optional port, and a path of plain characters.
    static func wholeURL(_ value: String, described: String, hosts: [String]) throws(PassthroughError) -> String {
        func invalid(_ reason: String) -> PassthroughError {
            .invalidValue(placeholder: described, field: "api.base_url", reason: "\(described) \(reason)")
        }
        guard let destination = Destination(value), destination.scheme == "https", !destination.hasUserInfo else {
            throw invalid("must be an https URL with a host and nothing before it")
        }
        guard EgressPolicy.isHostName(destination.host), IPAddress(destination.host) == nil else {
            throw invalid("must name its host by a DNS name")
        }
        guard matches(destination.host, hosts) else {
            throw invalid("names a host the integration's api.hosts does not list")
        }
        // What follows the authority: a path only, of characters that mean the same to every parser.
        let afterScheme = value.dropFirst("https://".count)
        let authority = afterScheme.prefix { $0 != "/" }.lowercased()
        guard authority == destination.host || authority == "\(destination.host):\(destination.port)" else {
            throw invalid("must have nothing but a port between its host and its path")
        }
        var path = afterScheme.drop { $0 != "/" }
        while path.hasSuffix("/") { path = path.dropLast() }
        guard path.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._~/".contains($0)) }) else {
            throw invalid("may only have a plain path after its host")
        }
        let port = destination.port == 443 ? "" : ":\(destination.port)"
        return "https://\(destination.host)\(port)\(path)"
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
