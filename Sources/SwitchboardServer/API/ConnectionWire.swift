import HTTPTypes
import SwitchboardCore

/// The Unified `Connection` JSON object in request bodies (responses: `ConnectionJSON`).
enum ConnectionWire {
    /// Fields a client may write (kept equal to the writable fields of openapi.yaml by a test).
    static let writableFields: Set<String> = [
        "integration_type", "integration_name", "external_xref", "permissions", "categories", "auth", "environment",
        "auth_aws_arn", "auth_azure_keyvault_id", "auth_gcp_secret_name", "auth_hashi_vault_path",
        "secretsmanager_id", "secretsmanager_key",
    ]
    /// Server-maintained fields: accepted in a body and ignored, as Unified documents them read-only.
    static let readOnlyFields: Set<String> = [
        "id", "created_at", "updated_at", "workspace_id", "is_paused", "last_healthy_at", "last_unhealthy_at",
        "last_unhealthy_code", "refresh_status",
    ]

    /// Parses a request body into a typed input. Types, enum values and duplicates are checked here;
    /// required fields and lengths by `ConnectionService`. Unknown top-level fields are ignored for
    /// compatibility with newer SDKs; unknown `auth` fields are refused (see `ConnectionAuth`).
    static func input(fromBody body: [UInt8]) throws(APIError) -> ConnectionInput {
        let members = try JSONBody(body, emptyHint: "send a Connection JSON object").members
        var input = ConnectionInput()
        do {
            for (name, value) in members where writableFields.contains(name) {
                switch name {
                case "integration_type": input.integrationType = try string(value, name)
                case "integration_name": input.integrationName = try string(value, name)
                case "external_xref": input.externalXref = try string(value, name)
                case "environment": input.environment = try string(value, name)
                case "auth_aws_arn": input.authAwsArn = try string(value, name)
                case "auth_azure_keyvault_id": input.authAzureKeyvaultID = try string(value, name)
                case "auth_gcp_secret_name": input.authGcpSecretName = try string(value, name)
                case "auth_hashi_vault_path": input.authHashiVaultPath = try string(value, name)
                case "secretsmanager_id": input.secretsmanagerID = try string(value, name)
                case "secretsmanager_key": input.secretsmanagerKey = try string(value, name)
                case "permissions":
                    input.permissions = try names(value, name) { Permission($0) }
                case "categories":
                    input.categories = try names(value, name) { Category($0) }
                case "auth":
                    if case .null = value {
                        input.auth = .null
                    } else {
                        input.auth = .value(try ConnectionAuth(validating: value))
                    }
                default: break
                }
            }
        } catch {
            throw APIError(status: .badRequest, code: "invalid_field", message: error.message)
        }
        return input
    }

    private static func string(_ value: JSONValue, _ field: String) throws(ValidationError) -> FieldUpdate<String> {
        switch value {
        case .null: return .null
        case .string(let s): return .value(s)
        default: throw ValidationError(field: field, message: "\(field) must be a string, got \(value.typeName)")
        }
    }

    /// An array of enum names; duplicates are dropped, order kept.
    private static func names<T: Hashable>(
        _ value: JSONValue,
        _ field: String,
        _ make: (String) -> T?
    ) throws(ValidationError) -> FieldUpdate<[T]> {
        switch value {
        case .null: return .null
        case .array(let elements):
            var result: [T] = []
            var seen = Set<T>()
            for (i, element) in elements.enumerated() {
                guard case .string(let name) = element else {
                    throw ValidationError(
                        field: field,
                        message: "\(field)[\(i)] must be a string, got \(element.typeName)"
                    )
                }
                guard let item = make(name) else {
                    throw ValidationError(
                        field: field,
                        message: "\(field)[\(i)] has an unknown value \"\(name.prefix(64))\""
                    )
                }
                if seen.insert(item).inserted { result.append(item) }
            }
            return .value(result)
        default:
            throw ValidationError(field: field, message: "\(field) must be an array of strings, got \(value.typeName)")
        }
    }
}
