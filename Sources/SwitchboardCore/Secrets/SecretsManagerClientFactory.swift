/// Makes a client for a registered manager from its type and `auth` settings. Implemented where
/// the HTTP client lives; a bad setting is a `ValidationError` naming it.
public protocol SecretsManagerClientFactory: Sendable {
    /// The `auth` keys whose values are not secret and may be shown back (region, address...).
    func publicSettings(for type: SecretsManagerType) -> Set<String>
    func client(
        type: SecretsManagerType,
        auth: [String: String],
        name: String
    ) throws(ValidationError)
        -> any SecretsManagerClient
    /// Checks, before a manager is registered, that the egress policy lets Switchboard call the
    /// address its settings name (a `ValidationError` naming the host and the rule otherwise).
    func checkDestination(type: SecretsManagerType, auth: [String: String]) async throws(ValidationError)
}
