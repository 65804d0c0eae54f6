import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The passthrough section's anchor: Debian's nginx as a reverse proxy (`proxy_pass` to a
/// keep-alive upstream block) in front of the bench's loopback upstream, as a child process with
/// its configuration, pid file, logs and temporary directories all in the work directory, so it
/// runs the same as root and as any other user.
///
/// A normal master with `worker_processes auto` (one worker per core), as nginx is deployed. It
/// sets the upstream credential itself (`proxy_set_header Authorization`), so it does the same
/// header work as passthrough, and buffers a response in memory only (never a temporary file).
final class Nginx: @unchecked Sendable {
    let process: Process
    let port: Int
    let version: String
    let workers: String

    private init(process: Process, port: Int, version: String, workers: String) {
        self.process = process
        self.port = port
        self.version = version
        self.workers = workers
    }

    static let missing = "nginx is not installed (Debian: apt-get install nginx-light)"

    /// `/usr/sbin/nginx` (Debian's), else `nginx` from PATH, or nil.
    static func find() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
        for directory in ["/usr/sbin"] + path.split(separator: ":").map(String.init) {
            let candidate = "\(directory)/nginx"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The configuration: the upstream at `upstreamPort` with 64 kept-alive connections, nginx
    /// itself on `port`, everything it writes under `directory`. `compiledWithout` lists the
    /// `--without-http_*_module` flags of `nginx -V`: a module left out must not be configured.
    static func configuration(
        directory: String,
        port: Int,
        upstreamPort: Int,
        credential: String,
        compiledWithout: String
    ) -> String {
        var temporary = ["client_body_temp_path \(directory)/nginx-temp/client_body;"]
        temporary.append("proxy_temp_path \(directory)/nginx-temp/proxy;")
        for module in ["fastcgi", "uwsgi", "scgi"] where !compiledWithout.contains("--without-http_\(module)_module") {
            temporary.append("\(module)_temp_path \(directory)/nginx-temp/\(module);")
        }
        return """
            # Written by switchboard bench (the passthrough section's anchor).
            daemon off;
            master_process on;
            worker_processes auto;
            error_log \(directory)/nginx-error.log warn;
            pid \(directory)/nginx.pid;
            events { worker_connections 1024; }
            http {
                access_log off;
                \(temporary.joined(separator: "\n    "))
                keepalive_requests 1000000;
                keepalive_timeout 75s;
                upstream bench_upstream {
                    server 127.0.0.1:\(upstreamPort);
                    keepalive 64;
                    keepalive_requests 1000000;
                }
                server {
                    listen 127.0.0.1:\(port);
                    location / {
                        proxy_pass http://bench_upstream;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_set_header Authorization "Bearer \(credential)";
                        # A 100 KB answer fits the buffers: nginx never writes it to a temporary file.
                        proxy_buffers 32 8k;
                        proxy_max_temp_file_size 0;
                    }
                }
            }

            """
    }

    /// Starts nginx on a free port and waits until it relays `probePath` with a 200 (10 s at most).
    static func start(
        executable: String,
        directory: String,
        upstreamPort: Int,
        credential: String,
        probePath: String
    ) throws -> Nginx {
        let about = run(executable, ["-V"])
        let version =
            about.split(separator: "\n").first { $0.hasPrefix("nginx version:") }
            .map { String($0.dropFirst("nginx version:".count)).trimmingCharacters(in: .whitespaces) } ?? "nginx"
        let port = try BenchServer.freePort()
        try FileManager.default.createDirectory(
            atPath: directory + "/nginx-temp",
            withIntermediateDirectories: true
        )
        let configurationPath = directory + "/nginx.conf"
        try configuration(
            directory: directory,
            port: port,
            upstreamPort: upstreamPort,
            credential: credential,
            compiledWithout: about
        ).write(toFile: configurationPath, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-c", configurationPath, "-p", directory + "/"]
        let log = directory + "/nginx-output.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let workers = ProcessInfo.processInfo.activeProcessorCount
        let nginx = Nginx(
            process: process,
            port: port,
            version: version,
            workers: "a master and \(workers) worker\(workers == 1 ? "" : "s"), `worker_processes auto`"
        )
        let client = LoopbackHTTPClient(port: port)
        for _ in 0..<100 {
            if let response = try? client.request("GET", probePath), response.status == 200 { return nginx }
            guard process.isRunning else { break }
            usleep(100_000)
        }
        nginx.stop()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        let errors = (try? String(contentsOfFile: directory + "/nginx-error.log", encoding: .utf8)) ?? ""
        throw BenchRunner.Failure(description: "nginx did not start: \((output + errors).suffix(600))")
    }

    /// Fast shutdown (SIGTERM to the master, which stops its workers); after 10 s, SIGKILL to the
    /// master and to every worker it started.
    func stop() {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        let workers = Self.children(of: pid)
        process.terminate()
        for _ in 0..<100 where process.isRunning { usleep(100_000) }
        if process.isRunning {
            for worker in workers + Self.children(of: pid) { kill(worker, SIGKILL) }
            kill(pid, SIGKILL)
        }
        process.waitUntilExit()
    }

    private static func children(of pid: Int32) -> [Int32] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Output of `executable arguments` (stdout and stderr together; nginx -V writes to stderr).
    private static func run(_ executable: String, _ arguments: [String]) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        guard (try? process.run()) != nil else { return "" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
