import SwitchboardCore

/// A request body that must be a JSON object, read once for every route, with getters whose
/// errors name the member. `emptyHint` says what to send when the body is empty.
struct JSONBody {
    let members: [(key: String, value: JSONValue)]
    let value: JSONValue

    init(_ bytes: [UInt8], emptyHint: String = "send a JSON object") throws(APIError) {
        let document = try Self.document(bytes, emptyHint: emptyHint)
        guard case .object(let members) = document else {
            throw .invalidBody("the request body must be a JSON object, got \(document.typeName)")
        }
        self.members = members
        self.value = document
    }

    subscript(name: String) -> JSONValue? { value[name] }

    /// A required string member.
    func string(_ name: String) throws(APIError) -> String {
        guard case .string(let text)? = self[name] else {
            throw .invalidBody("\(name) is required and must be a string")
        }
        return text
    }

    /// A string member that may be left out (null is refused: the document says string).
    func optionalString(_ name: String) throws(APIError) -> String? {
        switch self[name] {
        case nil: return nil
        case .string(let text)?: return text
        case let other?: throw .invalidBody("\(name) must be a string (or left out), got \(other.typeName)")
        }
    }

    /// A boolean member; absent or null is nil.
    func bool(_ name: String) throws(APIError) -> Bool? {
        switch self[name] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        case let other?: throw .invalidBody("\(name) must be a boolean, got \(other.typeName)")
        }
    }

    /// An array of at most `maximumCount` strings; absent or null is nil.
    func strings(_ name: String, maximumCount: Int = 100) throws(APIError) -> [String]? {
        switch self[name] {
        case nil, .null?: return nil
        case .array(let elements)?:
            guard elements.count <= maximumCount else {
                throw .invalidBody("\(name) has more than \(maximumCount) entries")
            }
            var values: [String] = []
            for (i, element) in elements.enumerated() {
                guard case .string(let text) = element else {
                    throw .invalidBody("\(name)[\(i)] must be a string, got \(element.typeName)")
                }
                values.append(text)
            }
            return values
        case let other?: throw .invalidBody("\(name) must be an array of strings, got \(other.typeName)")
        }
    }

    /// The body parsed as one JSON document.
    static func document(_ bytes: [UInt8], emptyHint: String) throws(APIError) -> JSONValue {
        guard !bytes.isEmpty else { throw .invalidBody("the request body is empty; \(emptyHint)") }
        do { return try JSONParser.parse(bytes) } catch {
            throw .invalidBody("the request body is not valid JSON: \(error.message) at byte \(error.offset)")
        }
    }

    /// A body that must be a JSON array of at most `maximumCount` strings (`["Staging","Dev"]`).
    static func strings(_ bytes: [UInt8], maximumCount: Int) throws(APIError) -> [String] {
        let document = try document(bytes, emptyHint: "send a JSON array of strings")
        guard case .array(let elements) = document else {
            throw .invalidBody("the request body must be a JSON array of strings, got \(document.typeName)")
        }
        guard elements.count <= maximumCount else {
            throw .invalidBody("the request body has more than \(maximumCount) entries")
        }
        var values: [String] = []
        for (i, element) in elements.enumerated() {
            guard case .string(let text) = element else {
                throw .invalidBody("[\(i)] must be a string, got \(element.typeName)")
            }
            values.append(text)
        }
        return values
    }
}
