import Foundation
import SwitchboardCore
import Testing

@testable import SwitchboardServer

/// The shipped integration definitions, the operator directory, and every validation rule of
/// `IntegrationCatalogLoader` (each error names the file and the field).
@Suite struct IntegrationCatalogTests {
    typealias Failure = IntegrationCatalogLoader.Failure

    /// A valid oauth2 definition the validation cases below break one line at a time.
    static let valid = """
        type: example
        name: Example
        categories: [crm, ticketing]
        description: An example.
        web_url: https://www.example.com
        color: "#112233"
        updated_at: "2026-11-26"
        auth:
          kind: oauth2
          authorize_url: https://{subdomain}.example.com/oauth/authorize
          token_url: https://api.example.com/oauth/token
          pkce: true
          token_endpoint_auth: client_secret_post
          default_scopes: [openid]
          authorize_params:
            access_type: offline
          permissions:
            crm_contact_read: [contacts.read]

        """

    static let validAPIKey = """
        type: example_key
        name: Example Key
        categories: [hris]
        auth:
          kind: api_key
          token_names: [api_key, subdomain]

        """

    /// `valid` with an `api` section (the API cases below break it one line at a time).
    static let validAPI =
        valid + """
            api:
              base_url: https://{subdomain}.example.com/api/v2
              credential: bearer
              headers:
                Example-Version: "2026-01-01"

            """

    /// A fresh temporary directory, removed after `body`.
    private func withDirectory<T>(_ body: (URL) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("integrations-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try body(directory)
    }

    private func write(_ text: String, _ name: String, in directory: URL) throws {
        try Data(text.utf8).write(to: directory.appendingPathComponent(name))
    }

    /// The repository root, found from this file's path.
    private func repositoryRoot() throws -> URL {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                return directory
            }
            directory = directory.deletingLastPathComponent()
        }
        throw Failure(file: #filePath, field: nil, message: "no Package.swift above this file")
    }

    // MARK: Shipped definitions

