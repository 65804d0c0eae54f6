#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A minimal blocking HTTP/1.1 client for 127.0.0.1 with one kept-alive connection: enough for the
/// benchmark's few setup requests and its single-client cursor export, without another package.
/// Reads `Content-Length` and chunked bodies.
final class LoopbackHTTPClient {
    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let port: Int
    private var socket: Int32 = -1
    private var buffer: [UInt8] = []
    private var start = 0

    init(port: Int) { self.port = port }
    deinit { disconnect() }

    func request(
        _ method: String,
        _ path: String,
        headers: [(String, String)] = [],
        body: [UInt8] = []
    ) throws -> Response {
        // One retry on a fresh connection: the server may have closed an idle keep-alive one.
        do { return try attempt(method, path, headers: headers, body: body) } catch {
            disconnect()
            return try attempt(method, path, headers: headers, body: body)
        }
    }

    private func attempt(
        _ method: String,
        _ path: String,
        headers: [(String, String)],
        body: [UInt8]
    ) throws
        -> Response
    {
        if socket < 0 { try connect() }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        try send(Array(head.utf8) + body)
        let headerBytes = try readUntilBlankLine()
        let lines = String(decoding: headerBytes, as: UTF8.self).split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1.1 "),
            let status = Int(statusLine.dropFirst(9).prefix(3))
        else { throw Failure(description: "not an HTTP/1.1 response") }
        var responseHeaders: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].drop { $0 == " " }
            responseHeaders.append((String(line[..<colon]), String(value)))
        }
        var response = Response(status: status, headers: responseHeaders, body: [])
        if let length = response.header("content-length").flatMap({ Int($0) }) {
            response.body = try read(count: length)
        } else if response.header("transfer-encoding")?.lowercased() == "chunked" {
            while true {
                let sizeLine = String(decoding: try readLine(), as: UTF8.self)
                guard let size = Int(sizeLine.split(separator: ";").first ?? "", radix: 16) else {
                    throw Failure(description: "bad chunk size")
                }
                if size == 0 {
                    _ = try readLine()
                    break
                }
                response.body += try read(count: size)
                _ = try readLine()
            }
        }
        if response.header("connection")?.lowercased() == "close" { disconnect() }
        return response
    }

    private func connect() throws {
        #if canImport(Glibc)
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = Darwin.socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                #if canImport(Glibc)
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                #else
                Darwin.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                #endif
            }
        }
        guard result == 0 else {
            close(fd)
            throw Failure(description: "cannot connect to 127.0.0.1:\(port)")
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        socket = fd
        buffer = []
        start = 0
    }

    private func disconnect() {
        if socket >= 0 { close(socket) }
        socket = -1
        buffer = []
        start = 0
    }

    private func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.write(socket, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "write failed") }
            sent += n
        }
    }

    /// Appends what the socket has to `buffer`; throws at end of stream.
    private func fill() throws {
        if start > 0, start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        let n = chunk.withUnsafeMutableBytes { Glibc.read(socket, $0.baseAddress, $0.count) }
        guard n > 0 else { throw Failure(description: "connection closed") }
        buffer += chunk[0..<n]
    }

    private func readUntilBlankLine() throws -> [UInt8] {
        while true {
            if let end = find([13, 10, 13, 10]) {
                let head = Array(buffer[start..<end])
                start = end + 4
                return head
            }
            try fill()
        }
    }

    private func readLine() throws -> [UInt8] {
        while true {
            if let end = find([13, 10]) {
                let line = Array(buffer[start..<end])
                start = end + 2
                return line
            }
            try fill()
        }
    }

    private func read(count: Int) throws -> [UInt8] {
        while buffer.count - start < count { try fill() }
        let bytes = Array(buffer[start..<start + count])
        start += count
        return bytes
    }

    private func find(_ pattern: [UInt8]) -> Int? {
        guard buffer.count - start >= pattern.count else { return nil }
        var i = start
        while i <= buffer.count - pattern.count {
            if buffer[i] == pattern[0], Array(buffer[i..<i + pattern.count]) == pattern { return i }
            i += 1
        }
        return nil
    }
}
