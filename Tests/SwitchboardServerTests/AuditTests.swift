import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwitchboardCore
import Testing

@testable import SwitchboardServer

@Suite struct AuditTests {
    /// The workspace's audit records as the API returns them, oldest first.
    func records(_ api: TestAPI, _ query: String = "") async throws -> [[String: Any]] {
        let response = try await api.send(.get, "/switchboard/audit?limit=1000" + query)
        guard response.status == .ok else { throw UnexpectedStatus(response: response) }
        return try response.jsonArray().reversed()
    }

    func actions(_ records: [[String: Any]]) -> [String] { records.compactMap { $0["action"] as? String } }

    @Test func everyAuditedActionLeavesExactlyOneRecord() async throws {
        try await withApp { api in
            let keyID = try #require(APIKey.id(inKey: api.key))
            let start = try await records(api).count
            func new(_ body: () async throws -> Void) async throws -> [[String: Any]] {
                let before = try await records(api).count
                try await body()
                return Array(try await records(api).dropFirst(before))
            }

            var id = ""
            let created = try await new {
                id = try #require(
                    try await api.create(connectionBody(extra: #""auth":{"access_token":"t"}"#))["id"] as? String
                )
            }
            #expect(actions(created) == ["connection.create"])
            #expect(created.first?["connection_id"] as? String == id)
            #expect(created.first?["actor"] as? String == keyID)

            #expect(
                actions(try await new { try await api.send(.get, "/unified/connection/\(id)") }) == [
                    "connection.credentials.read"
                ]
            )
            let second = try #require(
                try await api.create(connectionBody(extra: #""auth":{"access_token":"u"}"#))["id"] as? String
            )
            _ = try await api.create(connectionBody())  // no credentials: listing it reveals nothing
            let listed = try await new { _ = try await api.list() }
            #expect(actions(listed) == ["connection.credentials.read", "connection.credentials.read"])
            #expect(Set(listed.compactMap { $0["connection_id"] as? String }) == [id, second])

            let metadataOnly = try await api.makeKey(ScopeSet([.connectionsRead]))
            #expect(
                try await new { try await api.send(.get, "/unified/connection/\(id)", key: .some(metadataOnly)) }
                    .isEmpty
            )

            let patched = try await new {
                try await api.send(.patch, "/unified/connection/\(id)", body: #"{"auth":{"access_token":"t2"}}"#)
            }
            #expect(actions(patched) == ["connection.update"])
            let deleted = try await new { try await api.send(.delete, "/unified/connection/\(id)") }
            #expect(actions(deleted) == ["connection.delete"])
            #expect(try await new { try await api.send(.delete, "/unified/connection/\(id)") }.isEmpty)

            var newKey = ""
            let keyCreated = try await new {
                newKey = try #require(
                    try await api.send(.post, "/switchboard/apikey", body: #"{"scopes":["connections:read"]}"#)
                        .jsonObject()["key"] as? String
                )
            }
            #expect(actions(keyCreated) == ["apikey.create"])
            #expect(keyCreated.first?["target"] as? String == APIKey.id(inKey: newKey))
            let revoked = try await new {
                try await api.send(.delete, "/switchboard/apikey/\(APIKey.id(inKey: newKey)!)")
            }
            #expect(actions(revoked) == ["apikey.revoke"])
            #expect(
                try await new { try await api.send(.delete, "/switchboard/apikey/\(APIKey.id(inKey: newKey)!)") }
                    .isEmpty
            )

            // Other workspaces see none of it.
            let foreign = try await api.send(.get, "/switchboard/audit", key: .some(api.otherKey)).jsonArray()
            #expect(!foreign.contains { $0["connection_id"] as? String == id })
            #expect(try await records(api).count > start)
        }
    }

    @Test func filtersAndPagingWork() async throws {
        try await withApp { api in
            let id = try #require(try await api.create(connectionBody())["id"] as? String)
            for name in ["a", "b", "c"] {
                try await api.send(.patch, "/unified/connection/\(id)", body: #"{"integration_name":"\#(name)"}"#)
            }
            let updates = try await records(api, "&action=connection.update&connection_id=\(id)")
            #expect(updates.count == 3)
            let firstPage = try await api.send(.get, "/switchboard/audit?action=connection.update&limit=2")
            let link = try #require(firstPage.headers[.link])
            #expect(link.hasSuffix(#">; rel="next""#) && link.contains("before="))
            let next = String(link.dropFirst().prefix { $0 != ">" })
            let secondPage = try await api.send(.get, next)
            #expect(try secondPage.jsonArray().count == 1)
            #expect(secondPage.headers[.link] == nil)

            for query in [
                "action=connection.explode", "limit=0", "limit=1001", "before=x", "since=yesterday", "limit=1&limit=2",
            ] {
                let response = try await api.send(.get, "/switchboard/audit?\(query)")
                #expect(response.status == .badRequest, "\(query)")
                #expect(!response.errorMessage.isEmpty)
            }
        }
    }
}
