import Foundation
import SwitchboardCore
import SwitchboardEgress
import Yams

/// Builds the `IntegrationCatalog` from YAML definition files: the ones shipped in this module's
/// `Integrations` resource directory, then an operator's directory whose files add integrations or
/// replace shipped ones with the same `type`. The format is in `docs/integrations.md`.
///
/// Validation is strict: a missing or unknown key, a wrong type, an unknown category or permission,
/// or a URL that is neither https nor loopback http fails the whole load with an error naming the
/// file and the field, so a typo stops the server at start instead of silently changing behaviour.
public enum IntegrationCatalogLoader {
    /// A definition file (or directory) that cannot be used.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The path of the file, or of the directory when it cannot be listed.
        public let file: String
        /// The dotted path of the offending key (`auth.token_url`, `auth.permissions.crm_contact_read`),
        /// nil when the problem is the file as a whole.
        public let field: String?
        public let message: String

        public init(file: String, field: String?, message: String) {
            self.file = file
            self.field = field
            self.message = message
        }

        public var description: String {
            if let field { return "integration definition \(file): \(field): \(message)" }
            return "integration definition \(file): \(message)"
        }
    }

    /// File extensions read from a definition directory.
    public static let fileExtensions: Set<String> = ["yaml", "yml"]

    /// The definitions shipped with the server (the `Integrations` resource directory).
    public static func shippedDirectory() throws(Failure) -> URL {
        guard let url = Bundle.module.url(forResource: "Integrations", withExtension: nil) else {
            throw Failure(
                file: "Integrations",
                field: nil,
                message: "the directory is missing from the SwitchboardServer resource bundle"
            )
        }
        return url
    }

    /// The catalog: every shipped definition, then the operator's directory (when given) on top.
    public static func load(operatorDirectory: String?) throws(Failure) -> IntegrationCatalog {
        try load(
            shippedDirectory: try shippedDirectory(),
            operatorDirectory: operatorDirectory.map { URL(fileURLWithPath: $0, isDirectory: true) }
        )
    }

    /// The catalog from explicit directories. A definition in `operatorDirectory` replaces the one
    /// of `shippedDirectory` with the same type; within one directory, two files with the same type
    /// are an error.
    public static func load(shippedDirectory: URL, operatorDirectory: URL?) throws(Failure) -> IntegrationCatalog {
        var byType: [String: IntegrationDefinition] = [:]
        for definition in try definitions(in: shippedDirectory) { byType[definition.type] = definition }
        if let operatorDirectory {
            for definition in try definitions(in: operatorDirectory) { byType[definition.type] = definition }
        }
        return IntegrationCatalog(Array(byType.values))
    }

    /// Every definition file (`*.yaml`, `*.yml`; hidden files and subdirectories ignored) of one
    /// directory, parsed and validated, in file name order. Symbolic links are followed (a
    /// Kubernetes ConfigMap mount is a directory of links).
    public static func definitions(in directory: URL) throws(Failure) -> [IntegrationDefinition] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw Failure(file: directory.path, field: nil, message: "cannot list the directory: \(error)")
        }
        var definitions: [IntegrationDefinition] = []
        var fileByType: [String: String] = [:]
        for name in names.sorted() where !name.hasPrefix(".") {
            let file = directory.appendingPathComponent(name, isDirectory: false)
            guard fileExtensions.contains(file.pathExtension.lowercased()) else { continue }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            let definition = try definition(contentsOf: file)
            if let other = fileByType[definition.type] {
                throw Failure(
                    file: file.path,
                    field: "type",
                    message: "type \"\(definition.type)\" is already defined by \(other) in the same directory"
                )
            }
            fileByType[definition.type] = file.path
            definitions.append(definition)
        }
        return definitions
    }

    /// One definition file, parsed and validated.
    public static func definition(contentsOf file: URL) throws(Failure) -> IntegrationDefinition {
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw Failure(file: file.path, field: nil, message: "cannot read the file: \(error)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw Failure(file: file.path, field: nil, message: "the file is not UTF-8")
        }
        return try definition(yaml: text, file: file.path)
    }

    /// One definition from YAML text; `file` names it in errors.
    public static func definition(yaml: String, file: String) throws(Failure) -> IntegrationDefinition {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw Failure(file: file, field: nil, message: "invalid YAML: \(error)")
        }
        guard let root else { throw Failure(file: file, field: nil, message: "the file is empty") }
        return try DefinitionParser(file: file).parse(root)
    }
}

