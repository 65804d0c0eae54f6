import Foundation

/// Runs `wrk` (Debian's package) with a Lua script that cycles through a file of request paths and
/// prints its own summary with p50/p99/p99.9, which wrk's `--latency` table lacks.
struct Wrk {
    struct Result: Sendable {
        var requests: Int
        var seconds: Double
        var p50: Double  // milliseconds
        var p99: Double
        var p999: Double
        var non2xx: Int
        var socketErrors: Int
        var requestsPerSecond: Double { Double(requests) / seconds }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let executable: String
    let directory: String
    let threads: Int
    let connections: Int

    static let script = """
        -- Written by switchboard bench. Cycles through BENCH_PATHS (one path per line), each thread
        -- from its own offset, with BENCH_METHOD, BENCH_BODY, the Authorization header and BENCH_COOKIE.
        local method = os.getenv("BENCH_METHOD")
        local body = os.getenv("BENCH_BODY")
        if body == "" then body = nil end
        local headers = { ["Authorization"] = os.getenv("BENCH_KEY") }
        local cookie = os.getenv("BENCH_COOKIE")
        if cookie and cookie ~= "" then headers["Cookie"] = cookie end
        if body then headers["Content-Type"] = "application/json" end
        local paths = {}
        for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
        local counter = 0
        local next_thread = 0
        function setup(thread)
          thread:set("offset", next_thread * 7919)
          next_thread = next_thread + 1
        end
        function init(args) counter = offset end
        function request()
          counter = counter + 1
          return wrk.format(method, paths[(counter % #paths) + 1], headers, body)
        end
        function done(summary, latency, requests)
          local e = summary.errors
          io.write(string.format("BENCH_RESULT %d %d %.1f %.1f %.1f %d %d\\n", summary.requests, summary.duration,
            latency:percentile(50), latency:percentile(99), latency:percentile(99.9), e.status,
            e.connect + e.read + e.write + e.timeout))
        end
        """

    /// Drives `port` with `method` over `paths` for `seconds`.
    func run(
        port: Int,
        method: String,
        paths: [String],
        body: String?,
        key: String,
        seconds: Int,
        connections: Int? = nil,
        cookie: String? = nil
    ) throws -> Result {
        let connections = connections ?? self.connections
        let scriptPath = directory + "/bench.lua"
        if !FileManager.default.fileExists(atPath: scriptPath) {
            try Self.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        }
        let pathsFile = directory + "/paths.txt"
        try (paths.joined(separator: "\n") + "\n").write(toFile: pathsFile, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "-t\(min(threads, connections))", "-c\(connections)", "-d\(seconds)s", "--timeout", "10s", "-s", scriptPath,
            "http://127.0.0.1:\(port)",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["BENCH_METHOD"] = method
        environment["BENCH_BODY"] = body ?? ""
        environment["BENCH_KEY"] = key
        environment["BENCH_PATHS"] = pathsFile
        environment["BENCH_COOKIE"] = cookie ?? ""
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0,
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("BENCH_RESULT ") })
        else {
            throw Failure(description: "wrk failed (status \(process.terminationStatus)): \(text.suffix(400))")
        }
        let f = line.split(separator: " ").dropFirst().map(String.init)
        guard f.count == 7, let requests = Int(f[0]), let micros = Double(f[1]), let p50 = Double(f[2]),
            let p99 = Double(f[3]), let p999 = Double(f[4]), let non2xx = Int(f[5]), let errors = Int(f[6])
        else { throw Failure(description: "unexpected wrk output: \(line)") }
        return Result(
            requests: requests,
            seconds: micros / 1_000_000,
            p50: p50 / 1000,
            p99: p99 / 1000,
            p999: p999 / 1000,
            non2xx: non2xx,
            socketErrors: errors
        )
    }

    /// `wrk` from PATH, or nil.
    static func find() -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let candidate = "\(directory)/wrk"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
