import Foundation
import SwitchboardCrypto
import Synchronization

/// A master key file: one base64 key per line, the active key first; blank lines and `#` comments
/// are ignored. Written atomically (temporary file, fsync, rename, fsync of the directory) with
/// mode 0600, so a crash leaves either the old or the new file, never half of one.
public struct KeyFile: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public var exists: Bool { FileManager.default.fileExists(atPath: path) }

    public func read() throws(MasterKeyLoader.Failure) -> KeyRing {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .init(description: "cannot read the master key file \(path)")
        }
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        do {
            let keys = try lines.map { line throws(KeyRing.Failure) in try KeyRing.masterKey(base64: line) }
            guard let active = keys.first else { throw MasterKeyLoader.Failure(description: "holds no key") }
            return KeyRing(active: active, others: Array(keys.dropFirst()))
        } catch let error as KeyRing.Failure {
            throw .init(description: "the master key file \(path) is invalid: \(error)")
        } catch {
            throw .init(description: "the master key file \(path) holds no key")
        }
    }

    /// Replaces the file with `ring`'s keys, active first.
    public func save(_ ring: KeyRing) throws(MasterKeyLoader.Failure) {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = path + ".tmp-\(getpid())"
        let text =
            "# Switchboard master keys: the first line seals, every line opens. Keep this file secret.\n"
            + ring.all.map { $0.base64 + "\n" }.joined()
        let bytes = Array(text.utf8)
        // Created 0600 from the start: the keys must never exist with wider permissions.
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw .init(description: "cannot create \(temporary): errno \(errno)") }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw .init(description: "cannot write the master key file \(path)")
        }
        let directoryFD = open(directory.isEmpty ? "." : directory, O_RDONLY)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// Modification time and size, to notice a rewrite cheaply.
    func signature() -> [Int] {
        var info = stat()
        guard stat(path, &info) == 0 else { return [] }
        return [Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec), Int(info.st_size), Int(info.st_ino)]
    }
}

/// A key ring read from a key file and re-read when the file changes (checked at most once a
/// second), or at once when a ciphertext names a key the ring lacks. A file that turns unreadable
/// keeps the last good ring in use.
final class KeyFileSource: KeyRingSource {
    private struct State {
        var ring: KeyRing
        var signature: [Int]
        var checkedAt: ContinuousClock.Instant
    }

    private let file: KeyFile
    private let state: Mutex<State>

    init(file: KeyFile) throws(MasterKeyLoader.Failure) {
        self.file = file
        let signature = file.signature()
        state = Mutex(State(ring: try file.read(), signature: signature, checkedAt: .now))
    }

    func current() -> KeyRing {
        let now = ContinuousClock.Instant.now
        let (ring, due) = state.withLock { state in (state.ring, now - state.checkedAt >= .seconds(1)) }
        guard due else { return ring }
        return refresh(force: false)
    }

    func reload() -> KeyRing { refresh(force: true) }

    private func refresh(force: Bool) -> KeyRing {
        let signature = file.signature()
        let changed = state.withLock { state in
            state.checkedAt = .now
            return force || state.signature != signature
        }
        guard changed, let ring = try? file.read() else { return state.withLock { $0.ring } }
        return state.withLock { state in
            state.ring = ring
            state.signature = signature
            return ring
        }
    }
}
