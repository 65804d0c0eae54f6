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
///
/// Labels are counted in characters (Unicode scalars), as openapi.yaml's `maxLength` counts them.
/// The indexed ones are shorter: every list index of PostgreSQL holds `environment` and
/// `integration_type` beside `integration_name` or `external_xref`, and a btree entry must stay
/// under 2,704 bytes even at 4 bytes per character.
public enum Limits {
    /// Unindexed labels: paths, ARNs, secret names, workspace names.
    public static let identifierLength = 1024
    /// `integration_name` and `external_xref`.
    public static let indexedLabelLength = 255
    /// `integration_type` and `environment`.
    public static let shortLabelLength = 64
    /// Any single credential string, in bytes (PEM certificates and keys can be long).
    public static let credentialLength = 65_536

    /// At most `maximum` UTF-8 bytes (credentials: sealed, so any content is fine).
    public static func check(_ value: String, field: String, maximum: Int) throws(ValidationError) {
        guard value.utf8.count <= maximum else {
            throw ValidationError(field: field, message: "\(field) is longer than \(maximum) bytes")
        }
    }

    /// A label that must be present: not empty, and a label as `checkLabel` says.
    public static func checkRequiredLabel(
        _ value: String,
        field: String,
        maximum: Int = identifierLength
    ) throws(ValidationError) {
        guard !value.isEmpty else { throw ValidationError(field: field, message: "\(field) must not be empty") }
        try checkLabel(value, field: field, maximum: maximum)
    }

    /// A label: at most `maximum` characters, and free of NUL characters, which PostgreSQL text
    /// cannot hold (refused on every backend, so both behave alike).
    public static func checkLabel(
        _ value: String,
        field: String,
        maximum: Int = identifierLength
    ) throws(ValidationError) {
        guard value.unicodeScalars.count <= maximum else {
            throw ValidationError(field: field, message: "\(field) is longer than \(maximum) characters")
        }
        guard !value.utf8.contains(0) else {
            throw ValidationError(field: field, message: "\(field) must not contain NUL (U+0000) characters")
        }
    }
}
