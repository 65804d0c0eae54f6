/// One integration of the catalog: what Switchboard needs to know to connect an account of it.
/// Loaded from a definition file (see `docs/integrations.md`); nothing here is a secret.
public struct IntegrationDefinition: Sendable, Equatable {
    public enum AuthKind: String, Sendable, CaseIterable {
        case oauth2
        case apiKey = "api_key"
        case basic
    }

    /// How the client authenticates at the token endpoint (RFC 6749 §2.3.1).
    public enum TokenEndpointAuth: String, Sendable, CaseIterable {
        /// `Authorization: Basic base64(client_id:client_secret)`.
        case clientSecretBasic = "client_secret_basic"
        /// `client_id` and `client_secret` in the form body.
        case clientSecretPost = "client_secret_post"
    }

    /// The OAuth 2 part of a definition (auth kind `oauth2` only).
    public struct OAuth2: Sendable, Equatable {
        /// May contain `{subdomain}`, filled from the authorize request's `subdomain`.
        public var authorizeURL: String
        public var tokenURL: String
        public var pkce: Bool
        public var tokenEndpointAuth: TokenEndpointAuth
        /// Provider scopes requested on every authorization.
        public var defaultScopes: [String]
        /// Unified permission → the provider scopes that grant it.
        public var permissionScopes: [String: [String]]
        public var scopeSeparator: String
        /// Extra query parameters for the authorize URL (for example `access_type=offline`).
        public var authorizeParameters: [String: String]
        /// Values kept in a new connection's `auth.meta` at the code exchange: meta name → where
        /// it comes from (Salesforce's `instance_url` in the token answer, QuickBooks' `realmId`
        /// on the callback), for the `api` section's placeholders.
        public var metaFrom: [String: MetaSource]

        public enum MetaSource: Sendable, Equatable {
            /// A string member of the token endpoint's answer.
            case token(String)
            /// A query parameter of the provider's redirect to the callback.
            case callback(String)
        }

        public init(
            authorizeURL: String,
            tokenURL: String,
            pkce: Bool,
            tokenEndpointAuth: TokenEndpointAuth,
            defaultScopes: [String],
            permissionScopes: [String: [String]],
            scopeSeparator: String = " ",
            authorizeParameters: [String: String] = [:],
            metaFrom: [String: MetaSource] = [:]
        ) {
            self.authorizeURL = authorizeURL
            self.tokenURL = tokenURL
            self.pkce = pkce
            self.tokenEndpointAuth = tokenEndpointAuth
            self.defaultScopes = defaultScopes
            self.permissionScopes = permissionScopes
            self.scopeSeparator = scopeSeparator
            self.authorizeParameters = authorizeParameters
            self.metaFrom = metaFrom
        }

        /// True when the URLs need a `subdomain` from the end user.
        public var needsSubdomain: Bool {
            authorizeURL.contains("{subdomain}") || tokenURL.contains("{subdomain}")
        }
    }

    /// The provider's own API, for passthrough calls (`/passthrough/{connection_id}/{path}`): where
    /// requests go and how the connection's credential is put on them.
    public struct API: Sendable, Equatable {
        /// Where the connection's credential goes. Every value is a template (see `baseURL`).
        public enum Credential: Sendable, Equatable {
            /// `Authorization: Bearer <value>`.
            case bearer(value: String)
            /// `Authorization: Basic base64(<username>:<password>)`.
            case basic(username: String, password: String)
            /// A header of its own, such as `X-API-Key: <value>`.
            case header(name: String, value: String)
            /// A query parameter appended to the caller's query string.
            case query(name: String, value: String)
        }

        /// The URL every passthrough path is appended to. `{name}` placeholders are filled from the
        /// connection's `auth` (a string member) or `auth.meta`; `{a|b}` takes the first present.
        /// A placeholder inside the host must be a DNS label; one that starts the URL must be a
        /// whole URL whose host `hosts` admits.
        public var baseURL: String
        public var credential: Credential
        /// Headers the provider requires on every call (`Notion-Version`), templates like `baseURL`.
        /// They replace a caller's header of the same name.
        public var headers: [String: String]
        /// Host patterns (`api.example.com`, `*.example.com`) a URL filled in from a whole-URL
        /// placeholder must match; unused otherwise.
        public var hosts: [String]

        public init(baseURL: String, credential: Credential, headers: [String: String] = [:], hosts: [String] = []) {
            self.baseURL = baseURL
            self.credential = credential
            self.headers = headers
            self.hosts = hosts
        }
    }

    public var type: String
    public var name: String
    public var categories: [Category]
    public var authKind: AuthKind
    public var oauth2: OAuth2?
    /// The provider's API for passthrough; nil when the definition has none.
    public var api: API?
    /// For `api_key` and `basic`: the names of the values the end user supplies.
    public var tokenNames: [String]
    public var description: String?
    public var webURL: String?
    public var apiDocsURL: String?
    public var logoURL: String?
    public var color: String?
    public var textColor: String?
    public var isHidden: Bool
    public var beta: Bool
    /// When the definition was last changed (`YYYY-MM-DD`), for `updated_gte`.
    public var updatedAt: String?

    public init(
        type: String,
        name: String,
        categories: [Category],
        authKind: AuthKind,
        oauth2: OAuth2? = nil,
        api: API? = nil,
        tokenNames: [String] = [],
        description: String? = nil,
        webURL: String? = nil,
        apiDocsURL: String? = nil,
        logoURL: String? = nil,
        color: String? = nil,
        textColor: String? = nil,
        isHidden: Bool = false,
        beta: Bool = false,
        updatedAt: String? = nil
    ) {
        self.type = type
        self.name = name
        self.categories = categories
        self.authKind = authKind
        self.oauth2 = oauth2
        self.api = api
        self.tokenNames = tokenNames
        self.description = description
        self.webURL = webURL
        self.apiDocsURL = apiDocsURL
        self.logoURL = logoURL
        self.color = color
        self.textColor = textColor
        self.isHidden = isHidden
        self.beta = beta
        self.updatedAt = updatedAt
    }

    /// The Unified permissions this integration can grant, sorted.
    public var supportedPermissions: [String] { (oauth2?.permissionScopes.keys).map { $0.sorted() } ?? [] }
}

/// Every known integration, by type. Built once at start from the shipped definitions and the
/// operator's directory (which may add integrations or replace shipped ones).
public struct IntegrationCatalog: Sendable {
    public let definitions: [String: IntegrationDefinition]

    public init(_ definitions: [IntegrationDefinition]) {
        var byType: [String: IntegrationDefinition] = [:]
        for definition in definitions { byType[definition.type] = definition }
        self.definitions = byType
    }

    public func definition(_ type: String) -> IntegrationDefinition? { definitions[type] }

    /// Every definition, ordered by type.
    public var all: [IntegrationDefinition] { definitions.values.sorted { $0.type < $1.type } }
}