    @Test func everyShippedFileLoads() throws {
        let directory = try IntegrationCatalogLoader.shippedDirectory()
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".yaml") }
        let definitions = try IntegrationCatalogLoader.definitions(in: directory)
        #expect(definitions.count == files.count)
        #expect(Set(definitions.map { "\($0.type).yaml" }) == Set(files), "each file is named after its type")

        let catalog = try IntegrationCatalogLoader.load(operatorDirectory: nil)
        #expect(catalog.all.map(\.type) == definitions.map(\.type).sorted())
        for definition in definitions {
            #expect(!definition.categories.isEmpty)
            #expect(definition.apiDocsURL != nil, "\(definition.type) names its API docs")
            #expect(definition.updatedAt != nil)
        }
    }

    @Test func atLeastTwelveOAuth2Definitions() throws {
        let catalog = try IntegrationCatalogLoader.load(operatorDirectory: nil)
        let oauth2 = catalog.all.filter { $0.authKind == .oauth2 }
        #expect(oauth2.count >= 12)
        for definition in oauth2 {
            let oauth = try #require(definition.oauth2)
            #expect(oauth.authorizeURL.hasPrefix("https://"), "\(definition.type)")
            #expect(oauth.tokenURL.hasPrefix("https://"), "\(definition.type)")
            #expect(!oauth.permissionScopes.isEmpty, "\(definition.type) maps Unified permissions")
        }
        #expect(catalog.all.contains { $0.authKind == .apiKey })
        #expect(catalog.all.contains { $0.authKind == .basic })
    }

    @Test func shippedFactsSurviveParsing() throws {
        let catalog = try IntegrationCatalogLoader.load(operatorDirectory: nil)

        let zendesk = try #require(catalog.definition("zendesk")?.oauth2)
        #expect(zendesk.needsSubdomain)
        #expect(zendesk.authorizeURL == "https://{subdomain}.zendesk.com/oauth/authorizations/new")

        let google = try #require(catalog.definition("google_calendar")?.oauth2)
        #expect(google.authorizeParameters == ["access_type": "offline", "prompt": "consent"])
        #expect(google.pkce)
        #expect(google.tokenEndpointAuth == .clientSecretPost)

        let slack = try #require(catalog.definition("slack")?.oauth2)
        #expect(slack.scopeSeparator == ",")
        #expect(slack.tokenEndpointAuth == .clientSecretBasic)

        let hubspot = try #require(catalog.definition("hubspot"))
        #expect(hubspot.categories.map(\.name) == ["crm", "martech", "ticketing"])
        #expect(hubspot.oauth2?.permissionScopes["crm_contact_read"] == ["crm.objects.contacts.read"])
        #expect(hubspot.color == "#FF7A59")

        let bamboo = try #require(catalog.definition("bamboohr"))
        #expect(bamboo.authKind == .apiKey)
        #expect(bamboo.tokenNames == ["api_key", "subdomain"])
        #expect(bamboo.oauth2 == nil)

        let notion = try #require(catalog.definition("notion")?.oauth2)
        #expect(notion.permissionScopes["kms_page_read"] == [], "a permission may need no scope")
    }

    @Test func mockProviderDefinitionLoads() throws {
        let directory = try repositoryRoot().appendingPathComponent("e2e/oauth/integrations", isDirectory: true)
        let catalog = try IntegrationCatalogLoader.load(operatorDirectory: directory.path)
        let mock = try #require(catalog.definition("mock"))
        #expect(mock.name == "Mock OAuth Provider")
        #expect(mock.categories.map(\.name) == ["crm", "hris"])
        let oauth = try #require(mock.oauth2)
        #expect(oauth.authorizeURL == "http://127.0.0.1:31410/oauth/authorize")
        #expect(oauth.tokenURL == "http://127.0.0.1:31410/oauth/token")
        #expect(oauth.pkce)
        #expect(oauth.tokenEndpointAuth == .clientSecretBasic)
        #expect(oauth.defaultScopes == ["openid", "offline_access"])
        #expect(oauth.permissionScopes["hris_employee_read"] == ["employees.read"])
        #expect(catalog.definition("hubspot") != nil, "the shipped definitions are still there")
    }

    @Test func everyShippedDefinitionHasAnAPISection() throws {
        let catalog = try IntegrationCatalogLoader.load(operatorDirectory: nil)
        for definition in catalog.all {
            let api = try #require(definition.api, "\(definition.type) has no api section")
            #expect(api.baseURL.hasPrefix("https://") || api.baseURL.hasPrefix("{"), "\(definition.type)")
            if definition.authKind == .oauth2 { #expect(api.credential == .bearer(value: "{access_token}")) }
        }
        #expect(catalog.definition("salesforce")?.oauth2?.metaFrom == ["instance_url": .token("instance_url")])
        #expect(catalog.definition("quickbooks")?.oauth2?.metaFrom == ["realm_id": .callback("realmId")])
        let notion = try #require(catalog.definition("notion")?.api)
        #expect(notion.headers["Notion-Version"] != nil)
        let salesforce = try #require(catalog.definition("salesforce")?.api)
        #expect(salesforce.baseURL.hasPrefix("{instance_url}") && !salesforce.hosts.isEmpty)
        let bamboo = try #require(catalog.definition("bamboohr")?.api)
        guard case .basic = bamboo.credential else {
            Issue.record("BambooHR takes the key as the Basic user name")
            return
        }
    }

    @Test func apiSectionsParse() throws {
        let api = try #require(try IntegrationCatalogLoader.definition(yaml: Self.validAPI, file: "api.yaml").api)
        #expect(api.baseURL == "https://{subdomain}.example.com/api/v2")
        #expect(api.credential == .bearer(value: "{access_token}"))
        #expect(api.headers == ["Example-Version": "2026-01-01"])
        let forms: [(String, IntegrationDefinition.API.Credential)] = [
            ("{in: bearer, value: \"{key|token}\"}", .bearer(value: "{key|token}")),
            ("{in: basic, username: \"{key}\"}", .basic(username: "{key}", password: "")),
            ("{in: basic, username: \"{key}\", password: x}", .basic(username: "{key}", password: "x")),
            ("{in: header, name: X-Api-Key, value: \"{key}\"}", .header(name: "X-Api-Key", value: "{key}")),
            ("{in: query, name: api_token, value: \"{key}\"}", .query(name: "api_token", value: "{key}")),
        ]
        for (text, credential) in forms {
            let yaml = Self.validAPI.replacingOccurrences(of: "credential: bearer", with: "credential: \(text)")
            #expect(try IntegrationCatalogLoader.definition(yaml: yaml, file: "api.yaml").api?.credential == credential)
        }
        let whole = Self.validAPI.replacingOccurrences(
            of: "  base_url: https://{subdomain}.example.com/api/v2",
            with: "  base_url: \"{instance_url}/services\"\n  hosts: [\"*.example.com\"]"
        )
        #expect(try IntegrationCatalogLoader.definition(yaml: whole, file: "api.yaml").api?.hosts == ["*.example.com"])
    }

    // MARK: Operator directory

    @Test func operatorDirectoryOverridesAndAdds() throws {
        try withDirectory { directory in
            let replacement = """
                type: hubspot
                name: HubSpot (EU proxy)
                categories: [crm]
                auth:
                  kind: oauth2
                  authorize_url: https://auth.example.eu/hubspot/authorize
                  token_url: https://auth.example.eu/hubspot/token
                  pkce: false
                  token_endpoint_auth: client_secret_basic

                """
            try write(replacement, "my-hubspot.yml", in: directory)
            try write(Self.valid, "example.yaml", in: directory)
            try write("not: [a definition", "notes.txt", in: directory)
            try write("type: [hidden", ".hidden.yaml", in: directory)

            let shipped = try IntegrationCatalogLoader.load(operatorDirectory: nil)
            let catalog = try IntegrationCatalogLoader.load(operatorDirectory: directory.path)
            #expect(catalog.definitions.count == shipped.definitions.count + 1)

            let hubspot = try #require(catalog.definition("hubspot"))
            #expect(hubspot.name == "HubSpot (EU proxy)")
            #expect(hubspot.oauth2?.tokenURL == "https://auth.example.eu/hubspot/token")
            #expect(hubspot.oauth2?.permissionScopes == [:])

            let example = try #require(catalog.definition("example"))
            #expect(example.oauth2?.needsSubdomain == true)
            #expect(catalog.definition("salesforce") == shipped.definition("salesforce"))
        }
    }

    /// A Kubernetes ConfigMap mount: each file is a link into a hidden, timestamped directory.
    @Test func linkedFilesAreFollowedAndHiddenEntriesSkipped() throws {
        try withDirectory { directory in
            let data = directory.appendingPathComponent("..2026_11_26", isDirectory: true)
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            try write(Self.valid, "example.yaml", in: data)
            try FileManager.default.createSymbolicLink(
                atPath: directory.appendingPathComponent("example.yaml").path,
                withDestinationPath: data.appendingPathComponent("example.yaml").path
            )
            let definitions = try IntegrationCatalogLoader.definitions(in: directory)
            #expect(definitions.map(\.type) == ["example"])
        }
    }

    @Test func twoFilesWithOneTypeInADirectoryAreRefused() throws {
        try withDirectory { directory in
            try write(Self.valid, "a.yaml", in: directory)
            try write(Self.valid, "b.yaml", in: directory)
            let error = #expect(throws: Failure.self) {
                try IntegrationCatalogLoader.definitions(in: directory)
            }
            #expect(error?.file.hasSuffix("b.yaml") == true)
            #expect(error?.field == "type")
            #expect(error?.message.contains("a.yaml") == true)
        }
    }

    @Test func aMissingOperatorDirectoryIsAnError() throws {
        let path = "/nonexistent/switchboard-integrations-\(UUID().uuidString)"
        let error = #expect(throws: Failure.self) {
            try IntegrationCatalogLoader.load(operatorDirectory: path)
        }
        #expect(error?.file == path)
    }

    // MARK: Validation

    @Test func theValidExamplesLoad() throws {
        let oauth = try IntegrationCatalogLoader.definition(yaml: Self.valid, file: "valid.yaml")
        #expect(oauth.oauth2?.defaultScopes == ["openid"])
        #expect(oauth.oauth2?.scopeSeparator == " ")
        #expect(oauth.updatedAt == "2026-11-26")
        let key = try IntegrationCatalogLoader.definition(yaml: Self.validAPIKey, file: "key.yaml")
        #expect(key.authKind == .apiKey)
        #expect(key.isHidden == false)
    }

    @Test(arguments: [
        "http://127.0.0.1:31410/authorize", "http://localhost/authorize", "http://[::1]:8080/authorize",
        "https://{subdomain}.example.com/x/{subdomain}",
    ])
    func loopbackHTTPAndTheSubdomainPlaceholderAreAllowed(url: String) throws {
        let yaml = Self.valid.replacingOccurrences(
            of: "https://{subdomain}.example.com/oauth/authorize",
            with: url
        )
        let definition = try IntegrationCatalogLoader.definition(yaml: yaml, file: "ok.yaml")
        #expect(definition.oauth2?.authorizeURL == url)
    }

    /// One broken line: what replaces what, the field the error must name, and a word of its message.
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let base: String
        let replace: String
        let with: String
        let field: String?
        let message: String
        var testDescription: String { name }

        init(
            _ name: String,
            _ replace: String,
            _ with: String,
            field: String?,
            _ message: String,
            base: String = IntegrationCatalogTests.valid
        ) {
            self.name = name
            self.base = base
            self.replace = replace
            self.with = with
            self.field = field
            self.message = message
        }
    }

    static let cases: [Case] = [
        Case("missing type", "type: example\n", "", field: "type", "is required"),
        Case("bad type", "type: example", "type: Ex-ample", field: "type", "^[a-z0-9_]{1,64}$"),
        Case("long type", "type: example", "type: \(String(repeating: "a", count: 65))", field: "type", "^[a-z0-9_]"),
        Case("missing name", "name: Example\n", "", field: "name", "is required"),
        Case("empty name", "name: Example", "name: \"  \"", field: "name", "must not be empty"),
        Case("missing categories", "categories: [crm, ticketing]\n", "", field: "categories", "is required"),
        Case("no category", "[crm, ticketing]", "[]", field: "categories", "at least one"),
        Case("unknown category", "[crm, ticketing]", "[crm, helpdesk]", field: "categories[1]", "unknown category"),
        Case("categories not a list", "[crm, ticketing]", "crm", field: "categories", "must be a list"),
        Case("unknown top-level key", "web_url:", "web_ur:", field: "web_ur", "unknown key"),
        Case("bad web_url", "https://www.example.com", "www.example.com", field: "web_url", "absolute URL"),
        Case(
            "placeholder in web_url",
            "https://www.example.com",
            "https://{subdomain}.example.com",
            field: "web_url",
            "placeholder"
        ),
        Case("bad color", "\"#112233\"", "red", field: "color", "#RRGGBB"),
        Case("bad date", "\"2026-11-26\"", "\"2026-02-30\"", field: "updated_at", "YYYY-MM-DD"),
        Case("hidden not a bool", "updated_at:", "hidden: sometimes\nupdated_at:", field: "hidden", "true or false"),
        Case("misspelt auth", "auth:\n", "auth_:\n", field: "auth_", "unknown key"),
        Case(
            "missing auth",
            "auth:\n  kind: api_key\n  token_names: [api_key, subdomain]\n",
            "",
            field: "auth",
            "is required",
            base: Self.validAPIKey
        ),
        Case("unknown auth kind", "kind: oauth2", "kind: oauth1", field: "auth.kind", "oauth2, api_key, basic"),
        Case("missing auth kind", "  kind: oauth2\n", "", field: "auth.kind", "is required"),
        Case(
            "unknown auth key",
            "  pkce: true",
            "  pkce: true\n  scope_seperator: \",\"",
            field: "auth.scope_seperator",
            "unknown key for auth kind oauth2"
        ),
        Case(
            "missing authorize_url",
            "  authorize_url: https://{subdomain}.example.com/oauth/authorize\n",
            "",
            field: "auth.authorize_url",
            "is required"
        ),
        Case(
            "relative authorize_url",
            "https://{subdomain}.example.com/oauth/authorize",
            "/oauth/authorize",
            field: "auth.authorize_url",
            "absolute URL"
        ),
        Case(
            "http token_url",
            "https://api.example.com/oauth/token",
            "http://api.example.com/oauth/token",
            field: "auth.token_url",
            "must use https"
        ),
        Case(
            "ftp token_url",
            "https://api.example.com/oauth/token",
            "ftp://api.example.com/oauth/token",
            field: "auth.token_url",
            "https"
        ),
        Case(
            "other placeholder",
            "https://api.example.com/oauth/token",
            "https://{tenant}.example.com/oauth/token",
            field: "auth.token_url",
            "{tenant}"
        ),
        Case(
            "unbalanced brace",
            "https://api.example.com/oauth/token",
            "https://{subdomain.example.com/oauth/token",
            field: "auth.token_url",
            "unbalanced"
        ),
        Case(
            "credentials in url",
            "https://api.example.com/oauth/token",
            "https://user:pw@api.example.com/oauth/token",
            field: "auth.token_url",
            "credentials"
        ),
        Case("missing pkce", "  pkce: true\n", "", field: "auth.pkce", "is required"),
        Case("quoted pkce", "pkce: true", "pkce: \"true\"", field: "auth.pkce", "true or false"),
        Case(
            "unknown token_endpoint_auth",
            "client_secret_post",
            "client_secret_jwt",
            field: "auth.token_endpoint_auth",
            "client_secret_basic"
        ),
        Case(
            "missing token_endpoint_auth",
            "  token_endpoint_auth: client_secret_post\n",
            "",
            field: "auth.token_endpoint_auth",
            "is required"
        ),
        Case(
            "long scope_separator",
            "  pkce: true",
            "  pkce: true\n  scope_separator: \", \"",
            field: "auth.scope_separator",
            "single character"
        ),
        Case(
            "scope with a space",
            "[openid]",
            "[\"openid email\"]",
            field: "auth.default_scopes[0]",
            "one provider scope"
        ),
        Case("default_scopes not a list", "[openid]", "openid", field: "auth.default_scopes", "must be a list"),
        Case(
            "unknown permission",
            "crm_contact_read:",
            "crm_contact_red:",
            field: "auth.permissions.crm_contact_red",
            "unknown Unified permission"
        ),
        Case(
            "permission without scopes",
            "crm_contact_read: [contacts.read]",
            "crm_contact_read:",
            field: "auth.permissions.crm_contact_read",
            "list of provider scopes"
        ),
        Case(
            "permission scope not a string",
            "[contacts.read]",
            "[[contacts.read]]",
            field: "auth.permissions.crm_contact_read[0]",
            "must be a string"
        ),
        Case(
            "reserved authorize param",
            "access_type: offline",
            "redirect_uri: https://evil.example",
            field: "auth.authorize_params.redirect_uri",
            "set by Switchboard"
        ),
        Case(
            "authorize_params not a mapping",
            "authorize_params:\n    access_type: offline",
            "authorize_params: [access_type]",
            field: "auth.authorize_params",
            "must be a mapping"
        ),
        Case(
            "api_key without token_names",
            "  token_names: [api_key, subdomain]\n",
            "",
            field: "auth.token_names",
            "is required",
            base: Self.validAPIKey
        ),
        Case(
            "api_key with an oauth2 key",
            "  token_names:",
            "  authorize_url: https://example.com\n  token_names:",
            field: "auth.authorize_url",
            "unknown key for auth kind api_key",
            base: Self.validAPIKey
        ),
        Case(
            "bad token name",
            "[api_key, subdomain]",
            "[api_key, Sub-Domain]",
            field: "auth.token_names[1]",
            "^[a-z0-9_]",
            base: Self.validAPIKey
        ),
        Case(
            "duplicate token name",
            "[api_key, subdomain]",
            "[api_key, api_key]",
            field: "auth.token_names[1]",
            "twice",
            base: Self.validAPIKey
        ),
        Case(
            "api without base_url",
            "  base_url: https://{subdomain}.example.com/api/v2\n",
            "",
            field: "api.base_url",
            "is required",
            base: Self.validAPI
        ),
        Case(
            "api base_url over http",
            "https://{subdomain}.example.com/api/v2",
            "http://api.example.com",
            field: "api.base_url",
            "https",
            base: Self.validAPI
        ),
        Case("api base_url with a query", "/api/v2", "/api?v=2", field: "api.base_url", "query", base: Self.validAPI),
        Case(
            "api bad placeholder",
            "{subdomain}.example.com/api",
            "{Sub-Domain}.example.com/api",
            field: "api.base_url",
            "placeholder name",
            base: Self.validAPI
        ),
        Case(
            "api unbalanced brace",
            "{subdomain}.example.com/api",
            "{subdomain.example.com/api",
            field: "api.base_url",
            "unbalanced",
            base: Self.validAPI
        ),
        Case(
            "api whole URL without hosts",
            "https://{subdomain}.example.com/api/v2",
            "\"{instance_url}\"",
            field: "api.hosts",
            "is required",
            base: Self.validAPI
        ),
        Case(
            "api bad host pattern",
            "  credential: bearer\n",
            "  credential: bearer\n  hosts: [\"exa mple.com\"]\n",
            field: "api.hosts[0]",
            "host name",
            base: Self.validAPI
        ),
        Case(
            "api missing credential",
            "  credential: bearer\n",
            "",
            field: "api.credential",
            "is required",
            base: Self.validAPI
        ),
        Case(
            "api unknown placement",
            "credential: bearer",
            "credential: cookie",
            field: "api.credential.in",
            "must be one of",
            base: Self.validAPI
        ),
        Case(
            "api unknown credential key",
            "credential: bearer",
            "credential: {in: header, name: X-Key, value: \"{key}\", prefix: x}",
            field: "api.credential.prefix",
            "unknown key",
            base: Self.validAPI
        ),
        Case(
            "api header credential without name",
            "credential: bearer",
            "credential: {in: header, value: \"{key}\"}",
            field: "api.credential.name",
            "is required",
            base: Self.validAPI
        ),
        Case(
            "api credential in Authorization",
            "credential: bearer",
            "credential: {in: header, name: Authorization, value: \"{key}\"}",
            field: "api.credential.name",
            "not a name",
            base: Self.validAPI
        ),
        Case(
            "api fixed Host header",
            "Example-Version:",
            "Host:",
            field: "api.headers.Host",
            "not a header name",
            base: Self.validAPI
        ),
        Case(
            "api unknown key",
            "  credential: bearer\n",
            "  credential: bearer\n  retries: 3\n",
            field: "api.retries",
            "unknown key",
            base: Self.validAPI
        ),
        Case(
            "meta_from bad source",
            "    crm_contact_read: [contacts.read]\n",
            "    crm_contact_read: [contacts.read]\n  meta_from: {instance_url: body.instance_url}\n",
            field: "auth.meta_from.instance_url",
            "token.<field>"
        ),
        Case(
            "meta_from reserved name",
            "    crm_contact_read: [contacts.read]\n",
            "    crm_contact_read: [contacts.read]\n  meta_from: {scope: token.scope}\n",
            field: "auth.meta_from.scope",
            "other than"
        ),
        Case("duplicate key", "name: Example\n", "name: Example\nname: Again\n", field: nil, "invalid YAML"),
        Case("not a mapping", Self.valid, "- type: example\n", field: nil, "YAML mapping"),
        Case("empty file", Self.valid, "", field: nil, "empty"),
        Case("broken YAML", Self.valid, "type: [example\n", field: nil, "invalid YAML"),
    ]

    @Test(arguments: cases)
    func eachValidationErrorNamesTheFileAndTheField(_ test: Case) throws {
        #expect(test.base.contains(test.replace), "the case edits its base")
        let yaml = test.base.replacingOccurrences(of: test.replace, with: test.with)
        try withDirectory { directory in
            try write(yaml, "broken.yaml", in: directory)
            let error = #expect(throws: Failure.self) {
                try IntegrationCatalogLoader.load(
                    shippedDirectory: IntegrationCatalogLoader.shippedDirectory(),
                    operatorDirectory: directory
                )
            }
            let failure = try #require(error)
            #expect(failure.file == directory.appendingPathComponent("broken.yaml").path)
            #expect(failure.field == test.field)
            #expect(failure.message.contains(test.message), "\(failure)")
            #expect(failure.description.contains("broken.yaml"))
            if let field = test.field { #expect(failure.description.contains(field)) }
        }
    }
}
