/// `/unified/environment`: the environments a workspace declares. `Production` always exists and
/// is always listed first. A connection's `environment` is not required to be declared (rows
/// from before, and clients that never call this API, keep working); an environment that still
/// holds connections cannot be removed.
public struct EnvironmentService: Sendable {
    let store: any EnvironmentStore & WorkspaceStore
    let now: @Sendable () -> Timestamp

    /// Declared environments per workspace at most, besides `Production`.
    public static let maximumCount = 100

    public init(store: any EnvironmentStore & WorkspaceStore, now: @escaping @Sendable () -> Timestamp) {
        self.store = store
        self.now = now
    }

    public func list(by principal: Principal) async throws -> [String] {
        try principal.require(.connectionsRead)
        guard let workspace = try await store.workspace(id: principal.workspaceID) else {
            throw ServiceError.workspaceNotFound(principal.workspaceID.rawValue)
        }
        return [ConnectionFields.defaultEnvironment] + workspace.environments
    }

    /// Declares `names` (already declared ones and `Production` are accepted and kept once);
    /// returns every environment afterwards.
    public func create(_ names: [String], by principal: Principal) async throws -> [String] {
        try principal.require(.connectionsWrite)
        var adding: [String] = []
        for (i, name) in names.enumerated() {
            do throws(ValidationError) {
                try Limits.checkRequiredLabel(name, field: "[\(i)]", maximum: Limits.shortLabelLength)
            } catch { throw ServiceError.invalid(error) }
            // Stored one name a line, and shown in pages and headers: no control characters.
            guard !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw ServiceError.invalid(
                    ValidationError(
                        field: "[\(i)]",
                        message: "an environment name must not contain control characters (NUL, CR, LF, tab, DEL)"
                    )
                )
            }
            if name != ConnectionFields.defaultEnvironment, !adding.contains(name) { adding.append(name) }
        }
        let record = AuditRecord(.environmentCreate, by: principal, at: now())
        let workspace = principal.workspaceID
        switch try await store.addEnvironments(adding, workspace: workspace, maximum: Self.maximumCount, audit: record)
        {
        case .declared(let declared): return [ConnectionFields.defaultEnvironment] + declared
        case .noWorkspace: throw ServiceError.workspaceNotFound(workspace.rawValue)
        case .overLimit:
            throw ServiceError.conflict(
                "a workspace declares at most \(Self.maximumCount) environments besides \(ConnectionFields.defaultEnvironment); remove some first"
            )
        }
    }

    /// Removes a declared environment; returns every environment afterwards.
    public func remove(_ name: String, by principal: Principal) async throws -> [String] {
        try principal.require(.connectionsWrite)
        guard name != ConnectionFields.defaultEnvironment else {
            throw ServiceError.conflict("the \(name) environment always exists and cannot be removed")
        }
        let record = AuditRecord(.environmentRemove, by: principal, at: now(), target: name)
        switch try await store.removeEnvironment(name, workspace: principal.workspaceID, audit: record) {
        case .removed(let declared): return [ConnectionFields.defaultEnvironment] + declared
        case .notDeclared: throw ServiceError.notFound("no environment \"\(name.prefix(64))\" in this workspace")
        case .inUse(let count):
            throw ServiceError.conflict(
                "the environment \"\(name.prefix(64))\" still has \(count) connection\(count == 1 ? "" : "s"); delete or move them first"
            )
        }
    }
}
