import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwitchboardCore
import Testing

@testable import SwitchboardServer

/// Seeds a workspace with connections varied in every listed attribute. With the default clock,
/// connection i is created at 2024-01-01T00:00:00Z + i seconds.
@discardableResult
private func seed(_ api: TestAPI, count: Int = 30) async throws -> [[String: Any]] {
    let categorySets = [["crm"], ["hris", "ats"], ["ticketing"], ["crm", "accounting"], ["storage"]]
    let names: [String?] = ["Zeta", nil, "Alpha", "Alpha", "mid"]
    var created: [[String: Any]] = []
    for i in 0..<count {
        var extra = #""external_xref":"user-\#(i % 4)""#
        if let name = names[i % names.count] { extra += #","integration_name":"\#(name)""# }
        if i % 3 == 2 { extra += #","environment":"Sandbox""# }
        created.append(
            try await api.create(
                connectionBody(type: "type\(i % 7)", categories: categorySets[i % categorySets.count], extra: extra)
            )
        )
    }
    return created
}

private func ids(_ rows: [[String: Any]]) -> [String] { rows.map { $0["id"] as! String } }

private func utf8Less(_ a: String, _ b: String) -> Bool { Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) }

/// The order the API promises, computed independently from the rows themselves.
private func expectedOrder(_ rows: [[String: Any]], sort: String, order: String) -> [String] {
    let sorted = rows.sorted { a, b in
        func keys(_ r: [String: Any]) -> [String] {
            switch sort {
            case "name": [r["integration_name"] as? String ?? "", r["integration_type"] as! String, r["id"] as! String]
            case "updated_at": [r["updated_at"] as! String, r["id"] as! String]
            default: [r["created_at"] as! String, r["id"] as! String]
            }
        }
        let (ka, kb) = (keys(a), keys(b))
        let less = zip(ka, kb).first { $0 != $1 }.map { utf8Less($0.0, $0.1) } ?? false
        return order == "asc" ? less : !less && ka != kb
    }
    return ids(sorted)
}

@Suite struct ConnectionListTests {
    @Test func defaultsAreProductionCreatedAtAscendingAndAHundredRows() async throws {
        try await withApp { api in
            let created = try await seed(api, count: 160)
            let page = try await api.list()
            let production = created.filter { $0["environment"] as? String == "Production" }
            #expect(page.count == min(100, production.count))
            #expect(ids(page) == Array(expectedOrder(production, sort: "created_at", order: "asc").prefix(100)))
        }
    }

    @Test func limitAndOffsetAcceptIntegersAndWholeFloats() async throws {
        try await withApp { api in
            let created = try await seed(api, count: 12)
            let production = expectedOrder(
                created.filter { $0["environment"] as? String == "Production" },
                sort: "created_at",
                order: "asc"
            )
            #expect(ids(try await api.list("limit=3")) == Array(production[0..<3]))
            #expect(ids(try await api.list("limit=3.0&offset=2.0")) == Array(production[2..<5]))
            #expect(ids(try await api.list("offset=6")) == Array(production[6...]))
            #expect(try await api.list("offset=1000").isEmpty)
            #expect(try await api.list("limit=1000").count == production.count)
        }
    }

    @Test(arguments: ["name", "updated_at", "created_at"], ["asc", "desc"])
    func pagingThroughEverySortAndOrderReturnsEveryRowExactlyOnce(sort: String, order: String) async throws {
        // Half the rows share one instant, so ordering must fall back to the id.
        let clock = ManualClock(stepMilliseconds: 0)
        try await withApp(clock: clock) { api in
            let created = try await seed(api, count: 23)
            // Touch some rows so updated_at differs from created_at order.
            for row in created.prefix(5) {
                try await api.send(
                    .patch,
                    "/unified/connection/\(row["id"] as! String)",
                    body: #"{"integration_name":"zz"}"#
                )
            }
            let all = try await api.list("env=Production&limit=1000")
            var paged: [String] = []
            var offset = 0
            while true {
                let page = try await api.list("env=Production&sort=\(sort)&order=\(order)&limit=4&offset=\(offset)")
                paged += ids(page)
                if page.count < 4 { break }
                offset += 4
            }
            #expect(paged.count == all.count)
            #expect(Set(paged).count == paged.count)
            #expect(paged == expectedOrder(all, sort: sort, order: order))
        }
    }

    @Test func externalXrefMatchesExactlyIncludingSQLMetacharactersAndUnicode() async throws {
        try await withApp { api in
            try await seed(api, count: 8)
            let tricky = [#"o'brien"; DROP TABLE connections;--"#, "100%_match", "ünïcødé 🚀", "user-1 ", "USER-1"]
            for xref in tricky {
                let escaped = xref.replacingOccurrences(of: "\"", with: "\\\"")
                try await api.create(connectionBody(extra: #""external_xref":"\#(escaped)""#))
            }
            for xref in tricky {
                let query = "external_xref=" + xref.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let rows = try await api.list(query)
                #expect(rows.count == 1)
                #expect(rows.first?["external_xref"] as? String == xref)
            }
            let user1 = try await api.list("external_xref=user-1")
            #expect(!user1.isEmpty)
            #expect(user1.allSatisfy { $0["external_xref"] as? String == "user-1" })
            #expect(try await api.list("external_xref=user-%25").isEmpty)  // no LIKE semantics
        }
    }

    @Test func categoriesMatchAnyOfRepeatedOrCommaSeparatedValues() async throws {
        try await withApp { api in
            let created = try await seed(api, count: 15)
            let production = created.filter { $0["environment"] as? String == "Production" }
            func expected(_ wanted: Set<String>) -> Set<String> {
                Set(ids(production.filter { !Set($0["categories"] as! [String]).isDisjoint(with: wanted) }))
            }
            #expect(Set(ids(try await api.list("categories=crm"))) == expected(["crm"]))
            #expect(Set(ids(try await api.list("categories=crm&categories=hris"))) == expected(["crm", "hris"]))
            #expect(
                Set(ids(try await api.list("categories=crm,hris,storage"))) == expected(["crm", "hris", "storage"])
            )
            #expect(try await api.list("categories=crm").count > 0)
            #expect(try await api.list("categories=healthcare").isEmpty)
        }
    }

    @Test func envSelectsOnlyThatEnvironment() async throws {
        try await withApp { api in
            let created = try await seed(api, count: 9)
            let sandbox = try await api.list("env=Sandbox")
            #expect(Set(ids(sandbox)) == Set(ids(created.filter { $0["environment"] as? String == "Sandbox" })))
            #expect(sandbox.allSatisfy { $0["environment"] as? String == "Sandbox" })
            #expect(try await api.list("env=Staging").isEmpty)
        }
    }

    @Test(arguments: [
        "2024-01-01T00:00:05Z", "2024-01-01T00:00:05.000Z", "2024-01-01T01:00:05+01:00", "2024-01-01T00:00:04.9991Z",
    ])
    func updatedGTEAcceptsRFC3339Forms(_ value: String) async throws {
        try await withApp { api in
            let created = try await seed(api, count: 9)
            let query = "updated_gte=" + value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let rows = try await api.list(query + "&limit=1000")
            // Rows 5...8 were created at 00:00:05 and later; Sandbox rows are filtered by env.
            let expected = created.enumerated().filter {
                $0.offset >= 5 && $0.element["environment"] as? String == "Production"
            }
            #expect(Set(ids(rows)) == Set(ids(expected.map(\.element))))
        }
    }

    @Test func updatedGTEAcceptsABareDate() async throws {
        try await withApp { api in
            try await seed(api, count: 3)
            #expect(try await api.list("updated_gte=2024-01-01").count == 2)
            #expect(try await api.list("updated_gte=2024-01-02").isEmpty)
        }
    }

    @Test func filtersCombine() async throws {
        try await withApp { api in
            let created = try await seed(api, count: 30)
            let rows = try await api.list(
                "external_xref=user-0&categories=crm&updated_gte=2024-01-01T00:00:03Z&sort=name&order=desc&limit=2&offset=1"
            )
            let matching = created.enumerated().filter { i, r in
                i >= 3 && r["environment"] as? String == "Production" && r["external_xref"] as? String == "user-0"
                    && (r["categories"] as! [String]).contains("crm")
            }.map(\.element)
            let order = expectedOrder(matching, sort: "name", order: "desc")
            #expect(!order.isEmpty)
            #expect(ids(rows) == Array(order.dropFirst(1).prefix(2)))
        }
    }

    @Test(arguments: [
        ("limit=10.5", "limit"), ("limit=-1", "limit"), ("limit=abc", "limit"), ("limit=0", "limit"),
        ("limit=1001", "limit"), ("limit=", "limit"), ("limit=1e2", "limit"), ("limit=99999999999999999999", "limit"),
        ("offset=-1", "offset"), ("offset=1.5", "offset"), ("offset=abc", "offset"),
        ("updated_gte=yesterday", "updated_gte"), ("updated_gte=2024-13-01", "updated_gte"),
        ("updated_gte=2024-01-01T00:00:00", "updated_gte"), ("updated_gte=1704067200", "updated_gte"),
        ("sort=id", "sort"), ("sort=NAME", "sort"), ("order=up", "order"),
        ("categories=crm&categories=unknown", "categories"), ("categories=crm,", "categories"),
        ("env=", "env"), ("limit=1&limit=2", "limit"), ("sort=name&sort=name", "sort"),
        ("external_xref=a&external_xref=b", "external_xref"), ("env=%ZZ", "percent"),
    ])
    func badParametersGet400NamingTheParameter(query: String, name: String) async throws {
        try await withApp { api in
            let response = try await api.send(.get, "/unified/connection?" + query)
            #expect(response.status == .badRequest)
            #expect(response.headers[.contentType] == "application/json")
            #expect(response.errorStatus == 400)
            #expect(response.errorMessage.contains(name), "\(response.errorMessage)")
        }
    }

    @Test func negativeAndOutOfRangeNumbersNameTheAcceptedRange() async throws {
        try await withApp { api in
            for (query, expected) in [
                ("offset=-1", "offset must be between 0 and"), ("limit=-5.0", "limit must be between 1 and 1000"),
                ("limit=0", "limit must be between 1 and 1000"),
            ] {
                let response = try await api.send(.get, "/unified/connection?" + query)
                #expect(response.status == .badRequest)
                #expect(response.errorMessage.hasPrefix(expected), "\(response.errorMessage)")
            }
        }
    }

    @Test func unknownParametersAreIgnored() async throws {
        try await withApp { api in
            try await seed(api, count: 2)
            #expect(try await api.list("future_param=1").count == 2)
        }
    }

    /// An unencoded `+` offset reads as a space; the error says how to send it.
    @Test func anUnencodedPlusInUpdatedGTEGetsAHint() async throws {
        try await withApp { api in
            let plus = try await api.send(.get, "/unified/connection?updated_gte=2024-01-02T03:04:05+01:00")
            #expect(plus.status == .badRequest)
            #expect(plus.errorMessage.contains("%2B"))
            let encoded = try await api.send(.get, "/unified/connection?updated_gte=2024-01-02T03:04:05%2B01:00")
            #expect(encoded.status == .ok)
            let other = try await api.send(.get, "/unified/connection?updated_gte=yesterday")
            #expect(other.status == .badRequest && !other.errorMessage.contains("%2B"))
        }
    }
}
