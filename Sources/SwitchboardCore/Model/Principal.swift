/// Whether a request's API key is known to be unrevoked.
public enum KeyCheck: Sendable, Equatable {
    /// Its row was read while authenticating, and it is live.
    case confirmed
    /// Its secret was checked against what cannot change about it (`KnownKeys`); whether it is
    /// still unrevoked is left to the database read that serves the request, which must confirm
    /// this key in the same round trip (see `WorkspaceService.authenticate`).
    case deferredTo(keyID: String)
}

/// Who is calling: the workspace and key a request was authenticated as, what that key may do, and
/// the address it called from (recorded in the audit log).
public struct Principal: Sendable, Equatable {
    public var workspaceID: WorkspaceID
    /// The API key's public id, or `cli` for an operator's command.
    public var keyID: String
    public var scopes: ScopeSet
    public var clientAddress: String?
    /// A `deferredTo` principal passes no `require`: only the reads that confirm the key
    /// themselves (`ConnectionService.listJSON`, `getJSON` and `proxyCredentials`) accept it, through
    /// `requireScopeForConfirmingRead`, which hands them the key to confirm.
    public var keyCheck: KeyCheck

    public init(
        workspaceID: WorkspaceID,
        keyID: String,
        scopes: ScopeSet,
        clientAddress: String? = nil,
        keyCheck: KeyCheck = .confirmed
    ) {
        self.workspaceID = workspaceID
        self.keyID = keyID
        self.scopes = scopes
        self.clientAddress = clientAddress
        self.keyCheck = keyCheck
    }

    /// An operator acting through the CLI on the database directly: every scope.
    public static func cli(workspace: WorkspaceID) -> Principal {
        Principal(workspaceID: workspace, keyID: "cli", scopes: .all)
    }

    /// Throws `ServiceError.missingScope` unless the key holds `scope`, and fails closed
    /// (`unauthenticated`) for a key not yet confirmed unrevoked.
    public func require(_ scope: Scope) throws(ServiceError) {
        guard case .confirmed = keyCheck else { throw .unauthenticated }
        guard scopes.contains(scope) else { throw .missingScope(scope) }
    }

    /// For a read that confirms the key in the same database round trip: the scope check, and
    /// the key that read must confirm (a confirmed key is simply confirmed again). There is no
    /// way to check a scope alone and skip the revocation check.
    func requireScopeForConfirmingRead(_ scope: Scope) throws(ServiceError) -> String {
        guard scopes.contains(scope) else { throw .missingScope(scope) }
        switch keyCheck {
        case .confirmed: return keyID
        case .deferredTo(let keyID): return keyID
        }
    }
}
