import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwitchboardCore
import Testing
import _CryptoExtras

@testable import SwitchboardServer

/// Connections whose credentials live in a registered secrets manager, against managers on
/// loopback: moto (AWS Secrets Manager), OpenBao (Vault KV v2) and the Azure Key Vault and Google
/// Secret Manager fakes, as scripts/secrets-up.sh starts them. A manager that is not configured is
/// skipped unless SWITCHBOARD_TEST_REQUIRE_SECRETS=1.
@Suite struct SecretsManagerTests {
    enum Manager: String, CaseIterable, Sendable {
        case aws, hashicorp, azure, gcp

        static let environment = ProcessInfo.processInfo.environment

        static func value(_ name: String) -> String? {
            let value = environment[name] ?? ""
            return value.isEmpty ? nil : value
        }

        static var enabled: [Manager] {
            allCases.filter { environment["SWITCHBOARD_TEST_REQUIRE_SECRETS"] == "1" || $0.settings() != nil }
        }

        /// The `auth` settings that reach the test server, or nil when it is not configured.
        func settings() -> [String: String]? {
            switch self {
            case .aws:
                guard let url = Self.value("SWITCHBOARD_TEST_MOTO_URL") else { return nil }
                // moto accepts any credentials; these are AWS's documented example keys.
                return [
                    "region": "us-east-1", "endpoint": url, "access_key_id": "AKIDEXAMPLE",
                    "secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                ]
            case .hashicorp:
                guard let url = Self.value("SWITCHBOARD_TEST_VAULT_URL") else { return nil }
                let token =
                    Self.value("SWITCHBOARD_TEST_VAULT_TOKEN")
                    ?? Self.value("SWITCHBOARD_TEST_VAULT_TOKEN_FILE").flatMap {
                        try? String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                    }
                guard let token else { return nil }
                return ["address": url, "token": token]
            case .azure:
                guard let url = Self.value("SWITCHBOARD_TEST_AZURE_URL"),
                    let secret = Self.value("SWITCHBOARD_TEST_AZURE_CLIENT_SECRET_FILE").flatMap({
                        try? String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                    })
                else { return nil }
                return [
                    "vault_url": url, "authority_host": url, "client_secret": secret,
                    "tenant_id": Self.value("SWITCHBOARD_TEST_AZURE_TENANT") ?? "",
                    "client_id": Self.value("SWITCHBOARD_TEST_AZURE_CLIENT_ID") ?? "",
                ]
            case .gcp:
                guard let url = Self.value("SWITCHBOARD_TEST_GCP_URL"),
                    let key = Self.value("SWITCHBOARD_TEST_GCP_KEY_FILE").flatMap({
                        try? String(contentsOfFile: $0, encoding: .utf8)
                    })
                else { return nil }
                return [
                    "project_id": Self.value("SWITCHBOARD_TEST_GCP_PROJECT") ?? "", "service_account_json": key,
                    "endpoint": url,
                ]
            }
        }

        /// What separates the parts of a name in this manager (`switchboard/<workspace>/<id>`).
        var separator: String { self == .azure || self == .gcp ? "-" : "/" }

        /// Settings that point at a closed loopback port.
        var unreachableSettings: [String: String] {
            switch self {
            case .aws:
                [
                    "region": "us-east-1", "endpoint": "http://127.0.0.1:9", "access_key_id": "a",
                    "secret_access_key": "b",
                ]
            case .hashicorp: ["address": "http://127.0.0.1:9", "token": "t"]
            case .azure:
                [
                    "vault_url": "http://127.0.0.1:9", "authority_host": "http://127.0.0.1:9", "tenant_id": "t",
                    "client_id": "c", "client_secret": "s",
                ]
            case .gcp:
                [
                    "project_id": "p", "endpoint": "http://127.0.0.1:9",
                    "service_account_json": try! serviceAccountJSON(tokenURI: "http://127.0.0.1:9/token"),
                ]
            }
        }
    }

    struct NotConfigured: Error {}

    func register(_ api: TestAPI, _ type: Manager, settings: [String: String]) async throws -> TestResponse {
        let auth = try JSONSerialization.data(withJSONObject: settings)
        return try await api.send(
            .post,
            "/unified/secretsmanager",
            body:
                #"{"name":"test \#(type.rawValue)","type":"\#(type.rawValue)","auth":\#(String(decoding: auth, as: UTF8.self))}"#
        )
    }

