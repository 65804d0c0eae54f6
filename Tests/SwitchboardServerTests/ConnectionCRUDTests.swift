import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwitchboardCore
import Testing

@testable import SwitchboardServer

@Suite struct ConnectionCRUDTests {
    @Test func createReturns200WithEveryWrittenFieldAndServerFields() async throws {
        try await withApp { api in
            // given: the body the official SDK sends (captured), plus the writable extras
            let body = """
                {"categories":["crm"],"integration_type":"hubspot","permissions":["crm_contact_read"],\
                "auth":{"access_token":"at","expiry_date":"2025-01-01T00:00:00Z","refresh_token":"rt","expires_in":3600.0,\
                "emails":["a@b.c"],"meta":{"k":[1,"v",12345678901234567890]},"other_auth_info":["x","y"]},\
                "environment":"Production","external_xref":"user-42","integration_name":"HubSpot",\
                "auth_aws_arn":"arn:aws:secretsmanager:us-east-1:1:secret:x","auth_azure_keyvault_id":"kv",\
                "auth_gcp_secret_name":"gcp","auth_hashi_vault_path":"secret/x",\
                "secretsmanager_key":"path/to/secret"}
                """
            // when
            let response = try await api.send(.post, "/unified/connection", body: body)
            // then
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            let c = try response.jsonObject()
            #expect((c["id"] as? String)?.isEmpty == false)
            #expect(c["workspace_id"] as? String == api.workspace.rawValue)
            #expect(c["created_at"] as? String == "2024-01-01T00:00:00.000Z")
            #expect(c["updated_at"] as? String == c["created_at"] as? String)
            #expect(c["integration_type"] as? String == "hubspot")
            #expect(c["integration_name"] as? String == "HubSpot")
            #expect(c["external_xref"] as? String == "user-42")
            #expect(c["permissions"] as? [String] == ["crm_contact_read"])
            #expect(c["categories"] as? [String] == ["crm"])
            #expect(c["environment"] as? String == "Production")
            #expect(c["is_paused"] as? Bool == false)
            #expect(c["auth_aws_arn"] as? String == "arn:aws:secretsmanager:us-east-1:1:secret:x")
            #expect(c["auth_azure_keyvault_id"] as? String == "kv")
            #expect(c["auth_gcp_secret_name"] as? String == "gcp")
            #expect(c["auth_hashi_vault_path"] as? String == "secret/x")
            #expect(c["secretsmanager_key"] as? String == "path/to/secret")
            let auth = try #require(c["auth"] as? [String: Any])
            #expect(auth["access_token"] as? String == "at")
            #expect(auth["refresh_token"] as? String == "rt")
            #expect(auth["expiry_date"] as? String == "2025-01-01T00:00:00.000Z")
            #expect(auth["emails"] as? [String] == ["a@b.c"])
            // Number lexemes in meta survive exactly, even beyond 64-bit range.
            #expect(response.text.contains(#""meta":{"k":[1,"v",12345678901234567890]}"#))
            #expect(response.text.contains(#""expires_in":3600.0"#))
        }
    }

    @Test func createDefaultsEnvironmentAndIgnoresReadOnlyAndUnknownFields() async throws {
        try await withApp { api in
            let c = try await api.create(
                connectionBody(
                    extra: """
                        "id":"mine","created_at":"2001-01-01T00:00:00Z","updated_at":"2001-01-01T00:00:00Z",\
                        "workspace_id":"other","is_paused":true,"last_healthy_at":"2001-01-01T00:00:00Z",\
                        "last_unhealthy_at":"2001-01-01T00:00:00Z","last_unhealthy_code":"500","future_field":1
                        """
                )
            )
            #expect(c["id"] as? String != "mine")
            #expect(c["workspace_id"] as? String == api.workspace.rawValue)
            #expect(c["created_at"] as? String == "2024-01-01T00:00:00.000Z")
            #expect(c["is_paused"] as? Bool == false)
            #expect(c["last_healthy_at"] == nil)
            #expect(c["last_unhealthy_code"] == nil)
            #expect(c["environment"] as? String == "Production")
            #expect(c["auth"] == nil)
        }
    }

