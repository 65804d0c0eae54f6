import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwitchboardCore
import Testing
import Yams

@testable import SwitchboardServer

/// Keeps openapi.yaml and the server equal in both directions: routes, operation ids, statuses,
/// list parameters, Connection fields and enum values.
@Suite struct OpenAPIConformanceTests {
    private func document() throws -> [String: Any] {
        let text = String(decoding: try OpenAPIDocument.load(), as: UTF8.self)
        return try #require(try Yams.load(yaml: text) as? [String: Any])
    }

    private func schema(_ name: String) throws -> [String: Any] {
        let components = try #require(try document()["components"] as? [String: Any])
        return try #require((components["schemas"] as? [String: Any])?[name] as? [String: Any])
    }

    /// (method, path) → operation object, for every operation in the document.
    private func operations() throws -> [String: [String: Any]] {
        let paths = try #require(try document()["paths"] as? [String: Any])
        var result: [String: [String: Any]] = [:]
        for (path, item) in paths {
            for (method, operation) in try #require(item as? [String: Any]) where method != "parameters" {
                result["\(method.uppercased()) \(path)"] = try #require(operation as? [String: Any])
            }
        }
        return result
    }

    @Test func everyDocumentedOperationIsAServerRouteWithTheSameIDAndStatuses() async throws {
        try await withApp { api in
            let routes = apiRoutes(runtime: api.runtime, bodyLimits: BodyLimits(maximumSize: 1 << 20))
            let documented = try operations().filter {
                !["GET /health", "GET /health/live", "GET /health/ready", "GET /openapi.yaml"].contains($0.key)
            }
            #expect(Set(documented.keys) == Set(routes.map { "\($0.method.rawValue) \($0.path)" }))
            for route in routes {
                let operation = try #require(documented["\(route.method.rawValue) \(route.path)"])
                #expect(operation["operationId"] as? String == route.operationID)
                let statuses = Set(try #require(operation["responses"] as? [String: Any]).keys.compactMap { Int($0) })
                #expect(statuses == route.statuses, "\(route.operationID)")
            }
        }
    }

    @Test func everyDocumentedOperationAnswersThroughTheRouter() async throws {
        try await withApp { api in
            for key in try operations().keys {
                let parts = key.split(separator: " ")
                let method = try #require(HTTPRequest.Method(String(parts[0])))
                let path = parts[1].replacingOccurrences(of: "{id}", with: "some-id")
                let body: String? = [.post, .put, .patch].contains(method) ? "{}" : nil
                let response = try await api.send(method, path, body: body)
                #expect(response.status != .methodNotAllowed, "\(key)")
                // A 404 here must be the handler's "no connection", not the router's "no route".
                #expect(!response.errorMessage.contains("no route"), "\(key)")
            }
        }
    }

    /// The benchmark's HTTP ceiling route exists only in `switchboard bench-server`: the served
    /// application answers nothing outside the document.
    @Test func theBenchmarkCeilingIsNotServed() async throws {
        try await withApp { api in
            for method in [HTTPRequest.Method.get, .put] {
                let response = try await api.send(method, "/__bench/ceiling", body: method == .put ? "{}" : nil)
                #expect(response.status == .notFound, "\(method)")
            }
        }
    }

    @Test func listParametersMatchTheServer() throws {
        let operation = try #require(try operations()["GET /unified/connection"])
        let references = try #require(operation["parameters"] as? [[String: Any]]).compactMap { $0["$ref"] as? String }
        let components = try #require(try document()["components"] as? [String: Any])
        let parameters = try #require(components["parameters"] as? [String: Any])
        let names = try references.map { ref in
            let key = String(ref.split(separator: "/").last!)
            return try #require((parameters[key] as? [String: Any])?["name"] as? String)
        }
        #expect(Set(names) == ConnectionQuery.parameterNames)
    }

    @Test func apiCallListParametersMatchTheServer() throws {
        let operation = try #require(try operations()["GET /unified/apicall"])
        let names = try #require(operation["parameters"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        #expect(Set(names) == APICallRoutes.parameterNames)
    }

    @Test func connectionFieldsMatchTheWireTypesBothWays() throws {
        let connection = try schema("Connection")
        let properties = try #require(connection["properties"] as? [String: Any])
        #expect(Set(properties.keys) == ConnectionWire.writableFields.union(ConnectionWire.readOnlyFields))
        let readOnly = Set(properties.filter { ($0.value as? [String: Any])?["readOnly"] as? Bool == true }.keys)
        #expect(readOnly == ConnectionWire.readOnlyFields)
        #expect(Set(connection["required"] as? [String] ?? []) == ["integration_type", "permissions", "categories"])
        // PUT and PATCH merge partial bodies: their schema has the same fields, none required.
        let update = try schema("ConnectionUpdate")
        let updateProperties = try #require(update["properties"] as? [String: Any])
        #expect(Set(updateProperties.keys) == Set(properties.keys))
        #expect(update["required"] == nil)

        // Every property is written by the server for a fully populated connection, and nothing else.
        let time = Timestamp(millisecondsSinceEpoch: 0)
        let full = Connection(
            id: ConnectionID(rawValue: "c"),
            workspaceID: WorkspaceID(rawValue: "w"),
            fields: ConnectionFields(
                integrationType: "t",
                integrationName: "n",
                externalXref: "x",
                permissions: [],
                categories: [],
                authAwsArn: "a",
                authAzureKeyvaultID: "a",
                authGcpSecretName: "a",
                authHashiVaultPath: "a",
                secretsmanagerID: "a",
                secretsmanagerKey: "a"
            ),
            sealedAuth: nil,
            health: ConnectionHealth(lastHealthyAt: time, lastUnhealthyAt: time, lastUnhealthyCode: "500"),
            refresh: TokenRefreshState(status: .active, expiresAt: time),
            createdAt: time,
            updatedAt: time
        )
        var writer = JSONWriter()
        ConnectionJSON.write(
            RevealedConnection(connection: full, auth: ConnectionAuth(trustedJSON: Array("{}".utf8))),
            to: &writer
        )
        let written = try #require(try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String: Any])
        #expect(Set(written.keys) == Set(properties.keys))
    }

    @Test func authFieldsAndEnumsMatchTheCompiledLists() throws {
        let auth = try #require(try schema("ConnectionAuth")["properties"] as? [String: Any])
        #expect(Set(auth.keys) == Set(ConnectionAuth.fields.map(\.name)))
        #expect(auth.count == 26)
        #expect(try schema("Category")["enum"] as? [String] == Category.allNames)
        #expect(try schema("Permission")["enum"] as? [String] == Permission.allNames)
        #expect(Category.allNames.count == 38)
        #expect(Permission.allNames.count == 411)
    }

    @Test func keyAndAuditVocabulariesMatchTheServer() throws {
        #expect(try schema("Scope")["enum"] as? [String] == Scope.allCases.map(\.rawValue))
        #expect(try schema("AuditAction")["enum"] as? [String] == AuditAction.allCases.map(\.rawValue))
        let operation = try #require(try operations()["GET /switchboard/audit"])
        let names = try #require(operation["parameters"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        #expect(Set(names) == AuditRoutes.parameterNames)
        let type = try #require(try schema("SecretsManager")["properties"] as? [String: Any])["type"] as? [String: Any]
        #expect(type?["enum"] as? [String] == SecretsManagerType.allCases.map(\.rawValue))
    }
}
