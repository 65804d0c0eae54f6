import ArgumentParser
import Foundation
import Logging
import SwitchboardEgress
import SwitchboardServer
import Testing

@testable import switchboard

/// Every flag and `SWITCHBOARD_*` variable goes through `Settings`: flag first, then the variable
/// (an empty one counts as unset), then the default; a bad value names where it came from.
@Suite struct SettingsTests {
    @Test func aFlagWinsOverItsVariableWhichWinsOverTheDefault() throws {
        let environment = ["SWITCHBOARD_PORT": "9002", "SWITCHBOARD_REFRESH_INTERVAL": "45", "SWITCHBOARD_HOST": ""]
        let both = try Serve.parse(["--port", "9001"]).settings(environment: environment)
        #expect(try both.server().port == 9001)
        #expect(try both.server().refreshInterval == .seconds(45))
        // An empty variable is unset: the default applies.
        #expect(try both.server().host == "127.0.0.1")
        let variableOnly = try Serve.parse([]).settings(environment: environment)
        #expect(try variableOnly.server().port == 9002)
        let neither = try Serve.parse([]).settings(environment: [:])
        #expect(try neither.server().port == 8080)
        #expect(try neither.server().refreshInterval == .seconds(30))
        #expect(try neither.database() == DatabaseLocation(url: DatabaseLocation.defaultURL))
        #expect(try neither.logLevel(default: .info) == .info)
        // JSON unless standard error is a terminal.
        #expect(try neither.logFormat(isTerminal: false) == .json)
        #expect(try neither.logFormat(isTerminal: true) == .text)
        #expect(
            try Serve.parse(["--log-format", "text"]).settings(environment: [:]).logFormat(isTerminal: false) == .text
        )
        #expect(try neither.egress().allowed.isEmpty)
        #expect(try neither.oauth(server: neither.server()).publicURL == "http://127.0.0.1:8080")
        // The default public URL follows the host and port as given.
        let moved = try Serve.parse(["--host", "0.0.0.0", "--port", "9100"]).settings(environment: [:])
        #expect(try moved.oauth(server: moved.server()).publicURL == "http://0.0.0.0:9100")
    }

    /// For every setting with a flag: the flag's value over the variable's, and the variable's alone.
    @Test(arguments: Setting.allCases.filter { $0.flag != nil })
    func everyFlagTakesPrecedenceOverItsVariable(_ setting: Setting) throws {
        let environment = [setting.variable: "from-variable"]
        let flagged = Settings(flags: [setting: "from-flag"], environment: environment)
        #expect(flagged.given(setting)?.text == "from-flag")
        #expect(flagged.given(setting)?.source == setting.flag)
        let unflagged = Settings(environment: environment)
        #expect(unflagged.given(setting)?.text == "from-variable")
        #expect(unflagged.given(setting)?.source == setting.variable)
        #expect(Settings(environment: [setting.variable: ""]).given(setting) == nil)
    }

    @Test func secretsAreReadFromTheEnvironmentOnly() throws {
        for secret in Setting.allCases where secret.isSecret {
            #expect(secret.flag == nil)
            #expect(Settings(flags: [secret: "x"], environment: [:]).given(secret) == nil)
        }
        let key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        #expect(try Settings(environment: ["SWITCHBOARD_MASTER_KEY": key]).masterKeys().inlineKeys == key)
        #expect(try Settings(environment: ["SWITCHBOARD_MASTER_KEYS": key]).masterKeys().inlineKeys == key)
        #expect(try Settings(environment: ["SWITCHBOARD_MASTER_KEY_FILE": "/k"]).masterKeys().keyFile == "/k")
    }

    /// Every command line flag of the table is declared by the command that reads it.
    @Test func theCommandsDeclareEveryFlag() throws {
        for setting in Setting.allCases {
            guard let flag = setting.flag else { continue }
            switch setting {
            case .benchPostgres:
                #expect(try Bench.parse([flag, "v"]).postgres == "v")
            case .database, .logLevel, .logFormat:
                #expect(try Migrate.parse([flag, "v"]).options.flags[setting] == "v")
                #expect(try Serve.parse([flag, "v"]).flags[setting] == "v")
            default:
                #expect(try Serve.parse([flag, "v"]).flags[setting] == "v", "serve does not declare \(flag)")
            }
        }
    }

    /// Each bad value, given as a flag or as a variable, is refused with this message.
    static let refusals: [(Setting, String, String)] = [
        (.port, "x", "\"x\" is not a whole number from 0 to 65535"),
        (.port, "65536", "\"65536\" is not a whole number from 0 to 65535"),
        (.idleTimeout, "0", "\"0\" is not a number of seconds above 0 and at most 86400"),
        (.shutdownTimeout, "nan", "\"nan\" is not a number of seconds above 0 and at most 86400"),
        (.shutdownDelay, "-1", "\"-1\" is not a number of seconds from 0 and at most 86400"),
        (.bodyReadTimeout, "86401", "\"86401\" is not a number of seconds above 0 and at most 86400"),
        (.maxConnections, "0", "\"0\" is not a whole number from 1 to 1000000"),
        (.authFailureLimit, "-1", "\"-1\" is not a whole number from 1 to 1000000"),
        (.authorizeRateLimit, "many", "\"many\" is not a whole number from 1 to 1000000"),
        (.refreshMargin, "86401", "\"86401\" is not a whole number from 0 to 86400"),
        (.refreshInterval, "1.5", "\"1.5\" is not a whole number from 0 to 86400"),
        (.oauthStateTTL, "0", "\"0\" is not a whole number from 1 to 86400"),
        (
            .logLevel, "loud",
            "unknown log level \"loud\"; use one of trace, debug, info, notice, warning, error, critical"
        ),
        (.logFormat, "xml", "unknown log format \"xml\"; use json or text"),
        (.database, "mysql://db", "unsupported database URL scheme \"mysql\"; use sqlite:PATH or postgres://..."),
        (.database, "sqlite:", "the database URL \"sqlite:\" names no file"),
        (.publicURL, "ftp://example.com", "\"ftp://example.com\" is not an absolute http(s) URL"),
        (.publicURL, "/relative", "\"/relative\" is not an absolute http(s) URL"),
        (.trustedProxy, "proxy.local", "\"proxy.local\" is not an address or CIDR block such as 10.0.0.0/8"),
        (
            .egressAllow, "10.0.0.0/99",
            "\"10.0.0.0/99\" is not an address or CIDR block such as 10.0.0.0/8 or fd00::/8 (prefix length at most 32 or 128)"
        ),
        (.egressAllow, "bad_host!", "\"bad_host!\" is neither a host name nor a CIDR block"),
        (
            .integrationsDir, "/nonexistent-switchboard-dir",
            "integration definition /nonexistent-switchboard-dir: cannot list the directory"
        ),
    ]

    @Test func everyBadValueIsRefusedNamingItsSource() throws {
        for (setting, value, message) in Self.refusals {
            for asFlag in [true, false] {
                let settings =
                    asFlag
                    ? Settings(flags: [setting: value], environment: [:])
                    : Settings(environment: [setting.variable: value])
                let source = asFlag ? setting.flag! : setting.variable
                let error = #expect(throws: SettingsError.self) { try Self.resolveAll(settings) }
                #expect(
                    error?.description.hasPrefix("\(source): \(message)") == true,
                    "\(source)=\(value): \(error?.description ?? "accepted")"
                )
            }
        }
    }

    @Test func conflictingMasterKeySettingsAreRefused() {
        let key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        let both = #expect(throws: SettingsError.self) {
            try Settings(environment: ["SWITCHBOARD_MASTER_KEYS": key, "SWITCHBOARD_MASTER_KEY": key]).masterKeys()
        }
        #expect(both?.description == "set either SWITCHBOARD_MASTER_KEYS or SWITCHBOARD_MASTER_KEY, not both")
        let file = #expect(throws: SettingsError.self) {
            try Settings(environment: ["SWITCHBOARD_MASTER_KEY": key, "SWITCHBOARD_MASTER_KEY_FILE": "/k"]).masterKeys()
        }
        #expect(
            file?.description
                == "set either SWITCHBOARD_MASTER_KEY_FILE or SWITCHBOARD_MASTER_KEYS/SWITCHBOARD_MASTER_KEY, not both"
        )
        // The key itself never appears in a message.
        #expect(both?.description.contains(key) == false)
    }

    /// A database URL in an error never shows its password.
    @Test func aBadDatabaseURLIsNotEchoed() {
        let error = #expect(throws: SettingsError.self) {
            try Settings(environment: ["SWITCHBOARD_DATABASE_URL": "postgres://u:s3cret@db/x?pool_size=0"]).database()
        }
        #expect(error?.description.hasPrefix("SWITCHBOARD_DATABASE_URL: invalid PostgreSQL URL") == true)
        #expect(error?.description.contains("s3cret") == false)
    }

    /// The CLI turns a refusal into a usage error with the same message.
    @Test func theCLIReportsTheMessage() throws {
        let options = try Migrate.parse(["--database", "mysql://db"]).options
        #expect(throws: ValidationError.self) { try options.location() }
    }

    static func resolveAll(_ settings: Settings) throws {
        _ = try settings.database()
        _ = try settings.logLevel(default: .info)
        _ = try settings.logFormat(isTerminal: false)
        _ = try settings.masterKeys()
        let server = try settings.server()
        _ = try settings.egress()
        _ = try settings.oauth(server: server)
    }

    /// docs/configuration.md's settings table is this one, generated from `Setting.allCases`.
    @Test func theDocumentedTableIsTheSettingsTable() throws {
        var root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root.deleteLastPathComponent()
        }
        let doc = try String(contentsOf: root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
        let begin = "<!-- settings table: generated from Setting.allCases, checked by SettingsTests -->\n"
        let end = "<!-- end of settings table -->"
        guard let start = doc.range(of: begin), let stop = doc.range(of: end, range: start.upperBound..<doc.endIndex)
        else {
            Issue.record("docs/configuration.md has no settings table markers; the table:\n\(Self.table)")
            return
        }
        let documented = String(doc[start.upperBound..<stop.lowerBound])
        #expect(documented == Self.table, "docs/configuration.md's settings table should read:\n\(Self.table)")
    }

    static var table: String {
        var lines = [
            "| Setting | Flag | Environment variable | Default | Read by | Secret |",
            "|---|---|---|---|---|---|",
        ]
        for setting in Setting.allCases {
            let flag = setting.flag.map { "`\($0)`" } ?? "–"
            lines.append(
                "| \(setting.help) | \(flag) | `\(setting.variable)` | \(setting.defaultText) | \(setting.commands) | \(setting.isSecret ? "**yes**" : "no") |"
            )
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