    @Test func getReturnsTheStoredConnectionWithCredentials() async throws {
        try await withApp { api in
            let created = try await api.create(connectionBody(extra: #""auth":{"access_token":"secret-at"}"#))
            let id = try #require(created["id"] as? String)
            let response = try await api.send(.get, "/unified/connection/\(id)")
            #expect(response.status == .ok)
            let c = try response.jsonObject()
            #expect(c["id"] as? String == id)
            #expect((c["auth"] as? [String: Any])?["access_token"] as? String == "secret-at")
        }
    }

    @Test(arguments: [HTTPRequest.Method.put, .patch])
    func updateChangesPresentFieldsAndKeepsAbsentOnes(_ method: HTTPRequest.Method) async throws {
        try await withApp { api in
            let created = try await api.create(
                connectionBody(
                    extra:
                        #""auth":{"access_token":"at1","refresh_token":"rt1"},"external_xref":"u1","integration_name":"Hub""#
                )
            )
            let id = try #require(created["id"] as? String)
            // when: the SDK-shaped body, without auth or integration_name
            let response = try await api.send(
                method,
                "/unified/connection/\(id)",
                body:
                    #"{"categories":["crm","ticketing"],"integration_type":"hubspot","permissions":["crm_contact_read","crm_contact_write"],"environment":"Production","external_xref":"u2"}"#
            )
            // then
            #expect(response.status == .ok)
            let c = try response.jsonObject()
            #expect(c["categories"] as? [String] == ["crm", "ticketing"])
            #expect(c["permissions"] as? [String] == ["crm_contact_read", "crm_contact_write"])
            #expect(c["external_xref"] as? String == "u2")
            #expect(c["integration_name"] as? String == "Hub")
            #expect((c["auth"] as? [String: Any])?["refresh_token"] as? String == "rt1")
            #expect(c["created_at"] as? String == created["created_at"] as? String)
            #expect(c["updated_at"] as? String != created["updated_at"] as? String)
            // and the stored row agrees with the response
            let stored = try await api.send(.get, "/unified/connection/\(id)").jsonObject()
            #expect(stored["external_xref"] as? String == "u2")
            #expect((stored["auth"] as? [String: Any])?["access_token"] as? String == "at1")
        }
    }

    @Test(arguments: [HTTPRequest.Method.put, .patch])
    func explicitNullClearsOptionalFields(_ method: HTTPRequest.Method) async throws {
        try await withApp { api in
            let created = try await api.create(
                connectionBody(
                    extra:
                        #""auth":{"access_token":"at"},"external_xref":"u1","integration_name":"Hub","secretsmanager_key":"k","environment":"Sandbox""#
                )
            )
            let id = try #require(created["id"] as? String)
            let response = try await api.send(
                method,
                "/unified/connection/\(id)",
                body:
                    #"{"auth":null,"external_xref":null,"integration_name":null,"secretsmanager_key":null,"environment":null}"#
            )
            #expect(response.status == .ok)
            let c = try await api.send(.get, "/unified/connection/\(id)").jsonObject()
            #expect(c["auth"] == nil)
            #expect(c["external_xref"] == nil)
            #expect(c["integration_name"] == nil)
            #expect(c["secretsmanager_key"] == nil)
            #expect(c["environment"] as? String == "Production")
            #expect(c["integration_type"] as? String == "hubspot")
        }
    }

    @Test func authObjectReplacesTheCredentialSetAsAWhole() async throws {
        try await withApp { api in
            let created = try await api.create(
                connectionBody(extra: #""auth":{"access_token":"at1","refresh_token":"rt1"}"#)
            )
            let id = try #require(created["id"] as? String)
            try await api.send(.patch, "/unified/connection/\(id)", body: #"{"auth":{"access_token":"at2"}}"#)
            let auth = try #require(
                try await api.send(.get, "/unified/connection/\(id)").jsonObject()["auth"] as? [String: Any]
            )
            #expect(auth["access_token"] as? String == "at2")
            #expect(auth["refresh_token"] == nil)
        }
    }

    @Test func requiredFieldsCannotBeNulledOnUpdate() async throws {
        try await withApp { api in
            let id = try #require(try await api.create(connectionBody())["id"] as? String)
            for field in ["integration_type", "permissions", "categories"] {
                let response = try await api.send(.patch, "/unified/connection/\(id)", body: #"{"\#(field)":null}"#)
                #expect(response.status == .badRequest)
                #expect(response.errorMessage.contains(field))
            }
        }
    }

    @Test func deleteAnswers200WithEmptyBodyThenTheConnectionIsGone() async throws {
        try await withApp { api in
            let id = try #require(try await api.create(connectionBody())["id"] as? String)
            let response = try await api.send(.delete, "/unified/connection/\(id)")
            #expect(response.status == .ok)
            #expect(response.text.isEmpty)
            #expect(try await api.send(.get, "/unified/connection/\(id)").status == .notFound)
            #expect(try await api.send(.delete, "/unified/connection/\(id)").status == .notFound)
            #expect(try await api.list().isEmpty)
        }
    }

    @Test(arguments: [HTTPRequest.Method.get, .put, .patch, .delete])
    func unknownIDIs404WithAMessageNamingIt(_ method: HTTPRequest.Method) async throws {
        try await withApp { api in
            let response = try await api.send(
                method,
                "/unified/connection/does-not-exist",
                body: method == .get || method == .delete ? nil : "{}"
            )
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.errorMessage.contains("does-not-exist"))
        }
    }

    @Test func notFoundMessagesShowTheDecodedID() async throws {
        try await withApp { api in
            let response = try await api.send(.get, "/unified/connection/a%20b")
            #expect(response.status == .notFound)
            #expect(response.errorMessage.contains("\"a b\""))
        }
    }

    @Test func concurrentPatchesOfOneConnectionLoseNoField() async throws {
        try await withApp { api in
            let id = try #require(try await api.create(connectionBody())["id"] as? String)
            // Each writer owns one field; with compare-and-set every field must end with its value.
            let fields = [
                "integration_name", "external_xref", "auth_aws_arn", "auth_azure_keyvault_id",
                "auth_gcp_secret_name", "auth_hashi_vault_path", "secretsmanager_key",
            ]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for field in fields {
                    group.addTask {
                        for round in 0..<10 {
                            let response = try await api.send(
                                .patch,
                                "/unified/connection/\(id)",
                                body: #"{"\#(field)":"\#(field)-\#(round)"}"#
                            )
                            #expect(response.status == .ok)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let c = try await api.send(.get, "/unified/connection/\(id)").jsonObject()
            for field in fields { #expect(c[field] as? String == "\(field)-9") }
        }
    }

    /// A PATCH or PUT that changes nothing (only read-only or unknown fields, or values already
    /// stored) keeps `updated_at`, the version and the audit log: the connection does not come
    /// back in every `updated_gte` sync.
    @Test func aWriteThatChangesNothingKeepsUpdatedAtAndWritesNoAuditRecord() async throws {
        try await withApp { api in
            let created = try await api.create(connectionBody(extra: #""external_xref":"x-1""#))
            let id = try #require(created["id"] as? String)
            func auditCount() async throws -> Int {
                try await api.send(.get, "/switchboard/audit?connection_id=\(id)").jsonArray().count
            }
            let before = try await auditCount()
            for body in [
                #"{"updated_at":"2030-01-01T00:00:00Z","is_paused":true}"#, #"{"not_a_field":1}"#,
                #"{"external_xref":"x-1","integration_type":"hubspot"}"#,
            ] {
                let response = try await api.send(.patch, "/unified/connection/\(id)", body: body)
                #expect(response.status == .ok, "\(body)")
                #expect(
                    try response.jsonObject()["updated_at"] as? String == created["updated_at"] as? String,
                    "\(body)"
                )
            }
            #expect(try await auditCount() == before)
            let changed = try await api.send(.patch, "/unified/connection/\(id)", body: #"{"external_xref":"x-2"}"#)
            #expect(try changed.jsonObject()["updated_at"] as? String != created["updated_at"] as? String)
            #expect(try await auditCount() == before + 1)
        }
    }
}
