import SwitchboardCore

/// The seeded population: ~50 integration types, 80% Production / 15% Sandbox / 5% Staging, 1–3 of
/// the 38 categories each, `external_xref` shared by ~N/5 end users, `created_at` and `updated_at`
/// over the two years before `end`, and an `auth` object of a typical OAuth size, sealed as usual.
/// Deterministic for a given seed, so runs are comparable.
struct BenchDataset {
    static let integrationTypes = [
        "hubspot", "salesforce", "pipedrive", "zohocrm", "close", "copper", "freshsales", "attio", "affinity",
        "insightly", "zendesk", "freshdesk", "intercom", "helpscout", "jira", "linear", "asana", "clickup",
        "monday", "trello", "github", "gitlab", "bitbucket", "slack", "msteams", "discord", "bamboohr",
        "workday", "gusto", "rippling", "hibob", "personio", "greenhouse", "lever", "ashby", "workable",
        "quickbooks", "xero", "netsuite", "sage", "freshbooks", "stripe", "shopify", "bigcommerce",
        "mailchimp", "klaviyo", "googledrive", "dropbox", "box", "onedrive",
    ]
    static let environments = ["Production", "Sandbox", "Staging"]
    static let permissions = ["crm_contact_read", "crm_contact_write", "crm_deal_read", "hris_employee_read"]
    static let twoYears: Int64 = 2 * 365 * 24 * 3600 * 1000

    let count: Int
    let end: Timestamp
    var random: SplitMix64

    init(count: Int, end: Timestamp, seed: UInt64) {
        self.count = count
        self.end = end
        random = SplitMix64(seed: seed)
    }

    /// The next connection for `workspace`, sealed with `sealer`.
    mutating func next(in workspace: WorkspaceID, sealer: any SecretSealer) throws -> Connection {
        let start = end.millisecondsSinceEpoch - Self.twoYears
        let created = start + Int64(random.next(below: UInt64(Self.twoYears)))
        let updated = created + Int64(random.next(below: UInt64(end.millisecondsSinceEpoch - created + 1)))
        let environmentRoll = random.next(below: 100)
        let environment = Self.environments[environmentRoll < 80 ? 0 : environmentRoll < 95 ? 1 : 2]
        let type = Self.integrationTypes[Int(random.next(below: UInt64(Self.integrationTypes.count)))]
        var categories: [Category] = []
        for _ in 0...random.next(below: 3) {
            let category = Category(Category.allNames[Int(random.next(below: UInt64(Category.allNames.count)))])!
            if !categories.contains(category) { categories.append(category) }
        }
        let users = UInt64(max(1, count / 5))
        let id = ConnectionID.generate(at: Timestamp(millisecondsSinceEpoch: created))
        let name: String? =
            random.next(below: 100) < 85
            ? "\(type.prefix(1).uppercased())\(type.dropFirst()) \(random.next(below: 400))" : nil
        let fields = ConnectionFields(
            integrationType: type,
            integrationName: name,
            externalXref: "user-\(random.next(below: users))",
            permissions: Array(Self.permissions.prefix(1 + Int(random.next(below: 4)))).map { Permission($0)! },
            categories: categories,
            environment: environment
        )
        let auth = authJSON(expiry: updated)
        let sealed = try sealer.seal(auth, context: SealContext(workspaceID: workspace, connectionID: id))
        return Connection(
            id: id,
            workspaceID: workspace,
            fields: fields,
            sealedAuth: sealed,
            createdAt: Timestamp(millisecondsSinceEpoch: created),
            updatedAt: Timestamp(millisecondsSinceEpoch: updated)
        )
    }

    /// A typical OAuth credential set (~450 bytes of JSON), in the order the API writes it.
    mutating func authJSON(expiry: Int64) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 512)
        writer.beginObject()
        writer.member("access_token", token(length: 96))
        writer.member("client_id", token(length: 24))
        writer.member("client_secret", token(length: 40))
        writer.key("emails")
        writer.stringArray(["user\(random.next(below: 100_000))@example.com"])
        writer.key("expires_in")
        writer.number("3600")
        writer.member("expiry_date", Timestamp(millisecondsSinceEpoch: expiry + 3_600_000).rfc3339)
        writer.member("refresh_token", token(length: 64))
        writer.member("token_url", "https://oauth.example.com/token")
        writer.endObject()
        return writer.bytes
    }

    private mutating func token(length: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var bytes = [UInt8](repeating: 0, count: length)
        var bits: UInt64 = 0
        for i in 0..<length {
            if i % 10 == 0 { bits = random.next() }
            bytes[i] = alphabet[Int(bits & 63)]
            bits >>= 6
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A small, fast, seedable generator (SplitMix64): the data set must be the same on every run.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(below bound: UInt64) -> UInt64 { bound == 0 ? 0 : next() % bound }
}
