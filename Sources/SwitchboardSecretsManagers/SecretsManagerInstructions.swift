import SwitchboardCore

extension HTTPSecretsManagerClientFactory {
    /// Every setting of every supported type, in registration order: required ones first, the
    /// permissions each credential needs (docs/secrets-managers.md says the same at length).
    public var instructions: [SecretsManagerInstruction] { Self.instructionList }

    static let instructionList: [SecretsManagerInstruction] = {
        func entries(_ type: SecretsManagerType, _ items: [(String, String, String)]) -> [SecretsManagerInstruction] {
            items.map { SecretsManagerInstruction(type: type, key: $0.0, label: $0.1, instructions: $0.2) }
        }
        let prefix = (
            "prefix", "Name prefix",
            "Optional. Where connections may name secrets without the secretsmanagers:admin scope; default switchboard/<workspace id>/ (switchboard-<workspace id>- for Azure and Google Cloud)."
        )
        return entries(
            .aws,
            [
                ("region", "Region", "Required. The AWS region of the secrets, e.g. us-east-1."),
                (
                    "access_key_id", "Access key ID",
                    "Required. An IAM user's or role's access key; it needs secretsmanager:CreateSecret, PutSecretValue, GetSecretValue and DeleteSecret on the secrets Switchboard uses."
                ),
                ("secret_access_key", "Secret access key", "Required. Stored sealed and never shown again."),
                ("session_token", "Session token", "Optional. For temporary credentials."),
                ("endpoint", "Endpoint", "Optional. Another endpoint than secretsmanager.<region>.amazonaws.com."),
                prefix,
            ]
        )
            + entries(
                .hashicorp,
                [
                    (
                        "address", "Address",
                        "Required. The Vault or OpenBao server, e.g. https://vault.example.com:8200."
                    ),
                    (
                        "token", "Token",
                        "Required. A token whose policy allows create, read, update and delete on <mount>/data/* and delete on <mount>/metadata/* for the paths Switchboard uses."
                    ),
                    ("mount", "KV v2 mount", "Optional. Where the KV version 2 engine is mounted; default secret."),
                    ("namespace", "Namespace", "Optional. A Vault Enterprise or OpenBao namespace."),
                    prefix,
                ]
            )
            + entries(
                .azure,
                [
                    ("vault_url", "Vault URL", "Required. The Key Vault's URI, https://<name>.vault.azure.net."),
                    (
                        "tenant_id", "Tenant ID",
                        "Required. The Microsoft Entra tenant (directory) ID of the application."
                    ),
                    (
                        "client_id", "Client ID",
                        "Required. The application (client) ID of an app registration or service principal with the Key Vault Secrets Officer role on the vault (or an access policy with get, set, delete and purge on secrets)."
                    ),
                    (
                        "client_secret", "Client secret",
                        "Required. A client secret of that application; stored sealed and never shown again."
                    ),
                    (
                        "authority_host", "Authority host",
                        "Optional. Microsoft Entra's host for sovereign clouds; default https://login.microsoftonline.com."
                    ),
                    prefix,
                ]
            )
            + entries(
                .gcp,
                [
                    ("project_id", "Project ID", "Required. The Google Cloud project that holds the secrets."),
                    (
                        "service_account_json", "Service account key",
                        "Required. The JSON key file of a service account with the Secret Manager Admin role (roles/secretmanager.admin) on the project, or secretmanager.secrets.create, delete and get, secretmanager.versions.add and access; stored sealed and never shown again."
                    ),
                    ("endpoint", "Endpoint", "Optional. Another endpoint than https://secretmanager.googleapis.com."),
                    prefix,
                ]
            )
    }()
}
