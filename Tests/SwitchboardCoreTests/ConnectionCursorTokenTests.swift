import Testing

@testable import SwitchboardCore

@Suite struct ConnectionCursorTokenTests {
    private func connection(name: String?, type: String = "t\u{e9}", id: String = "id-1") -> Connection {
        Connection(
            id: ConnectionID(rawValue: id),
            workspaceID: WorkspaceID(rawValue: "w"),
            fields: ConnectionFields(integrationType: type, integrationName: name, permissions: [], categories: []),
            sealedAuth: nil,
            createdAt: Timestamp(millisecondsSinceEpoch: 1_700_000_000_123),
            updatedAt: Timestamp(millisecondsSinceEpoch: 1_700_000_000_456)
        )
    }

    @Test(arguments: ConnectionQuery.Sort.allCases, ConnectionQuery.Order.allCases)
    func tokensRoundTripForTheirQuery(sort: ConnectionQuery.Sort, order: ConnectionQuery.Order) throws {
        var query = ConnectionQuery(workspaceID: WorkspaceID(rawValue: "w"))
        query.sort = sort
        query.order = order
        query.categories = [Category("crm")!]
        let row = connection(name: "Na\"me,\n\u{1F600}")
        let token = ConnectionCursor(query: query, after: row).token
        #expect(token.utf8.allSatisfy { $0 < 128 && $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: "+") })
        #expect(try ConnectionCursor.position(from: token, for: query) == ConnectionQuery.Position(of: row, in: sort))
        query.limit = 7  // not bound
        #expect(try ConnectionCursor.position(from: token, for: query) == ConnectionQuery.Position(of: row, in: sort))
    }

    @Test func anotherQueryOrAnAlteredTokenIsRefused() {
        let query = ConnectionQuery(workspaceID: WorkspaceID(rawValue: "w"))
        let token = ConnectionCursor(query: query, after: connection(name: nil)).token
        var other = query
        other.externalXref = "x"
        #expect(throws: ConnectionCursor.Failure.otherQuery) { try ConnectionCursor.position(from: token, for: other) }
        other = query
        other.updatedGTE = Timestamp(millisecondsSinceEpoch: 1)
        #expect(throws: ConnectionCursor.Failure.otherQuery) { try ConnectionCursor.position(from: token, for: other) }
        #expect(throws: ConnectionCursor.Failure.malformed) {
            try ConnectionCursor.position(from: String(token.dropLast(3)), for: query)
        }
        #expect(throws: ConnectionCursor.Failure.malformed) {
            try ConnectionCursor.position(from: token + "!", for: query)
        }
    }

    @Test func base64URLMatchesRFC4648Vectors() {
        let vectors = [
            "": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE",
            "\u{FB}\u{FF}": "w7vDvw",
        ]
        for (plain, encoded) in vectors {
            #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
            #expect(Base64URL.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base64URL.decode("Z") == nil)
        #expect(Base64URL.decode("Zm9v+") == nil)
    }
}
