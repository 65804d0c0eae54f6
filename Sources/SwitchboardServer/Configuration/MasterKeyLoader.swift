import Foundation
import Logging
import SwitchboardCrypto

/// Finds the master keys (see `MasterKeySettings`). PostgreSQL has no data directory: its replicas
/// must share keys, so inline keys or a key file are required there. No key is ever logged; only
/// key ids are.
public struct MasterKeyLoader: Sendable {
    public static let keyFileName = "master.key"

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Where the keys came from, which decides how a rotation adds a key.
    public enum Origin: Sendable, Equatable {
        /// Inline keys: an operator changes them and restarts each replica.
        case environment
        /// A key file that `switchboard keys rotate` rewrites and running servers re-read.
        case file(KeyFile)

        public static func == (a: Origin, b: Origin) -> Bool {
            switch (a, b) {
            case (.environment, .environment): true
            case (.file(let x), .file(let y)): x.path == y.path
            default: false
            }
        }
    }

    /// The loaded keys and their origin.
    public struct Keys: Sendable {
        public let source: any KeyRingSource
        public let origin: Origin
    }

    let settings: MasterKeySettings
    let dataDirectory: String?

    public init(settings: MasterKeySettings, dataDirectory: String?) {
        self.settings = settings
        self.dataDirectory = dataDirectory
    }

    public func load(logger: Logger) throws -> Keys {
        if let inline = settings.inlineKeys {
            let parts = inline.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
            do {
                let keys = try parts.map { part throws(KeyRing.Failure) in try KeyRing.masterKey(base64: part) }
                guard let active = keys.first else { throw Failure(description: "no key given") }
                let ring = KeyRing(active: active, others: Array(keys.dropFirst()))
                logger.info("Using master keys from the environment", metadata: Self.metadata(ring))
                return Keys(source: ring, origin: .environment)
            } catch {
                throw Failure(description: "\(MasterKeySettings.keysVariable) is invalid: \(error)")
            }
        }
        if let path = settings.keyFile {
            return try open(KeyFile(path: path), logger: logger)
        }
        guard let dataDirectory else {
            throw Failure(
                description: """
                    \(MasterKeySettings.keysVariable) (or \(MasterKeySettings.keyVariable), or \
                    \(MasterKeySettings.fileVariable)) is required with PostgreSQL: every replica must use the same keys
                    """
            )
        }
        let file = KeyFile(path: (dataDirectory as NSString).appendingPathComponent(Self.keyFileName))
        defer {
            logger.warning(
                """
                THE MASTER KEY IS STORED BESIDE THE DATABASE (\(file.path)): a copy of the data directory \
                (a backup, a snapshot) carries both the ciphertexts and the key that opens them. Keep the key \
                elsewhere with \(MasterKeySettings.fileVariable) or \(MasterKeySettings.keysVariable) (docs/security.md).
                """
            )
        }
        if file.exists { return try open(file, logger: logger) }
        try FileManager.default.createDirectory(
            atPath: dataDirectory,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        let ring = KeyRing(active: try KeyRing.masterKey(base64: KeyRing.generateMasterKeyBase64()))
        try file.save(ring)
        logger.warning(
            """
            GENERATED A NEW MASTER KEY at \(file.path). It encrypts every stored credential: back it up \
            with the database, or configure \(MasterKeySettings.keysVariable). Without it, stored \
            credentials cannot be read.
            """,
            metadata: Self.metadata(ring)
        )
        return Keys(source: try KeyFileSource(file: file), origin: .file(file))
    }

    private func open(_ file: KeyFile, logger: Logger) throws -> Keys {
        let source = try KeyFileSource(file: file)
        warnIfReadableByOthers(file.path, logger: logger)
        var metadata = Self.metadata(source.current())
        metadata["path"] = "\(file.path)"
        logger.info("Using the master key file", metadata: metadata)
        return Keys(source: source, origin: .file(file))
    }

    private static func metadata(_ ring: KeyRing) -> Logger.Metadata {
        ["key.active": "\(ring.active.id)", "key.count": "\(ring.all.count)"]
    }

    private func warnIfReadableByOthers(_ path: String, logger: Logger) {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let permissions = attributes?[.posixPermissions] as? NSNumber, permissions.intValue & 0o077 != 0 {
            logger.warning(
                "The master key file is readable by other users; run chmod 600 on it",
                metadata: ["path": "\(path)"]
            )
        }
    }
}
