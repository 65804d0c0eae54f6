import Foundation
import Logging
import SwitchboardCore
import SwitchboardEgress
import SwitchboardEvents
import SwitchboardPassthrough

/// One configurable setting: its flag, its environment variable, its default as documented.
/// docs/configuration.md's settings table is checked against `Setting.allCases` by a test.
public enum Setting: String, CaseIterable, Sendable {
    case database
    case logLevel = "log-level"
    case logFormat = "log-format"
    case masterKeys = "master-keys"
    case masterKey = "master-key"
    case masterKeyFile = "master-key-file"
    case host
    case port
    case publicURL = "public-url"
    case idleTimeout = "idle-timeout"
    case shutdownTimeout = "shutdown-timeout"
    case shutdownDelay = "shutdown-delay"
    case bodyReadTimeout = "body-read-timeout"
    case maxConnections = "max-connections"
    case authFailureLimit = "auth-failure-limit"
    case authorizeRateLimit = "authorize-rate-limit"
    case trustedProxy = "trusted-proxy"
    case egressAllow = "egress-allow"
    case passthroughBodyLimit = "passthrough-body-limit"
    case passthroughTimeout = "passthrough-timeout"
    case apiCallRetention = "apicall-retention-days"
    case eventRetrySchedule = "event-retry-schedule"
    case eventDeliveryTimeout = "event-delivery-timeout"
    case eventLease = "event-lease-seconds"
    case eventRetention = "event-retention-days"
    case eventSecretOverlap = "event-secret-overlap"
    case integrationsDir = "integrations-dir"
    case refreshMargin = "refresh-margin"
    case refreshInterval = "refresh-interval"
    case oauthStateTTL = "oauth-state-ttl"
    case metrics
    case metricsPort = "metrics-port"
    case metricsToken = "metrics-token"
    case otelEndpoint = "otel-endpoint"
    case benchPostgres = "bench-postgres-url"

    /// Secrets have no flag: flags show up in process listings.
    public var isSecret: Bool { [.masterKeys, .masterKey, .masterKeyFile, .metricsToken].contains(self) }

    /// The command-line flag, nil for secrets.
    public var flag: String? {
        switch self {
        case .masterKeys, .masterKey, .masterKeyFile, .metricsToken: nil
        case .benchPostgres: "--postgres"
        default: "--\(rawValue)"
        }
    }

    /// The environment variable read when the flag is absent.
    public var variable: String {
        switch self {
        case .database: "SWITCHBOARD_DATABASE_URL"
        default: "SWITCHBOARD_" + rawValue.uppercased().replacingOccurrences(of: "-", with: "_")
        }
    }

    /// The commands that read it.
    public var commands: String {
        switch self {
        case .database, .logLevel, .logFormat: "every command that opens the database"
        case .masterKeys, .masterKey, .masterKeyFile: "every command that opens the database (not `copy`)"
        case .benchPostgres: "`bench`"
        default: "`serve`"
        }
    }

