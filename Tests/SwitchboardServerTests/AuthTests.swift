import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwitchboardCore
import Testing

@testable import SwitchboardServer

@Suite struct AuthTests {
    @Test func missingOrWrongKeysAre401WithJSON() async throws {
        try await withApp { api in
            let candidates: [String?] = [
                nil, "", "Bearer ", "nonsense", "sbk_0000000000000000_" + String(repeating: "0", count: 64),
                String(api.key.dropLast()) + (api.key.hasSuffix("0") ? "1" : "0"), "Basic \(api.key)",
            ]
            for key in candidates {
                let response = try await api.send(.get, "/unified/connection", key: .some(key))
                #expect(response.status == .unauthorized, "\(String(describing: key))")
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.errorStatus == 401)
                #expect(!response.text.contains(api.key))
            }
        }
    }

    @Test func keyIsAcceptedBareOrAsBearerInAnyCase() async throws {
        try await withApp { api in
            for header in [api.key, "Bearer \(api.key)", "bearer \(api.key)", "BEARER \(api.key)"] {
                let response = try await api.send(.get, "/unified/connection", key: .some(header))
                #expect(response.status == .ok)
            }
        }
    }

    @Test func healthAndSpecNeedNoKey() async throws {
        try await withApp { api in
            let health = try await api.send(.get, "/health", key: .some(nil))
            #expect(health.status == .ok)
            #expect(health.text == #"{"status":"ok"}"#)
            let spec = try await api.send(.get, "/openapi.yaml", key: .some(nil))
            #expect(spec.status == .ok)
            #expect(spec.text.hasPrefix("openapi: 3.1"))
        }
    }

    @Test func aRevokedKeyStopsWorkingAtOnce() async throws {
        try await withApp { api in
            let extra = try await api.makeKey(.all)
            #expect(try await api.send(.get, "/unified/connection", key: .some(extra)).status == .ok)
            _ = try await api.runtime.workspaces.revokeKey(String(extra.prefix(20)), by: nil)
            #expect(try await api.send(.get, "/unified/connection", key: .some(extra)).status == .unauthorized)
            #expect(try await api.send(.get, "/unified/connection").status == .ok)
        }
    }

    /// List, get and passthrough confirm a key that may not see credentials in the read itself
    /// (`Route.keyConfirmedByRead`): a key this process has already seen must still stop working
    /// the moment it is revoked, also when another process (here: the store directly, as the CLI
    /// would) revokes it.
    @Test func aRevokedReadOnlyKeyStopsWorkingAtOnceOnListGetAndPassthrough() async throws {
        try await withApp { api in
            let id = try #require(try await api.create(connectionBody())["id"] as? String)
            // A page, an empty page, a connection and a missing one; a passthrough call through a
            // connection without credentials (refused after its read) and through a missing one.
            let paths: [(String, HTTPResponse.Status)] = [
                ("/unified/connection", .ok), ("/unified/connection?external_xref=nobody", .ok),
                ("/unified/connection/\(id)", .ok), ("/unified/connection/missing", .notFound),
                ("/passthrough/\(id)/crm/v3/objects/contacts", .badRequest),
                ("/passthrough/missing/crm/v3/objects/contacts", .notFound),
            ]
            for viaService in [true, false] {
                let key = try await api.makeKey(ScopeSet([.connectionsRead, .connectionsProxy]))
                let keyID = try #require(APIKey.id(inKey: key))
                for (path, expected) in paths {
                    let status = try await api.send(.get, path, key: .some(key)).status
                    #expect(status == expected, "\(path)")
                }
                if viaService {
                    _ = try await api.runtime.workspaces.revokeKey(keyID, by: nil)
                } else {
                    _ = try await api.runtime.store.revokeAPIKey(id: keyID, at: .now(), audit: nil)
                }
                for (path, _) in paths {
                    let response = try await api.send(.get, path, key: .some(key))
                    #expect(response.status == .unauthorized, "\(path)")
                    #expect(response.errorStatus == 401)
                }
                // A wrong secret under the remembered id is refused too.
                let forged = String(key.dropLast()) + (key.hasSuffix("0") ? "1" : "0")
                #expect(try await api.send(.get, "/unified/connection", key: .some(forged)).status == .unauthorized)
            }
            #expect(try await api.send(.get, "/unified/connection").status == .ok)
        }
    }

    @Test func workspacesSeeOnlyTheirOwnConnections() async throws {
        try await withApp { api in
            let mine = try #require(
                try await api.create(connectionBody(extra: #""external_xref":"shared""#))["id"] as? String
            )
            let theirs = try #require(
                try await api.create(connectionBody(extra: #""external_xref":"shared""#), key: api.otherKey)["id"]
                    as? String
            )
            #expect(ids(try await api.list()) == [mine])
            #expect(ids(try await api.list("external_xref=shared")) == [mine])
            for (method, body) in [
                (HTTPRequest.Method.get, nil), (.put, "{}"), (.patch, #"{"external_xref":"x"}"#), (.delete, nil),
            ] {
                let response = try await api.send(method, "/unified/connection/\(theirs)", body: body)
                #expect(response.status == .notFound, "\(method)")
            }
            // Nothing of the other workspace changed.
            let other = try await api.send(.get, "/unified/connection/\(theirs)", key: .some(api.otherKey)).jsonObject()
            #expect(other["external_xref"] as? String == "shared")
        }
    }
}

private func ids(_ rows: [[String: Any]]) -> [String] { rows.map { $0["id"] as! String } }