// MARK: - Parsing

/// Reads one definition; every error names the file and the dotted key.
private struct DefinitionParser {
    typealias Failure = IntegrationCatalogLoader.Failure

    static let topLevelKeys = [
        "type", "name", "categories", "description", "web_url", "api_docs_url", "logo_url", "color",
        "text_color", "updated_at", "hidden", "beta", "auth", "api",
    ]
    static let apiKeys = ["base_url", "credential", "headers", "hosts"]
    static let credentialKeys: [String: [String]] = [
        "bearer": ["in", "value"], "basic": ["in", "username", "password"], "header": ["in", "name", "value"],
        "query": ["in", "name", "value"],
    ]
    /// Headers an `api.headers` entry may not set: framing, routing and the credential's own.
    static let reservedAPIHeaders: Set<String> = [
        "authorization", "host", "content-length", "transfer-encoding", "connection", "keep-alive", "te", "trailer",
        "upgrade", "cookie", "proxy-authorization",
    ]
    static let oauth2Keys = [
        "kind", "authorize_url", "token_url", "pkce", "token_endpoint_auth", "scope_separator",
        "default_scopes", "authorize_params", "permissions", "meta_from",
    ]
    static let tokenKeys = ["kind", "token_names"]
    /// Query parameters Switchboard writes itself; a definition may not set them.
    static let reservedAuthorizeParameters: Set<String> = [
        "response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method",
    ]
    static let loopbackHosts: Set<String> = ["127.0.0.1", "::1", "localhost"]
    static let placeholder = "{subdomain}"

    let file: String

    func failure(_ field: String?, _ message: String, at node: Node? = nil) -> Failure {
        let line = node?.mark.map { " (line \($0.line))" } ?? ""
        return Failure(file: file, field: field, message: message + line)
    }

    func parse(_ root: Node) throws(Failure) -> IntegrationDefinition {
        var top = try mapping(root, path: nil)
        try top.refuseUnknownKeys(allowed: Self.topLevelKeys, parser: self)

        let type = try requiredString(&top, "type")
        guard Self.isIdentifier(type) else {
            throw failure("type", "must match ^[a-z0-9_]{1,64}$, got \"\(type)\"")
        }
        let name = try requiredString(&top, "name")
        let categories = try parseCategories(&top)
        let description = try optionalString(&top, "description")
        let webURL = try optionalURL(&top, "web_url")
        let apiDocsURL = try optionalURL(&top, "api_docs_url")
        let logoURL = try optionalURL(&top, "logo_url")
        let color = try optionalColor(&top, "color")
        let textColor = try optionalColor(&top, "text_color")
        let updatedAt = try optionalDate(&top, "updated_at")
        let hidden = try optionalBool(&top, "hidden") ?? false
        let beta = try optionalBool(&top, "beta") ?? false

        guard let authNode = top.take("auth") else { throw failure("auth", "is required") }
        var auth = try mapping(authNode, path: "auth")
        let kindText = try requiredString(&auth, "kind")
        guard let kind = IntegrationDefinition.AuthKind(rawValue: kindText) else {
            throw failure(
                "auth.kind",
                "must be one of \(Self.list(IntegrationDefinition.AuthKind.allCases.map(\.rawValue))), got \"\(kindText)\""
            )
        }
        var oauth2: IntegrationDefinition.OAuth2?
        var tokenNames: [String] = []
        switch kind {
        case .oauth2:
            try auth.refuseUnknownKeys(allowed: Self.oauth2Keys, parser: self, context: "auth kind oauth2")
            oauth2 = try parseOAuth2(&auth)
        case .apiKey, .basic:
            try auth.refuseUnknownKeys(allowed: Self.tokenKeys, parser: self, context: "auth kind \(kind.rawValue)")
            tokenNames = try parseTokenNames(&auth)
        }

        let api = try top.take("api").map { node throws(Failure) in try parseAPI(node) }

        return IntegrationDefinition(
            type: type,
            name: name,
            categories: categories,
            authKind: kind,
            oauth2: oauth2,
            api: api,
            tokenNames: tokenNames,
            description: description,
            webURL: webURL,
            apiDocsURL: apiDocsURL,
            logoURL: logoURL,
            color: color,
            textColor: textColor,
            isHidden: hidden,
            beta: beta,
            updatedAt: updatedAt
        )
    }

