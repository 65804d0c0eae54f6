import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The server under test: this binary's hidden `bench-server` command, on a free loopback port, as a
/// child process whose peak RSS is read from /proc.
final class BenchServer: @unchecked Sendable {
    static let ceilingPath = "/__bench/ceiling"

    let process: Process
    let port: Int

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    /// `metrics`: whether the server records and serves metrics, as `serve` does by default.
    /// `arguments`: more `bench-server` flags; `logName`: its log file in `directory`.
    static func start(
        executable: String,
        environment: [String: String],
        directory: String,
        metrics: Bool = true,
        arguments: [String] = [],
        logName: String? = nil
    ) throws -> BenchServer {
        let port = try freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments =
            [
                "bench-server", "--port", String(port), "--log-level", "warning", "--metrics", metrics ? "on" : "off",
            ] + arguments
        process.environment = environment
        let log = directory + "/" + (logName ?? (metrics ? "server.log" : "server-metrics-off.log"))
        // A file that cannot be created fails the FileHandle below, with the reason.
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let server = BenchServer(process: process, port: port)
        // Up within 60 s (a migration on a big database may take a moment).
        let client = LoopbackHTTPClient(port: port)
        for _ in 0..<600 {
            if let response = try? client.request("GET", "/health"), response.status == 200 { return server }
            guard process.isRunning else { break }
            usleep(100_000)
        }
        server.stop()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        throw BenchRunner.Failure(description: "the server did not start: \(output.suffix(600))")
    }

    /// Sets the bytes (and `Link`) the ceiling route answers with, through `client` (the server's).
    static func storeCeiling(_ body: [UInt8], link: String? = nil, through client: LoopbackHTTPClient) throws {
        let stored = try client.request("PUT", ceilingPath, headers: link.map { [("Link", $0)] } ?? [], body: body)
        guard stored.status == 204 else {
            throw BenchRunner.Failure(description: "the ceiling route is not enabled (\(stored.status))")
        }
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Starts a new peak: the kernel resets VmHWM to the current RSS when "5" is written to clear_refs.
    func resetPeakRSS() {
        try? "5".write(toFile: "/proc/\(process.processIdentifier)/clear_refs", atomically: false, encoding: .utf8)
    }

    /// VmHWM (peak resident set) in MB, or 0 where /proc is not available.
    func peakRSSMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Double(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return 0 }
        return kilobytes / 1024
    }

    /// A port the kernel just handed out on 127.0.0.1 (bound, read, released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchRunner.Failure(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw BenchRunner.Failure(description: "cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
