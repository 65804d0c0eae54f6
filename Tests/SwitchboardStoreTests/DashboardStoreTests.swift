import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// Dashboard sessions, sign-in links and Connect sessions, on both backends: a session is found
/// only while unexpired and its key unrevoked, a link or a Connect session is spent by exactly one
/// of many concurrent callers, and expired rows are purged.
@Suite struct DashboardStoreTests {
    static let now = Timestamp(millisecondsSinceEpoch: 1_800_000_000_000)

    static func session(
        _ kind: DashboardSession.Kind,
        _ workspace: WorkspaceID,
        key: String?,
        hash: UInt8,
        expiresIn seconds: Int64 = 600
    ) -> DashboardSession {
        DashboardSession(
            tokenHash: Array(repeating: hash, count: 32),
            kind: kind,
            workspaceID: workspace,
            keyID: key,
            scopes: .all,
            createdAt: now,
            lastSeenAt: now,
            expiresAt: now.adding(seconds: seconds)
        )
    }

    @Test(arguments: StoreBackend.enabled)
    func aSessionIsFoundWhileUnexpiredAndItsKeyUnrevoked(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let key = try #require(try await store.apiKeys(workspace: workspace).first)
            try await store.insert(Self.session(.session, workspace, key: key.id, hash: 1), audit: nil)
            try await store.insert(Self.session(.session, workspace, key: nil, hash: 2), audit: nil)
            try await store.insert(Self.session(.link, workspace, key: nil, hash: 3), audit: nil)
            let found = try #require(
                try await store.dashboardSession(hash: Array(repeating: 1, count: 32), at: Self.now)
            )
            #expect(found.keyID == key.id && found.scopes == .all && found.workspaceID == workspace)
            // A link is not a session, and nothing is found past its end.
            #expect(try await store.dashboardSession(hash: Array(repeating: 3, count: 32), at: Self.now) == nil)
            #expect(
                try await store.dashboardSession(
                    hash: Array(repeating: 1, count: 32),
                    at: Self.now.adding(seconds: 601)
                )
                    == nil
            )
            try await store.touchDashboardSession(
                hash: Array(repeating: 1, count: 32),
                at: Self.now.adding(seconds: 90)
            )
            let touched = try await store.dashboardSession(hash: Array(repeating: 1, count: 32), at: Self.now)
            #expect(touched?.lastSeenAt == Self.now.adding(seconds: 90))
            // Revoking the key hides its sessions at once; a link's session (no key) stays.
            _ = try await store.revokeAPIKey(id: key.id, at: Self.now, audit: nil)
            #expect(try await store.dashboardSession(hash: Array(repeating: 1, count: 32), at: Self.now) == nil)
            #expect(try await store.dashboardSession(hash: Array(repeating: 2, count: 32), at: Self.now) != nil)
            // Signing out everywhere deletes the workspace's sessions, not its links.
            let audit = AuditRecord(
                .dashboardSignOut,
                by: .cli(workspace: workspace),
                at: Self.now,
                target: "everywhere"
            )
            #expect(try await store.deleteDashboardSessions(workspace: workspace, hash: nil, audit: audit) == 2)
            #expect(try await store.signInLink(hash: Array(repeating: 3, count: 32), at: Self.now) != nil)
            #expect(try await store.spendSignInLink(hash: Array(repeating: 3, count: 32), at: Self.now) != nil)
            #expect(try await store.signInLink(hash: Array(repeating: 3, count: 32), at: Self.now) == nil)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aLinkAndAConnectSessionAreSpentOnceAmongConcurrentCallers(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            try await store.insert(Self.session(.link, workspace, key: nil, hash: 7), audit: nil)
            let connect = ConnectSession(
                tokenHash: Array(repeating: 8, count: 32),
                id: "cs_test",
                workspaceID: workspace,
                externalXref: "user-1",
                integrations: ["greenhouse", "hubspot"],
                categories: [try #require(Category("crm"))],
                environment: "Production",
                successRedirect: "https://app.example/done",
                failureRedirect: nil,
                createdBy: "k1",
                createdAt: Self.now,
                expiresAt: Self.now.adding(seconds: 1800)
            )
            try await store.insert(
                connect,
                audit: AuditRecord(
                    .connectSessionCreate,
                    by: .cli(workspace: workspace),
                    at: Self.now,
                    target: "cs_test"
                )
            )
            #expect(try await store.connectSession(hash: connect.tokenHash) == connect)
            let (links, connects) = try await withThrowingTaskGroup(of: (Bool, Bool).self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        (
                            try await store.spendSignInLink(hash: Array(repeating: 7, count: 32), at: Self.now) != nil,
                            try await store.spendConnectSession(hash: connect.tokenHash, at: Self.now) != nil
                        )
                    }
                }
                var counts = (0, 0)
                for try await (link, session) in group {
                    if link { counts.0 += 1 }
                    if session { counts.1 += 1 }
                }
                return counts
            }
            #expect(links == 1 && connects == 1)
            #expect(try await store.connectSession(hash: connect.tokenHash)?.usedAt == Self.now)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func expiredRowsCannotBeSpentAndArePurged(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            try await store.insert(Self.session(.link, workspace, key: nil, hash: 4, expiresIn: 10), audit: nil)
            try await store.insert(Self.session(.session, workspace, key: nil, hash: 5, expiresIn: 10), audit: nil)
            try await store.insert(Self.session(.session, workspace, key: nil, hash: 6, expiresIn: 3600), audit: nil)
            let later = Self.now.adding(seconds: 60)
            #expect(try await store.spendSignInLink(hash: Array(repeating: 4, count: 32), at: later) == nil)
            #expect(try await store.purgeExpiredDashboardSessions(before: later) == 2)
            #expect(try await store.dashboardSession(hash: Array(repeating: 6, count: 32), at: later) != nil)
        }
    }
}
