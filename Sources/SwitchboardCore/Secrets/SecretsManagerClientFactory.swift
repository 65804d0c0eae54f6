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
    /// One entry per setting of every supported type, for `GET /unified/secretsmanager/instructions`.
    var instructions: [SecretsManagerInstruction] { get }
}

/// How to fill in one `auth` setting of a kind of manager (Unified's `SecretsManagerInstructions`).
public struct SecretsManagerInstruction: Sendable, Equatable {
    public var type: SecretsManagerType
    /// The `auth` key.
    public var key: String
    public var label: String
    public var instructions: String

    public init(type: SecretsManagerType, key: String, label: String, instructions: String) {
        self.type = type
        self.key = key
        self.label = label
        self.instructions = instructions
    }
}
