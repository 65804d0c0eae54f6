import AsyncHTTPClient
import SwitchboardCore
import SwitchboardEgress

/// Makes clients for registered secrets managers from their `auth` settings, all on one shared
/// `HTTPClient` (owned by the composition root).
///
/// Settings (`auth` of `POST /unified/secretsmanager`):
/// - `aws`: `region`, `access_key_id`, `secret_access_key` (required); `session_token`, `endpoint`.
/// - `hashicorp`: `address`, `token` (required); `mount` (default `secret`), `namespace`.
/// - `azure`: `vault_url`, `tenant_id`, `client_id`, `client_secret` (required); `authority_host`.
/// - `gcp`: `project_id`, `service_account_json` (required: the key file's JSON); `endpoint`.
/// - all: `prefix`, where connections may name secrets (`SecretsManagerService.prefix`).
public struct HTTPSecretsManagerClientFactory: SecretsManagerClientFactory {
    private let httpClient: EgressClient
    /// The Azure and Google access tokens, shared by every client this factory makes.
    private let tokens = AccessTokenCache()

    public init(httpClient: EgressClient) { self.httpClient = httpClient }

    static let settings: [SecretsManagerType: (required: [String], optional: [String], visible: Set<String>)] = [
        .aws: (
            ["region", "access_key_id", "secret_access_key"], ["session_token", "endpoint", "prefix"],
            ["region", "endpoint", "prefix"]
        ),
        .hashicorp: (
            ["address", "token"], ["mount", "namespace", "prefix"], ["address", "mount", "namespace", "prefix"]
        ),
        .azure: (
            ["vault_url", "tenant_id", "client_id", "client_secret"], ["authority_host", "prefix"],
            ["vault_url", "tenant_id", "client_id", "authority_host", "prefix"]
        ),
        .gcp: (["project_id", "service_account_json"], ["endpoint", "prefix"], ["project_id", "endpoint", "prefix"]),
    ]

    public func publicSettings(for type: SecretsManagerType) -> Set<String> { Self.settings[type]?.visible ?? [] }

    /// The URLs a manager's settings point at: what the egress policy must allow.
    static func endpoints(type: SecretsManagerType, auth: [String: String]) -> [(setting: String, url: String)] {
        switch type {
        case .aws:
            guard let region = auth["region"] else { return [] }
            return [("endpoint", auth["endpoint"] ?? AWSSecretsManagerClient.defaultEndpoint(region: region))]
        case .hashicorp:
            return auth["address"].map { [("address", $0)] } ?? []
        case .azure:
            return (auth["vault_url"].map { [("vault_url", $0)] } ?? []) + [
                ("authority_host", auth["authority_host"] ?? AzureKeyVaultClient.Configuration.publicCloudAuthority)
            ]
        case .gcp:
            let tokenURI = auth["service_account_json"].flatMap {
                try? GCPSecretManagerClient.ServiceAccount(json: $0)
            }?
            .tokenURI
            return [("endpoint", auth["endpoint"] ?? GCPSecretManagerClient.Configuration.publicEndpoint)]
                + (tokenURI.map { [("service_account_json.token_uri", $0)] } ?? [])
        default:
            return []
        }
    }

    public func checkDestination(type: SecretsManagerType, auth: [String: String]) async throws(ValidationError) {
        for (setting, url) in Self.endpoints(type: type, auth: auth) {
            do { _ = try await httpClient.destination(of: url) } catch let refusal as EgressRefusal {
                throw ValidationError(field: "auth.\(setting)", message: "auth.\(setting): \(refusal.description)")
            } catch {
                throw ValidationError(field: "auth.\(setting)", message: "auth.\(setting) could not be checked")
            }
        }
    }

    public func client(
        type: SecretsManagerType,
        auth: [String: String],
        name: String
    ) throws(ValidationError)
        -> any SecretsManagerClient
    {
        guard let expected = Self.settings[type] else {
            throw ValidationError(field: "type", message: "type \(type.rawValue) is not supported here")
        }
        let known = expected.required + expected.optional
        for key in auth.keys.sorted() where !known.contains(key) {
            throw ValidationError(
                field: "auth",
                message:
                    "auth has an unknown setting \"\(key.prefix(64))\" for \(type.rawValue); expected \(known.joined(separator: ", "))"
            )
        }
        for key in expected.required where (auth[key] ?? "").isEmpty {
            throw ValidationError(
                field: "auth.\(key)",
                message: "auth.\(key) is required for a \(type.rawValue) secrets manager"
            )
        }
        do {
            switch type {
            case .aws:
                return try AWSSecretsManagerClient(
                    httpClient: httpClient,
                    configuration: .init(
                        region: auth["region"]!,
                        credentials: AWSCredentials(
                            accessKeyID: auth["access_key_id"]!,
                            secretAccessKey: auth["secret_access_key"]!,
                            sessionToken: auth["session_token"]
                        ),
                        endpoint: auth["endpoint"]
                    )
                )
            case .azure:
                return try AzureKeyVaultClient(
                    httpClient: httpClient,
                    configuration: .init(
                        vaultURL: auth["vault_url"]!,
                        tenantID: auth["tenant_id"]!,
                        clientID: auth["client_id"]!,
                        clientSecret: auth["client_secret"]!,
                        authorityHost: auth["authority_host"] ?? AzureKeyVaultClient.Configuration.publicCloudAuthority
                    ),
                    tokens: tokens
                )
            case .gcp:
                return try GCPSecretManagerClient(
                    httpClient: httpClient,
                    configuration: .init(
                        projectID: auth["project_id"]!,
                        serviceAccount: try GCPSecretManagerClient.ServiceAccount(json: auth["service_account_json"]!),
                        endpoint: auth["endpoint"] ?? GCPSecretManagerClient.Configuration.publicEndpoint
                    ),
                    tokens: tokens
                )
            default:
                return try VaultKVClient(
                    httpClient: httpClient,
                    configuration: .init(
                        address: auth["address"]!,
                        token: auth["token"]!,
                        mount: auth["mount"] ?? "secret",
                        namespace: auth["namespace"]
                    )
                )
            }
        } catch let error as SecretsManagerConfigurationError {
            throw ValidationError(field: "auth", message: error.description)
        } catch {
            throw ValidationError(field: "auth", message: "the \(type.rawValue) settings are invalid")
        }
    }
}
