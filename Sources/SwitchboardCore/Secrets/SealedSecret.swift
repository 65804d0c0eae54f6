/// A ciphertext and the id of the master key that sealed it. Stores hold only these.
public struct SealedSecret: Sendable, Equatable {
    /// Which key in the key ring sealed it, so keys can be rotated.
    public var keyID: String
    /// nonce ‖ ciphertext ‖ tag.
    public var ciphertext: [UInt8]

    public init(keyID: String, ciphertext: [UInt8]) {
        self.keyID = keyID
        self.ciphertext = ciphertext
    }
}

/// What a ciphertext is bound to (authenticated, not encrypted): a sealed secret copied onto another
/// row, into another workspace, or from one kind of row to another, fails to open.
public struct SealContext: Sendable, Equatable {
    /// The kind of row, part of the associated data.
    public enum Purpose: String, Sendable {
        case connectionAuth = "connection-auth"
        case secretsManagerAuth = "secretsmanager-auth"
        case integrationClientSecret = "integration-client-secret"
        case eventWebhookSecret = "event-webhook-secret"
    }

    public var purpose: Purpose
    public var workspaceID: WorkspaceID
    /// The id of the row the secret belongs to.
    public var objectID: String

    /// A connection's `auth`.
    public init(workspaceID: WorkspaceID, connectionID: ConnectionID) {
        self.purpose = .connectionAuth
        self.workspaceID = workspaceID
        self.objectID = connectionID.rawValue
    }

    /// A secrets manager's own credentials.
    public init(workspaceID: WorkspaceID, secretsManagerID: SecretsManagerID) {
        self.purpose = .secretsManagerAuth
        self.workspaceID = workspaceID
        self.objectID = secretsManagerID.rawValue
    }

    /// A workspace's OAuth client secret for one integration type.
    public init(workspaceID: WorkspaceID, integrationType: String) {
        self.purpose = .integrationClientSecret
        self.workspaceID = workspaceID
        self.objectID = integrationType
    }

    /// A workspace's event webhook signing secret (`current` or `previous`).
    public init(workspaceID: WorkspaceID, eventWebhookSecret slot: String) {
        self.purpose = .eventWebhookSecret
        self.workspaceID = workspaceID
        self.objectID = slot
    }

    /// The associated data bytes; versioned so the binding can change without ambiguity.
    public var associatedData: [UInt8] {
        Array("switchboard/\(purpose.rawValue)/v1\u{0}\(workspaceID.rawValue)\u{0}\(objectID)".utf8)
    }
}

public enum SealingError: Error, Sendable, Equatable {
    /// The row names a key the ring does not hold (a retired key was removed from configuration).
    case unknownKey(keyID: String)
    /// Authentication failed: wrong key, tampered ciphertext, or a ciphertext moved to another row.
    case authenticationFailed
}

/// Seals and opens credential bytes with authenticated encryption.
public protocol SecretSealer: Sendable {
    /// The id of the key `seal` uses now.
    var activeKeyID: String { get }
    /// Seals `plaintext` under the active key, binding `context` as associated data.
    func seal(_ plaintext: [UInt8], context: SealContext) throws -> SealedSecret
    /// Opens a sealed secret; throws `SealingError` if the key is unknown or authentication fails.
    func open(_ sealed: SealedSecret, context: SealContext) throws -> [UInt8]
}
