import Foundation
import Logging
import SwitchboardCrypto

/// Finds the master key: `SWITCHBOARD_MASTER_KEY` (base64 of 32 bytes) when set; otherwise, on the
/// embedded SQLite default only, the key file `master.key` in the data directory, generated with
/// mode 0600 on first start. PostgreSQL has no data directory: its replicas must share a key, so
/// the environment variable is required there. The key itself is never logged.
public struct MasterKeyLoader: Sendable {
    public static let environmentVariable = "SWITCHBOARD_MASTER_KEY"
    public static let keyFileName = "master.key"

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    let environmentValue: String?
    let dataDirectory: String?

    public init(environmentValue: String?, dataDirectory: String?) {
        self.environmentValue = environmentValue
        self.dataDirectory = dataDirectory
    }

    public func load(logger: Logger) throws -> KeyRing {
        if let value = environmentValue, !value.isEmpty {
            do {
                let key = try KeyRing.masterKey(base64: value)
                logger.info("Using the master key from \(Self.environmentVariable)", metadata: ["key.id": "\(key.id)"])
                return KeyRing(active: key)
            } catch {
                throw Failure(description: "\(Self.environmentVariable) is invalid: \(error)")
            }
        }
        guard let dataDirectory else {
            throw Failure(
                description:
                    "\(Self.environmentVariable) is required with PostgreSQL: every replica must use the same key"
            )
        }
        let path = (dataDirectory as NSString).appendingPathComponent(Self.keyFileName)
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: path) {
            guard let data = fileManager.contents(atPath: path) else {
                throw Failure(description: "cannot read the master key file \(path)")
            }
            do {
                let key = try KeyRing.masterKey(base64: String(decoding: data, as: UTF8.self))
                try warnIfReadableByOthers(path, logger: logger)
                logger.info("Using the master key file", metadata: ["path": "\(path)", "key.id": "\(key.id)"])
                return KeyRing(active: key)
            } catch let error as KeyRing.Failure {
                throw Failure(description: "the master key file \(path) is invalid: \(error)")
            }
        }
        try fileManager.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let encoded = KeyRing.generateMasterKeyBase64()
        // Create with 0600 from the start: the key must never exist with wider permissions.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw Failure(description: "cannot create the master key file \(path): errno \(errno)") }
        let bytes = Array((encoded + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0 else {
            try? fileManager.removeItem(atPath: path)
            throw Failure(description: "cannot write the master key file \(path)")
        }
        let key = try KeyRing.masterKey(base64: encoded)
        logger.warning(
            """
            GENERATED A NEW MASTER KEY at \(path). It encrypts every stored credential: back it up \
            with the database, or set \(Self.environmentVariable). Without it, stored credentials cannot be read.
            """,
            metadata: ["key.id": "\(key.id)"]
        )
        return KeyRing(active: key)
    }

    private func warnIfReadableByOthers(_ path: String, logger: Logger) throws {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        if let permissions = attributes[.posixPermissions] as? NSNumber, permissions.intValue & 0o077 != 0 {
            logger.warning(
                "The master key file is readable by other users; run chmod 600 on it",
                metadata: ["path": "\(path)"]
            )
        }
    }
}
