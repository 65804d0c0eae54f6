/// Persistence for a workspace's declared environments (`Workspace.environments`). Each change
/// is a read-modify-write the store serializes, so concurrent calls from any replica never lose
/// one another's names.
public protocol EnvironmentStore: Sendable {
    /// Declares those of `names` the workspace does not have yet, after the existing ones, and
    /// appends `audit` (its target set to the names added, one a line) when any was added, in one
    /// transaction; adds nothing when that would make more than `maximum`.
    func addEnvironments(
        _ names: [String],
        workspace: WorkspaceID,
        maximum: Int,
        audit: AuditRecord
    ) async throws -> EnvironmentAddition

    /// Removes `name` and appends `audit`, in one transaction, unless a connection of the
    /// workspace is still in that environment (counted in the same transaction).
    func removeEnvironment(
        _ name: String,
        workspace: WorkspaceID,
        audit: AuditRecord
    ) async throws
        -> EnvironmentRemoval
}

public enum EnvironmentAddition: Sendable, Equatable {
    /// The declared environments afterwards.
    case declared([String])
    case noWorkspace
    /// Refused: the workspace would have more than the maximum.
    case overLimit
}

public enum EnvironmentRemoval: Sendable, Equatable {
    /// Removed; the declared environments that remain.
    case removed([String])
    /// The workspace has no such declared environment (or there is no such workspace).
    case notDeclared
    /// Refused: this many connections are in it.
    case inUse(connections: Int)
}
