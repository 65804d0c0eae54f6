import SwitchboardCore
import SwitchboardCrypto
import Testing

@Suite struct APIKeyTests {
    @Test func generatedKeysHaveTheFormatAndAreUnique() {
        let keys = (0..<100).map { _ in APIKey.generate() }
        #expect(Set(keys.map(\.key)).count == 100)
        for (id, key) in keys {
            #expect(key.hasPrefix("sbk_\(id)_"))
            #expect(key.count == 85)
            #expect(APIKey.id(inKey: key) == id)
        }
    }

    @Test func keyReferencesAcceptIDPrefixOrWholeKey() {
        let (id, key) = APIKey.generate()
        #expect(APIKey.id(fromReference: id) == id)
        #expect(APIKey.id(fromReference: "sbk_\(id)") == id)
        #expect(APIKey.id(fromReference: "sbk_\(id)_") == id)
        #expect(APIKey.id(fromReference: key) == id)
        #expect(APIKey.id(fromReference: "sbk_xyz") == nil)
        #expect(APIKey.id(inKey: "sbk_\(id)") == nil)
        #expect(APIKey.id(inKey: key.uppercased()) == nil)
    }

    @Test func constantTimeEqualityComparesWholeValues() {
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
        let hasher = SHA256TokenHasher()
        #expect(hasher.hash("a").count == 32)
        #expect(hasher.hash("a") != hasher.hash("b"))
    }

    @Test func connectionAuthNeverPrintsItsContents() throws {
        let auth = try ConnectionAuth(validating: .object([("access_token", .string("very-secret"))]))
        #expect(!"\(auth)".contains("very-secret"))
        #expect(!String(reflecting: auth).contains("very-secret"))
        #expect(String(decoding: auth.json, as: UTF8.self) == #"{"access_token":"very-secret"}"#)
    }
}
