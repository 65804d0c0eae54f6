import Foundation
import SwitchboardCore
import SwitchboardCrypto
import SwitchboardTestSupport
import Testing

@Suite struct IntegrationStoreTests {
    static func time(_ offset: Int64) -> Timestamp { Timestamp(millisecondsSinceEpoch: 1_700_000_000_000 + offset) }

    static func integration(
        _ type: String,
        in workspace: WorkspaceID,
        clientID: String = "client",
        sealed: SealedSecret = SealedSecret(keyID: "mk_a", ciphertext: [1, 2, 3]),
        at offset: Int64 = 0
    ) -> StoredWorkspaceIntegration {
        StoredWorkspaceIntegration(
            integration: WorkspaceIntegration(
                workspaceID: workspace,
                integrationType: type,
                clientID: clientID,
                isActive: true,
                extraScopes: ["offline_access", "crm.objects.contacts.read"],
                createdAt: time(offset),
                updatedAt: time(offset)
            ),
            sealedClientSecret: sealed
        )
    }

    static func audit(_ action: AuditAction, _ workspace: WorkspaceID) -> AuditRecord {
        AuditRecord(action, by: .cli(workspace: workspace), at: time(0), target: "hubspot")
    }

    @Test(arguments: StoreBackend.enabled)
    func workspaceIntegrationsUpsertListAndDeletePerWorkspace(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            let other = try await makeWorkspace(store, name: "other")
            let hubspot = Self.integration("hubspot", in: workspace)
            var google = Self.integration("google", in: workspace)
            google.integration.extraScopes = []
            google.integration.isActive = false
            try await store.upsert(hubspot, audit: Self.audit(.integrationEnable, workspace))
            try await store.upsert(google, audit: Self.audit(.integrationEnable, workspace))
            try await store.upsert(Self.integration("hubspot", in: other), audit: Self.audit(.integrationEnable, other))
            #expect(try await store.workspaceIntegration(type: "hubspot", workspace: workspace) == hubspot)
            #expect(try await store.workspaceIntegrations(workspace: workspace) == [google, hubspot])
            #expect(try await store.workspaceIntegration(type: "salesforce", workspace: workspace) == nil)

            // Replacing keeps the creation time and takes everything else.
            var replaced = Self.integration(
                "hubspot",
                in: workspace,
                clientID: "client-2",
                sealed: SealedSecret(keyID: "mk_b", ciphertext: [4]),
                at: 5_000
            )
            replaced.integration.isActive = false
            replaced.integration.extraScopes = ["x"]
            try await store.upsert(replaced, audit: Self.audit(.integrationEnable, workspace))
            var expected = replaced
            expected.integration.createdAt = hubspot.integration.createdAt
            #expect(try await store.workspaceIntegration(type: "hubspot", workspace: workspace) == expected)

            #expect(
                try await store.deleteWorkspaceIntegration(
                    type: "hubspot",
                    workspace: workspace,
                    audit: Self.audit(.integrationDisable, workspace)
                )
            )
            #expect(
                try await store.deleteWorkspaceIntegration(
                    type: "hubspot",
                    workspace: workspace,
                    audit: Self.audit(.integrationDisable, workspace)
                ) == false
            )
            #expect(try await store.workspaceIntegrations(workspace: workspace) == [google])
            #expect(try await store.workspaceIntegrations(workspace: other).count == 1)
            let enables = try await store.auditRecords(AuditQuery(workspaceID: workspace, action: .integrationEnable))
            let disables = try await store.auditRecords(AuditQuery(workspaceID: workspace, action: .integrationDisable))
            #expect(enables.count == 3 && disables.count == 1)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func redirectOriginsAreStoredOnTheWorkspace(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let workspace = try await makeWorkspace(store)
            #expect(try await store.workspace(id: workspace)?.redirectOrigins == [])
            let origins = ["https://app.example.com", "http://127.0.0.1:5555"]
            #expect(
                try await store.setRedirectOrigins(
                    origins,
                    workspace: workspace,
                    audit: Self.audit(.redirectOriginsUpdate, workspace)
                )
            )
            #expect(try await store.workspace(id: workspace)?.redirectOrigins == origins)
            #expect(try await store.allWorkspaces().first?.redirectOrigins == origins)
            #expect(
                try await store.setRedirectOrigins(
                    [],
                    workspace: workspace,
                    audit: Self.audit(.redirectOriginsUpdate, workspace)
                )
            )
            #expect(try await store.workspace(id: workspace)?.redirectOrigins == [])
            let missing = WorkspaceID(rawValue: "missing")
            #expect(
                try await store.setRedirectOrigins(
                    origins,
                    workspace: missing,
                    audit: Self.audit(.redirectOriginsUpdate, missing)
                ) == false
            )
            #expect(
                try await store.auditRecords(AuditQuery(workspaceID: workspace, action: .redirectOriginsUpdate)).count
                    == 2
            )
            #expect(try await store.auditRecords(AuditQuery(workspaceID: missing)).isEmpty)

            // A workspace created with origins keeps them.
            let time = Self.time(0)
            let created = Workspace(
                id: WorkspaceID.generate(at: time),
                name: "with origins",
                createdAt: time,
                redirectOrigins: ["https://a.example"]
            )
            let key = APIKeyRecord(id: APIKey.generate().id, workspaceID: created.id, secretHash: [1], createdAt: time)
            try await store.insert(
                created,
                firstKey: key,
                audit: AuditRecord(.apiKeyCreate, by: .cli(workspace: created.id), at: time)
            )
            #expect(try await store.workspace(id: created.id) == created)
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func clientSecretsAreCountedPagedAndSwappedForRotation(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let a = try await makeWorkspace(store)
            let b = try await makeWorkspace(store, name: "b")
            let old = SealedSecret(keyID: "mk_old", ciphertext: [1])
            for (workspace, type) in [(a, "hubspot"), (a, "google"), (b, "hubspot"), (b, "asana")] {
                try await store.upsert(
                    Self.integration(type, in: workspace, sealed: old),
                    audit: Self.audit(.integrationEnable, workspace)
                )
            }
            try await store.upsert(
                Self.integration("slack", in: a, sealed: SealedSecret(keyID: "mk_new", ciphertext: [2])),
                audit: Self.audit(.integrationEnable, a)
            )
            try await store.insert(makeConnection(in: a, sealed: old))
            #expect(try await store.sealedCountsByKey() == ["mk_old": 5, "mk_new": 1])

            var seen: [String] = []
            var after: (workspace: WorkspaceID, type: String)?
            while true {
                let page = try await store.workspaceIntegrationsSealed(notWith: "mk_new", after: after, limit: 3)
                guard let last = page.last else { break }
                seen += page.map { "\($0.integration.workspaceID.rawValue)/\($0.integration.integrationType)" }
                after = (last.integration.workspaceID, last.integration.integrationType)
            }
            let expected = [(a, "hubspot"), (a, "google"), (b, "hubspot"), (b, "asana")].map {
                "\($0.0.rawValue)/\($0.1)"
            }
            #expect(seen == expected.sorted())

            let new = SealedSecret(keyID: "mk_new", ciphertext: [3])
            let stale = SealedSecret(keyID: "mk_old", ciphertext: [9])
            #expect(
                try await store.replaceSealedClientSecret(workspace: a, type: "hubspot", old: stale, new: new) == false
            )
            #expect(try await store.replaceSealedClientSecret(workspace: a, type: "hubspot", old: old, new: new))
            #expect(try await store.workspaceIntegration(type: "hubspot", workspace: a)?.sealedClientSecret == new)
            #expect(try await store.sealedCountsByKey() == ["mk_old": 4, "mk_new": 2])
        }
    }

    @Test(arguments: StoreBackend.enabled)
    func keyRotationResealsClientSecretsUnderTheActiveKey(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let oldKey = try KeyRing.masterKey(base64: Data(repeating: 1, count: 32).base64EncodedString())
            let newKey = try KeyRing.masterKey(base64: Data(repeating: 2, count: 32).base64EncodedString())
            let before = AESGCMSealer(keys: KeyRing(active: oldKey))
            let workspace = try await makeWorkspace(store)
            let context = SealContext(workspaceID: workspace, integrationType: "hubspot")
            let secret = Array("client-secret".utf8)
            try await store.upsert(
                Self.integration("hubspot", in: workspace, sealed: try before.seal(secret, context: context)),
                audit: Self.audit(.integrationEnable, workspace)
            )
            var connection = makeConnection(in: workspace, sealed: nil)
            connection.sealedAuth = try before.seal(
                Array("{}".utf8),
                context: SealContext(workspaceID: workspace, connectionID: connection.id)
            )
            try await store.insert(connection)

            let after = AESGCMSealer(keys: KeyRing(active: newKey, others: [oldKey]))
            let rotation = KeyRotation(store: store, sealer: after)
            let pass = try await rotation.resealPass(batchSize: 1)
            #expect(pass == KeyRotation.Pass(examined: 2, resealed: 2))
            #expect(try await store.sealedCountsByKey() == [newKey.id: 2])
            let stored = try #require(try await store.workspaceIntegration(type: "hubspot", workspace: workspace))
            #expect(stored.sealedClientSecret.keyID == newKey.id)
            #expect(try after.open(stored.sealedClientSecret, context: context) == secret)
            try await rotation.checkRetirable(oldKey.id)
            #expect(try await rotation.resealPass() == KeyRotation.Pass())
        }
    }
}
