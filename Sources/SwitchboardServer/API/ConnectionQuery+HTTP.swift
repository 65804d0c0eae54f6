import SwitchboardCore

extension ConnectionQuery {
    /// The query parameters `GET /unified/connection` understands (kept equal to openapi.yaml by a test).
    static let parameterNames: Set<String> = [
        "limit", "offset", "updated_gte", "sort", "order", "external_xref", "categories", "env", "cursor",
    ]

    /// The query a `GET /unified/connection?<query string>` runs (for `switchboard bench`, which
    /// measures the database on exactly the SQL the endpoint runs). Throws what the endpoint answers.
    package static func parsing(queryString: String?, workspaceID: WorkspaceID) throws -> ConnectionQuery {
        try ConnectionQuery(parameters: try QueryParameters(query: queryString), workspaceID: workspaceID)
    }

    /// Builds a list query from the request's parameters. Every rejected value gets a 400 naming the
    /// parameter; nothing is clamped or truncated silently. Unknown parameters are ignored, as the
    /// official SDK may send more in later versions.
    init(parameters: QueryParameters, workspaceID: WorkspaceID) throws(APIError) {
        self.init(workspaceID: workspaceID)
        if let text = try parameters.single("limit") {
            limit = try Self.wholeNumber(text, name: "limit", range: Self.limitRange)
        }
        if let text = try parameters.single("offset") {
            offset = try Self.wholeNumber(text, name: "offset", range: 0...1_000_000_000)
        }
        if let text = try parameters.single("updated_gte") {
            // Rounded up: a stored millisecond below a sub-millisecond bound does not satisfy >=.
            guard let time = Timestamp(rfc3339: text, rounding: .up) else {
                // A `+` offset sent unencoded arrives as a space (query strings encode spaces so).
                let plusHint =
                    text.contains(" ")
                    ? " (a + in a query string reads as a space: send the offset as %2B, or use Z)" : ""
                throw .invalidParameter(
                    "updated_gte must be an RFC 3339 date-time (2024-01-02T03:04:05Z, with an offset or fraction) or a date (2024-01-02); got \"\(text.prefix(64))\"\(plusHint)"
                )
            }
            updatedGTE = time
        }
        if let text = try parameters.single("sort") {
            guard let value = Sort(rawValue: text) else {
                throw .invalidParameter("sort must be one of name, updated_at, created_at; got \"\(text.prefix(64))\"")
            }
            sort = value
        }
        if let text = try parameters.single("order") {
            guard let value = Order(rawValue: text) else {
                throw .invalidParameter("order must be asc or desc; got \"\(text.prefix(64))\"")
            }
            order = value
        }
        if let text = try parameters.single("external_xref") {
            try Self.checkLabel(text, name: "external_xref", maximum: Limits.indexedLabelLength)
            externalXref = text
        }
        if let text = try parameters.single("env") {
            guard !text.isEmpty else { throw .invalidParameter("env must not be empty") }
            try Self.checkLabel(text, name: "env", maximum: Limits.shortLabelLength)
            environment = text
        }
        var seen = Set<Category>()
        for value in parameters.all("categories") {
            for name in value.split(separator: ",", omittingEmptySubsequences: false) {
                guard let category = Category(String(name)) else {
                    throw .invalidParameter("categories has an unknown category \"\(name.prefix(64))\"")
                }
                if seen.insert(category).inserted { categories.append(category) }
            }
        }
        // Last: the cursor is checked against everything above.
        if let token = try parameters.single("cursor") {
            guard try parameters.single("offset") == nil else {
                throw .invalidParameter(
                    "cursor and offset cannot be combined; a cursor already says where the page starts"
                )
            }
            do throws(ConnectionCursor.Failure) {
                after = try ConnectionCursor.position(from: token, for: self)
            } catch {
                switch error {
                case .malformed:
                    throw .invalidParameter(
                        "cursor is not one this server issued; take it unchanged from the Link rel=\"next\" header"
                    )
                case .otherQuery:
                    throw .invalidParameter(
                        "cursor belongs to another query: env, external_xref, updated_gte, categories, sort and order must stay as they were on the first page (limit may change)"
                    )
                }
            }
        }
    }

    /// The URL of the page after `last` (for `Link: <...>; rel="next"`): this query's parameters with
    /// a cursor in place of any offset, as an absolute path.
    func nextPageURL(after last: Position) -> String {
        var items: [(String, String)] = [("limit", String(limit))]
        if environment != ConnectionFields.defaultEnvironment { items.append(("env", environment)) }
        if let externalXref { items.append(("external_xref", externalXref)) }
        if let updatedGTE { items.append(("updated_gte", updatedGTE.rfc3339)) }
        if !categories.isEmpty { items.append(("categories", categories.map(\.name).joined(separator: ","))) }
        if sort != .createdAt { items.append(("sort", sort.rawValue)) }
        if order != .asc { items.append(("order", order.rawValue)) }
        items.append(("cursor", ConnectionCursor(query: self, after: last).token))
        return "/unified/connection?" + items.map { "\($0)=\(URLEncoding.percentEncoded($1))" }.joined(separator: "&")
    }

    private static func checkLabel(_ text: String, name: String, maximum: Int) throws(APIError) {
        do { try Limits.checkLabel(text, field: name, maximum: maximum) } catch {
            throw .invalidParameter(error.message)
        }
    }

    /// Accepts `10` and `10.0` (the official SDK sends numbers as floats); refuses fractions,
    /// signs, exponents and anything out of `range`.
    static func wholeNumber(_ text: String, name: String, range: ClosedRange<Int>) throws(APIError) -> Int {
        var digits = Substring(text)
        if let dot = digits.firstIndex(of: ".") {
            let fraction = digits[digits.index(after: dot)...]
            guard !fraction.isEmpty, fraction.allSatisfy({ $0 == "0" }) else {
                throw .invalidParameter("\(name) must be a whole number; got \"\(text.prefix(64))\"")
            }
            digits = digits[..<dot]
        }
        let outOfRange = APIError.invalidParameter(
            "\(name) must be between \(range.lowerBound) and \(range.upperBound); got \(text.prefix(64))"
        )
        if digits.hasPrefix("-"), digits.count > 1, digits.dropFirst().utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            throw outOfRange
        }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw .invalidParameter("\(name) must be a whole number; got \"\(text.prefix(64))\"")
        }
        guard digits.count <= 12, let value = Int(digits), range.contains(value) else { throw outOfRange }
        return value
    }
}
