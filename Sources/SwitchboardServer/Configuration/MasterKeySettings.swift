/// Where the master keys come from, as configured (resolved by `Settings.masterKeys()`; values
/// are never logged):
/// - `SWITCHBOARD_MASTER_KEYS`: base64 keys separated by commas or whitespace, the active one first;
///   `SWITCHBOARD_MASTER_KEY` is the one-key form of the same.
/// - `SWITCHBOARD_MASTER_KEY_FILE`: a key file (one base64 key per line, the active one first),
///   re-read when it changes, so `switchboard keys rotate` reaches running servers.
/// - neither, on the embedded SQLite default: `master.key` in the data directory, generated on first start.
public struct MasterKeySettings: Sendable {
    public static let keysVariable = Setting.masterKeys.variable
    public static let keyVariable = Setting.masterKey.variable
    public static let fileVariable = Setting.masterKeyFile.variable

    /// The keys given inline (from either variable).
    public var inlineKeys: String?
    public var keyFile: String?

    public init(inlineKeys: String? = nil, keyFile: String? = nil) {
        self.inlineKeys = inlineKeys
        self.keyFile = keyFile
    }
}