    /// The default, as the documentation states it.
    public var defaultText: String {
        switch self {
        case .database: "`\(DatabaseLocation.defaultURL)`"
        case .logLevel: "`info` for `serve`, `warning` for the others"
        case .logFormat: "`json` when standard error is not a terminal, else `text`"
        case .masterKeys, .masterKey:
            "none; then the key file: generated into `<data dir>/master.key` on SQLite, **required** on PostgreSQL"
        case .masterKeyFile: "`<data dir>/master.key` on SQLite"
        case .host: "`127.0.0.1`"
        case .port: "`8080`"
        case .publicURL: "`http://HOST:PORT`"
        case .idleTimeout: "`30`"
        case .shutdownTimeout: "`10`"
        case .shutdownDelay: "`0`"
        case .bodyReadTimeout: "`30`"
        case .maxConnections: "the open-file limit less 96, at most 4096"
        case .authFailureLimit: "`\(ServerConfiguration.defaultAuthenticationFailureLimit)`"
        case .authorizeRateLimit: "`\(ServerConfiguration.defaultAuthorizeRateLimit)`"
        case .trustedProxy: "none: the TCP peer is the client"
        case .egressAllow: "none: internal addresses refused"
        case .passthroughBodyLimit: "`50`"
        case .passthroughTimeout: "`60`"
        case .apiCallRetention: "`60`"
        case .eventRetrySchedule: "`\(RetrySchedule.standard)` (about 3 days)"
        case .eventDeliveryTimeout: "`\(EventSettings.defaultTimeoutSeconds)`"
        case .eventLease: "the delivery timeout plus 30"
        case .eventRetention: "`\(EventSettings.defaultRetentionDays)`"
        case .eventSecretOverlap: "`\(EventSettings.defaultSecretOverlapHours)`"
        case .integrationsDir: "none"
        case .refreshMargin: "`300`"
        case .refreshInterval: "`30`"
        case .oauthStateTTL: "`\(OAuthSettings.defaultStateLifetime)`"
        case .metrics: "`on`"
        case .metricsPort: "none: `/metrics` on the API port"
        case .metricsToken: "none: `/metrics` needs no token"
        case .otelEndpoint: "none: tracing off"
        case .benchPostgres: "none (needed for `--backend postgres`)"
        }
    }

    /// What it does: the CLI's help and the documentation's description.
    public var help: String {
        switch self {
        case .database:
            "Database URL: `sqlite:PATH` or `postgres://USER:PASSWORD@HOST[:PORT]/DATABASE[?sslmode=...]`"
        case .logLevel: "Log level: trace, debug, info, notice, warning, error, critical"
        case .logFormat:
            "Log format: json (one object per line: time, level, label, message and the metadata, such as each request's line) or text"
        case .masterKeys:
            "Master keys, base64 of 32 bytes each, separated by commas or whitespace, the active one first"
        case .masterKey: "One master key (the one-key form of `SWITCHBOARD_MASTER_KEYS`)"
        case .masterKeyFile: "Master key file: one base64 key per line, the active one first; re-read when it changes"
        case .host: "Address to bind"
        case .port: "Port to bind (0: any free port)"
        case .publicURL:
            "The server's address as browsers and OAuth providers reach it; register `<url>/switchboard/oauth/callback` as each OAuth client's redirect URI"
        case .idleTimeout:
            "Seconds a connection may send nothing (slow clients included) before it is closed"
        case .shutdownTimeout:
            "Seconds in-flight requests get to finish after SIGTERM/SIGINT before they are cancelled"
        case .shutdownDelay:
            "Seconds between a shutdown signal and the listener closing, while /health/ready answers 503 and requests are still served (give a load balancer time to stop routing here; 5 to 10 behind one)"
        case .bodyReadTimeout:
            "Seconds a request body may take to arrive; a slower one gets a 408 and the connection is closed"
        case .maxConnections:
            "Open client connections at most; more wait in the listen backlog until one closes (at start the open-file soft limit is raised to the hard limit)"
        case .authFailureLimit:
            "Failed authentications per client address and minute before further failing attempts get 429 (a valid key is never refused)"
        case .authorizeRateLimit:
            "Anonymous authorize-URL calls per client address, and per workspace, per minute (per replica)"
        case .trustedProxy:
            "Proxies (addresses or CIDR blocks, comma-separated) whose `X-Forwarded-For` names the client (rate limits, the audit log); set it behind a TLS-terminating proxy"
        case .egressAllow:
            "Hosts (`name`, `*.domain`) or CIDR blocks, comma-separated, that outbound calls may reach although they are loopback, private, link-local, CGNAT or otherwise internal"
        case .passthroughBodyLimit:
            "Largest request body a passthrough call forwards, in MiB (a larger one gets a 413)"
        case .passthroughTimeout:
            "Seconds a provider has to start answering a passthrough call, and the longest pause while its body streams (then 504)"
        case .apiCallRetention:
            "Days the API call log (`/unified/apicall`) keeps a call; older ones are purged in the background"
        case .eventRetrySchedule:
            "Waits between event webhook delivery attempts, after the first (`5s,5m,2h,1d`; ±10% jitter); when spent, the event fails and the endpoint is disabled"
        case .eventDeliveryTimeout: "Seconds an event webhook receiver has to answer a delivery"
        case .eventLease:
            "Seconds a claimed event stays leased to the replica delivering it; after that another replica may send it again (a replica that died mid-delivery)"
        case .eventRetention:
            "Days events (`/unified/notification`) and their delivery attempts are kept; older ones are purged in the background"
        case .eventSecretOverlap:
            "Hours the previous event webhook signing secret keeps signing beside the new one after a rotation"
        case .integrationsDir:
            "Directory of extra integration definitions (`*.yaml`), adding to or replacing the shipped catalog"
        case .refreshMargin: "Seconds before expiry at which OAuth tokens are refreshed"
        case .refreshInterval:
            "Seconds between background token-refresh passes; 0 turns the background refresher off, leaving refresh to callers asking for credentials"
        case .oauthStateTTL:
            "Seconds an OAuth authorization may take, from handing out its URL to the provider's callback"
        case .metrics: "Prometheus metrics at `/metrics`: on or off"
        case .metricsPort:
            "Serve `/metrics` on this port (same address as the API) instead of the API port"
        case .metricsToken:
            "Bearer token that `/metrics` then requires (`Authorization: Bearer <token>`)"
        case .otelEndpoint:
            "OpenTelemetry collector to export traces to over OTLP/HTTP (`http://HOST:4318`; `/v1/traces` is appended); the standard `OTEL_*` variables refine the exporter"
        case .benchPostgres:
            "PostgreSQL server for `bench --backend postgres` (`postgres://USER@127.0.0.1:PORT/postgres?sslmode=disable`)"
        }
    }

