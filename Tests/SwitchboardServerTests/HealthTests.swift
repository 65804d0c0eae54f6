import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwitchboardCore
import Testing

@testable import SwitchboardServer

/// `/health/live` and `/health/ready` through the real application, on SQLite and PostgreSQL.
/// (A database outage and the shutdown drain are tested against the real binary: the replica
/// suite's outage test and the robustness suite's shutdown test.)
@Suite struct HealthTests {
    @Test func liveAndReadyAnswerWithoutAKeyAndReadinessFollowsTheDrain() async throws {
        try await withApp { api in
            let readiness = Readiness()
            let app = try buildApplication(
                runtime: api.runtime,
                configuration: ServerConfiguration(host: "127.0.0.1", port: 0),
                readiness: readiness
            )
            try await app.test(.router) { client in
                let live = try await client.executeRequest(uri: "/health/live", method: .get, headers: [:], body: nil)
                #expect(live.status == .ok)
                let ready = try await client.executeRequest(uri: "/health/ready", method: .get, headers: [:], body: nil)
                #expect(ready.status == .ok)
                #expect(
                    try ready.jsonObject() as NSDictionary
                        == [
                            "status": "ready",
                            "checks": ["shutdown": "ok", "database": "ok", "migrations": "ok", "master_keys": "ok"],
                        ] as NSDictionary
                )

                readiness.startDraining()
                let draining = try await client.executeRequest(
                    uri: "/health/ready",
                    method: .get,
                    headers: [:],
                    body: nil
                )
                #expect(draining.status == .serviceUnavailable)
                #expect(draining.headers[.retryAfter] == "1")
                let checks = try #require(try draining.jsonObject()["checks"] as? [String: String])
                #expect(checks["shutdown"] == "draining" && checks["database"] == "ok")
                // Liveness is not readiness: the process still answers.
                #expect(
                    try await client.executeRequest(uri: "/health/live", method: .get, headers: [:], body: nil).status
                        == .ok
                )
                let post = try await client.executeRequest(uri: "/health/ready", method: .post, headers: [:], body: nil)
                #expect(post.status == .methodNotAllowed)
            }
        }
    }

    /// A migration this version knows but the database lacks (a restored older backup, say) makes
    /// the process not ready, naming it.
    @Test func aMissingMigrationIsNotReady() async throws {
        try await withApp { api in
            let store = api.runtime.store
            let health = HealthRoutes(
                knownMigrations: store.migrationIDs + ["9999_from_the_future"],
                appliedMigrations: { try await store.appliedMigrations() },
                activeKeyID: { "mk_test" },
                readiness: Readiness()
            )
            let checks = Dictionary(uniqueKeysWithValues: await health.check().map { ($0.name, $0.result) })
            #expect(checks["migrations"] == "not applied: 9999_from_the_future")
            #expect(checks["database"] == "ok")
            // A database that does not answer within the deadline.
            let silent = HealthRoutes(
                knownMigrations: [],
                appliedMigrations: {
                    try await Task.sleep(for: .seconds(30))
                    return []
                },
                activeKeyID: { "" },
                readiness: Readiness(),
                deadline: .milliseconds(200)
            )
            let started = ContinuousClock.now
            let failed = Dictionary(uniqueKeysWithValues: await silent.check().map { ($0.name, $0.result) })
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(failed["database"]?.hasPrefix("no answer within") == true)
            #expect(failed["master_keys"] == "not loaded")
        }
    }
}
