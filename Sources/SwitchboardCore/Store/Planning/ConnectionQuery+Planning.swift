/// How the stores plan a list page's SQL: not domain rules, but shared by both backends, so they
/// live here at package level, beside the store protocols, and are not part of Core's public API.
extension ConnectionQuery {
    /// True when a store should pick the page's ids from an index alone, then read just those rows:
    /// the query reads index entries it does not return (skipped by `offset`, or failing a
    /// `categories` test), or must sort matches (`updated_gte` under another order). Reading full
    /// rows for those would cost a table lookup each; for a plain page the direct read is cheaper.
    package var choosesPageFromIndex: Bool {
        offset > 0 || !categories.isEmpty || (updatedGTE != nil && sort != .updatedAt)
    }
}

/// The dashboard's health filter as SQL over the connections table's own columns, the same in
/// both backends but for how a boolean is spelled (`0`/`1` or `false`/`true`).
extension ConnectionQuery.Health {
    package func condition(false no: String, true yes: String) -> String {
        let failedLast = "last_unhealthy_at IS NOT NULL AND COALESCE(last_healthy_at, 0) <= last_unhealthy_at"
        return switch self {
        case .healthy: "is_paused = \(no) AND NOT (\(failedLast))"
        case .unhealthy: "is_paused = \(no) AND \(failedLast)"
        case .paused: "is_paused = \(yes)"
        }
    }
}

/// `updated_gte` under the `created_at` order, served by merging one index range per hour of
/// `updated_at` (both stores' migration 0006, on `updated_at / 3600000`).
///
/// No single index can both select an `updated_at` range and return it in `created_at` order, so
/// otherwise every match is sorted: 80 index entries per page at 10,000 connections, 8,000 at a
/// million for the same 1% window. Within one hour the index is in `created_at` order, so a merge
/// of the hours reads about one page of entries plus one seek per hour, whatever the table's size.
extension ConnectionQuery {
    /// The hour index expression's divisor; the queries spell it the same way to match the index.
    package static let updatedHourMilliseconds: Int64 = 3_600_000
    /// Windows up to a week are merged by the hour; wider ones sort their matches.
    package static let maximumUpdatedHours: Int64 = 168

    /// The hours of `updated_at` from `updated_gte`'s to `now`'s, when a store should merge the
    /// page from them (plus a last range for anything updated after `now`). Nil for other orders,
    /// an `external_xref` page (its own index is narrower), the dashboard's integration and health
    /// filters (tested on rows the merge does not read), a bound after `now`, and windows over
    /// `maximumUpdatedHours`.
    package func updatedHours(now: Timestamp) -> ClosedRange<Int64>? {
        guard sort == .createdAt, externalXref == nil, integrationType == nil, health == nil, let updatedGTE
        else { return nil }
        let first = updatedGTE.millisecondsSinceEpoch
        let last = now.millisecondsSinceEpoch
        guard first >= 0, first <= last else { return nil }
        let hours = (first / Self.updatedHourMilliseconds)...(last / Self.updatedHourMilliseconds)
        return Int64(hours.count) <= Self.maximumUpdatedHours ? hours : nil
    }

    /// How many hour ranges a merge of `hours` runs: the count rounded up to a power of two (8 to
    /// 256), so a store caches a few statements per query shape, not one per window length. The
    /// extra ranges ask for hours that normally hold no row (SQLite: before 1970; PostgreSQL: the
    /// hours after `now`'s, which the last range would otherwise cover), one empty seek each.
    package static func updatedHourArms(_ hours: ClosedRange<Int64>) -> Int {
        var arms = 8
        while arms < hours.count { arms *= 2 }
        return arms
    }
}