    /// The CLI's help for the flag: what it does and where its default comes from.
    public var flagHelp: String {
        "\(help). Default: $\(variable), else \(defaultText)".replacingOccurrences(of: "`", with: "")
            .replacingOccurrences(of: "**", with: "")
    }
}

/// A setting given a value it cannot take; the message names the flag or variable it came from.
public struct SettingsError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
}

/// Every setting of every command, resolved in one place: the flag when given, else the
/// environment variable when set and non-empty, else the default (docs/configuration.md).
public struct Settings: Sendable {
    private let flags: [Setting: String]
    private let environment: [String: String]

    /// `flags`: the flags the command line gave, as typed.
    public init(flags: [Setting: String] = [:], environment: [String: String]) {
        self.flags = flags
        self.environment = environment
    }

    /// The value given for `setting` and where it came from (`--flag` or `VARIABLE`), or nil.
    public func given(_ setting: Setting) -> (text: String, source: String)? {
        if let flag = setting.flag, let text = flags[setting] { return (text, flag) }
        if let text = environment[setting.variable], !text.isEmpty { return (text, setting.variable) }
        return nil
    }

    public func database() throws -> DatabaseLocation {
        guard let (text, source) = given(.database) else {
            return try DatabaseLocation(url: DatabaseLocation.defaultURL)
        }
        do { return try DatabaseLocation(url: text) } catch {
            // The URL is not echoed: it may hold a password.
            throw SettingsError(description: "\(source): \(error.description)")
        }
    }

    public func logLevel(default level: Logger.Level) throws -> Logger.Level {
        guard let (text, source) = given(.logLevel) else { return level }
        guard let level = Logger.Level(rawValue: text) else {
            let names = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw SettingsError(description: "\(source): unknown log level \"\(text)\"; use one of \(names)")
        }
        return level
    }