    @Test(arguments: Manager.enabled)
    func credentialsLiveInTheManagerThroughTheirWholeLife(_ manager: Manager) async throws {
        guard let settings = manager.settings() else { throw NotConfigured() }
        try await withApp { api in
            let registered = try await register(api, manager, settings: settings)
            #expect(registered.status == .ok)
            // The manager's own credentials never come back.
            for secret in ["secret_access_key", "token", "access_key_id", "client_secret", "service_account_json"] {
                #expect(!registered.text.contains("\"\(secret)\""))
            }
            for secret in [settings["token"], settings["client_secret"], settings["service_account_json"]] {
                if let secret { #expect(!registered.text.contains(secret)) }
            }
            #expect(!registered.text.contains("PRIVATE KEY"))
            let managerID = try #require(try registered.jsonObject()["id"] as? String)

            let body = connectionBody(
                extra: #""secretsmanager_id":"\#(managerID)","auth":{"access_token":"external-1","refresh_token":"r"}"#
            )
            let created = try await api.create(body)
            let id = try #require(created["id"] as? String)
            #expect((created["auth"] as? [String: Any])?["access_token"] as? String == "external-1")
            // Nothing of the credentials is in Switchboard's database...
            let row = try await api.runtime.store.connection(id: ConnectionID(rawValue: id), workspace: api.workspace)
            #expect(row != nil && row?.sealedAuth == nil)
            // ...they are in the manager, under the default name.
            let client = try await api.runtime.secretsManagers.client(
                for: SecretsManagerID(rawValue: managerID),
                workspace: api.workspace
            ).client
            let sep = manager.separator
            let name = "switchboard\(sep)\(api.workspace.rawValue)\(sep)\(id)"
            let stored = try #require(try await client.get(name: name))
            #expect(String(decoding: stored, as: UTF8.self).contains("external-1"))

            let read = try await api.send(.get, "/unified/connection/\(id)").jsonObject()
            #expect((read["auth"] as? [String: Any])?["access_token"] as? String == "external-1")
            let patched = try await api.send(
                .patch,
                "/unified/connection/\(id)",
                body: #"{"auth":{"access_token":"external-2"},"integration_name":"N"}"#
            )
            #expect(patched.status == .ok)
            let reread = try await api.send(.get, "/unified/connection/\(id)").jsonObject()
            #expect((reread["auth"] as? [String: Any])?["access_token"] as? String == "external-2")
            #expect(reread["integration_name"] as? String == "N")

            // Where credentials live cannot change, and a manager in use cannot be removed.
            let moved = try await api.send(.patch, "/unified/connection/\(id)", body: #"{"secretsmanager_id":null}"#)
            #expect(moved.status == .conflict && moved.errorMessage.contains("secretsmanager_id"))
            let inUse = try await api.send(.delete, "/unified/secretsmanager/\(managerID)")
            #expect(inUse.status == .conflict)

            #expect(try await api.send(.delete, "/unified/connection/\(id)").status == .ok)
            #expect(try await client.get(name: name) == nil)
            #expect(try await api.send(.delete, "/unified/secretsmanager/\(managerID)").status == .ok)
            #expect(try await api.send(.get, "/unified/secretsmanager/\(managerID)").status == .notFound)

            let actions = try await api.send(.get, "/switchboard/audit?limit=1000").jsonArray().compactMap {
                $0["action"] as? String
            }
            #expect(actions.contains("secretsmanager.create") && actions.contains("secretsmanager.delete"))
        }
    }

    /// Switchboard writes and deletes only secrets it created for a connection. Naming another
    /// application's secret outside the manager's prefix takes `secretsmanagers:admin` and adopts
    /// it read-only; a secret that exists is never overwritten by a create; two connections never
    /// own one secret; another workspace's `switchboard/<id>/` names are out of reach even for a
    /// workspace that registered the same manager.
    @Test(arguments: Manager.enabled)
    func onlySecretsSwitchboardCreatedAreWrittenOrDeleted(_ manager: Manager) async throws {
        guard let settings = manager.settings() else { throw NotConfigured() }
        try await withApp { api in
            let managerID = try #require(
                try await register(api, manager, settings: settings).jsonObject()["id"] as? String
            )
            let client = try await api.runtime.secretsManagers.client(
                for: SecretsManagerID(rawValue: managerID),
                workspace: api.workspace
            ).client
            let suffix = UUID().uuidString.prefix(8).lowercased()
            let sep = manager.separator
            let foreign = "otherapp-\(suffix)\(sep)token"
            let precious = Array(#"{"access_token":"other-application-token"}"#.utf8)
            try await client.put(name: foreign, value: precious)
            let writer = try await api.makeKey(
                ScopeSet([.connectionsRead, .connectionsWrite, .connectionsCredentials])
            )
            func create(_ name: String, auth: Bool, key: String) async throws -> TestResponse {
                let credentials = auth ? #","auth":{"access_token":"mine"}"# : ""
                return try await api.send(
                    .post,
                    "/unified/connection",
                    body: connectionBody(extra: #""secretsmanager_id":"\#(managerID)","secretsmanager_key":"\#(name)""#)
                        .dropLast() + credentials + "}",
                    key: .some(key)
                )
            }

            // Outside the prefix: a connections:write key may neither overwrite nor read it.
            for auth in [true, false] {
                let refused = try await create(foreign, auth: auth, key: writer)
                #expect(refused.status == .forbidden, "\(refused.text)")
                #expect(refused.errorMessage.contains("secretsmanagers:admin"))
            }
            // An administrator adopts it: readable, never written or deleted.
            let adopted = try await create(foreign, auth: false, key: api.key)
            #expect(adopted.status == .ok, "\(adopted.text)")
            let adoptedID = try #require(try adopted.jsonObject()["id"] as? String)
            let read = try await api.send(.get, "/unified/connection/\(adoptedID)").jsonObject()
            #expect((read["auth"] as? [String: Any])?["access_token"] as? String == "other-application-token")
            for body in [#"{"auth":{"access_token":"overwritten"}}"#, #"{"auth":null}"#] {
                let write = try await api.send(.patch, "/unified/connection/\(adoptedID)", body: body)
                #expect(write.status == .conflict, "\(body): \(write.text)")
            }
            #expect(try await api.send(.delete, "/unified/connection/\(adoptedID)").status == .ok)
            #expect(try await client.get(name: foreign) == precious)
            // Even an administrator's create never overwrites a secret that exists.
            let overwrite = try await create(foreign, auth: true, key: api.key)
            #expect(overwrite.status == .conflict && overwrite.errorMessage.contains("already holds"))
            #expect(try await client.get(name: foreign) == precious)

            // Inside the prefix: created and owned by the first connection only.
            let shared = "switchboard\(sep)\(api.workspace.rawValue)\(sep)shared-\(suffix)"
            let first = try await create(shared, auth: true, key: writer)
            #expect(first.status == .ok, "\(first.text)")
            let firstID = try #require(try first.jsonObject()["id"] as? String)
            #expect(try await create(shared, auth: true, key: writer).status == .conflict)
            let second = try await create(shared, auth: false, key: writer)
            #expect(second.status == .ok)
            let secondID = try #require(try second.jsonObject()["id"] as? String)
            #expect(
                try await api.send(.patch, "/unified/connection/\(secondID)", body: #"{"auth":{"access_token":"x"}}"#)
                    .status == .conflict
            )
            #expect(try await api.send(.delete, "/unified/connection/\(secondID)").status == .ok)
            #expect(try await client.get(name: shared) != nil, "deleting the adopter deleted the owner's secret")
            #expect(try await api.send(.delete, "/unified/connection/\(firstID)").status == .ok)
            #expect(try await client.get(name: shared) == nil)

            // Another workspace that registers the same manager cannot reach this one's names,
            // nor set its prefix there.
            let otherManager = try await api.send(
                .post,
                "/unified/secretsmanager",
                body: #"{"name":"same","type":"\#(manager.rawValue)","auth":\#(Self.json(settings))}"#,
                key: .some(api.otherKey)
            )
            let otherID = try #require(try otherManager.jsonObject()["id"] as? String)
            let crossing = try await api.send(
                .post,
                "/unified/connection",
                body: connectionBody(
                    extra:
                        #""secretsmanager_id":"\#(otherID)","secretsmanager_key":"\#(shared)","auth":{"access_token":"x"}"#
                ),
                key: .some(api.otherKey)
            )
            #expect(crossing.status == .badRequest && crossing.errorMessage.contains("another workspace"))
            // Key Vault ignores case in names: SWITCHBOARD-<id>- is the same reserved name.
            if manager == .azure {
                let shouting = try await api.send(
                    .post,
                    "/unified/connection",
                    body: connectionBody(
                        extra:
                            #""secretsmanager_id":"\#(otherID)","secretsmanager_key":"\#(shared.uppercased())""#
                    ),
                    key: .some(api.otherKey)
                )
                #expect(shouting.status == .badRequest && shouting.errorMessage.contains("another workspace"))
            }
            let reachingPrefix = "switchboard\(sep)\(api.workspace.rawValue)\(sep)"
            for prefix in [reachingPrefix] + (manager == .azure ? [reachingPrefix.uppercased()] : []) {
                var reaching = settings
                reaching["prefix"] = prefix
                let prefixed = try await api.send(
                    .post,
                    "/unified/secretsmanager",
                    body: #"{"name":"reach","type":"\#(manager.rawValue)","auth":\#(Self.json(reaching))}"#,
                    key: .some(api.otherKey)
                )
                #expect(prefixed.status == .badRequest && prefixed.errorMessage.contains("auth.prefix"), "\(prefix)")
            }
            try await client.delete(name: foreign)
        }
    }

    static func json(_ settings: [String: String]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: settings), as: UTF8.self)
    }

    @Test(arguments: Manager.allCases)
    func anUnreachableManagerIsA503NamingItAndLeavesNothingBehind(_ manager: Manager) async throws {
        try await withApp { api in
            let registered = try await register(api, manager, settings: manager.unreachableSettings)
            let managerID = try #require(try registered.jsonObject()["id"] as? String)
            let before = try await api.list().count
            let response = try await api.send(
                .post,
                "/unified/connection",
                body: connectionBody(extra: #""secretsmanager_id":"\#(managerID)","auth":{"access_token":"x"}"#)
            )
            #expect(response.status == .serviceUnavailable)
            #expect(response.errorMessage.contains(managerID))
            #expect(try await api.list().count == before)
        }
    }

    /// Every supported type's settings are described, the route wins over `{id}`, and it needs a key.
    @Test func instructionsDescribeEverySupportedSetting() async throws {
        try await withApp { api in
            let entries = try await api.send(.get, "/unified/secretsmanager/instructions").jsonArray()
            let types = Set(entries.compactMap { $0["type"] as? String })
            #expect(types == Set(SecretsManagerType.supported.map(\.rawValue)))
            for type in SecretsManagerType.supported {
                let keys = Set(
                    entries.filter { $0["type"] as? String == type.rawValue }.compactMap { $0["key"] as? String }
                )
                // Exactly the settings the factory accepts.
                let registration = try await api.send(
                    .post,
                    "/unified/secretsmanager",
                    body: #"{"name":"x","type":"\#(type.rawValue)","auth":{"unknown-setting":"x"}}"#
                )
                for key in keys where key != "prefix" {
                    #expect(
                        registration.errorMessage.contains(key),
                        "\(type): \(key) not in \(registration.errorMessage)"
                    )
                }
            }
            let anonymous = try await api.send(.get, "/unified/secretsmanager/instructions", key: .some(nil))
            #expect(anonymous.status == .unauthorized)
        }
    }

    @Test func badRegistrationsAndUnknownManagersAreClear400s() async throws {
        try await withApp { api in
            let cases: [(String, String)] = [
                (#"{"name":"x","type":"aws","auth":{"region":"us-east-1"}}"#, "access_key_id"),
                (#"{"name":"x","type":"doppler","auth":{}}"#, "not supported"),
                (#"{"name":"x","type":"vault","auth":{}}"#, "type must be one of"),
                (#"{"name":"x","type":"hashicorp","auth":{"address":"h","token":"t","tokn":"t"}}"#, "tokn"),
                (#"{"name":"x","type":"hashicorp","auth":{"address":"not a url","token":"t"}}"#, "vault"),
                (#"{"name":"","type":"hashicorp","auth":{"address":"http://h","token":"t"}}"#, "name"),
                (#"{"type":"hashicorp","auth":{}}"#, "name"),
                (
                    #"{"name":"x","type":"azure","auth":{"vault_url":"http://h","tenant_id":"t","client_id":"c"}}"#,
                    "auth.client_secret"
                ),
                (
                    #"{"name":"x","type":"azure","auth":{"vault_url":"http://h","tenant_id":"t/../x","client_id":"c","client_secret":"s"}}"#,
                    "tenant_id"
                ),
                (
                    #"{"name":"x","type":"gcp","auth":{"project_id":"p","service_account_json":"{}"}}"#,
                    "service_account_json"
                ),
                (
                    #"{"name":"x","type":"gcp","auth":{"project_id":"p","service_account_json":"{\"type\":\"service_account\",\"client_email\":\"e\",\"private_key_id\":\"k\",\"token_uri\":\"https://oauth2.googleapis.com/token\",\"private_key\":\"nope\"}"}}"#,
                    "private_key"
                ),
                (
                    #"{"name":"x","type":"azure","auth":{"vault_url":"http://h","tenant_id":"t","client_id":"c","client_secret":"s","prefix":"a/"}}"#,
                    "auth.prefix"
                ),
            ]
            for (body, expected) in cases {
                let response = try await api.send(.post, "/unified/secretsmanager", body: body)
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.errorMessage.contains(expected), "\(body): \(response.errorMessage)")
            }
            let unknown = try await api.send(
                .post,
                "/unified/connection",
                body: connectionBody(extra: #""secretsmanager_id":"sm_1","auth":{"access_token":"x"}"#)
            )
            #expect(unknown.status == .notFound && unknown.errorMessage.contains("sm_1"))
        }
    }
}

@Suite struct LegacySecretsManagerFieldTests {
    /// Before managers could be registered, `secretsmanager_id` was free text, and such rows keep
    /// their credentials (if any) in the row: they still read, update and delete as before.
    @Test func rowsNamingNoRegisteredManagerKeepWorking() async throws {
        try await withApp { api in
            let time = Timestamp.now()
            var ids: [ConnectionID] = []
            for withAuth in [true, false] {
                let id = ConnectionID.generate(at: time)
                let context = SealContext(workspaceID: api.workspace, connectionID: id)
                let auth = try ConnectionAuth(
                    validating: try JSONParser.parse(Array(#"{"access_token":"legacy"}"#.utf8))
                )
                try await api.runtime.store.insert(
                    Connection(
                        id: id,
                        workspaceID: api.workspace,
                        fields: ConnectionFields(
                            integrationType: "hubspot",
                            permissions: [],
                            categories: [Category("crm")!],
                            environment: "Production",
                            secretsmanagerID: "sm_1"
                        ),
                        sealedAuth: withAuth ? try api.runtime.sealer.seal(auth.json, context: context) : nil,
                        createdAt: time,
                        updatedAt: time
                    )
                )
                ids.append(id)
            }
            let read = try await api.send(.get, "/unified/connection/\(ids[0].rawValue)")
            #expect(read.status == .ok)
            #expect((try read.jsonObject()["auth"] as? [String: Any])?["access_token"] as? String == "legacy")
            let bare = try await api.send(.get, "/unified/connection/\(ids[1].rawValue)")
            let bareObject = try bare.jsonObject()
            #expect(bare.status == .ok && bareObject["auth"] == nil)
            #expect(try await api.list().count == 2)
            let patched = try await api.send(
                .patch,
                "/unified/connection/\(ids[1].rawValue)",
                body: #"{"integration_name":"kept","auth":{"access_token":"now-sealed"}}"#
            )
            #expect(patched.status == .ok)
            for id in ids { #expect(try await api.send(.delete, "/unified/connection/\(id.rawValue)").status == .ok) }
        }
    }
}

/// A service-account key file with a new RSA key (its `token_uri` as given).
func serviceAccountJSON(tokenURI: String) throws -> String {
    let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
    let object: [String: String] = [
        "type": "service_account", "project_id": "p", "private_key_id": "0123", "private_key": key.pemRepresentation,
        "client_email": "switchboard@p.iam.gserviceaccount.com", "token_uri": tokenURI,
    ]
    return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
}
