import Foundation

/// Credentials a connection keeps in a registered secrets manager: which client, under which
/// name, and whether Switchboard created that secret for this connection.
///
/// Switchboard overwrites and deletes only secrets it created (an `ExternalSecretRecord` names
/// the owning connection). A connection that names a secret that already exists adopts it: it
/// reads it, and never writes or deletes it.
struct ExternalCredentials: Sendable {
    let client: any SecretsManagerClient
    /// The secret's name in the manager.
    let name: String
    /// How errors name the manager: its registered name and id.
    let label: String
    let managerID: SecretsManagerID
    let connection: Connection
    let secretsManagers: SecretsManagerService

    /// Stores `auth`: over the secret when this connection created it, else by creating it
    /// (claiming its name first, so two connections never create one secret). A secret that
    /// exists and is not this connection's is left as it is (409).
    func write(_ auth: ConnectionAuth) async throws {
        switch try await secretsManagers.owner(of: name, in: managerID) {
        case connection.id?:
            try await mapped { try await client.put(name: name, value: auth.json) }
        case _?:
            throw ServiceError.conflict(
                "another connection owns the secret \"\(name.prefix(256))\" in \(label); name another secret"
            )
        case nil:
            guard try await secretsManagers.claim(name, in: managerID, for: connection) else {
                throw ServiceError.conflict(
                    "another connection claimed the secret \"\(name.prefix(256))\" in \(label) meanwhile; name another secret"
                )
            }
            do { try await mapped { try await client.create(name: name, value: auth.json) } } catch {
                try? await secretsManagers.release(name, in: managerID)
                throw error
            }
        }
    }

    /// Deletes the secret if this connection created it (true), and leaves an adopted one (false).
    @discardableResult
    func deleteIfOwned() async throws -> Bool {
        guard try await secretsManagers.owner(of: name, in: managerID) == connection.id else { return false }
        try await mapped { try await client.delete(name: name) }
        try await secretsManagers.release(name, in: managerID)
        return true
    }

    /// `auth: null` on an update: deletes the secret this connection created; an adopted one is
    /// not Switchboard's to delete (409).
    func delete() async throws {
        guard try await deleteIfOwned() else {
            throw ServiceError.conflict(
                "the secret \"\(name.prefix(256))\" in \(label) was not created by Switchboard for this connection, so Switchboard does not delete it"
            )
        }
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

    private func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let error as SecretsManagerError {
            throw ServiceError.secretsManagerFailed(manager: label, error)
        }
    }
}

extension ConnectionService {
    /// Where `connection` keeps its credentials when it names a secrets manager; nil when they are
    /// sealed in its row. The secret's name is, by the manager's type, `auth_aws_arn`,
    /// `auth_hashi_vault_path`, `auth_azure_keyvault_id` or `auth_gcp_secret_name` when set, else
    /// `secretsmanager_key`, else the manager's prefix (by default `switchboard/<workspace id>/`,
    /// `switchboard-<workspace id>-` in Azure and Google) followed by the connection id.
    ///
    /// A new connection (`creatingBy`) must name a registered manager (otherwise a 404 naming the
    /// id), and a name it chooses must lie under the manager's prefix unless its key holds
    /// `secretsmanagers:admin`; names under another workspace's `switchboard/<id>/` are never
    /// reachable. A stored connection whose `secretsmanager_id` names no manager is a row from
    /// before managers could be registered, when the field was free text: its credentials, if
    /// any, are in its row.
    func externalCredentials(
        of connection: Connection,
        creatingBy principal: Principal? = nil
    ) async throws
        -> ExternalCredentials?
    {
        let creating = principal != nil
        guard let raw = connection.fields.secretsmanagerID, creating || connection.sealedAuth == nil else {
            return nil
        }
        let id = SecretsManagerID(rawValue: raw)
        let found: SecretsManagerService.Resolved
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
            case .azure: fields.authAzureKeyvaultID
            case .gcp: fields.authGcpSecretName
            default: nil
            }
        let chosen = specific ?? fields.secretsmanagerKey
        let defaultName = found.prefix + connection.id.rawValue
        if let principal, let chosen {
            try Self.checkChosenName(
                chosen,
                type: found.type,
                prefix: found.prefix,
                workspace: connection.workspaceID,
                by: principal
            )
        }
        return ExternalCredentials(
            client: found.client,
            name: chosen ?? defaultName,
            label: "\(found.type.rawValue) \"\(raw)\"",
            managerID: id,
            connection: connection,
            secretsManagers: secretsManagers
        )
    }

    /// A secret name a connection chooses: under the manager's prefix for any writer; elsewhere
    /// only with `secretsmanagers:admin` (adopting another application's secret is an
    /// administrator's decision); never under another workspace's `switchboard/<id>/`. An AWS
    /// ARN, a Key Vault secret identifier or a `projects/P/secrets/S` name is judged by the secret
    /// name it carries.
    static func checkChosenName(
        _ chosen: String,
        type: SecretsManagerType,
        prefix: String,
        workspace: WorkspaceID,
        by principal: Principal
    ) throws(ServiceError) {
        let name = Self.plainSecretName(chosen, type: type)
        // Compared as the manager compares names (Key Vault ignores case).
        let comparable = type.comparable(name)
        let own = type.comparable(SecretsManagerService.defaultPrefix(workspace: workspace, type: type))
        let reserved = SecretsManagerService.reservedPrefix(type)
        if comparable.hasPrefix(reserved), !comparable.hasPrefix(own) {
            throw .invalid(
                ValidationError(
                    field: "secretsmanager_key",
                    message:
                        "the secret name \"\(name.prefix(256))\" lies under another workspace's \(reserved) names, which no connection of this workspace may use"
                )
            )
        }
        guard comparable.hasPrefix(type.comparable(prefix)) else {
            guard principal.scopes.contains(.secretsManagersAdmin) else {
                throw .missingScope(.secretsManagersAdmin)
            }
            return
        }
    }

    /// The bare secret name in what a connection names: the name in an AWS ARN, in a Key Vault
    /// secret identifier (`https://V.vault.azure.net/secrets/NAME[/VERSION]`) or in a Google
    /// resource name (`projects/P/secrets/NAME`); anything else as it is.
    static func plainSecretName(_ chosen: String, type: SecretsManagerType) -> String {
        switch type {
        case .aws: return secretName(inARN: chosen) ?? chosen
        case .azure, .gcp:
            guard chosen.contains("/"), let range = chosen.range(of: "/secrets/") else { return chosen }
            return String(chosen[range.upperBound...].prefix { $0 != "/" })
        default: return chosen
        }
    }

    /// The secret name in an AWS Secrets Manager ARN (`arn:aws:secretsmanager:R:A:secret:NAME-abcdef`).
    static func secretName(inARN arn: String) -> String? {
        guard arn.hasPrefix("arn:"), let range = arn.range(of: ":secret:") else { return nil }
        var name = String(arn[range.upperBound...])
        // AWS appends a hyphen and six random characters to the name.
        if let dash = name.lastIndex(of: "-"), name.distance(from: dash, to: name.endIndex) == 7 {
            name = String(name[..<dash])
        }
        return name
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
        try check(input.authAzureKeyvaultID, fields.authAzureKeyvaultID, "auth_azure_keyvault_id")
        try check(input.authGcpSecretName, fields.authGcpSecretName, "auth_gcp_secret_name")
    }
}

extension FieldUpdate {
    /// True when the request names the field (with a value or null).
    var isPresent: Bool {
        if case .absent = self { return false }
        return true
    }
}
