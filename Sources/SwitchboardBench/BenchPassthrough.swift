import Foundation
import SwitchboardCore
import SwitchboardServer

/// The passthrough section: `/passthrough/{connection_id}/bytes/N` against nginx as a reverse
/// proxy in front of the same loopback upstream, and the upstream called directly, all three
/// measured the same way (wrk, same threads, connections and seconds) in the same minute.
extension BenchRunner {
    static let passthroughSection = "passthrough"
    /// The response sizes measured: 1 KB and 100 KB.
    static let passthroughSizes = [1024, 102_400]
    static let passthroughIntegration = "bench_upstream"

    /// Whether `--scenarios` selects the section (all sections run without it).
    var runsPassthrough: Bool {
        options.scenarioPrefixes?.contains(where: { Self.passthroughSection.hasPrefix($0) }) ?? true
    }

    /// Starts the loopback upstream, a server under test of its own (the integration definition
    /// pointing at the upstream, loopback egress allowed) and nginx; measures; stops all three,
    /// also on failure.
    func measurePassthrough(
        runtime: Runtime,
        workspace: Workspace,
        metadataKey: String,
        childEnvironment: [String: String],
        wrk: Wrk,
        size: Int
    ) async throws -> PassthroughRun {
        guard let nginxPath = Nginx.find() else { throw Failure(description: Nginx.missing) }
        // The upstream's credential: random, stored in the connection, never printed.
        let credential = "bench-" + UUID().uuidString
        let upstream = try await BenchUpstream.start(
            sizes: Self.passthroughSizes,
            credential: credential,
            logger: logger
        )
        do {
            let result = try await measurePassthrough(
                upstream: upstream,
                credential: credential,
                nginxPath: nginxPath,
                runtime: runtime,
                workspace: workspace,
                metadataKey: metadataKey,
                childEnvironment: childEnvironment,
                wrk: wrk,
                size: size
            )
            await upstream.stop()
            return result
        } catch {
            await upstream.stop()
            throw error
        }
    }

