import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwitchboardCore
import Testing

@testable import SwitchboardServer

@Suite struct ScopeTests {
    /// One operation of the API and the scope it needs.
    struct Operation: Sendable {
        let name: String
        let scope: Scope
        let send: @Sendable (TestAPI, String, String) async throws -> TestResponse
    }

    /// Every key-guarded operation; `id` is an existing connection, renewed as deletes consume it.
    static let operations: [Operation] = [
        Operation(name: "list", scope: .connectionsRead) { api, key, _ in
            try await api.send(.get, "/unified/connection", key: .some(key))
        },
        Operation(name: "get", scope: .connectionsRead) { api, key, id in
            try await api.send(.get, "/unified/connection/\(id)", key: .some(key))
        },
        Operation(name: "create", scope: .connectionsWrite) { api, key, _ in
            try await api.send(.post, "/unified/connection", body: connectionBody(), key: .some(key))
        },
        Operation(name: "patch", scope: .connectionsWrite) { api, key, id in
            try await api.send(.patch, "/unified/connection/\(id)", body: #"{"integration_name":"x"}"#, key: .some(key))
        },
        Operation(name: "put", scope: .connectionsWrite) { api, key, id in
            try await api.send(.put, "/unified/connection/\(id)", body: #"{"integration_name":"y"}"#, key: .some(key))
        },
        Operation(name: "delete", scope: .connectionsWrite) { api, key, id in
            try await api.send(.delete, "/unified/connection/\(id)", key: .some(key))
        },
        Operation(name: "list keys", scope: .keysAdmin) { api, key, _ in
            try await api.send(.get, "/switchboard/apikey", key: .some(key))
        },
        Operation(name: "create key", scope: .keysAdmin) { api, key, _ in
            try await api.send(.post, "/switchboard/apikey", body: #"{"scopes":["keys:admin"]}"#, key: .some(key))
        },
        Operation(name: "revoke key", scope: .keysAdmin) { api, key, _ in
            try await api.send(.delete, "/switchboard/apikey/0000000000000000", key: .some(key))
        },
        Operation(name: "list secrets managers", scope: .secretsManagersAdmin) { api, key, _ in
            try await api.send(.get, "/unified/secretsmanager", key: .some(key))
        },
        Operation(name: "audit", scope: .auditRead) { api, key, _ in
            try await api.send(.get, "/switchboard/audit", key: .some(key))
        },
    ]

    @Test func eachScopeAllowsExactlyTheOperationsThatNeedIt() async throws {
        try await withApp { api in
            for scope in Scope.allCases {
                let key = try await api.makeKey(ScopeSet([scope]))
                for operation in Self.operations {
                    let id = try #require(try await api.create(connectionBody())["id"] as? String)
                    let response = try await operation.send(api, key, id)
                    if operation.scope == scope {
                        // Allowed: anything but 403 (the revoke of a missing key is a 404).
                        #expect(response.status != .forbidden, "\(scope.rawValue) on \(operation.name)")
                        #expect(response.status.code < 500)
                    } else {
                        #expect(response.status == .forbidden, "\(scope.rawValue) on \(operation.name)")
                        #expect(response.errorMessage.contains("\"\(operation.scope.rawValue)\""))
                    }
                }
            }
        }
    }

    @Test func credentialsAppearOnlyForKeysWithTheCredentialsScope() async throws {
        try await withApp { api in
            let body = connectionBody(extra: #""auth":{"access_token":"tok-1"}"#)
            let id = try #require(try await api.create(body)["id"] as? String)
            let metadataOnly = try await api.makeKey(ScopeSet([.connectionsRead, .connectionsWrite]))
            let withCredentials = try await api.makeKey(ScopeSet([.connectionsRead, .connectionsCredentials]))

            let plain = try await api.send(.get, "/unified/connection/\(id)", key: .some(metadataOnly))
            #expect(plain.status == .ok)
            #expect(try plain.jsonObject()["auth"] == nil)
            #expect(!plain.text.contains("tok-1"))
            let listed = try await api.send(.get, "/unified/connection", key: .some(metadataOnly))
            #expect(!listed.text.contains("tok-1") && !listed.text.contains("\"auth\""))
            // Writes by a key without the scope do not echo credentials back either.
            let created = try await api.send(.post, "/unified/connection", body: body, key: .some(metadataOnly))
            #expect(created.status == .ok && !created.text.contains("tok-1"))
            let patched = try await api.send(
                .patch,
                "/unified/connection/\(id)",
                body: #"{"auth":{"access_token":"tok-2"}}"#,
                key: .some(metadataOnly)
            )
            #expect(patched.status == .ok && !patched.text.contains("tok-2"))

            let revealed = try await api.send(.get, "/unified/connection/\(id)", key: .some(withCredentials))
            #expect((try revealed.jsonObject()["auth"] as? [String: Any])?["access_token"] as? String == "tok-2")
        }
    }

    @Test func aKeyCanGrantOnlyScopesItHoldsAndScopeNamesAreChecked() async throws {
        try await withApp { api in
            let admin = try await api.makeKey(ScopeSet([.keysAdmin, .connectionsRead]))
            let tooMuch = try await api.send(
                .post,
                "/switchboard/apikey",
                body: #"{"scopes":["connections:read","connections:credentials"]}"#,
                key: .some(admin)
            )
            #expect(tooMuch.status == .badRequest)
            #expect(tooMuch.errorMessage.contains("connections:credentials"))
            for body in [#"{"scopes":["connections:reed"]}"#, #"{"scopes":[]}"#, #"{}"#, #"{"scopes":"keys:admin"}"#] {
                let response = try await api.send(.post, "/switchboard/apikey", body: body, key: .some(admin))
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.errorMessage.contains("scope"), "\(body)")
            }
            let created = try await api.send(
                .post,
                "/switchboard/apikey",
                body: #"{"scopes":["connections:read"]}"#,
                key: .some(admin)
            )
            let object = try created.jsonObject()
            let newKey = try #require(object["key"] as? String)
            #expect(object["scopes"] as? [String] == ["connections:read"])
            #expect(try await api.send(.get, "/unified/connection", key: .some(newKey)).status == .ok)
            #expect(
                try await api.send(.post, "/unified/connection", body: connectionBody(), key: .some(newKey)).status
                    == .forbidden
            )
        }
    }

    @Test func keysAreListedWithoutSecretsAndRevokedWithinTheWorkspaceOnly() async throws {
        try await withApp { api in
            let extra = try await api.makeKey(ScopeSet([.connectionsRead]))
            let listing = try await api.send(.get, "/switchboard/apikey")
            #expect(listing.status == .ok)
            let keys = try listing.jsonArray()
            #expect(keys.count == 2)
            #expect(!listing.text.contains(api.key) && !listing.text.contains(extra))
            #expect(keys.allSatisfy { $0["key"] == nil && ($0["prefix"] as? String)?.hasPrefix("sbk_") == true })
            // The key used for this listing shows when it was last used.
            #expect(keys.contains { $0["last_used_at"] != nil })

            let extraID = try #require(APIKey.id(inKey: extra))
            // Another workspace cannot see or revoke it.
            let foreign = try await api.send(.delete, "/switchboard/apikey/\(extraID)", key: .some(api.otherKey))
            #expect(foreign.status == .notFound)
            #expect(try await api.send(.get, "/unified/connection", key: .some(extra)).status == .ok)

            let ownID = try #require(APIKey.id(inKey: api.key))
            let itself = try await api.send(.delete, "/switchboard/apikey/\(ownID)")
            #expect(itself.status == .conflict && itself.errorMessage.contains("cannot revoke itself"))
            let revoked = try await api.send(.delete, "/switchboard/apikey/sbk_\(extraID)")
            #expect(revoked.status == .ok)
            #expect(try revoked.jsonObject()["revoked_at"] != nil)
            #expect(try await api.send(.get, "/unified/connection", key: .some(extra)).status == .unauthorized)
        }
    }

    @Test func repeatedFailedAuthenticationIsThrottledPerAddress() async throws {
        try await withApp { api in
            let wrong = "sbk_0000000000000000_" + String(repeating: "0", count: 64)
            for _ in 0..<ServerConfiguration.defaultAuthenticationFailureLimit {
                #expect(try await api.send(.get, "/unified/connection", key: .some(wrong)).status == .unauthorized)
            }
            let throttled = try await api.send(.get, "/unified/connection", key: .some(wrong))
            #expect(throttled.status == .tooManyRequests)
            #expect(Int(throttled.headers[.retryAfter] ?? "") ?? 0 >= 1)
            #expect(throttled.errorStatus == 429)
            // Only failing attempts are refused: the valid key from the same address still works.
            #expect(try await api.send(.get, "/unified/connection").status == .ok)
        }
    }
}
