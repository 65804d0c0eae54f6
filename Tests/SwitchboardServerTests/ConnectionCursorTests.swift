import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwitchboardCore
import Testing

@testable import SwitchboardServer

/// Keyset paging: `Link: <...>; rel="next"` on full pages, a `cursor` bound to its query.
@Suite struct ConnectionCursorTests {
    private static let link = HTTPField.Name("Link")!

    /// Rows with repeated names, types and instants, so every order needs its tie-breakers.
    private func seed(_ api: TestAPI, count: Int) async throws -> [[String: Any]] {
        let names: [String?] = ["Beta", nil, "Alpha", "Beta"]
        var created: [[String: Any]] = []
        for i in 0..<count {
            var extra = #""external_xref":"user-\#(i % 3)""#
            if let name = names[i % names.count] { extra += #","integration_name":"\#(name)""# }
            if i % 5 == 4 { extra += #","environment":"Sandbox""# }
            let categories = i % 2 == 0 ? ["crm"] : ["hris", "ats"]
            created.append(
                try await api.create(connectionBody(type: "t\(i % 3)", categories: categories, extra: extra))
            )
        }
        return created
    }

    /// The next page's URL from a response's Link header, or nil when there is none.
    private func next(_ response: TestResponse) throws -> String? {
        guard let header = response.headers[Self.link] else { return nil }
        #expect(header.hasSuffix(#">; rel="next""#), "\(header)")
        let start = try #require(header.firstIndex(of: "<"))
        let end = try #require(header.firstIndex(of: ">"))
        return String(header[header.index(after: start)..<end])
    }

    /// Follows `next` from `first` to the end; returns every id in order and the number of pages.
    private func follow(_ api: TestAPI, from first: String) async throws -> (ids: [String], pages: Int) {
        var url: String? = first
        var ids: [String] = []
        var pages = 0
        while let current = url {
            let response = try await api.send(.get, current)
            guard response.status == .ok else { throw UnexpectedStatus(response: response) }
            let rows = try response.jsonArray()
            ids += rows.map { $0["id"] as! String }
            url = try next(response)
            pages += 1
            #expect(pages < 1000, "the Link chain does not end")
            if pages >= 1000 { break }
        }
        return (ids, pages)
    }

    @Test(arguments: ["name", "updated_at", "created_at"], ["asc", "desc"])
    func followingNextReturnsWhatOnePageReturns(sort: String, order: String) async throws {
        // Every third write shares its instant with the one before, so `id` must break ties.
        try await withApp(clock: ManualClock(stepMilliseconds: 0)) { api in
            _ = try await seed(api, count: 23)
            let query = "sort=\(sort)&order=\(order)&categories=crm,ats"
            let everything = try await api.list(query + "&limit=1000").map { $0["id"] as! String }
            #expect(everything.count == 19)
            let (paged, pages) = try await follow(api, from: "/unified/connection?\(query)&limit=5")
            #expect(paged == everything)
            #expect(pages == 4)  // 5 + 5 + 5 + 4: the short page has no Link
        }
    }

    @Test func filtersAndEnvironmentCarryOverIntoTheNextLink() async throws {
        try await withApp { api in
            _ = try await seed(api, count: 40)
            let query = "env=Sandbox&external_xref=user-1&updated_gte=2024-01-01T00:00:00.5Z&sort=updated_at&order=desc"
            let expected = try await api.list(query + "&limit=1000").map { $0["id"] as! String }
            #expect(expected.count > 2)
            let (paged, _) = try await follow(api, from: "/unified/connection?\(query)&limit=1")
            #expect(paged == expected)
        }
    }

    @Test func aFullLastPageEndsWithAnEmptyPageAndAShortOneHasNoLink() async throws {
        try await withApp { api in
            _ = try await seed(api, count: 5)  // 4 in Production
            let full = try await api.send(.get, "/unified/connection?limit=4")
            let nextURL = try #require(try next(full))
            let empty = try await api.send(.get, nextURL)
            #expect(try empty.jsonArray().isEmpty)
            #expect(try next(empty) == nil)
            #expect(try next(try await api.send(.get, "/unified/connection?limit=5")) == nil)
        }
    }

    @Test func aCursorIsBoundToItsQuery() async throws {
        try await withApp { api in
            _ = try await seed(api, count: 10)
            let first = try await api.send(.get, "/unified/connection?limit=2&sort=name")
            let nextURL = try #require(try next(first))
            let cursor = try #require(URLComponents(string: nextURL)?.queryItems?.first { $0.name == "cursor" }?.value)
            for other in [
                "sort=updated_at", "sort=name&order=desc", "sort=name&env=Sandbox", "sort=name&categories=crm",
            ] {
                let response = try await api.send(.get, "/unified/connection?\(other)&cursor=\(cursor)")
                #expect(response.status == .badRequest, "\(other)")
                #expect(response.errorMessage.contains("cursor belongs to another query"), "\(other)")
            }
            // The page size may change.
            let resized = try await api.send(.get, "/unified/connection?sort=name&limit=3&cursor=\(cursor)")
            #expect(resized.status == .ok)
            #expect(try resized.jsonArray().count == 3)

            let combined = try await api.send(.get, "/unified/connection?sort=name&offset=0&cursor=\(cursor)")
            #expect(combined.status == .badRequest)
            #expect(combined.errorMessage.contains("cursor and offset"))
            for garbage in ["", "abc", "%C3%A9", "WyIxIiwiMCIsMSwiIl0", String(repeating: "A", count: 5000)] {
                let response = try await api.send(.get, "/unified/connection?sort=name&cursor=\(garbage)")
                #expect(response.status == .badRequest, "\(garbage.prefix(20))")
                #expect(response.errorMessage.contains("cursor"), "\(garbage.prefix(20))")
            }
        }
    }

    @Test func exportWhileRowsAreInsertedReturnsEveryRowExactlyOnce() async throws {
        try await withApp(clock: ManualClock(stepMilliseconds: 1)) { api in
            let before = Set(
                try await seed(api, count: 60).filter { $0["environment"] as? String == "Production" }
                    .map { $0["id"] as! String }
            )
            // A writer inserts while the reader pages, 3 rows at a time.
            async let inserted: [String] = {
                var ids: [String] = []
                for i in 0..<40 {
                    let row = try await api.create(connectionBody(type: "late\(i)", extra: #""external_xref":"late""#))
                    ids.append(row["id"] as! String)
                }
                return ids
            }()
            let (paged, _) = try await follow(api, from: "/unified/connection?limit=3")
            let late = Set(try await inserted)
            #expect(Set(paged).count == paged.count, "a row came twice")
            #expect(before.isSubset(of: Set(paged)), "a row that existed before the export was skipped")
            #expect(Set(paged).isSubset(of: before.union(late)))
            // In created_at order, so what was read is sorted and nothing was read out of order.
            let all = try await api.list("limit=1000").map { $0["id"] as! String }
            #expect(paged == all.filter(Set(paged).contains))
        }
    }
}
