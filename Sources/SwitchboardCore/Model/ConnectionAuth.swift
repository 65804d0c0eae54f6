/// The `auth` object of a connection: validated, normalised, and held as compact JSON bytes so it can
/// be sealed as is and written into responses without re-encoding.
///
/// Its description never shows the contents, so it cannot leak through logs or test failures.
public struct ConnectionAuth: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Compact JSON object; exactly what is sealed at rest.
    public let json: [UInt8]

    public var description: String { "ConnectionAuth(<redacted>)" }
    public var debugDescription: String { description }

    public enum FieldKind: Sendable { case string, stringArray, number, dateTime, object }

    /// The 26 fields of Unified's `PropertyConnectionAuth`, in the order they are written back.
    public static let fields: [(name: String, kind: FieldKind)] = [
        ("access_token", .string), ("api_url", .string), ("app_id", .string), ("audience", .string),
        ("authorize_url", .string), ("client_id", .string), ("client_secret", .string),
        ("consumer_key", .string), ("consumer_secret", .string), ("dev_api_key", .string),
        ("emails", .stringArray), ("expires_in", .number), ("expiry_date", .dateTime), ("key", .string),
        ("meta", .object), ("name", .string), ("other_auth_info", .stringArray), ("pem", .string),
        ("refresh_token", .string), ("refresh_token_expires_date", .dateTime),
        ("refresh_token_expires_in", .number), ("refresh_url", .string), ("state", .string),
        ("token", .string), ("token_url", .string), ("user_id", .string),
    ]
    private static let kindByName: [String: FieldKind] = Dictionary(
        uniqueKeysWithValues: fields.map { ($0.name, $0.kind) }
    )

    /// Builds from already-sealed-and-opened bytes (trusted: they were validated when written).
    public init(trustedJSON: [UInt8]) { json = trustedJSON }

    /// Validates a client-supplied `auth` object. Members set to `null` are dropped; unknown members
    /// are refused rather than silently lost (custom values belong in `meta`).
    public init(validating value: JSONValue) throws(ValidationError) {
        guard case .object(let members) = value else {
            throw ValidationError(field: "auth", message: "auth must be an object, got \(value.typeName)")
        }
        var accepted: [String: JSONValue] = [:]
        for (name, member) in members {
            let field = "auth.\(name)"
            guard let kind = Self.kindByName[name] else {
                throw ValidationError(
                    field: field,
                    message: "\(field) is not a known auth field; put custom values in auth.meta"
                )
            }
            if case .null = member { continue }
            switch (kind, member) {
            case (.string, .string(let s)):
                try Limits.check(s, field: field, maximum: Limits.credentialLength)
                accepted[name] = member
            case (.stringArray, .array(let elements)):
                for (i, element) in elements.enumerated() {
                    guard case .string(let s) = element else {
                        throw ValidationError(
                            field: field,
                            message: "\(field)[\(i)] must be a string, got \(element.typeName)"
                        )
                    }
                    try Limits.check(s, field: "\(field)[\(i)]", maximum: Limits.credentialLength)
                }
                accepted[name] = member
            case (.number, .number):
                accepted[name] = member
            case (.dateTime, .string(let s)):
                guard let timestamp = Timestamp(rfc3339: s) else {
                    throw ValidationError(
                        field: field,
                        message: "\(field) must be an RFC 3339 date-time, got \"\(s.prefix(64))\""
                    )
                }
                accepted[name] = .string(timestamp.rfc3339)
            case (.object, .object(let inner)):
                // `meta.subdomain` picks the host tokens are sent to (Zendesk, BambooHR): only a
                // plain DNS label, which cannot steer a request to another domain.
                if name == "meta", let subdomain = inner.first(where: { $0.key == "subdomain" })?.value {
                    guard case .string(let label) = subdomain, AuthorizationService.isDNSLabel(label) else {
                        throw ValidationError(
                            field: "auth.meta.subdomain",
                            message:
                                "auth.meta.subdomain must be a plain DNS label: letters, digits and hyphens, at most 63"
                        )
                    }
                }
                accepted[name] = member
            default:
                let expected: String
                switch kind {
                case .string: expected = "a string"
                case .stringArray: expected = "an array of strings"
                case .number: expected = "a number"
                case .dateTime: expected = "an RFC 3339 date-time string"
                case .object: expected = "an object"
                }
                throw ValidationError(field: field, message: "\(field) must be \(expected), got \(member.typeName)")
            }
        }
        json = Self.canonical(accepted.map { (key: $0.key, value: $0.value) })
    }

    /// The members written in the order of `fields` (one stored form however they arrived);
    /// members of other names are dropped.
    static func canonical(_ members: [(key: String, value: JSONValue)]) -> [UInt8] {
        var byName: [String: JSONValue] = [:]
        for member in members { byName[member.key] = member.value }
        var writer = JSONWriter(reservingCapacity: 256)
        writer.beginObject()
        for (name, _) in Self.fields {
            guard let member = byName[name] else { continue }
            writer.key(name)
            writer.value(member)
        }
        writer.endObject()
        return writer.bytes
    }

    /// The parsed object, for callers that need individual fields.
    public func parsed() -> JSONValue {
        (try? JSONParser.parse(json)) ?? .object([])
    }
}
