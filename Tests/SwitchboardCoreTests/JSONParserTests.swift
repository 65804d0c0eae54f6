import SwitchboardCore
import Testing

@Suite struct JSONParserTests {
    private func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test func parsesEveryValueKindKeepingKeyOrderAndNumberLexemes() throws {
        let value = try parse(
            #" {"b":[true,false,null],"a":-12.50e+3,"s":"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude80","o":{}} "#
        )
        guard case .object(let members) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["b", "a", "s", "o"])
        #expect(value["b"] == .array([.bool(true), .bool(false), .null]))
        #expect(value["a"] == .number("-12.50e+3"))
        #expect(value["s"] == .string("x\"\\/\u{08}\u{0C}\n\r\té🚀"))
        #expect(value["o"] == .object([]))
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "1e", "tru", "nul", "\"abc", "{\"a\" 1}", "[1 2]",
        "\"\\x\"", "\"\\u12\"", "\"\\ud83d\"", "\"\\ude80\"", "{1:2}", "1 2", "\"a\u{01}\"", "NaN", "+1",
    ])
    func rejectsInvalidDocuments(_ text: String) {
        #expect(throws: JSONParser.Failure.self) { try parse(text) }
    }

    @Test func rejectsDuplicateKeys() {
        #expect(throws: JSONParser.Failure.self) { try parse(#"{"a":1,"a":2}"#) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
    }

    @Test func boundsNestingWithoutExhaustingTheStack() throws {
        let ok =
            String(repeating: "[", count: JSONParser.maximumDepth)
            + String(repeating: "]", count: JSONParser.maximumDepth)
        _ = try parse(ok)
        for depth in [JSONParser.maximumDepth + 1, 100_000] {
            let deep = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            #expect(throws: JSONParser.Failure.self) { try parse(deep) }
        }
    }

    @Test func writerOutputParsesBackToTheSameValue() throws {
        let original = try parse(
            #"{"k":["a\u0000b","q\"uote","back\\slash","tab\t","ünï 🚀"],"n":1.0e-7,"t":true,"z":null}"#
        )
        var writer = JSONWriter()
        writer.value(original)
        #expect(try JSONParser.parse(writer.bytes) == original)
        #expect(String(decoding: writer.bytes, as: UTF8.self).contains(#""a\u0000b""#))
    }
}
