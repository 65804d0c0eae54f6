import Foundation

/// What an API key may do. Each route needs exactly one scope; credentials are a scope of their own
/// so that most keys can read connections without ever seeing a token.
public enum Scope: String, Sendable, CaseIterable, Comparable {
    /// Connection metadata (get and list, without `auth`).
    case connectionsRead = "connections:read"
    /// The decrypted `auth` object on get and list (each reveal is audited).
    case connectionsCredentials = "connections:credentials"
    /// Create, update and delete connections.
    case connectionsWrite = "connections:write"
    /// List, create and revoke API keys.
    case keysAdmin = "keys:admin"
    /// Read the audit log.
    case auditRead = "audit:read"
    /// Register, list and remove external secrets managers.
    case secretsManagersAdmin = "secretsmanagers:admin"
    /// Enable integrations with the workspace's OAuth clients, and set where authorizations may redirect.
    case integrationsAdmin = "integrations:admin"
    /// Call a connection's provider API through passthrough (`/passthrough/...`): its credentials
    /// are used, never shown.
    case connectionsProxy = "connections:proxy"
    /// Sign in to the web dashboard. A session holds the key's scopes: a key with `dashboard`
    /// alone sees the dashboard's pages, and each page and action still needs its own scope.
    case dashboard = "dashboard"

    public static func < (a: Scope, b: Scope) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// A set of scopes, stored and printed as a comma-separated list in declaration order.
public struct ScopeSet: Sendable, Equatable, Hashable {
    public private(set) var scopes: Set<Scope>

    public init(_ scopes: some Sequence<Scope>) { self.scopes = Set(scopes) }

    public static let all = ScopeSet(Scope.allCases)

    public func contains(_ scope: Scope) -> Bool { scopes.contains(scope) }

    public func isSubset(of other: ScopeSet) -> Bool { scopes.isSubset(of: other.scopes) }

    /// Scopes in declaration order.
    public var sorted: [Scope] { scopes.sorted() }

    /// `connections:read,connections:write`: the stored form.
    public var text: String { sorted.map(\.rawValue).joined(separator: ",") }

    /// Parses a comma-separated list (spaces allowed); an unknown or empty name is an error that names it.
    public init(parsing text: String) throws(ValidationError) {
        var scopes: Set<Scope> = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let scope = Scope(rawValue: name) else {
                throw ValidationError(
                    field: "scopes",
                    message: "unknown scope \"\(name.prefix(64))\"; known scopes: "
                        + Scope.allCases.map(\.rawValue).joined(separator: ", ")
                )
            }
            scopes.insert(scope)
        }
        guard !scopes.isEmpty else {
            throw ValidationError(field: "scopes", message: "scopes must name at least one scope")
        }
        self.scopes = scopes
    }
}
