import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SwitchboardCore
import SwitchboardEgress
import SwitchboardServer
import SwitchboardTestSupport
import Synchronization

/// A clock tests can move, so `created_at`/`updated_at` are distinct and known.
final class ManualClock: Sendable {
    private let milliseconds: Mutex<Int64>
    private let step: Int64

    /// `step` is how far each reading advances: 1 s by default, so every write gets its own instant;
    /// 0 makes every write share one instant, to exercise tie-breaking.
    init(stepMilliseconds: Int64 = 1000) {
        milliseconds = Mutex(Self.start.millisecondsSinceEpoch)
        step = stepMilliseconds
    }

    static let start = Timestamp(rfc3339: "2024-01-01T00:00:00Z")!

    /// Moves the clock back to `start`.
    func reset() { milliseconds.withLock { $0 = Self.start.millisecondsSinceEpoch } }

    /// Returns the current time and advances it by the step.
    @Sendable func tick() -> Timestamp {
        milliseconds.withLock { value in
            defer { value += step }
            return Timestamp(millisecondsSinceEpoch: value)
        }
    }
}

/// The shipped catalog plus the loopback `mock` integration of e2e/oauth.
func testCatalog() throws -> IntegrationCatalog {
    var root = URL(fileURLWithPath: #filePath)
    while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
        root.deleteLastPathComponent()
    }
    return try IntegrationCatalogLoader.load(
        operatorDirectory: root.appendingPathComponent("e2e/oauth/integrations").path
    )
}

/// The test peers (moto, OpenBao) listen on loopback, which the egress policy refuses by default:
/// tests allow it as `--egress-allow 127.0.0.1` would, except those that test the refusal.
let testEgress = EgressPolicy(allowed: [.network(IPNetwork(address: .v4(0x7F00_0001), bits: 32))])

/// A test master key (base64 of 32 bytes); never used outside tests.
let testMasterKey = Data(repeating: 7, count: 32).base64EncodedString()

/// A throwaway data directory, removed afterwards.
func withTemporaryDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-test-\(UUID().uuidString)")
        .path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// Everything a test needs: the running app's client, two workspaces with keys, the runtime.
struct TestAPI: Sendable {
    let client: any TestClientProtocol
    let runtime: Runtime
    let database: DatabaseLocation
    let workspace: WorkspaceID
    let key: String
    let otherWorkspace: WorkspaceID
    let otherKey: String

    /// Sends a request with the first workspace's key (override with `key:`, or `nil` for none).
    @discardableResult
    func send(
        _ method: HTTPRequest.Method,
        _ uri: String,
        body: String? = nil,
        key: String?? = .none,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        switch key {
        case .none: headers[.authorization] = self.key
        case .some(.none): break
        case .some(.some(let value)): headers[.authorization] = value
        }
        if body != nil, headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await client.executeRequest(
            uri: uri,
            method: method,
            headers: headers,
            body: body.map { ByteBuffer(string: $0) }
        )
    }

    /// Creates a connection and returns its JSON object; fails the test on a non-200.
    @discardableResult
    func create(_ body: String, key: String? = nil) async throws -> [String: Any] {
        let response = try await send(.post, "/unified/connection", body: body, key: .some(key ?? self.key))
        guard response.status == .ok else { throw UnexpectedStatus(response: response) }
        return try response.jsonObject()
    }

    /// A new key for the first workspace with exactly `scopes`.
    func makeKey(_ scopes: ScopeSet) async throws -> String {
        try await runtime.workspaces.createKey(scopes: scopes, by: .cli(workspace: workspace)).apiKey
    }

    func list(_ query: String = "") async throws -> [[String: Any]] {
        let response = try await send(.get, "/unified/connection" + (query.isEmpty ? "" : "?" + query))
        guard response.status == .ok else { throw UnexpectedStatus(response: response) }
        return try response.jsonArray()
    }
}

struct UnexpectedStatus: Error, CustomStringConvertible {
    let response: TestResponse
    var description: String { "unexpected \(response.status): \(String(buffer: response.body))" }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    func jsonObject() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw UnexpectedStatus(response: self)
        }
        return object
    }

    func jsonArray() throws -> [[String: Any]] {
        guard let array = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] else {
            throw UnexpectedStatus(response: self)
        }
        return array
    }

    /// The `error.message` of a JSON error body ("" if absent).
    var errorMessage: String {
        ((try? jsonObject())?["error"] as? [String: Any])?["message"] as? String ?? ""
    }

    var errorStatus: Int? {
        ((try? jsonObject())?["error"] as? [String: Any])?["status"] as? Int
    }
}

/// Builds the real application through the composition root and runs `body` against it
/// in-process: on a fresh SQLite file, then on a fresh PostgreSQL schema when PostgreSQL is
/// configured (`TestAPI.backend` says which).
func withApp(
    clock: ManualClock = ManualClock(),
    setup: TestingSetup = .router,
    maximumBodySize: Int = 1 << 20,
    egress: EgressPolicy = testEgress,
    _ body: @Sendable (TestAPI) async throws -> Void
) async throws {
    try await withTemporaryDirectory { directory in
        try await withApp(
            database: .sqlite(path: directory + "/switchboard.sqlite"),
            clock: clock,
            setup: setup,
            maximumBodySize: maximumBodySize,
            egress: egress,
            body
        )
    }
    if TestPostgres.isEnabled {
        clock.reset()
        try await TestPostgres.withSchema { settings in
            try await withApp(
                database: .postgres(settings),
                clock: clock,
                setup: setup,
                maximumBodySize: maximumBodySize,
                egress: egress,
                body
            )
        }
    }
}

private func withApp(
    database: DatabaseLocation,
    clock: ManualClock,
    setup: TestingSetup,
    maximumBodySize: Int,
    egress: EgressPolicy,
    _ body: @Sendable (TestAPI) async throws -> Void
) async throws {
    try await Runtime.run(
        database: database,
        masterKeys: MasterKeySettings(inlineKeys: testMasterKey),
        oauth: OAuthSettings(catalog: try testCatalog(), publicURL: "http://127.0.0.1:8080"),
        egress: egress,
        logger: testLogger,
        now: clock.tick
    ) { runtime in
        let (first, firstKey) = try await runtime.workspaces.createWorkspace(name: "First")
        let (second, secondKey) = try await runtime.workspaces.createWorkspace(name: "Second")
        clock.reset()  // so the first connection a test creates is at `ManualClock.start`
        let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, maximumBodySize: maximumBodySize)
        let app = try buildApplication(runtime: runtime, configuration: configuration)
        try await app.test(setup) { client in
            try await body(
                TestAPI(
                    client: client,
                    runtime: runtime,
                    database: database,
                    workspace: first.id,
                    key: firstKey,
                    otherWorkspace: second.id,
                    otherKey: secondKey
                )
            )
        }
    }
}

/// A minimal valid create body, with overrides spliced in as extra JSON members.
func connectionBody(
    type: String = "hubspot",
    categories: [String] = ["crm"],
    permissions: [String] = ["crm_contact_read"],
    extra: String = ""
) -> String {
    let cats = categories.map { "\"\($0)\"" }.joined(separator: ",")
    let perms = permissions.map { "\"\($0)\"" }.joined(separator: ",")
    return
        #"{"integration_type":"\#(type)","categories":[\#(cats)],"permissions":[\#(perms)]\#(extra.isEmpty ? "" : "," + extra)}"#
}
