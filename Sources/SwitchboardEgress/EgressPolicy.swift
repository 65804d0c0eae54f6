/// Which destinations Switchboard may call: every outbound HTTP request (token endpoints,
/// secrets managers, and later provider APIs and webhook receivers) is checked against one policy.
///
/// By default loopback, private, link-local (cloud metadata included), CGNAT, unspecified,
/// multicast and reserved addresses are refused, in every spelling (IPv4-mapped IPv6, NAT64,
/// 6to4, decimal or octal forms, which are resolved first). An operator allows more with
/// `--egress-allow` (`SWITCHBOARD_EGRESS_ALLOW`): host names (exact, or `*.example.com` for its
/// subdomains) or CIDR blocks (`10.1.0.0/16`, `127.0.0.1`, `fd00::/8`).
public struct EgressPolicy: Sendable, Equatable {
    public enum Rule: Sendable, Equatable, CustomStringConvertible {
        case host(String)
        case domain(String)  // `*.example.com`: subdomains of example.com
        case network(IPNetwork)

        public var description: String {
            switch self {
            case .host(let name): name
            case .domain(let suffix): "*." + suffix
            case .network(let network): network.description
            }
        }
    }

    public var allowed: [Rule]

    public init(allowed: [Rule] = []) {
        self.allowed = allowed
    }

    /// Parses `--egress-allow`'s comma-separated list.
    public init(parsing text: String) throws(EgressPolicyError) {
        var rules: [Rule] = []
        for raw in text.split(separator: ",") {
            let item = String(
                raw.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
            )
            guard !item.isEmpty else { continue }
            rules.append(try Self.rule(item))
        }
        self.init(allowed: rules)
    }

    static func rule(_ item: String) throws(EgressPolicyError) -> Rule {
        if item.contains("/") || IPAddress(item) != nil {
            guard let network = IPNetwork(item) else {
                throw EgressPolicyError(
                    "\"\(item.prefix(64))\" is not an address or CIDR block such as 10.0.0.0/8 or fd00::/8 (prefix length at most 32 or 128)"
                )
            }
            return .network(network)
        }
        let name = item.lowercased()
        if name.hasPrefix("*.") {
            let suffix = String(name.dropFirst(2))
            guard Self.isHostName(suffix) else { throw EgressPolicyError("\"\(item.prefix(64))\" is not a host name") }
            return .domain(suffix)
        }
        guard Self.isHostName(name) else {
            throw EgressPolicyError("\"\(item.prefix(64))\" is neither a host name nor a CIDR block")
        }
        return .host(name)
    }

    public static func isHostName(_ name: String) -> Bool {
        guard (1...253).contains(name.utf8.count) else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.utf8.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy { b in
                    (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
                }
        }
    }

    /// The rule of the allow list that admits `host` by name, if any.
    public func allowsName(_ host: String) -> Bool {
        let name = host.lowercased()
        return allowed.contains { rule in
            switch rule {
            case .host(let allowed): name == allowed
            case .domain(let suffix): name.hasSuffix("." + suffix)
            case .network: false
            }
        }
    }

    /// Checks one address `host` resolved to. A host allowed by name may resolve anywhere (the
    /// operator vouched for it); otherwise a restricted address must fall in an allowed block.
    public func check(_ address: IPAddress, host: String) throws(EgressRefusal) {
        if allowsName(host) { return }
        guard let restricted = address.restrictedClass else { return }
        for case .network(let network) in allowed where network.contains(address) { return }
        throw EgressRefusal(
            host: host,
            reason: "it resolves to \(address), a \(restricted) address; allow it with --egress-allow"
        )
    }

    /// What can be known of a URL before any lookup: http(s) only, a host, no user information.
    public func checkURL(_ url: String) throws(EgressRefusal) -> Destination {
        guard let destination = Destination(url) else {
            throw EgressRefusal(host: "", reason: "the URL is not an absolute http or https URL with a host")
        }
        if destination.hasUserInfo {
            throw EgressRefusal(
                host: destination.host,
                reason: "the URL carries user information (user@host), which is refused"
            )
        }
        return destination
    }
}

/// The parts of an outbound URL the policy judges.
public struct Destination: Sendable, Equatable {
    public var scheme: String
    /// Lower-cased, without brackets for IPv6 or a trailing dot.
    public var host: String
    /// The host as written in the URL (without brackets), which is what an HTTP client looks up.
    public var rawHost: String
    public var port: Int
    public var hasUserInfo: Bool

    /// Splits `scheme://authority/...` by hand, the way an HTTP client reads it, instead of
    /// trusting a general URL parser's idea of where the host ends.
    public init?(_ url: String) {
        // A backslash is a separator to some URL parsers and user information to others: no URL
        // Switchboard sends holds one, so none is judged.
        guard !url.contains("\\"), let colon = url.firstIndex(of: ":") else { return nil }
        let scheme = url[..<colon].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        let rest = url[url.index(after: colon)...]
        guard rest.hasPrefix("//") else { return nil }
        let afterSlashes = rest.dropFirst(2)
        let authority = afterSlashes.prefix { $0 != "/" && $0 != "?" && $0 != "#" && $0 != "\\" }
        // No percent-escapes in the authority either: a client may decode them before the lookup
        // (`evil.test%00.example.com`), so the name judged would not be the name resolved.
        guard !authority.isEmpty, !authority.contains("%"),
            !authority.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F || $0.value > 0x7E })
        else { return nil }
        self.scheme = scheme
        self.hasUserInfo = authority.contains("@")
        let hostPort = authority.split(separator: "@", omittingEmptySubsequences: false).last!
        var host: Substring
        var portText: Substring?
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { return nil }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else if let portColon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<portColon]
            portText = hostPort[hostPort.index(after: portColon)...]
        } else {
            host = hostPort
        }
        guard !host.isEmpty else { return nil }
        if let portText {
            guard let port = Int(portText), (1...65535).contains(port) else { return nil }
            self.port = port
        } else {
            self.port = scheme == "https" ? 443 : 80
        }
        self.rawHost = String(host)
        var name = host.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        self.host = name
    }
}

/// `--egress-allow` could not be read.
public struct EgressPolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The policy refused a destination; nothing was sent. Names the host and the rule, never a
/// path or query (which may carry secrets).
public struct EgressRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var reason: String

    public init(host: String, reason: String) {
        self.host = host
        self.reason = reason
    }

    public var description: String {
        host.isEmpty
            ? "outbound call refused: \(reason)"
            : "outbound call to \(host.prefix(253)) refused: \(reason)"
    }
}
