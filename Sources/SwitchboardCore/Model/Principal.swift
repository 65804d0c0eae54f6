/// Who is calling: the workspace and key a request was authenticated as, what that key may do, and
/// the address it called from (recorded in the audit log).
public struct Principal: Sendable, Equatable {
    public var workspaceID: WorkspaceID
    /// The API key's public id, or `cli` for an operator's command.
    public var keyID: String
    public var scopes: ScopeSet
    public var clientAddress: String?
    /// False when the key's secret was checked but whether it is still unrevoked is left to the
    /// read that serves the request, in the same database round trip (see
    /// `WorkspaceService.authenticate`). Such a principal passes no `require`: only
    /// `ConnectionService.listJSON` and `getJSON` accept it, and they pass the key to the store.
    public var keyConfirmed: Bool

    public init(
        workspaceID: WorkspaceID,
        keyID: String,
        scopes: ScopeSet,
        clientAddress: String? = nil,
        keyConfirmed: Bool = true
    ) {
        self.workspaceID = workspaceID
        self.keyID = keyID
        self.scopes = scopes
        self.clientAddress = clientAddress
        self.keyConfirmed = keyConfirmed
    }

    /// An operator acting through the CLI on the database directly: every scope.
    public static func cli(workspace: WorkspaceID) -> Principal {
        Principal(workspaceID: workspace, keyID: "cli", scopes: .all)
    }

    /// Throws `ServiceError.missingScope` unless the key holds `scope`, and fails closed
    /// (`unauthenticated`) for a key not yet confirmed unrevoked.
    public func require(_ scope: Scope) throws(ServiceError) {
        guard keyConfirmed else { throw .unauthenticated }
        try requireScope(scope)
    }

    /// The scope check alone, for the reads that confirm the key themselves, and for the route
    /// table's check before a body is read (the service then checks again, with revocation).
    public func requireScope(_ scope: Scope) throws(ServiceError) {
        guard scopes.contains(scope) else { throw .missingScope(scope) }
    }
}
