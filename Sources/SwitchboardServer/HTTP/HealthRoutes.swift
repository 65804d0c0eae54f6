import Hummingbird
import SwitchboardCore
import Synchronization

/// Whether this process should be sent traffic. `serve` marks it draining when a shutdown signal
/// arrives, before the listener closes, so `/health/ready` fails first and a load balancer
/// stops routing here while in-flight requests finish.
public final class Readiness: Sendable {
    private let draining = Atomic<Bool>(false)

    public init() {}

    public func startDraining() { draining.store(true, ordering: .relaxed) }

    public var isDraining: Bool { draining.load(ordering: .relaxed) }
}

/// `/health` (unchanged: the process answers HTTP), `/health/live` (the same, under the name
/// orchestrators expect) and `/health/ready`: the database answers within `deadline`, every
/// migration this version knows is applied, the master keys are loaded, and the process is not
/// shutting down. No API key: probes carry none, and nothing in the answers is secret.
struct HealthRoutes: Sendable {
    /// Every migration this version knows (`SwitchboardStore.migrationIDs`).
    let knownMigrations: [String]
    /// The applied ones, read from the database (`SwitchboardStore.appliedMigrations`).
    let appliedMigrations: @Sendable () async throws -> [String]
    let activeKeyID: @Sendable () -> String
    let readiness: Readiness
    var deadline: Duration = .seconds(2)

    static let paths = ["/health", "/health/live", "/health/ready"]

    func register(on router: Router<AppRequestContext>) {
        let ok = Array(#"{"status":"ok"}"#.utf8)
        router.get("/health") { _, _ in Response.json(ok) }
        router.get("/health/live") { _, _ in Response.json(ok) }
        router.get("/health/ready") { _, _ in
            let checks = await check()
            let ready = checks.allSatisfy { $0.result == "ok" }
            var writer = JSONWriter(reservingCapacity: 256)
            writer.beginObject()
            writer.member("status", ready ? "ready" : "not_ready")
            writer.key("checks")
            writer.beginObject()
            for (name, result) in checks { writer.member(name, result) }
            writer.endObject()
            writer.endObject()
            var response = Response.json(writer.bytes)
            if !ready {
                response.status = .serviceUnavailable
                response.headers[.retryAfter] = "1"
            }
            return response
        }
    }

    /// Each check and its result: `ok`, or what is wrong (never a driver's text).
    func check() async -> [(name: String, result: String)] {
        var checks: [(name: String, result: String)] = [
            ("shutdown", readiness.isDraining ? "draining" : "ok")
        ]
        if let applied = await appliedWithinDeadline() {
            checks.append(("database", "ok"))
            let missing = knownMigrations.filter { !applied.contains($0) }
            checks.append(("migrations", missing.isEmpty ? "ok" : "not applied: \(missing.joined(separator: ", "))"))
        } else {
            checks.append(("database", "no answer within \(deadline)"))
            checks.append(("migrations", "unknown"))
        }
        checks.append(("master_keys", activeKeyID().isEmpty ? "not loaded" : "ok"))
        return checks
    }

    /// The applied migrations, or nil when the database does not answer within the deadline.
    private func appliedWithinDeadline() async -> [String]? {
        let read = appliedMigrations
        let deadline = deadline
        return await withTaskGroup(of: [String]?.self) { group in
            group.addTask { try? await read() }
            group.addTask {
                try? await Task.sleep(for: deadline)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