    /// `json` or `text`; unset, JSON unless standard error is a terminal (`isTerminal`).
    public func logFormat(isTerminal: Bool) throws -> LogFormat {
        guard let (text, source) = given(.logFormat) else { return isTerminal ? .text : .json }
        guard let format = LogFormat(rawValue: text) else {
            throw SettingsError(description: "\(source): unknown log format \"\(text)\"; use json or text")
        }
        return format
    }

    /// Where the master keys come from; setting the inline and the file form together is refused.
    public func masterKeys() throws -> MasterKeySettings {
        let keys = given(.masterKeys)?.text
        let key = given(.masterKey)?.text
        let file = given(.masterKeyFile)?.text
        let (keysVariable, keyVariable, fileVariable) =
            (Setting.masterKeys.variable, Setting.masterKey.variable, Setting.masterKeyFile.variable)
        if keys != nil, key != nil {
            throw SettingsError(description: "set either \(keysVariable) or \(keyVariable), not both")
        }
        if file != nil, keys ?? key != nil {
            throw SettingsError(
                description: "set either \(fileVariable) or \(keysVariable)/\(keyVariable), not both"
            )
        }
        return MasterKeySettings(inlineKeys: keys ?? key, keyFile: file)
    }

    /// What `serve`'s HTTP server needs (the connection cap stays nil unless given: the
    /// application derives it from the open-file limit).
    public func server() throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        if let host = given(.host) { configuration.host = host.text }
        if let port = try wholeNumber(.port, 0...65_535) { configuration.port = port }
        if let value = try seconds(.idleTimeout) { configuration.idleTimeout = value }
        if let value = try seconds(.shutdownTimeout) { configuration.shutdownTimeout = value }
        if let value = try seconds(.shutdownDelay, allowingZero: true) { configuration.shutdownDelay = value }
        if let value = try seconds(.bodyReadTimeout) { configuration.bodyReadTimeout = value }
        configuration.maximumConnections = try wholeNumber(.maxConnections, 1...1_000_000)
        if let value = try wholeNumber(.authFailureLimit, 1...1_000_000) {
            configuration.authenticationFailureLimit = value
        }
        if let value = try wholeNumber(.authorizeRateLimit, 1...1_000_000) { configuration.authorizeRateLimit = value }
        if let (text, source) = given(.trustedProxy) {
            do { configuration.trustedProxies = try TrustedProxies(parsing: text) } catch {
                throw SettingsError(description: "\(source): \(error.description)")
            }
        }
        let interval = try wholeNumber(.refreshInterval, 0...86_400) ?? 30
        configuration.refreshInterval = interval == 0 ? nil : .seconds(interval)
        configuration.metrics = try metrics()
        if let days = try wholeNumber(.apiCallRetention, 1...3_650) { configuration.apiCallRetentionDays = days }
        if let (text, source) = given(.otelEndpoint) {
            guard let url = URLComponents(string: text), ["http", "https"].contains(url.scheme ?? ""),
                url.host?.isEmpty == false, url.query == nil
            else {
                throw SettingsError(
                    description: "\(source): \"\(text)\" is not an http(s) URL such as http://127.0.0.1:4318"
                )
            }
            configuration.otelEndpoint = text
        }
        return configuration
    }

    /// Where and how `/metrics` is served; nil when turned off.
    func metrics() throws -> MetricsConfiguration? {
        if let (text, source) = given(.metrics) {
            switch text {
            case "on": break
            case "off": return nil
            default: throw SettingsError(description: "\(source): \"\(text)\" is neither on nor off")
            }
        }
        var metrics = MetricsConfiguration()
        metrics.port = try wholeNumber(.metricsPort, 1...65_535)
        if let token = given(.metricsToken)?.text {
            guard token.utf8.count >= 16 else {
                throw SettingsError(description: "\(Setting.metricsToken.variable): use at least 16 characters")
            }
            metrics.token = token
        }
        return metrics
    }

    public func egress() throws -> EgressPolicy {
        guard let (text, source) = given(.egressAllow) else { return EgressPolicy() }
        do { return try EgressPolicy(parsing: text) } catch {
            throw SettingsError(description: "\(source): \(error.description)")
        }
    }

    /// Event delivery: retry schedule, timeout, lease, retention, secret overlap.
    public func events() throws -> EventSettings {
        var settings = EventSettings()
        if let (text, source) = given(.eventRetrySchedule) {
            do { settings.schedule = try RetrySchedule(parsing: text) } catch {
                throw SettingsError(description: "\(source): \(error.message)")
            }
        }
        if let seconds = try wholeNumber(.eventDeliveryTimeout, 1...300) {
            settings.timeoutSeconds = Int64(seconds)
            settings.leaseSeconds = Int64(seconds) + 30
        }
        if let seconds = try wholeNumber(.eventLease, 1...86_400) {
            guard Int64(seconds) > settings.timeoutSeconds else {
                throw SettingsError(
                    description:
                        "\(Setting.eventLease.rawValue): \(seconds) must be longer than the delivery timeout (\(settings.timeoutSeconds))"
                )
            }
            settings.leaseSeconds = Int64(seconds)
        }
        if let days = try wholeNumber(.eventRetention, 1...3_650) { settings.retentionDays = days }
        if let hours = try wholeNumber(.eventSecretOverlap, 0...720) { settings.secretOverlapHours = Int64(hours) }
        return settings
    }

    /// Passthrough's body limit and upstream timeout.
    public func passthrough() throws -> PassthroughSettings {
        var settings = PassthroughSettings()
        if let mebibytes = try wholeNumber(.passthroughBodyLimit, 1...65_536) {
            settings.bodyLimit = Int64(mebibytes) * 1024 * 1024
        }
        if let seconds = try wholeNumber(.passthroughTimeout, 1...3_600) { settings.timeoutSeconds = Int64(seconds) }
        return settings
    }

    /// The OAuth settings, with the integration catalog loaded (the shipped definitions plus the
    /// operator's directory). `server` gives the default public URL, `http://HOST:PORT`.
    public func oauth(server: ServerConfiguration) throws -> OAuthSettings {
        var oauth = OAuthSettings(publicURL: "http://\(server.host):\(server.port)")
        if let (text, source) = given(.publicURL) {
            guard let url = URLComponents(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme),
                url.host?.isEmpty == false
            else {
                throw SettingsError(description: "\(source): \"\(text)\" is not an absolute http(s) URL")
            }
            oauth.publicURL = text
        }
        let directory = given(.integrationsDir)
        do { oauth.catalog = try IntegrationCatalogLoader.load(operatorDirectory: directory?.text) } catch {
            throw SettingsError(description: (directory.map { "\($0.source): " } ?? "") + error.description)
        }
        if let margin = try wholeNumber(.refreshMargin, 0...86_400) { oauth.refreshPolicy.margin = Int64(margin) }
        if let ttl = try wholeNumber(.oauthStateTTL, 1...86_400) { oauth.stateLifetime = Int64(ttl) }
        return oauth
    }

    private func wholeNumber(_ setting: Setting, _ range: ClosedRange<Int>) throws -> Int? {
        guard let (text, source) = given(setting) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw SettingsError(
                description:
                    "\(source): \"\(text)\" is not a whole number from \(range.lowerBound) to \(range.upperBound)"
            )
        }
        return value
    }

    private func seconds(_ setting: Setting, allowingZero: Bool = false) throws -> Duration? {
        guard let (text, source) = given(setting) else { return nil }
        guard let value = Double(text), value.isFinite, allowingZero ? value >= 0 : value > 0, value <= 86_400 else {
            let lowest = allowingZero ? "from 0" : "above 0"
            throw SettingsError(
                description: "\(source): \"\(text)\" is not a number of seconds \(lowest) and at most 86400"
            )
        }
        return .milliseconds(Int64(value * 1000))
    }
}
