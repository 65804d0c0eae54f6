// swift-tools-version:6.1
import PackageDescription

// Upcoming features that keep the module graph and existential use explicit.
var swiftSettings: [SwiftSetting] {
    [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
    ]
}

let package = Package(
    name: "switchboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        // Domain: models, rules, JSON, store protocols. Imports Foundation and the APIs of
        // swift-metrics (CoreMetrics) and swift-distributed-tracing (Tracing), neither with a
        // backend: `serve` chooses those.
        .target(
            name: "SwitchboardCore",
            dependencies: [
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // Sealing and key rings. swift-crypto is used here and, for SigV4's SHA-256 and HMAC, by
        // SwitchboardSecretsManagers.
        .target(
            name: "SwitchboardCrypto",
            dependencies: ["SwitchboardCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        // SQL for SQLite lives here and nowhere else.
        .target(
            name: "SwitchboardSQLite",
            dependencies: [
                "SwitchboardCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, to read row columns in place (SQLiteConnectionRow).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // SQL for PostgreSQL lives here and nowhere else.
        .target(
            name: "SwitchboardPostgres",
            dependencies: [
                "SwitchboardCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The egress policy: every outbound HTTP call goes through its client, which refuses
        // internal destinations unless allowed and pins the address it checked.
        .target(
            name: "SwitchboardEgress",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // A client span per call, and the W3C trace context it carries.
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // Clients of external secrets managers (AWS Secrets Manager, Vault KV v2, Azure Key Vault,
        // Google Secret Manager) over HTTP.
        // swift-crypto is used here for SigV4's SHA-256 and HMAC, the token cache's key hash and
        // (_CryptoExtras) the RS256 signature of Google's service-account grant.
        .target(
            name: "SwitchboardSecretsManagers",
            dependencies: [
                "SwitchboardCore",
                "SwitchboardEgress",
                .product(name: "Crypto", package: "swift-crypto"),
                // RS256 for Google's signed-JWT grant.
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The OAuth token-endpoint client over HTTP.
        .target(
            name: "SwitchboardOAuth",
            dependencies: [
                "SwitchboardCore",
                "SwitchboardEgress",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Passthrough: a connection's provider API called with its credentials, which never reach
        // the caller; every call through the egress client.
        .target(
            name: "SwitchboardPassthrough",
            dependencies: [
                "SwitchboardCore",
                "SwitchboardEgress",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP and wiring: the only module that sees everything.
        .target(
            name: "SwitchboardEvents",
            dependencies: [
                "SwitchboardCore",
                "SwitchboardEgress",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The dashboard and the hosted Connect page: sessions, sign-in links, connect sessions,
        // and the pages, rendered server-side from Mustache templates (resources).
        .target(
            name: "SwitchboardDashboard",
            dependencies: [
                "SwitchboardCore",
                // The events pages show the event webhook's settings (EventService.WebhookSettings).
                "SwitchboardEvents",
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            resources: [.copy("Templates"), .copy("Static")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SwitchboardServer",
            dependencies: [
                "SwitchboardCore",
                "SwitchboardCrypto",
                "SwitchboardSQLite",
                "SwitchboardPostgres",
                "SwitchboardSecretsManagers",
                "SwitchboardOAuth",
                "SwitchboardEgress",
                "SwitchboardPassthrough",
                "SwitchboardEvents",
                "SwitchboardDashboard",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ],
            resources: [.copy("openapi.yaml"), .copy("Integrations")],
            swiftSettings: swiftSettings
        ),
        // `switchboard bench`: seeds, drives the real server with wrk, measures its ceilings.
        .target(
            name: "SwitchboardBench",
            dependencies: [
                "SwitchboardCore",
                "SwitchboardServer",
                "SwitchboardPostgres",
                "SwitchboardEvents",
                // The relay reference R: passthrough's client configuration, without its work.
                "SwitchboardPassthrough",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "switchboard",
            dependencies: [
                "SwitchboardCore",
                // `switchboard keys` reads key rings; `switchboard bench` opens PostgreSQL directly.
                "SwitchboardCrypto",
                "SwitchboardPostgres",
                "SwitchboardEgress",
                "SwitchboardPassthrough",
                "SwitchboardEvents",
                "SwitchboardDashboard",
                "SwitchboardServer",
                "SwitchboardBench",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Helpers shared by the test targets (a throwaway PostgreSQL schema per test).
        .target(
            name: "SwitchboardTestSupport",
            dependencies: [
                "SwitchboardPostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/SwitchboardTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardCoreTests",
            dependencies: ["SwitchboardCore", "SwitchboardCrypto"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardStoreTests",
            dependencies: [
                "SwitchboardCore", "SwitchboardCrypto", "SwitchboardSQLite", "SwitchboardPostgres",
                "SwitchboardTestSupport", .product(name: "Logging", package: "swift-log"),
                // Raw SQL, to prove the schema itself refuses edits to the audit log.
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardEventsTests",
            dependencies: ["SwitchboardCore", "SwitchboardEvents"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardPassthroughTests",
            dependencies: [
                "SwitchboardCore",
                "SwitchboardPassthrough",
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardEgressTests",
            dependencies: [
                "SwitchboardEgress",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardSecretsManagersTests",
            dependencies: [
                "SwitchboardCore",
                "SwitchboardSecretsManagers",
                "SwitchboardEgress",
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SwitchboardServerTests",
            dependencies: [
                "SwitchboardCore",
                "SwitchboardDashboard",
                "SwitchboardEgress",
                "SwitchboardCrypto",
                "SwitchboardSQLite",
                "SwitchboardServer",
                "SwitchboardPostgres",
                "SwitchboardTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                // A Google service-account key for the gcp manager tests.
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            // The command line as a user meets it: the executable's commands parsed from arguments.
            name: "SwitchboardCLITests",
            dependencies: [
                "switchboard",
                "SwitchboardServer",
                "SwitchboardEgress",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
