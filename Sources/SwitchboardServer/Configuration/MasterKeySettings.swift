/// Where the master keys come from, as configured (values are never logged):
/// - `SWITCHBOARD_MASTER_KEYS`: base64 keys separated by commas or whitespace, the active one first;
///   `SWITCHBOARD_MASTER_KEY` is the one-key form of the same.
/// - `SWITCHBOARD_MASTER_KEY_FILE`: a key file (one base64 key per line, the active one first),
///   re-read when it changes, so `switchboard keys rotate` reaches running servers.
/// - neither, on the embedded SQLite default: `master.key` in the data directory, generated on first start.
public struct MasterKeySettings: Sendable {
    public static let keysVariable = "SWITCHBOARD_MASTER_KEYS"
    public static let keyVariable = "SWITCHBOARD_MASTER_KEY"
    public static let fileVariable = "SWITCHBOARD_MASTER_KEY_FILE"

    /// The keys given inline (from either variable).
    public var inlineKeys: String?
    public var keyFile: String?

    public init(inlineKeys: String? = nil, keyFile: String? = nil) {
        self.inlineKeys = inlineKeys
        self.keyFile = keyFile
    }

    /// Reads the variables; setting both the inline and the file form is refused as ambiguous.
    public static func fromEnvironment(_ environment: [String: String]) throws(MasterKeyLoader.Failure) -> Self {
        func value(_ name: String) -> String? {
            guard let value = environment[name], !value.isEmpty else { return nil }
            return value
        }
        let keys = value(keysVariable)
        let key = value(keyVariable)
        let file = value(fileVariable)
        if keys != nil, key != nil {
            throw .init(description: "set either \(keysVariable) or \(keyVariable), not both")
        }
        if file != nil, keys ?? key != nil {
            throw .init(description: "set either \(fileVariable) or \(keysVariable)/\(keyVariable), not both")
        }
        return Self(inlineKeys: keys ?? key, keyFile: file)
    }
}
