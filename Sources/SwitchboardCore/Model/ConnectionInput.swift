/// One field of a write request: left out, explicitly `null`, or given a value.
public enum FieldUpdate<Value: Sendable & Equatable>: Sendable, Equatable {
    case absent
    case null
    case value(Value)
}

/// A create or update request, after the wire layer checked JSON types and enum values.
///
/// Create requires `integration_type`, `permissions` and `categories`. Update (PUT and PATCH alike)
/// changes only the fields present; `null` clears an optional field, and `auth` replaces the stored
/// credential set as a whole.
public struct ConnectionInput: Sendable, Equatable {
    public var integrationType: FieldUpdate<String> = .absent
    public var integrationName: FieldUpdate<String> = .absent
    public var externalXref: FieldUpdate<String> = .absent
    public var permissions: FieldUpdate<[Permission]> = .absent
    public var categories: FieldUpdate<[Category]> = .absent
    public var environment: FieldUpdate<String> = .absent
    public var authAwsArn: FieldUpdate<String> = .absent
    public var authAzureKeyvaultID: FieldUpdate<String> = .absent
    public var authGcpSecretName: FieldUpdate<String> = .absent
    public var authHashiVaultPath: FieldUpdate<String> = .absent
    public var secretsmanagerID: FieldUpdate<String> = .absent
    public var secretsmanagerKey: FieldUpdate<String> = .absent
    public var auth: FieldUpdate<ConnectionAuth> = .absent

    public init() {}

    /// The fields of a new connection; throws when a required field is missing or null.
    public func fieldsForCreate() throws(ValidationError) -> ConnectionFields {
        func required<T>(_ update: FieldUpdate<T>, _ name: String) throws(ValidationError) -> T {
            switch update {
            case .value(let value): return value
            case .absent: throw ValidationError(field: name, message: "\(name) is required")
            case .null: throw ValidationError(field: name, message: "\(name) is required and cannot be null")
            }
        }
        var fields = ConnectionFields(
            integrationType: try required(integrationType, "integration_type"),
            permissions: try required(permissions, "permissions"),
            categories: try required(categories, "categories")
        )
        try apply(to: &fields)
        return fields
    }

    /// Applies the present fields to `fields`; throws when a required field is set to null.
    public func apply(to fields: inout ConnectionFields) throws(ValidationError) {
        func requiredValue<T>(_ update: FieldUpdate<T>, _ name: String, _ target: inout T) throws(ValidationError) {
            switch update {
            case .absent: break
            case .value(let value): target = value
            case .null: throw ValidationError(field: name, message: "\(name) cannot be null")
            }
        }
        func optional<T>(_ update: FieldUpdate<T>, _ target: inout T?) {
            switch update {
            case .absent: break
            case .null: target = nil
            case .value(let value): target = value
            }
        }
        try requiredValue(integrationType, "integration_type", &fields.integrationType)
        try requiredValue(permissions, "permissions", &fields.permissions)
        try requiredValue(categories, "categories", &fields.categories)
        switch environment {
        case .absent: break
        case .null: fields.environment = ConnectionFields.defaultEnvironment
        case .value(let value): fields.environment = value
        }
        optional(integrationName, &fields.integrationName)
        optional(externalXref, &fields.externalXref)
        optional(authAwsArn, &fields.authAwsArn)
        optional(authAzureKeyvaultID, &fields.authAzureKeyvaultID)
        optional(authGcpSecretName, &fields.authGcpSecretName)
        optional(authHashiVaultPath, &fields.authHashiVaultPath)
        optional(secretsmanagerID, &fields.secretsmanagerID)
        optional(secretsmanagerKey, &fields.secretsmanagerKey)
    }
}
