/// One measured request shape. List scenarios carry their query strings; the others their paths.
struct BenchScenario: Sendable {
    enum Kind: Sendable {
        /// `GET /unified/connection?<query>` over these query strings.
        case list(queries: [String])
        case get(ids: [String])
        case create(body: String)
        case patch(ids: [String], body: String)
    }

    var name: String
    var kind: Kind
    /// Requests in flight for this scenario when not the run's default: deep `offset` reads most of
    /// the table per request, and 32 of those at once would exceed the store's 5 s deadline.
    var concurrency: Int?

    var isList: Bool {
        if case .list = kind { return true }
        return false
    }

    var method: String {
        switch kind {
        case .list, .get: "GET"
        case .create: "POST"
        case .patch: "PATCH"
        }
    }

    var body: String? {
        switch kind {
        case .list, .get: nil
        case .create(let body), .patch(_, let body): body
        }
    }

    var paths: [String] {
        switch kind {
        case .list(let queries): queries.map { $0.isEmpty ? "/unified/connection" : "/unified/connection?" + $0 }
        case .get(let ids), .patch(let ids, _): ids.map { "/unified/connection/" + $0 }
        case .create: ["/unified/connection"]
        }
    }
}

/// What the seeding learned about the data, for building the scenarios.
struct SeedFacts: Sendable {
    var productionRows: Int
    /// Ids of Production rows of the benchmark workspace, sampled evenly.
    var sampleIDs: [String]
    /// `external_xref` values that exist in Production.
    var sampleXrefs: [String]
    /// An `updated_gte` bound that selects ~1% of the Production rows (about a day: merged by hour).
    var updatedGTEOnePercent: String
    /// One that selects ~10% (about two weeks: wider than the hour merge).
    var updatedGTETenPercent: String
    /// The deep offset: 90% into the Production rows (900,000 when they number a million).
    var deepOffset: Int { productionRows * 9 / 10 }

    static let deepOffsetNameValue = "offset 90% deep (4 in flight)"
    var deepOffsetName: String { Self.deepOffsetNameValue }

    func scenarios(deepCursorQuery: String?) -> [BenchScenario] {
        var list: [(String, [String])] = [
            ("list defaults (100 rows)", [""]),
            ("external_xref", sampleXrefs.map { "external_xref=" + $0 }),
            ("categories ×1", ["categories=crm"]),
            ("categories ×3", ["categories=crm,hris,ats"]),
            ("env=Sandbox", ["env=Sandbox"]),
            ("updated_gte (1%)", ["updated_gte=" + updatedGTEOnePercent]),
            ("updated_gte (10%)", ["updated_gte=" + updatedGTETenPercent]),
            ("sort=name asc", ["sort=name"]),
            ("sort=name desc", ["sort=name&order=desc"]),
            ("sort=updated_at asc", ["sort=updated_at"]),
            ("sort=updated_at desc", ["sort=updated_at&order=desc"]),
            ("sort=created_at desc", ["sort=created_at&order=desc"]),
            ("offset=0", ["offset=0"]),
            // Inside the measured workspace's Production rows at every size, so the page is full.
            ("offset=5000", ["offset=5000"]),
            (deepOffsetName, ["offset=\(deepOffset)"]),
        ]
        if let deepCursorQuery { list.append(("cursor at 90% deep", [deepCursorQuery])) }
        var scenarios = list.map {
            BenchScenario(name: $0.0, kind: .list(queries: $0.1), concurrency: $0.0 == deepOffsetName ? 4 : nil)
        }
        scenarios.append(BenchScenario(name: "get by id", kind: .get(ids: sampleIDs)))
        scenarios.append(
            BenchScenario(
                name: "create",
                kind: .create(
                    body:
                        #"{"integration_type":"hubspot","integration_name":"Bench","external_xref":"bench-user","permissions":["crm_contact_read","crm_deal_read"],"categories":["crm","martech"],"auth":{"access_token":"bench-access-token-0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH","client_id":"bench-client-id-000000000","client_secret":"bench-client-secret-0000000000000000000000","emails":["bench@example.com"],"expires_in":3600,"expiry_date":"2026-01-01T00:00:00.000Z","refresh_token":"bench-refresh-token-0123456789abcdefghijklmnopqrstuvwxyz0123456789abc","token_url":"https://oauth.example.com/token"}}"#
                )
            )
        )
        scenarios.append(
            BenchScenario(
                name: "patch",
                kind: .patch(ids: sampleIDs, body: #"{"integration_name":"Patched by bench"}"#)
            )
        )
        return scenarios
    }
}