    // MARK: Sections

    private func parseCategories(_ top: inout Fields) throws(Failure) -> [Category] {
        guard let node = top.take("categories") else { throw failure("categories", "is required") }
        let names = try strings(node, field: "categories")
        guard !names.isEmpty else { throw failure("categories", "must name at least one category", at: node) }
        var categories: [Category] = []
        for (index, name) in names.enumerated() {
            guard let category = Category(name) else {
                throw failure("categories[\(index)]", "unknown category \"\(name)\"", at: node)
            }
            guard !categories.contains(category) else {
                throw failure("categories[\(index)]", "category \"\(name)\" is listed twice", at: node)
            }
            categories.append(category)
        }
        return categories
    }

    private func parseOAuth2(_ auth: inout Fields) throws(Failure) -> IntegrationDefinition.OAuth2 {
        let authorizeURL = try requiredString(&auth, "authorize_url")
        try validateEndpoint(authorizeURL, field: "auth.authorize_url")
        let tokenURL = try requiredString(&auth, "token_url")
        try validateEndpoint(tokenURL, field: "auth.token_url")
        guard let pkce = try optionalBool(&auth, "pkce") else { throw failure("auth.pkce", "is required") }

        let styleText = try requiredString(&auth, "token_endpoint_auth")
        guard let style = IntegrationDefinition.TokenEndpointAuth(rawValue: styleText) else {
            let allowed = Self.list(IntegrationDefinition.TokenEndpointAuth.allCases.map(\.rawValue))
            throw failure("auth.token_endpoint_auth", "must be one of \(allowed), got \"\(styleText)\"")
        }

        let separator = try optionalString(&auth, "scope_separator") ?? " "
        guard separator.count == 1, !separator.unicodeScalars.contains(where: Self.isControl) else {
            throw failure("auth.scope_separator", "must be a single character, got \"\(separator)\"")
        }

        var defaultScopes: [String] = []
        if let node = auth.take("default_scopes") {
            defaultScopes = try scopes(node, field: "auth.default_scopes", separator: separator)
        }

        var parameters: [String: String] = [:]
        if let node = auth.take("authorize_params") {
            var fields = try mapping(node, path: "auth.authorize_params")
            for key in fields.keys {
                let field = "auth.authorize_params.\(key)"
                guard !Self.reservedAuthorizeParameters.contains(key) else {
                    throw failure(field, "is set by Switchboard and may not be overridden")
                }
                guard let value = fields.take(key) else { throw failure(field, "must have a value") }
                parameters[key] = try string(value, field: field)
            }
        }

        var permissionScopes: [String: [String]] = [:]
        if let node = auth.take("permissions") {
            var fields = try mapping(node, path: "auth.permissions")
            for key in fields.keys {
                let field = "auth.permissions.\(key)"
                guard Permission(key) != nil else { throw failure(field, "unknown Unified permission \"\(key)\"") }
                guard let value = fields.take(key) else {
                    throw failure(field, "must be a list of provider scopes ([] when none is needed)")
                }
                permissionScopes[key] = try scopes(value, field: field, separator: separator)
            }
        }

        var metaFrom: [String: IntegrationDefinition.OAuth2.MetaSource] = [:]
        if let node = auth.take("meta_from") {
            var fields = try mapping(node, path: "auth.meta_from")
            for key in fields.keys {
                let field = "auth.meta_from.\(key)"
                guard Self.isIdentifier(key), !["token_type", "scope", "subdomain"].contains(key) else {
                    throw failure(
                        field,
                        "must be a meta name ^[a-z0-9_]{1,64}$ other than token_type, scope and subdomain"
                    )
                }
                guard let value = fields.take(key) else { throw failure(field, "must have a value") }
                let text = try string(value, field: field)
                let parts = text.split(separator: ".", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[1].isEmpty, parts[1].utf8.count <= 64,
                    parts[1].utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
                else { throw failure(field, "must be token.<field> or callback.<parameter>, got \"\(text)\"") }
                switch parts[0] {
                case "token": metaFrom[key] = .token(parts[1])
                case "callback": metaFrom[key] = .callback(parts[1])
                default: throw failure(field, "must be token.<field> or callback.<parameter>, got \"\(text)\"")
                }
            }
        }

        return IntegrationDefinition.OAuth2(
            authorizeURL: authorizeURL,
            tokenURL: tokenURL,
            pkce: pkce,
            tokenEndpointAuth: style,
            defaultScopes: defaultScopes,
            permissionScopes: permissionScopes,
            scopeSeparator: separator,
            authorizeParameters: parameters,
            metaFrom: metaFrom
        )
    }

    private func parseTokenNames(_ auth: inout Fields) throws(Failure) -> [String] {
        guard let node = auth.take("token_names") else { throw failure("auth.token_names", "is required") }
        let names = try strings(node, field: "auth.token_names")
        guard !names.isEmpty else { throw failure("auth.token_names", "must name at least one value", at: node) }
        for (index, name) in names.enumerated() {
            guard Self.isIdentifier(name) else {
                throw failure("auth.token_names[\(index)]", "must match ^[a-z0-9_]{1,64}$, got \"\(name)\"", at: node)
            }
            guard names.firstIndex(of: name) == index else {
                throw failure("auth.token_names[\(index)]", "\"\(name)\" is listed twice", at: node)
            }
        }
        return names
    }

    /// The `api` section: a base URL template, where the credential goes, fixed headers, and the
    /// hosts a whole-URL placeholder may name.
    private func parseAPI(_ node: Node) throws(Failure) -> IntegrationDefinition.API {
        var api = try mapping(node, path: "api")
        try api.refuseUnknownKeys(allowed: Self.apiKeys, parser: self)
        let baseURL = try requiredString(&api, "base_url")
        let base = try template(baseURL, field: "api.base_url")
        var hosts: [String] = []
        if let node = api.take("hosts") {
            hosts = try strings(node, field: "api.hosts")
            for (index, host) in hosts.enumerated() {
                let name = host.hasPrefix("*.") ? String(host.dropFirst(2)) : host
                guard EgressPolicy.isHostName(name.lowercased()) else {
                    throw failure("api.hosts[\(index)]", "must be a host name or *.domain, got \"\(host)\"", at: node)
                }
            }
        }
        if case .placeholder? = base.parts.first {
            // The whole URL comes from the connection: only the listed hosts are reachable.
            guard !hosts.isEmpty else {
                throw failure(
                    "api.hosts",
                    "is required when api.base_url starts with a placeholder: list the hosts it may name"
                )
            }
        } else {
            var sample = ""
            for part in base.parts {
                switch part {
                case .literal(let text): sample += text
                case .placeholder: sample += "x"
                }
            }
            try validateURL(sample, field: "api.base_url")
            guard URLComponents(string: sample)?.query == nil else {
                throw failure("api.base_url", "must not have a query string")
            }
        }

        guard let credentialNode = api.take("credential") else { throw failure("api.credential", "is required") }
        let credential = try parseCredential(credentialNode)

        var headers: [String: String] = [:]
        if let node = api.take("headers") {
            var fields = try mapping(node, path: "api.headers")
            for key in fields.keys {
                let field = "api.headers.\(key)"
                guard Self.isToken(key), !Self.reservedAPIHeaders.contains(key.lowercased()) else {
                    throw failure(field, "is not a header name a definition may set")
                }
                guard let value = fields.take(key) else { throw failure(field, "must have a value") }
                let text = try string(value, field: field)
                _ = try template(text, field: field)
                headers[key] = text
            }
        }
        return IntegrationDefinition.API(baseURL: baseURL, credential: credential, headers: headers, hosts: hosts)
    }

    private func parseCredential(_ node: Node) throws(Failure) -> IntegrationDefinition.API.Credential {
        var fields = Fields(prefix: "api.credential")
        let placement: String
        if case .scalar = node {
            // `credential: bearer` is `{in: bearer}`.
            placement = try string(node, field: "api.credential")
        } else {
            fields = try mapping(node, path: "api.credential")
            placement = try requiredString(&fields, "in")
        }
        guard let allowed = Self.credentialKeys[placement] else {
            throw failure(
                "api.credential.in",
                "must be one of \(Self.list(Self.credentialKeys.keys.sorted())), got \"\(placement)\""
            )
        }
        try fields.refuseUnknownKeys(allowed: allowed, parser: self, context: "credential in \(placement)")
        func value(_ key: String, default fallback: String? = nil) throws(Failure) -> String {
            let field = "api.credential.\(key)"
            guard let text = try optionalString(&fields, key) ?? fallback else { throw failure(field, "is required") }
            _ = try template(text, field: field)
            return text
        }
        func name() throws(Failure) -> String {
            let text = try requiredString(&fields, "name")
            guard Self.isToken(text), !Self.reservedAPIHeaders.contains(text.lowercased()) else {
                throw failure("api.credential.name", "is not a name a definition may set, got \"\(text)\"")
            }
            return text
        }
        switch placement {
        case "bearer": return .bearer(value: try value("value", default: "{access_token}"))
        case "basic":
            return .basic(username: try value("username"), password: try value("password", default: ""))
        case "header": return .header(name: try name(), value: try value("value"))
        default: return .query(name: try name(), value: try value("value"))
        }
    }

    private func template(_ text: String, field: String) throws(Failure) -> APITemplate {
        do { return try APITemplate(parsing: text) } catch { throw failure(field, error.message) }
    }

    // MARK: URLs

    /// An authorize or token endpoint: absolute https (http only on loopback), `{subdomain}` the
    /// only placeholder.
    private func validateEndpoint(_ text: String, field: String) throws(Failure) {
        var rest = Substring(text)
        while let open = rest.firstIndex(where: { $0 == "{" || $0 == "}" }) {
            guard rest[open] == "{", let close = rest[open...].firstIndex(of: "}") else {
                throw failure(field, "has an unbalanced brace; the only placeholder allowed is \(Self.placeholder)")
            }
            let placeholder = rest[open...close]
            guard placeholder == Self.placeholder else {
                throw failure(field, "has the placeholder \(placeholder); the only one allowed is \(Self.placeholder)")
            }
            rest = rest[rest.index(after: close)...]
        }
        try validateURL(text.replacingOccurrences(of: Self.placeholder, with: "subdomain"), field: field)
    }

    /// An absolute https URL, or http on a loopback host.
    private func validateURL(_ text: String, field: String) throws(Failure) {
        guard !text.contains(where: { $0.isWhitespace }),
            let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(),
            var host = components.host, !host.isEmpty
        else { throw failure(field, "must be an absolute URL, got \"\(text)\"") }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard components.user == nil, components.password == nil else {
            throw failure(field, "must not carry credentials")
        }
        guard components.fragment == nil else { throw failure(field, "must not have a fragment") }
        switch scheme {
        case "https": return
        case "http" where Self.loopbackHosts.contains(host.lowercased()): return
        case "http": throw failure(field, "must use https (http is allowed only for 127.0.0.1, ::1 and localhost)")
        default: throw failure(field, "must be an https URL, got scheme \"\(scheme)\"")
        }
    }

    private func optionalURL(_ fields: inout Fields, _ key: String) throws(Failure) -> String? {
        guard let value = try optionalString(&fields, key) else { return nil }
        if value.contains("{") || value.contains("}") { throw failure(key, "may not contain placeholders") }
        try validateURL(value, field: key)
        return value
    }

    // MARK: Scalars

    private func optionalColor(_ fields: inout Fields, _ key: String) throws(Failure) -> String? {
        guard let value = try optionalString(&fields, key) else { return nil }
        let digits = value.dropFirst()
        guard value.hasPrefix("#"), digits.count == 6, digits.allSatisfy(\.isHexDigit) else {
            throw failure(key, "must be a #RRGGBB color, got \"\(value)\"")
        }
        return value
    }

    private func optionalDate(_ fields: inout Fields, _ key: String) throws(Failure) -> String? {
        guard let value = try optionalString(&fields, key) else { return nil }
        let parts = value.split(separator: "-", omittingEmptySubsequences: false)
        let numbers = parts.map { part in part.allSatisfy(\.isASCII) ? Int(part) : nil }
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = numbers[0], let month = numbers[1], let day = numbers[2],
            (1...12).contains(month), (1...Self.days(inMonth: month, year: year)).contains(day)
        else { throw failure(key, "must be a date YYYY-MM-DD, got \"\(value)\"") }
        return value
    }

    private func requiredString(_ fields: inout Fields, _ key: String) throws(Failure) -> String {
        guard let value = try optionalString(&fields, key) else { throw failure(fields.path(key), "is required") }
        return value
    }

    private func optionalString(_ fields: inout Fields, _ key: String) throws(Failure) -> String? {
        guard let node = fields.take(key) else { return nil }
        let value = try string(node, field: fields.path(key))
        guard !value.trimmingCharacters(in: .whitespaces).isEmpty || key == "scope_separator" else {
            throw failure(fields.path(key), "must not be empty", at: node)
        }
        return value
    }

    private func optionalBool(_ fields: inout Fields, _ key: String) throws(Failure) -> Bool? {
        guard let node = fields.take(key) else { return nil }
        guard node.tagName == .bool, let value = node.bool else {
            throw failure(fields.path(key), "must be true or false", at: node)
        }
        return value
    }

    private func string(_ node: Node, field: String) throws(Failure) -> String {
        guard case .scalar(let scalar) = node, node.tagName != .bool, node.tagName != .null else {
            throw failure(field, "must be a string", at: node)
        }
        guard !scalar.string.unicodeScalars.contains(where: Self.isControl) else {
            throw failure(field, "must not contain control characters", at: node)
        }
        return scalar.string
    }

    private func strings(_ node: Node, field: String) throws(Failure) -> [String] {
        guard case .sequence(let sequence) = node else { throw failure(field, "must be a list", at: node) }
        var values: [String] = []
        for (index, element) in sequence.enumerated() {
            values.append(try string(element, field: "\(field)[\(index)]"))
        }
        return values
    }

    /// Provider scope strings: non-empty, no whitespace, never the separator.
    private func scopes(_ node: Node, field: String, separator: String) throws(Failure) -> [String] {
        let values = try strings(node, field: field)
        for (index, scope) in values.enumerated() {
            guard !scope.isEmpty, !scope.contains(where: \.isWhitespace), !scope.contains(separator) else {
                throw failure(
                    "\(field)[\(index)]",
                    "must be one provider scope (not empty, no whitespace, no \"\(separator)\"), got \"\(scope)\"",
                    at: node
                )
            }
        }
        return values
    }

    private func mapping(_ node: Node, path: String?) throws(Failure) -> Fields {
        guard case .mapping(let mapping) = node else {
            throw failure(path, path == nil ? "the file must be a YAML mapping" : "must be a mapping", at: node)
        }
        var fields = Fields(prefix: path)
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key, key.tagName == .str else {
                throw failure(path, "keys must be strings", at: key)
            }
            fields.append(scalar.string, value)
        }
        return fields
    }

