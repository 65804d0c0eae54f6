import SwitchboardCore
import SwitchboardTestSupport
import Testing

@Suite struct TokenRefreshStoreTests {
    static let t0: Int64 = 1_700_000_000_000

    static func time(_ offset: Int64) -> Timestamp { Timestamp(millisecondsSinceEpoch: t0 + offset) }

    /// A stored connection whose token expires `offset` ms after t0.
    static func refreshing(
        _ store: any SwitchboardStore,
        in workspace: WorkspaceID,
        expiresIn offset: Int64,
        status: TokenRefreshState.Status = .active,
        attempts: Int = 0,
        nextAttemptAt: Timestamp? = nil
    ) async throws -> Connection {
        var connection = makeConnection(in: workspace, at: t0 + offset)
        connection.refresh = TokenRefreshState(
            status: status,
            expiresAt: time(offset),
            attempts: attempts,
            nextAttemptAt: nextAttemptAt
        )
        try await store.insert(connection)
        return connection
    }

    @Test(arguments: StoreBackend.enabled)
    func refreshStateRoundTripsThroughInsertGetListAndUpdate(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let plain = makeConnection(in: workspace)
            try await store.insert(plain)
            let retrying = try await Self.refreshing(
                store,
                in: workspace,
                expiresIn: 60_000,
                status: .retrying,
                attempts: 3,
                nextAttemptAt: Self.time(5_000)
            )
            #expect(try await store.connection(id: plain.id, workspace: workspace)?.refresh == nil)
            #expect(try await store.connection(id: retrying.id, workspace: workspace) == retrying)
            let listed = try await store.list(ConnectionQuery(workspaceID: workspace))
            #expect(Set(listed.map(\.id)) == [plain.id, retrying.id])
            #expect(listed.first { $0.id == retrying.id } == retrying)

            // needs_reauth, then back to no refresh at all (credentials replaced by a static key).
            let dead = try await store.update(id: retrying.id, workspace: workspace) { current in
                var next = current
                next.refresh = TokenRefreshState(status: .needsReauth, expiresAt: Self.time(1), attempts: 4)
                next.version += 1
                return next
            }
            #expect(dead?.refresh?.status == .needsReauth)
            #expect(try await store.connection(id: retrying.id, workspace: workspace) == dead)
            let cleared = try await store.update(id: retrying.id, workspace: workspace) { current in
                var next = current
                next.refresh = nil
                return next
            }
            #expect(cleared?.refresh == nil)
            #expect(try await store.connection(id: retrying.id, workspace: workspace) == cleared)
            // And the other direction: a plain connection gains refresh state.
            let gained = try await store.update(id: plain.id, workspace: workspace) { current in
                var next = current
                next.refresh = TokenRefreshState(status: .active, expiresAt: Self.time(9))
                return next
            }
            #expect(try await store.connection(id: plain.id, workspace: workspace) == gained)
            #expect(try await store.connections(after: nil, limit: 10).first { $0.id == plain.id } == gained)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func ofManyRacingOwnersExactlyOneAcquiresTheLease(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let connection = try await Self.refreshing(store, in: workspace, expiresIn: 0)
            let outcomes = try await withThrowingTaskGroup(of: RefreshLease?.self) { group in
                for owner in 0..<12 {
                    group.addTask {
                        try await store.acquireRefreshLease(
                            id: connection.id,
                            workspace: workspace,
                            owner: "owner-\(owner)",
                            at: Self.time(0),
                            until: Self.time(30_000)
                        )
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let acquired = outcomes.filter { if case .acquired = $0 { true } else { false } }
            let held = outcomes.filter { if case .heldElsewhere = $0 { true } else { false } }
            #expect(acquired.count == 1)
            #expect(held.count == 11)
            #expect(acquired.first == .acquired(connection))
            #expect(held.allSatisfy { $0 == .heldElsewhere(connection) })
            // Missing rows, and rows of another workspace, have no lease to give.
            let other = try await makeWorkspace(store, name: "other")
            #expect(
                try await store.acquireRefreshLease(
                    id: connection.id,
                    workspace: other,
                    owner: "x",
                    at: Self.time(100_000),
                    until: Self.time(200_000)
                ) == nil
            )
            #expect(
                try await store.acquireRefreshLease(
                    id: ConnectionID(rawValue: "missing"),
                    workspace: workspace,
                    owner: "x",
                    at: Self.time(0),
                    until: Self.time(1)
                ) == nil
            )
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func anExpiredLeaseCanBeRetakenAndAReleasedOneAtOnce(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let connection = try await Self.refreshing(store, in: workspace, expiresIn: 0)
            func take(_ owner: String, at now: Int64) async throws -> RefreshLease? {
                try await store.acquireRefreshLease(
                    id: connection.id,
                    workspace: workspace,
                    owner: owner,
                    at: Self.time(now),
                    until: Self.time(now + 10_000)
                )
            }
            #expect(try await take("a", at: 0) == .acquired(connection))
            #expect(try await take("b", at: 9_999) == .heldElsewhere(connection))
            // Expired at exactly its `until`: a crashed owner holds nothing for long.
            #expect(try await take("b", at: 10_000) == .acquired(connection))
            // Only the holder releases.
            try await store.releaseRefreshLease(id: connection.id, owner: "a")
            #expect(try await take("c", at: 10_001) == .heldElsewhere(connection))
            try await store.releaseRefreshLease(id: connection.id, owner: "b")
            #expect(try await take("c", at: 10_001) == .acquired(connection))
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func finishRefreshWritesOnlyForTheHolderAtTheExpectedVersion(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let connection = try await Self.refreshing(
                store,
                in: workspace,
                expiresIn: 0,
                status: .retrying,
                attempts: 2
            )
            let audit = AuditRecord(
                .tokenRefresh,
                by: Principal(workspaceID: workspace, keyID: "refresher", scopes: .all),
                at: Self.time(1),
                connection: connection.id
            )
            func refreshed(from current: Connection, token: UInt8) -> Connection {
                var next = current
                next.sealedAuth = SealedSecret(keyID: "mk_test", ciphertext: [token])
                next.refresh = TokenRefreshState(status: .active, expiresAt: Self.time(3_600_000))
                next.health.lastHealthyAt = Self.time(1)
                next.updatedAt = Self.time(1)
                next.version = current.version + 1
                return next
            }
            func take(_ owner: String, at now: Int64 = 0) async throws -> RefreshLease? {
                try await store.acquireRefreshLease(
                    id: connection.id,
                    workspace: workspace,
                    owner: owner,
                    at: Self.time(now),
                    until: Self.time(now + 30_000)
                )
            }
            func refreshAudits() async throws -> Int {
                try await store.auditRecords(AuditQuery(workspaceID: workspace, action: .tokenRefresh)).count
            }

            // Wrong owner: nothing written, and the holder's lease stays.
            #expect(try await take("a") == .acquired(connection))
            #expect(
                try await store.finishRefresh(
                    refreshed(from: connection, token: 1),
                    replacing: connection,
                    owner: "b",
                    audit: audit
                ) == false
            )
            #expect(try await store.connection(id: connection.id, workspace: workspace) == connection)
            #expect(try await take("b") == .heldElsewhere(connection))

            // Stale version (a PUT landed meanwhile): the PUT wins, the lease is released.
            let put = try await store.update(id: connection.id, workspace: workspace) { current in
                var next = current
                next.sealedAuth = SealedSecret(keyID: "mk_test", ciphertext: [42])
                next.version += 1
                return next
            }
            #expect(
                try await store.finishRefresh(
                    refreshed(from: connection, token: 2),
                    replacing: connection,
                    owner: "a",
                    audit: audit
                ) == false
            )
            #expect(try await store.connection(id: connection.id, workspace: workspace) == put)
            #expect(try await refreshAudits() == 0)
            let current = try #require(put)
            #expect(try await take("c") == .acquired(current))

            // The holder at the expected version: written, audited, released.
            let next = refreshed(from: current, token: 3)
            #expect(try await store.finishRefresh(next, replacing: current, owner: "c", audit: audit))
            #expect(try await store.connection(id: connection.id, workspace: workspace) == next)
            #expect(try await refreshAudits() == 1)
            #expect(try await take("d") == .acquired(next))
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func claimTakesOnlyDueRowsSoonestFirstAndRespectsBackoffReauthAndLeases(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let a = try await makeWorkspace(store)
            let b = try await makeWorkspace(store, name: "b")
            let now = Self.time(0)
            let dueBy = Self.time(300_000)
            let soonest = try await Self.refreshing(store, in: b, expiresIn: -60_000)
            let due = try await Self.refreshing(store, in: a, expiresIn: 200_000)
            let atTheMargin = try await Self.refreshing(store, in: a, expiresIn: 300_000)
            let backoffOver = try await Self.refreshing(
                store,
                in: a,
                expiresIn: 100_000,
                status: .retrying,
                attempts: 1,
                nextAttemptAt: Self.time(-1)
            )
            _ = try await Self.refreshing(
                store,
                in: a,
                expiresIn: 100_000,
                status: .retrying,
                attempts: 2,
                nextAttemptAt: Self.time(5_000)
            )
            _ = try await Self.refreshing(store, in: a, expiresIn: -1, status: .needsReauth)
            _ = try await Self.refreshing(store, in: a, expiresIn: 300_001)
            try await store.insert(makeConnection(in: a))
            let leasedElsewhere = try await Self.refreshing(store, in: a, expiresIn: 150_000)
            let leaseExpired = try await Self.refreshing(store, in: b, expiresIn: 150_000)
            _ = try await store.acquireRefreshLease(
                id: leasedElsewhere.id,
                workspace: a,
                owner: "other",
                at: Self.time(-1_000),
                until: Self.time(1)
            )
            _ = try await store.acquireRefreshLease(
                id: leaseExpired.id,
                workspace: b,
                owner: "crashed",
                at: Self.time(-1_000),
                until: now
            )

            let first = try await store.claimDueRefreshes(
                owner: "r1",
                at: now,
                dueBy: dueBy,
                until: Self.time(30_000),
                limit: 2
            )
            // The soonest expiries first (RETURNING's order is the database's, so compare sets).
            #expect(Set(first.map(\.id)) == [soonest.id, backoffOver.id])
            let rest = try await store.claimDueRefreshes(
                owner: "r1",
                at: now,
                dueBy: dueBy,
                until: Self.time(30_000),
                limit: 10
            )
            #expect(Set(rest.map(\.id)) == [leaseExpired.id, due.id, atTheMargin.id])
            #expect(rest.first { $0.id == due.id } == due)
            // Everything due is leased now: another claimer gets nothing, and the leases hold.
            #expect(
                try await store.claimDueRefreshes(
                    owner: "r2",
                    at: now,
                    dueBy: dueBy,
                    until: Self.time(30_000),
                    limit: 10
                ).isEmpty
            )
            #expect(
                try await store.acquireRefreshLease(
                    id: due.id,
                    workspace: a,
                    owner: "r2",
                    at: now,
                    until: Self.time(1)
                ) == .heldElsewhere(due)
            )
            // Once the claims' leases expire, the rows are due again.
            let later = try await store.claimDueRefreshes(
                owner: "r2",
                at: Self.time(30_000),
                dueBy: dueBy,
                until: Self.time(60_000),
                limit: 10
            )
            #expect(later.count == 7)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func concurrentClaimersNeverGetTheSameRow(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            var rows: [Connection] = []
            for i in 0..<30 { rows.append(try await Self.refreshing(store, in: workspace, expiresIn: Int64(i))) }
            let claims = try await withThrowingTaskGroup(of: [ConnectionID].self) { group in
                for claimer in 0..<4 {
                    group.addTask {
                        var mine: [ConnectionID] = []
                        // Several rounds each, so claims overlap in time.
                        for _ in 0..<4 {
                            mine += try await store.claimDueRefreshes(
                                owner: "claimer-\(claimer)",
                                at: Self.time(0),
                                dueBy: Self.time(100),
                                until: Self.time(30_000),
                                limit: 3
                            ).map(\.id)
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(claims.count == Set(claims).count)
            #expect(Set(claims).isSubset(of: rows.map(\.id)))
            // 4 claimers × 4 rounds × 3 rows = 48 slots for 30 rows: skipped rows are picked up by
            // later rounds, and every claimed row is leased.
            #expect(!claims.isEmpty)
            for id in claims {
                let lease = try await store.acquireRefreshLease(
                    id: id,
                    workspace: workspace,
                    owner: "late",
                    at: Self.time(1),
                    until: Self.time(2)
                )
                if case .heldElsewhere = lease {} else { Issue.record("claimed row \(id) is not leased") }
            }
        }
    }
}
