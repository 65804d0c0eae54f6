import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwitchboardCore
import Testing

@testable import SwitchboardServer

@Suite struct BadInputTests {
    @Test(arguments: [
        // (body, a word the message must contain)
        ("{", "JSON"),
        ("not json", "JSON"),
        (#"{"integration_type":"x","permissions":[],"categories":[]} trailing"#, "JSON"),
        (#"["array"]"#, "object"),
        (#"{"permissions":[],"categories":[]}"#, "integration_type"),
        (#"{"integration_type":"x","categories":[]}"#, "permissions"),
        (#"{"integration_type":"x","permissions":[]}"#, "categories"),
        (#"{"integration_type":null,"permissions":[],"categories":[]}"#, "integration_type"),
        (#"{"integration_type":"","permissions":[],"categories":[]}"#, "integration_type"),
        (#"{"integration_type":42,"permissions":[],"categories":[]}"#, "integration_type"),
        (#"{"integration_type":"x","permissions":"crm_contact_read","categories":[]}"#, "permissions"),
        (#"{"integration_type":"x","permissions":["nope_read"],"categories":[]}"#, "permissions[0]"),
        (#"{"integration_type":"x","permissions":[],"categories":["crm","nope"]}"#, "categories[1]"),
        (#"{"integration_type":"x","permissions":[],"categories":[1]}"#, "categories[0]"),
        (#"{"integration_type":"x","permissions":[],"categories":[],"environment":""}"#, "environment"),
        (#"{"integration_type":"x","permissions":[],"categories":[],"external_xref":7}"#, "external_xref"),
        (#"{"integration_type":"x","permissions":[],"categories":[],"auth":"token"}"#, "auth"),
        (#"{"integration_type":"x","permissions":[],"categories":[],"auth":{"password":"p"}}"#, "auth.password"),
        (#"{"integration_type":"x","permissions":[],"categories":[],"auth":{"expires_in":"soon"}}"#, "auth.expires_in"),
        (
            #"{"integration_type":"x","permissions":[],"categories":[],"auth":{"expiry_date":"tomorrow"}}"#,
            "auth.expiry_date"
        ),
        (#"{"integration_type":"x","permissions":[],"categories":[],"auth":{"emails":["a",1]}}"#, "auth.emails[1]"),
        (#"{"integration_type":"x","permissions":[],"categories":[],"auth":{"meta":[]}}"#, "auth.meta"),
        (#"{"integration_type":"x","integration_type":"y","permissions":[],"categories":[]}"#, "duplicate"),
        ("{\"integration_type\":\"a\u{01}b\",\"permissions\":[],\"categories\":[]}", "control"),
    ])
    func badBodiesGet400NamingTheProblem(body: String, word: String) async throws {
        try await withApp { api in
            let response = try await api.send(.post, "/unified/connection", body: body)
            #expect(response.status == .badRequest)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.errorMessage.contains(word), "\(response.errorMessage)")
            #expect(try await api.list().isEmpty)
        }
    }

    @Test func invalidUTF8AndDeepNestingAre400() async throws {
        try await withApp { api in
            var bytes = Array(#"{"integration_type":""#.utf8)
            bytes += [0xC3, 0x28]
            bytes += Array(#"","permissions":[],"categories":[]}"#.utf8)
            let invalid = try await api.client.executeRequest(
                uri: "/unified/connection",
                method: .post,
                headers: [.authorization: api.key, .contentType: "application/json"],
                body: ByteBuffer(bytes: bytes)
            )
            #expect(invalid.status == .badRequest)
            #expect(invalid.errorMessage.contains("UTF-8"))

            let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
            let nested = try await api.send(.post, "/unified/connection", body: deep)
            #expect(nested.status == .badRequest)
            #expect(nested.errorMessage.contains("nested"))
        }
    }

    @Test func oversizedStringsAre400NamingTheField() async throws {
        try await withApp { api in
            let long = String(repeating: "x", count: 2000)
            let response = try await api.send(
                .post,
                "/unified/connection",
                body: connectionBody(extra: #""external_xref":"\#(long)""#)
            )
            #expect(response.status == .badRequest)
            #expect(response.errorMessage.contains("external_xref"))
        }
    }

    @Test func bodiesOverOneMebibyteAre413() async throws {
        try await withApp { api in
            let huge = String(repeating: "x", count: (1 << 20) + 1)
            let response = try await api.send(
                .post,
                "/unified/connection",
                body: connectionBody(extra: #""integration_name":"\#(huge)""#)
            )
            #expect(response.status == .contentTooLarge)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.errorMessage.contains("larger"))
        }
    }

    @Test func bodiesOverTheLimitAre413OnARealSocketToo() async throws {
        try await withApp(setup: .live) { api in
            let huge = String(repeating: "x", count: (1 << 20) + 10)
            let response = try await api.send(
                .post,
                "/unified/connection",
                body: connectionBody(extra: #""integration_name":"\#(huge)""#)
            )
            #expect(response.status == .contentTooLarge)
            #expect(try await api.list().isEmpty)
        }
    }

    @Test func emptyBodyAndWrongContentTypeAreRefused() async throws {
        try await withApp { api in
            let empty = try await api.send(.post, "/unified/connection", body: "")
            #expect(empty.status == .badRequest)
            #expect(empty.errorMessage.contains("empty"))
            let form = try await api.send(
                .post,
                "/unified/connection",
                body: connectionBody(),
                headers: [.contentType: "application/x-www-form-urlencoded"]
            )
            #expect(form.status == .unsupportedMediaType)
            #expect(form.errorMessage.contains("Content-Type"))
            let charset = try await api.send(
                .post,
                "/unified/connection",
                body: connectionBody(),
                headers: [.contentType: "application/json; charset=utf-8"]
            )
            #expect(charset.status == .ok)
        }
    }

    @Test func unsupportedMethodsAre405WithAllow() async throws {
        try await withApp { api in
            let trace = try await api.send(.trace, "/unified/connection")
            #expect(trace.status == .methodNotAllowed)
            #expect(trace.headers[.allow] == "GET, HEAD, POST")
            let post = try await api.send(.post, "/unified/connection/abc", body: "{}")
            #expect(post.status == .methodNotAllowed)
            #expect(post.headers[.allow] == "DELETE, GET, HEAD, PATCH, PUT")
            // Methods no route table lists in advance are 405 too.
            let query = try await api.send(HTTPRequest.Method("QUERY")!, "/health")
            #expect(query.status == .methodNotAllowed)
            #expect(query.headers[.allow] == "GET, HEAD")
            // A fixed segment wins over a parameter, as in the router: the instructions, not a manager id.
            let options = try await api.send(.options, "/unified/secretsmanager/instructions")
            #expect(options.status == .methodNotAllowed)
            #expect(options.headers[.allow] == "GET, HEAD")
            #expect(try await api.send(.options, "/unified/secretsmanager/sm_1").headers[.allow] == "DELETE, GET, HEAD")
            let unknown = try await api.send(.get, "/unified/nothing-here")
            #expect(unknown.status == .notFound)
            #expect(unknown.headers[.contentType] == "application/json")
        }
    }

    @Test func longTargetsAre414AndLargeHeadersAre431() async throws {
        try await withApp { api in
            let target = "/unified/connection?external_xref=" + String(repeating: "a", count: 9000)
            let long = try await api.send(.get, target)
            #expect(long.status == .uriTooLong)
            #expect(long.errorMessage.contains("request target"))
            let big = try await api.send(
                .get,
                "/unified/connection",
                headers: [HTTPField.Name("X-Big")!: String(repeating: "b", count: 17_000)]
            )
            #expect(big.status == .requestHeaderFieldsTooLarge)
            #expect(big.errorMessage.contains("headers"))
        }
    }

    @Test func labelsAreCountedInCharactersAndRefuseNUL() async throws {
        try await withApp { api in
            // 255 four-byte characters fit external_xref; 256 do not.
            let emoji = String(repeating: "\u{1F600}", count: 255)
            let fits = try await api.send(
                .post,
                "/unified/connection",
                body: connectionBody(extra: #""external_xref":"\#(emoji)""#)
            )
            #expect(fits.status == .ok)
            let over = try await api.send(
                .post,
                "/unified/connection",
                body: connectionBody(extra: #""external_xref":"\#(emoji)x""#)
            )
            #expect(over.status == .badRequest)
            #expect(over.errorMessage.contains("external_xref is longer than 255 characters"))
            let type = try await api.send(
                .post,
                "/unified/connection",
                body: #"{"integration_type":"\#(String(repeating: "t", count: 65))","permissions":[],"categories":[]}"#
            )
            #expect(type.errorMessage.contains("integration_type is longer than 64 characters"))
            let nul = try await api.send(
                .post,
                "/unified/connection",
                body: connectionBody(extra: #""external_xref":"a\u0000b""#)
            )
            #expect(nul.status == .badRequest)
            #expect(nul.errorMessage.contains("NUL"))
            let filter = try await api.send(.get, "/unified/connection?external_xref=a%00b")
            #expect(filter.status == .badRequest)
            #expect(filter.errorMessage.contains("external_xref"))
        }
    }
}