    // MARK: Helpers

    static func isIdentifier(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }

    /// An HTTP field name (RFC 9110 token).
    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64
            && text.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                    || "!#$%&'*+-.^_`|~".utf8.contains(b)
            }
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.generalCategory == .control }

    static func list(_ values: [String]) -> String { values.joined(separator: ", ") }

    static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// The keys of one YAML mapping, consumed as they are read so unknown keys can be refused.
private struct Fields {
    let prefix: String?
    private(set) var keys: [String] = []
    private var nodes: [String: Node] = [:]

    init(prefix: String?) { self.prefix = prefix }

    mutating func append(_ key: String, _ node: Node) {
        keys.append(key)
        nodes[key] = node
    }

    func path(_ key: String) -> String { prefix.map { "\($0).\(key)" } ?? key }

    /// The value of `key`, nil when absent or null (`key:` or `key: ~`).
    mutating func take(_ key: String) -> Node? {
        guard let node = nodes.removeValue(forKey: key) else { return nil }
        return node.tagName == .null ? nil : node
    }

    func refuseUnknownKeys(
        allowed: [String],
        parser: DefinitionParser,
        context: String? = nil
    ) throws(IntegrationCatalogLoader.Failure) {
        for key in keys where !allowed.contains(key) {
            let scope = context.map { " for \($0)" } ?? ""
            throw parser.failure(
                path(key),
                "unknown key\(scope) (allowed: \(DefinitionParser.list(allowed)))",
                at: nodes[key]
            )
        }
    }
}

extension Node {
    /// The resolved tag's name (`Tag.name` is internal to Yams).
    fileprivate var tagName: Tag.Name { Tag.Name(rawValue: tag.rawValue) }
}
