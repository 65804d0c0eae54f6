import Foundation
import Logging
import SwitchboardCore
import SwitchboardPostgres
import SwitchboardSQLite
import SwitchboardTestSupport

/// The backends the contract suite runs against. PostgreSQL runs when configured (and must, in CI).
enum StoreBackend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    static var enabled: [StoreBackend] { TestPostgres.isEnabled ? allCases : [.sqlite] }
    var description: String { rawValue }

    /// Runs `body` against a fresh, migrated store, then removes it.
    func withStore<T: Sendable>(_ body: @Sendable (any SwitchboardStore) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "switchboard-store-\(UUID().uuidString)"
            )
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = try SQLiteStore(
                path: directory.appendingPathComponent("db.sqlite").path,
                logger: testLogger
            )
            try await store.migrate()
            defer { try? store.close() }
            return try await body(store)
        case .postgres:
            return try await TestPostgres.withSchema { settings in
                try await TestPostgres.withStore(settings) { store in
                    try await store.migrate()
                    return try await body(store)
                }
            }
        }
    }
}

/// Fixtures: a workspace (with a key) stored and ready to hold connections.
func makeWorkspace(_ store: any SwitchboardStore, name: String = "w") async throws -> WorkspaceID {
    let time = Timestamp(millisecondsSinceEpoch: 1_700_000_000_000)
    let workspace = Workspace(id: WorkspaceID.generate(at: time), name: name, createdAt: time)
    let key = APIKeyRecord(id: APIKey.generate().id, workspaceID: workspace.id, secretHash: [1, 2], createdAt: time)
    try await store.insert(
        workspace,
        firstKey: key,
        audit: AuditRecord(.apiKeyCreate, by: .cli(workspace: workspace.id), at: time, target: key.id)
    )
    return workspace.id
}

func makeConnection(
    in workspace: WorkspaceID,
    at milliseconds: Int64 = 1_700_000_000_000,
    type: String = "hubspot",
    name: String? = nil,
    xref: String? = nil,
    categories: [String] = ["crm"],
    environment: String = "Production",
    sealed: SealedSecret? = SealedSecret(keyID: "mk_test", ciphertext: [9, 9, 9])
) -> Connection {
    let time = Timestamp(millisecondsSinceEpoch: milliseconds)
    return Connection(
        id: ConnectionID.generate(at: time),
        workspaceID: workspace,
        fields: ConnectionFields(
            integrationType: type,
            integrationName: name,
            externalXref: xref,
            permissions: [Permission("crm_contact_read")!],
            categories: categories.map { Category($0)! },
            environment: environment
        ),
        sealedAuth: sealed,
        createdAt: time,
        updatedAt: time
    )
}

/// Every row `query` matches, page after page by keyset position (`after`), in its order.
func listByPosition(_ store: any SwitchboardStore, _ query: ConnectionQuery) async throws -> [ConnectionID] {
    var query = query
    var ids: [ConnectionID] = []
    while true {
        let page = try await store.list(query)
        ids += page.map(\.id)
        guard page.count == query.limit, let last = page.last else { return ids }
        query.after = ConnectionQuery.Position(of: last, in: query.sort)
    }
}

extension SwitchboardStore {
    /// The benchmark's view of this store (every backend has one; `SwitchboardStore` does not
    /// include it, so production code never sees it).
    var bench: any StoreBenchmarking { self as! any StoreBenchmarking }
}
