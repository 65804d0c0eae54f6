/// A client's input broke a rule. `field` is the wire name (`categories[2]`, `auth.expiry_date`,
/// `limit`), and `message` is a full sentence that names it.
public struct ValidationError: Error, Sendable, Equatable {
    public let field: String
    public let message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// Size bounds on client-supplied strings, so one request cannot store megabytes in a label.
public enum Limits {
    /// Identifiers and labels: integration_type, environment, external_xref, paths...
    public static let identifierLength = 1024
    /// Any single credential string (PEM certificates and keys can be long).
    public static let credentialLength = 65_536

    public static func check(_ value: String, field: String, maximum: Int) throws(ValidationError) {
        guard value.utf8.count <= maximum else {
            throw ValidationError(field: field, message: "\(field) is longer than \(maximum) bytes")
        }
    }
}
