import Foundation
import HTTPTypes
import HummingbirdTesting
import SwitchboardCore
import Testing

@testable import SwitchboardServer

/// `/unified/environment` through the real application, on SQLite and PostgreSQL.
@Suite struct EnvironmentTests {
    func names(_ response: TestResponse) throws -> [String] {
        guard response.status == .ok else { throw UnexpectedStatus(response: response) }
        return try #require(try JSONSerialization.jsonObject(with: Data(response.text.utf8)) as? [String])
    }

    @Test func declareListAndRemove() async throws {
        try await withApp { api in
            #expect(try names(try await api.send(.get, "/unified/environment")) == ["Production"])
            let created = try await api.send(
                .post,
                "/unified/environment",
                body: #"["Staging","Dev","Staging","Production"]"#
            )
            #expect(try names(created) == ["Production", "Staging", "Dev"])
            // Declaring again changes nothing; order is oldest first.
            #expect(
                try names(try await api.send(.post, "/unified/environment", body: #"["Dev","QA env"]"#))
                    == ["Production", "Staging", "Dev", "QA env"]
            )
            // Another workspace sees only its own.
            #expect(
                try names(try await api.send(.get, "/unified/environment", key: .some(api.otherKey))) == ["Production"]
            )

            // The SDK percent-encodes the name into the path.
            #expect(
                try names(try await api.send(.delete, "/unified/environment/QA%20env")) == [
                    "Production", "Staging", "Dev",
                ]
            )
            let missing = try await api.send(.delete, "/unified/environment/QA%20env")
            #expect(missing.status == .notFound)
            #expect(missing.errorMessage == "no environment \"QA env\" in this workspace")
            let production = try await api.send(.delete, "/unified/environment/Production")
            #expect(production.status == .conflict)
            #expect(production.errorMessage == "the Production environment always exists and cannot be removed")

            // An environment that holds connections stays until they are gone.
            let first = try #require(
                try await api.create(connectionBody(extra: #""environment":"Staging""#))["id"] as? String
            )
            try await api.create(connectionBody(extra: #""environment":"Staging""#))
            let inUse = try await api.send(.delete, "/unified/environment/Staging")
            #expect(inUse.status == .conflict)
            #expect(
                inUse.errorMessage == "the environment \"Staging\" still has 2 connections; delete or move them first"
            )
            try await api.send(.patch, "/unified/connection/\(first)", body: #"{"environment":"Dev"}"#)
            let stillOne = try await api.send(.delete, "/unified/environment/Staging")
            #expect(
                stillOne.errorMessage == "the environment \"Staging\" still has 1 connection; delete or move them first"
            )
            // A connection's environment need not be declared.
            try await api.create(connectionBody(extra: #""environment":"Undeclared""#))
            #expect(try await api.list("env=Undeclared").count == 1)
        }
    }

    @Test func badBodiesAndNamesAreRefusedNamingTheProblem() async throws {
        try await withApp { api in
            let cases: [(String, String)] = [
                ("", "the request body is empty; send a JSON array of strings"),
                (#"{"env":"x"}"#, "the request body must be a JSON array of strings, got an object"),
                (#"["ok", 3]"#, "[1] must be a string, got a number"),
                (#"[""]"#, "[0] must not be empty"),
                (#"["a\u0000b"]"#, "[0] must not contain NUL (U+0000) characters"),
                (
                    #"["line\nbreak"]"#,
                    "an environment name must not contain control characters (NUL, CR, LF, tab, DEL)"
                ),
                ("[\"\(String(repeating: "x", count: 65))\"]", "[0] is longer than 64 characters"),
            ]
            for (body, message) in cases {
                let response = try await api.send(.post, "/unified/environment", body: body)
                #expect(response.status == .badRequest, "\(body)")
                #expect(response.errorMessage.contains(message), "\(body): \(response.errorMessage)")
            }
            #expect(try names(try await api.send(.get, "/unified/environment")) == ["Production"])
        }
    }

    @Test func aWorkspaceDeclaresAtMostAHundred() async throws {
        try await withApp { api in
            let hundred = (1...100).map { "\"e\($0)\"" }.joined(separator: ",")
            #expect(try names(try await api.send(.post, "/unified/environment", body: "[\(hundred)]")).count == 101)
            let over = try await api.send(.post, "/unified/environment", body: #"["one-more"]"#)
            #expect(over.status == .conflict)
            #expect(over.errorMessage.hasPrefix("a workspace declares at most 100 environments"))
            // Already declared names are still accepted.
            #expect(try await api.send(.post, "/unified/environment", body: #"["e1"]"#).status == .ok)
        }
    }

    @Test func scopesAndAudit() async throws {
        try await withApp { api in
            let reader = try await api.makeKey(ScopeSet([.connectionsRead]))
            #expect(try names(try await api.send(.get, "/unified/environment", key: .some(reader))) == ["Production"])
            let refused = try await api.send(.post, "/unified/environment", body: #"["x"]"#, key: .some(reader))
            #expect(refused.status == .forbidden)
            #expect(try await api.send(.delete, "/unified/environment/x", key: .some(reader)).status == .forbidden)
            let writerOnly = try await api.makeKey(ScopeSet([.connectionsWrite]))
            #expect(try await api.send(.get, "/unified/environment", key: .some(writerOnly)).status == .forbidden)

            try await api.send(.post, "/unified/environment", body: #"["Staging","Dev"]"#)
            try await api.send(.post, "/unified/environment", body: #"["Dev"]"#)  // nothing new: no record
            try await api.send(.delete, "/unified/environment/Dev")
            let audit = try await api.send(.get, "/switchboard/audit?action=environment.create").jsonArray()
            #expect(audit.count == 1)
            #expect(audit.first?["target"] as? String == "Staging\nDev")
            let removed = try await api.send(.get, "/switchboard/audit?action=environment.remove").jsonArray()
            #expect(removed.map { $0["target"] as? String } == ["Dev"])
        }
    }

    /// Concurrent declarations from many requests all land (the store serializes them).
    @Test func concurrentDeclarationsAreNotLost() async throws {
        try await withApp { api in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<20 {
                    group.addTask { try await api.send(.post, "/unified/environment", body: "[\"c\(i)\"]") }
                }
                try await group.waitForAll()
            }
            let all = try names(try await api.send(.get, "/unified/environment"))
            #expect(Set(all) == Set(["Production"] + (0..<20).map { "c\($0)" }))
        }
    }
}
