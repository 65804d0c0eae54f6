import Testing

@testable import SwitchboardServer

@Suite struct PercentDecodingTests {
    @Test(arguments: [
        ("plain", true, "plain"), ("a+b", true, "a b"), ("a+b", false, "a+b"), ("a%2Bb", true, "a+b"),
        ("%E2%82%AC%20x", false, "€ x"), ("%e2%82%ac", true, "€"), ("", true, ""), ("100%25", false, "100%"),
    ])
    func decodesEscapesAndPlus(_ component: String, _ plusIsSpace: Bool, _ expected: String) {
        #expect(percentDecoded(component[...], plusIsSpace: plusIsSpace) == expected)
    }

    @Test(arguments: ["%", "%2", "%ZZ", "a%G0", "%FF", "%C3%28", "%E2%82"])
    func refusesMalformedEscapesAndInvalidUTF8(_ component: String) {
        #expect(percentDecoded(component[...], plusIsSpace: true) == nil)
    }
}
