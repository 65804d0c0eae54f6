import SwitchboardCore
import SwitchboardTestSupport
import Testing

@Suite struct AuthorizationStoreTests {
    static func time(_ offset: Int64) -> Timestamp { Timestamp(millisecondsSinceEpoch: 1_700_000_000_000 + offset) }

    static func state(_ hash: [UInt8], in workspace: WorkspaceID, expiresAt: Int64 = 600_000) -> AuthorizationState {
        AuthorizationState(
            stateHash: hash,
            workspaceID: workspace,
            integrationType: "hubspot",
            environment: "Sandbox",
            externalXref: "user-1",
            callerState: "caller's state",
            successRedirect: "https://app.example.com/ok",
            failureRedirect: "https://app.example.com/failed",
            permissions: [Permission("crm_contact_read")!, Permission("crm_deal_read")!],
            subdomain: "acme",
            connectionID: ConnectionID(rawValue: "c-1"),
            createdAt: time(0),
            expiresAt: time(expiresAt)
        )
    }

    /// Each workspace keeps a bounded number of pending states: a new one evicts the oldest of its
    /// own workspace, never another workspace's.
    @Test(arguments: StoreBackend.enabled)
    func pendingStatesAreBoundedPerWorkspaceOldestFirst(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let other = try await makeWorkspace(store, name: "other")
            var otherState = Self.state([200], in: other)
            otherState.createdAt = Self.time(-1)
            try await store.insert(otherState, keepingAtMost: 3)
            for i in 0..<5 {
                var state = Self.state([UInt8(i)], in: workspace)
                state.createdAt = Self.time(Int64(i))
                try await store.insert(state, keepingAtMost: 3)
            }
            for i in 0..<2 {
                #expect(try await store.consumeAuthorizationState(hash: [UInt8(i)], at: Self.time(10)) == .unknown)
            }
            for i in 2..<5 {
                guard case .consumed = try await store.consumeAuthorizationState(hash: [UInt8(i)], at: Self.time(10))
                else {
                    Issue.record("state \(i) was evicted")
                    continue
                }
            }
            guard case .consumed = try await store.consumeAuthorizationState(hash: [200], at: Self.time(10)) else {
                Issue.record("another workspace's state was evicted")
                return
            }
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func ofTwentyConcurrentConsumersExactlyOneConsumesTheState(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let state = Self.state(Array(repeating: 7, count: 32), in: workspace)
            try await store.insert(state)
            let outcomes = try await withThrowingTaskGroup(of: StateConsumption.self) { group in
                for i in 0..<20 {
                    group.addTask {
                        try await store.consumeAuthorizationState(hash: state.stateHash, at: Self.time(Int64(i)))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .consumed(state) }.count == 1)
            #expect(outcomes.filter { $0 == .alreadyUsed(state) }.count == 19)
            // A replayed callback later still finds it spent.
            #expect(
                try await store.consumeAuthorizationState(hash: state.stateHash, at: Self.time(1_000))
                    == .alreadyUsed(state)
            )
            #expect(try await store.consumeAuthorizationState(hash: [1, 2, 3], at: Self.time(0)) == .unknown)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aStateWithoutOptionalFieldsRoundTrips(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            var state = Self.state([9], in: workspace)
            state.externalXref = nil
            state.callerState = nil
            state.successRedirect = nil
            state.failureRedirect = nil
            state.permissions = []
            state.subdomain = nil
            state.connectionID = nil
            try await store.insert(state)
            #expect(try await store.consumeAuthorizationState(hash: [9], at: Self.time(0)) == .consumed(state))
            await #expect(throws: StoreError.self) { try await store.insert(state) }
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func aReauthTokenIsSpentOnceOnlyForItsConnectionAndOnlyBeforeItExpires(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let other = try await makeWorkspace(store, name: "other")
            let connection = ConnectionID(rawValue: "c-1")
            func token(_ hash: UInt8, expiresAt: Int64 = 900_000) -> ReauthToken {
                ReauthToken(
                    tokenHash: [hash],
                    workspaceID: workspace,
                    connectionID: connection,
                    createdAt: Self.time(0),
                    expiresAt: Self.time(expiresAt)
                )
            }
            let audit = AuditRecord(
                .reauthTokenCreate,
                by: .cli(workspace: workspace),
                at: Self.time(0),
                connection: connection
            )
            try await store.insert(token(1), audit: audit)
            try await store.insert(token(2, expiresAt: 10), audit: audit)
            #expect(
                try await store.auditRecords(AuditQuery(workspaceID: workspace, action: .reauthTokenCreate)).count == 2
            )
            func spend(
                _ hash: UInt8,
                _ id: ConnectionID = connection,
                in ws: WorkspaceID? = nil,
                at now: Int64 = 5
            )
                async throws -> Bool
            {
                try await store.consumeReauthToken(
                    hash: [hash],
                    connection: id,
                    workspace: ws ?? workspace,
                    at: Self.time(now)
                )
            }
            // The wrong connection or workspace spends nothing.
            #expect(try await spend(1, ConnectionID(rawValue: "c-2")) == false)
            #expect(try await spend(1, in: other) == false)
            #expect(try await spend(1))
            #expect(try await spend(1) == false)
            // Expired at exactly its expiry.
            #expect(try await spend(2, at: 10) == false)
            #expect(try await spend(3) == false)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func purgeDeletesOnlyWhatExpiredBeforeTheTime(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            try await store.insert(Self.state([1], in: workspace, expiresAt: 100))
            try await store.insert(Self.state([2], in: workspace, expiresAt: 200))
            try await store.insert(Self.state([3], in: workspace, expiresAt: 300))
            let audit = AuditRecord(.reauthTokenCreate, by: .cli(workspace: workspace), at: Self.time(0))
            for (hash, expiry) in [(UInt8(1), Int64(150)), (2, 250)] {
                try await store.insert(
                    ReauthToken(
                        tokenHash: [hash],
                        workspaceID: workspace,
                        connectionID: ConnectionID(rawValue: "c"),
                        createdAt: Self.time(0),
                        expiresAt: Self.time(expiry)
                    ),
                    audit: audit
                )
            }
            #expect(try await store.purgeExpiredAuthorizations(before: Self.time(200)) == 2)
            #expect(try await store.consumeAuthorizationState(hash: [1], at: Self.time(0)) == .unknown)
            #expect(try await store.consumeAuthorizationState(hash: [2], at: Self.time(0)) != .unknown)
            #expect(
                try await store.consumeReauthToken(
                    hash: [2],
                    connection: ConnectionID(rawValue: "c"),
                    workspace: workspace,
                    at: Self.time(0)
                )
            )
            #expect(try await store.purgeExpiredAuthorizations(before: Self.time(1_000)) == 3)
            #expect(try await store.purgeExpiredAuthorizations(before: Self.time(1_000)) == 0)
        }
    }
}
