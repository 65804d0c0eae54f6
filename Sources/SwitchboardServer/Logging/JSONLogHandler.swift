import Foundation
import Logging
import SwitchboardCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How log lines are written (`--log-format`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// One JSON object per line: `time`, `level`, `label`, `message`, then the metadata's keys.
    case json
    /// swift-log's stream format, for a person at a terminal.
    case text
}

/// A swift-log handler that writes one JSON object per line to standard error, so log
/// collectors parse lines without a pattern. Metadata values are strings, or JSON arrays and
/// objects for swift-log's nested values.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    /// Lines from concurrent tasks never interleave.
    private static let output = Mutex<Void>(())

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(
        level: Logger.Level,
        message: Logger.Message,
        metadata: Logger.Metadata?,
        source: String,
        file: String,
        function: String,
        line: UInt
    ) {
        var merged = self.metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let metadata { merged.merge(metadata) { _, new in new } }
        var writer = JSONWriter(reservingCapacity: 256)
        writer.beginObject()
        writer.member("time", Timestamp.now().rfc3339)
        writer.member("level", level.rawValue)
        writer.member("label", label)
        writer.member("message", message.description)
        for key in merged.keys.sorted() where !["time", "level", "label", "message"].contains(key) {
            writer.key(key)
            Self.write(merged[key]!, to: &writer)
        }
        writer.endObject()
        var line = writer.bytes
        line.append(UInt8(ascii: "\n"))
        Self.output.withLock { _ in
            line.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = systemWrite(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0, errno == EINTR {
                        continue
                    } else {
                        return  // standard error is gone: nothing to report it to
                    }
                }
            }
        }
    }

    private static func write(_ value: Logger.Metadata.Value, to writer: inout JSONWriter) {
        switch value {
        case .string(let text): writer.string(text)
        case .stringConvertible(let convertible): writer.string(convertible.description)
        case .array(let items):
            writer.beginArray()
            for item in items { write(item, to: &writer) }
            writer.endArray()
        case .dictionary(let members):
            writer.beginObject()
            for key in members.keys.sorted() {
                writer.key(key)
                write(members[key]!, to: &writer)
            }
            writer.endObject()
        }
    }
}

/// POSIX `write(2)` (the handler's own `write` names its metadata writer).
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, buffer, count)
    #else
    Darwin.write(fd, buffer, count)
    #endif
}
