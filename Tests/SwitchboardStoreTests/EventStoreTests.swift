import SwitchboardCore
import SwitchboardTestSupport
import Testing

/// Events written in the transaction of their change, the outbox's claims and leases, and the
/// delivery log, on both backends.
@Suite struct EventStoreTests {
    struct Refused: Error {}

    static func audit(_ action: AuditAction, _ workspace: WorkspaceID, _ connection: ConnectionID? = nil) -> AuditRecord
    {
        AuditRecord(workspaceID: workspace, at: .now(), actor: "test", action: action, connectionID: connection)
    }

    static func webhook(_ workspace: WorkspaceID, types: [EventType] = []) -> EventWebhook {
        EventWebhook(
            workspaceID: workspace,
            url: "https://hooks.example.com/x",
            types: types,
            secret: SealedSecret(keyID: "mk_test", ciphertext: [1, 2, 3]),
            updatedAt: .now()
        )
    }

    static func all(_ store: any SwitchboardStore, _ workspace: WorkspaceID) async throws -> [Event] {
        try await store.events(EventQuery(workspaceID: workspace, descending: false))
    }

    @Test(arguments: StoreBackend.enabled)
    func eachCommittedChangeHasItsEventAndARolledBackOneNone(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let connection = makeConnection(in: workspace)
            try await store.insert(connection, audit: Self.audit(.connectionCreate, workspace, connection.id))
            // A transform that throws: nothing is written, no event.
            await #expect(throws: Refused.self) {
                _ = try await store.update(
                    id: connection.id,
                    workspace: workspace,
                    audit: Self.audit(.connectionUpdate, workspace, connection.id)
                ) { _ in throw Refused() }
            }
            _ = try await store.update(
                id: connection.id,
                workspace: workspace,
                audit: Self.audit(.connectionUpdate, workspace, connection.id)
            ) { current in
                var next = current
                next.fields.externalXref = "changed"
                next.version += 1
                return next
            }
            // Health transitions only: unhealthy, unhealthy again (nothing), healthy.
            for (healthy, code) in [(false, "401"), (false, "403"), (true, nil)] as [(Bool, String?)] {
                _ = try await store.update(id: connection.id, workspace: workspace, audit: nil) { current in
                    var next = current
                    let time = Timestamp(millisecondsSinceEpoch: Timestamp.now().millisecondsSinceEpoch + 1)
                    if healthy { next.health.lastHealthyAt = time } else { next.health.lastUnhealthyAt = time }
                    next.health.lastUnhealthyCode = code ?? next.health.lastUnhealthyCode
                    return next
                }
                try await Task.sleep(for: .milliseconds(3))
            }
            // A delete of a missing row records nothing; of the row, one event.
            #expect(
                try await !store.delete(
                    id: ConnectionID(rawValue: "missing"),
                    workspace: workspace,
                    audit: Self.audit(.connectionDelete, workspace)
                )
            )
            #expect(
                try await store.delete(
                    id: connection.id,
                    workspace: workspace,
                    audit: Self.audit(.connectionDelete, workspace)
                )
            )
            // An unaudited insert (copy, seeding) records nothing.
            try await store.insert(makeConnection(in: workspace))

            let events = try await Self.all(store, workspace)
            #expect(
                events.map(\.type) == [
                    .connectionCreated, .connectionUpdated, .connectionUnhealthy, .connectionHealthy,
                    .connectionDeleted,
                ]
            )
            #expect(events.allSatisfy { $0.connectionID == connection.id && $0.delivery == DeliveryStatus.none })
            #expect(events[1].externalXref == "changed")
            #expect(events[2].description == "the provider refused a passthrough call: 401")
            #expect(events[0].integrationType == connection.fields.integrationType)
            #expect(events[0].environment == connection.fields.environment)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func integrationWritesRecordActivationUpdateAndDeactivation(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            func stored(active: Bool) -> StoredWorkspaceIntegration {
                StoredWorkspaceIntegration(
                    integration: WorkspaceIntegration(
                        workspaceID: workspace,
                        integrationType: "hubspot",
                        clientID: "client",
                        isActive: active,
                        createdAt: .now(),
                        updatedAt: .now()
                    ),
                    sealedClientSecret: SealedSecret(keyID: "mk_test", ciphertext: [9])
                )
            }
            // One write a few milliseconds after the other, so their events list in order.
            func record() async throws -> AuditRecord {
                try await Task.sleep(for: .milliseconds(3))
                return Self.audit(.integrationEnable, workspace)
            }
            try await store.upsert(stored(active: true), audit: try await record())
            try await store.upsert(stored(active: true), audit: try await record())
            try await store.upsert(stored(active: false), audit: try await record())
            try await store.upsert(stored(active: true), audit: try await record())
            #expect(
                try await store.deleteWorkspaceIntegration(
                    type: "hubspot",
                    workspace: workspace,
                    audit: try await record()
                )
            )
            #expect(
                try await Self.all(store, workspace).map(\.type) == [
                    .integrationActivated, .integrationUpdated, .integrationDeactivated, .integrationActivated,
                    .integrationDeactivated,
                ]
            )
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func theWebhookDecidesWhichEventsEnterTheOutbox(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let other = try await makeWorkspace(store)
            try await store.setEventWebhook(
                Self.webhook(workspace, types: [.connectionDeleted]),
                workspace: workspace,
                audit: Self.audit(.eventWebhookUpdate, workspace)
            )
            let a = makeConnection(in: workspace)
            try await store.insert(a, audit: Self.audit(.connectionCreate, workspace, a.id))
            #expect(
                try await store.delete(id: a.id, workspace: workspace, audit: Self.audit(.connectionDelete, workspace))
            )
            let b = makeConnection(in: other)
            try await store.insert(b, audit: Self.audit(.connectionCreate, other, b.id))
            #expect(try await Self.all(store, workspace).map(\.delivery) == [.none, .pending])
            #expect(try await Self.all(store, other).map(\.delivery) == [.none])

            // Claimed once, by one owner, until the lease ends.
            let now = Timestamp.now()
            let until = now.adding(seconds: 60)
            let first = try await store.claimDueDeliveries(owner: "a", at: now, until: until, limit: 10, excluding: [])
            #expect(first.map(\.event.type) == [.connectionDeleted])
            #expect(
                first.first?.webhook
                    == Self.webhook(workspace, types: [.connectionDeleted]).with(updatedAt: first[0].webhook.updatedAt)
            )
            #expect(
                try await store.claimDueDeliveries(owner: "b", at: now, until: until, limit: 10, excluding: []).isEmpty
            )
            let later = now.adding(seconds: 61)
            let retaken = try await store.claimDueDeliveries(
                owner: "b",
                at: later,
                until: later.adding(seconds: 60),
                limit: 10,
                excluding: []
            )
            #expect(retaken.map(\.event.id) == first.map(\.event.id))
            // The expired owner's outcome is logged but changes nothing; the holder's applies.
            let claim = try #require(retaken.first)
            func outcome(_ next: DeliveryOutcome.Next, status: Int) -> DeliveryOutcome {
                DeliveryOutcome(
                    claim: claim,
                    attempt: DeliveryAttempt(
                        eventID: claim.event.id,
                        workspaceID: workspace,
                        at: .now(),
                        status: status,
                        latencyMilliseconds: 5,
                        error: status == 200 ? nil : "HTTP \(status)",
                        responseBody: "body"
                    ),
                    next: next
                )
            }
            try await store.finishDeliveries([outcome(.delivered, status: 200)], owner: "a", at: .now())
            #expect(try await store.event(id: claim.event.id, workspace: workspace)?.delivery == .pending)
            try await store.finishDeliveries(
                [outcome(.retry(at: later.adding(seconds: 5)), status: 503)],
                owner: "b",
                at: .now()
            )
            let retried = try #require(try await store.event(id: claim.event.id, workspace: workspace))
            #expect(retried.delivery == .pending && retried.attempts == 1)
            #expect(
                try await store.claimDueDeliveries(owner: "c", at: later, until: until, limit: 10, excluding: [])
                    .isEmpty
            )
            let due = later.adding(seconds: 6)
            let again = try await store.claimDueDeliveries(
                owner: "c",
                at: due,
                until: due.adding(seconds: 60),
                limit: 10,
                excluding: []
            )
            #expect(again.map(\.failures) == [1])
            #expect(
                try await store.claimDueDeliveries(
                    owner: "d",
                    at: due.adding(seconds: 120),
                    until: due,
                    limit: 10,
                    excluding: [workspace]
                ).isEmpty
            )
            #expect(
                try await store.deliveryAttempts(eventID: claim.event.id, workspace: workspace).map(\.status) == [
                    200, 503,
                ]
            )
            #expect(try await store.deliveryAttempts(eventID: claim.event.id, workspace: other).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func exhaustionDisablesTheWebhookHoldsTheRestAndResumeQueuesThem(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            try await store.setEventWebhook(
                Self.webhook(workspace),
                workspace: workspace,
                audit: Self.audit(.eventWebhookUpdate, workspace)
            )
            for _ in 0..<3 {
                let c = makeConnection(in: workspace)
                try await store.insert(c, audit: Self.audit(.connectionCreate, workspace, c.id))
            }
            let now = Timestamp.now()
            let claims = try await store.claimDueDeliveries(
                owner: "a",
                at: now,
                until: now.adding(seconds: 60),
                limit: 1,
                excluding: []
            )
            let claim = try #require(claims.first)
            let attempt = DeliveryAttempt(
                eventID: claim.event.id,
                workspaceID: workspace,
                at: now,
                status: nil,
                latencyMilliseconds: 1,
                error: "timeout",
                responseBody: nil
            )
            try await store.finishDeliveries(
                [
                    DeliveryOutcome(
                        claim: claim,
                        attempt: attempt,
                        next: .exhausted(reason: "retries exhausted: timeout")
                    )
                ],
                owner: "a",
                at: now
            )
            let hook = try #require(try await store.eventWebhook(workspace: workspace))
            #expect(!hook.isHealthy && hook.disabledReason == "retries exhausted: timeout")
            var events = try await Self.all(store, workspace)
            #expect(events.map(\.delivery) == [.failed, .held, .held, .held])
            #expect(events.last?.type == .webhookUnhealthy)
            // New events while disabled are held; nothing is claimed.
            let late = makeConnection(in: workspace)
            try await store.insert(late, audit: Self.audit(.connectionCreate, workspace, late.id))
            #expect(
                try await store.claimDueDeliveries(
                    owner: "b",
                    at: now,
                    until: now.adding(seconds: 9),
                    limit: 10,
                    excluding: []
                ).isEmpty
            )
            #expect(
                try await store.resumeEventWebhook(
                    workspace: workspace,
                    at: now,
                    audit: Self.audit(.eventWebhookResume, workspace)
                )
            )
            events = try await Self.all(store, workspace)
            #expect(events.map(\.delivery) == [.failed, .pending, .pending, .pending, .pending])
            // Redelivery queues the failed one again.
            let failed = try #require(events.first)
            #expect(
                try await store.redeliverEvent(
                    id: failed.id,
                    workspace: workspace,
                    at: now,
                    audit: Self.audit(.eventRedeliver, workspace)
                )?
                .delivery == .pending
            )
            // Removing the webhook takes everything out of the outbox.
            try await store.setEventWebhook(
                nil,
                workspace: workspace,
                audit: Self.audit(.eventWebhookUpdate, workspace)
            )
            #expect(try await Self.all(store, workspace).allSatisfy { $0.delivery == DeliveryStatus.none })
            #expect(try await store.purgeEvents(before: now.adding(seconds: 60), limit: 100) == 5)
            #expect(try await Self.all(store, workspace).isEmpty)
        }
    }
}

extension EventWebhook {
    func with(updatedAt: Timestamp) -> EventWebhook {
        var copy = self
        copy.updatedAt = updatedAt
        return copy
    }
}