    private func measurePassthrough(
        upstream: BenchUpstream,
        credential: String,
        nginxPath: String,
        runtime: Runtime,
        workspace: Workspace,
        metadataKey: String,
        childEnvironment: [String: String],
        wrk: Wrk,
        size: Int
    ) async throws -> PassthroughRun {
        let directory = options.workDirectory + "/passthrough-integrations"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try """
        # Written by switchboard bench: the passthrough section's loopback upstream.
        type: \(Self.passthroughIntegration)
        name: Bench Upstream
        categories: [crm]
        auth:
          kind: api_key
          token_names: [api_key]
        api:
          base_url: http://127.0.0.1:\(upstream.port)
          credential: {in: bearer, value: "{key}"}

        """.write(toFile: directory + "/\(Self.passthroughIntegration).yaml", atomically: true, encoding: .utf8)

        let server = try BenchServer.start(
            executable: options.executable,
            environment: childEnvironment,
            directory: options.workDirectory,
            arguments: [
                "--integrations-dir", directory, "--egress-allow", "127.0.0.1",
                "--relay-to", "http://127.0.0.1:\(upstream.port)",
            ],
            logName: "server-passthrough.log"
        )
        defer { server.stop() }
        let small = BenchUpstream.path(Self.passthroughSizes[0])
        let nginx = try Nginx.start(
            executable: nginxPath,
            directory: options.workDirectory,
            upstreamPort: upstream.port,
            credential: credential,
            probePath: small
        )
        defer { nginx.stop() }

        // One connection of the bench integration, created through the API as a caller would.
        let client = LoopbackHTTPClient(port: server.port)
        let created = try client.request(
            "POST",
            "/unified/connection",
            headers: [("Authorization", metadataKey), ("Content-Type", "application/json")],
            body: Array(
                #"{"integration_type":"\#(Self.passthroughIntegration)","auth":{"key":"\#(credential)"},"permissions":[],"categories":["crm"]}"#
                    .utf8
            )
        )
        guard (200..<300).contains(created.status),
            let object = try? JSONSerialization.jsonObject(with: Data(created.body)) as? [String: Any],
            let connectionID = object["id"] as? String
        else {
            throw Failure(
                description: "creating the \(Self.passthroughIntegration) connection answered \(created.status)"
            )
        }
        let proxyKey = try await runtime.workspaces.createKey(
            scopes: ScopeSet([.connectionsProxy]),
            by: .cli(workspace: workspace.id)
        ).apiKey
        let bearer = "Bearer " + credential
        func passthroughPath(_ bytes: Int) -> String { "/passthrough/\(connectionID)" + BenchUpstream.path(bytes) }
        func relayPath(_ bytes: Int) -> String { BenchmarkRelay.prefix + BenchUpstream.path(bytes) }

        // Each path answers every size with exactly its bytes before anything is measured.
        for bytes in Self.passthroughSizes {
            let checks: [(String, Int, String, String)] = [
                ("the upstream", upstream.port, BenchUpstream.path(bytes), bearer),
                ("nginx", nginx.port, BenchUpstream.path(bytes), proxyKey),
                ("passthrough", server.port, passthroughPath(bytes), proxyKey),
                ("the relay reference", server.port, relayPath(bytes), bearer),
            ]
            for (name, port, path, authorization) in checks {
                let response = try LoopbackHTTPClient(port: port).request(
                    "GET",
                    path,
                    headers: [("Authorization", authorization)]
                )
                guard response.status == 200, response.body.count == bytes else {
                    throw Failure(
                        description:
                            "passthrough section: \(name) answered GET \(BenchUpstream.path(bytes)) with \(response.status) and \(response.body.count) bytes"
                    )
                }
            }
        }

        // D: the reads one passthrough call makes, in a loop in this process, as the route makes
        // them: the key checked against what is remembered of it, then the one read that confirms
        // the key and reads the connection, and the unsealing.
        let workspaces = runtime.workspaces
        let connections = runtime.connections
        let id = ConnectionID(rawValue: connectionID)
        let databaseCeiling = try await DatabaseCeiling.measure(
            concurrency: options.connections,
            seconds: Double(options.seconds)
        ) { _ in
            let principal = try await workspaces.authenticate(
                proxyKey,
                clientAddress: nil,
                deferringRevocationCheck: true
            )
            _ = try await connections.proxyCredentials(id, by: principal)
        }
        progress(String(format: "passthrough: D %.0f reads/s (key confirmed by the connection read)", databaseCeiling))

        func load(
            _ name: String,
            port: Int,
            path: String,
            key: String,
            connections: Int? = nil,
            seconds: Int? = nil
        ) throws -> Wrk.Result {
            let result = try wrk.run(
                port: port,
                method: "GET",
                paths: [path],
                body: nil,
                key: key,
                seconds: seconds ?? options.seconds,
                connections: connections
            )
            guard result.non2xx + result.socketErrors == 0 else {
                throw Failure(
                    description:
                        "passthrough section, \(name): \(result.non2xx + result.socketErrors) requests failed (non-2xx or socket errors)"
                )
            }
            return result
        }

        // A fresh server and nginx: one second of load on each first, not recorded, so that the
        // measured seconds do not include opening their connection pools to the upstream.
        _ = try load("warm-up, nginx", port: nginx.port, path: small, key: proxyKey, seconds: 1)
        for (name, path, key) in [
            ("passthrough", passthroughPath(Self.passthroughSizes[0]), proxyKey),
            ("relay", relayPath(Self.passthroughSizes[0]), bearer),
        ] {
            _ = try load("warm-up, \(name)", port: server.port, path: path, key: key, seconds: 1)
        }

        var sizes: [PassthroughRun.Size] = []
        for bytes in Self.passthroughSizes {
            let label = BenchReport.label(bytes)
            let direct = try load("direct \(label)", port: upstream.port, path: BenchUpstream.path(bytes), key: bearer)
            let proxied = try load("nginx \(label)", port: nginx.port, path: BenchUpstream.path(bytes), key: proxyKey)
            server.resetPeakRSS()
            let relayed = try load(
                "passthrough \(label)",
                port: server.port,
                path: passthroughPath(bytes),
                key: proxyKey
            )
            let relay = try load("relay \(label)", port: server.port, path: relayPath(bytes), key: bearer)
            try BenchServer.storeCeiling(Array(repeating: UInt8(ascii: "x"), count: bytes), through: client)
            let ceiling = try load("ceiling \(label)", port: server.port, path: BenchServer.ceilingPath, key: bearer)
            let measured = PassthroughRun.Size(
                responseBytes: bytes,
                direct: direct,
                nginx: proxied,
                passthrough: relayed,
                ceiling: ceiling,
                relay: relay,
                databaseCeiling: databaseCeiling,
                peakRSSMegabytes: server.peakRSSMegabytes()
            )
            progress(
                String(
                    format:
                        "passthrough %@: %8.0f req/s  p50 %6.2f  p99 %6.2f ms  direct %7.0f  nginx N %7.0f  D %7.0f  C %7.0f  ratio %4.2f  ÷N %4.2f  H %7.0f  relay R %7.0f  ÷C_R %4.2f  RSS %5.1f MB",
                    label as NSString,
                    relayed.requestsPerSecond,
                    relayed.p50,
                    relayed.p99,
                    direct.requestsPerSecond,
                    proxied.requestsPerSecond,
                    databaseCeiling,
                    measured.combinedCeiling,
                    measured.ratio,
                    measured.ratioToNginx,
                    ceiling.requestsPerSecond,
                    relay.requestsPerSecond,
                    measured.ratioToRelayCeiling,
                    measured.peakRSSMegabytes
                )
            )
            sizes.append(measured)
        }

        // Added latency: one request in flight, the smallest response.
        let latencyDirect = try load("latency, direct", port: upstream.port, path: small, key: bearer, connections: 1)
        let latencyNginx = try load("latency, nginx", port: nginx.port, path: small, key: proxyKey, connections: 1)
        let latencyPassthrough = try load(
            "latency, passthrough",
            port: server.port,
            path: passthroughPath(Self.passthroughSizes[0]),
            key: proxyKey,
            connections: 1
        )
        let latencyRelay = try load(
            "latency, relay",
            port: server.port,
            path: relayPath(Self.passthroughSizes[0]),
            key: bearer,
            connections: 1
        )
        let run = PassthroughRun(
            connections: size,
            sizes: sizes,
            latencyDirect: latencyDirect,
            latencyNginx: latencyNginx,
            latencyPassthrough: latencyPassthrough,
            latencyRelay: latencyRelay,
            nginxVersion: nginx.version,
            nginxWorkers: nginx.workers
        )
        progress(
            String(
                format:
                    "passthrough latency, 1 in flight: p50 direct %.3f, nginx %.3f, relay R %.3f, passthrough %.3f ms (+%.3f ms)",
                latencyDirect.p50,
                latencyNginx.p50,
                latencyRelay.p50,
                latencyPassthrough.p50,
                run.addedLatency
            )
        )
        return run
    }
}
