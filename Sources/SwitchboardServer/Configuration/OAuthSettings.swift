import SwitchboardCore

/// What the OAuth flow and token refresh need from configuration (see docs/configuration.md).
public struct OAuthSettings: Sendable {
    /// Every integration the server knows (shipped definitions plus the operator's directory).
    public var catalog: IntegrationCatalog
    /// The server's address as browsers and providers reach it; the OAuth callback is
    /// `<publicURL>/switchboard/oauth/callback` and must be registered with each provider.
    public var publicURL: String
    public var refreshPolicy: RefreshPolicy
    /// How long an authorization may take, from handing out the URL to the provider's callback.
    public var stateLifetime: Int64

    public static let callbackPath = "/switchboard/oauth/callback"
    public static let defaultStateLifetime: Int64 = 600

    public init(
        catalog: IntegrationCatalog = IntegrationCatalog([]),
        publicURL: String = "http://127.0.0.1:8080",
        refreshPolicy: RefreshPolicy = RefreshPolicy(),
        stateLifetime: Int64 = defaultStateLifetime
    ) {
        self.catalog = catalog
        self.publicURL = publicURL
        self.refreshPolicy = refreshPolicy
        self.stateLifetime = stateLifetime
    }

    public var callbackURL: String {
        (publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL) + Self.callbackPath
    }
}
