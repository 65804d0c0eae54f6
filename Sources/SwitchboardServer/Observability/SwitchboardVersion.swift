/// The release this build is, as `switchboard --version` and `switchboard_build_info` report it.
public enum SwitchboardVersion {
    public static let current = "0.10.0"
}
