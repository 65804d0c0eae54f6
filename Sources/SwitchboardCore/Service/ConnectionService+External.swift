import Foundation

/// Credentials a connection keeps in a registered secrets manager: which client, under which name.
struct ExternalCredentials: Sendable {
    let client: any SecretsManagerClient
    /// The secret's name in the manager.
    let name: String
    /// How errors name the manager: its registered name and id.
    let label: String

    func put(_ auth: ConnectionAuth) async throws {
        try await mapped { try await client.put(name: name, value: auth.json) }
    }

    /// The stored `auth`, validated like a request's: the manager is outside Switchboard's control.
    func get() async throws -> ConnectionAuth? {
        guard let bytes = try await mapped({ try await client.get(name: name) }) else { return nil }
        do {
            return try ConnectionAuth(validating: try JSONParser.parse(bytes))
        } catch {
            throw ServiceError.secretsManagerFailed(
                manager: label,
                .invalidResponse(manager: client.managerName, reason: "the secret is not a Connection auth object")
            )
        }
    }

    func delete() async throws { try await mapped { try await client.delete(name: name) } }

    private func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as SecretsManagerError {
            throw ServiceError.secretsManagerFailed(manager: label, error)
        }
    }
}

extension ConnectionService {
    /// Where `connection` keeps its credentials when it names a secrets manager; nil when they are
    /// sealed in its row. The secret's name is, by the manager's type, `auth_aws_arn` or
    /// `auth_hashi_vault_path` when set, else `secretsmanager_key`, else
    /// `switchboard/<workspace id>/<connection id>`.
    ///
    /// A new connection must name a registered manager (`creating`: otherwise a 404 naming the
    /// id). A stored one whose `secretsmanager_id` names none is a row from before managers could
    /// be registered, when the field was free text: its credentials, if any, are in its row.
    func externalCredentials(of connection: Connection, creating: Bool = false) async throws -> ExternalCredentials? {
        guard let raw = connection.fields.secretsmanagerID, creating || connection.sealedAuth == nil else {
            return nil
        }
        let id = SecretsManagerID(rawValue: raw)
        let found: (client: any SecretsManagerClient, type: SecretsManagerType)
        do {
            found = try await secretsManagers.client(for: id, workspace: connection.workspaceID)
        } catch ServiceError.secretsManagerNotFound where !creating {
            return nil
        }
        let fields = connection.fields
        let specific: String? =
            switch found.type {
            case .aws: fields.authAwsArn
            case .hashicorp: fields.authHashiVaultPath
            default: nil
            }
        let name =
            specific ?? fields.secretsmanagerKey
            ?? "switchboard/\(connection.workspaceID.rawValue)/\(connection.id.rawValue)"
        return ExternalCredentials(client: found.client, name: name, label: "\(found.type.rawValue) \"\(raw)\"")
    }

    /// Credentials do not move between stores: the fields that say where they live are fixed once
    /// a connection exists (a 409; create a new connection to move them).
    static func checkLocationUnchanged(_ fields: ConnectionFields, _ input: ConnectionInput) throws(ServiceError) {
        func check(_ update: FieldUpdate<String>, _ current: String?, _ name: String) throws(ServiceError) {
            let next: String? =
                switch update {
                case .absent: current
                case .null: nil
                case .value(let value): value
                }
            guard next == current else {
                throw .conflict(
                    "\(name) says where this connection's credentials live and cannot change; create a new connection instead"
                )
            }
        }
        try check(input.secretsmanagerID, fields.secretsmanagerID, "secretsmanager_id")
        guard fields.secretsmanagerID != nil else { return }
        try check(input.secretsmanagerKey, fields.secretsmanagerKey, "secretsmanager_key")
        try check(input.authAwsArn, fields.authAwsArn, "auth_aws_arn")
        try check(input.authHashiVaultPath, fields.authHashiVaultPath, "auth_hashi_vault_path")
    }
}

extension FieldUpdate {
    /// True when the request names the field (with a value or null).
    var isPresent: Bool {
        if case .absent = self { return false }
        return true
    }
}
