/// A validated list request. Every filter, the order and the page run in the store's SQL.
public struct ConnectionQuery: Sendable, Equatable {
    public enum Sort: String, Sendable, CaseIterable {
        /// By `integration_name` (absent sorts as empty), then `integration_type`.
        case name
        case updatedAt = "updated_at"
        case createdAt = "created_at"
    }

    public enum Order: String, Sendable, CaseIterable {
        case asc, desc
    }

    public static let defaultLimit = 100
    public static let limitRange = 1...1000

    public var workspaceID: WorkspaceID
    public var environment: String = ConnectionFields.defaultEnvironment
    public var externalXref: String?
    public var updatedGTE: Timestamp?
    /// Matches connections having any of these; empty means no category filter.
    public var categories: [Category] = []
    /// Every order ends with `id` in the same direction, so offset paging neither repeats nor skips.
    public var sort: Sort = .createdAt
    public var order: Order = .asc
    public var limit: Int = defaultLimit
    public var offset: Int = 0
    /// Keyset paging: when set, the page starts right after this row in the query's order
    /// (a cursor's position; `offset` is then 0).
    public var after: Position?

    public init(workspaceID: WorkspaceID) { self.workspaceID = workspaceID }

    /// The categories as one bit mask, for the store's "has any of these" test.
    public var categoryMask: Int64 { Category.mask(categories) }

    /// True when a store should pick the page's ids from an index alone, then read just those rows:
    /// the query reads index entries it does not return (skipped by `offset`, or failing a
    /// `categories` test), or must sort matches (`updated_gte` under another order). Reading full
    /// rows for those would cost a table lookup each; for a plain page the direct read is cheaper.
    public var choosesPageFromIndex: Bool {
        offset > 0 || !categories.isEmpty || (updatedGTE != nil && sort != .updatedAt)
    }

    /// A row's place in one sort order: its sort key and id, the columns that order's index ends with.
    public enum Position: Sendable, Equatable {
        /// `created_at` or `updated_at` (milliseconds), then id.
        case time(Int64, ConnectionID)
        /// `name_sort` (integration_name, absent as empty), `integration_type`, then id.
        case name(String, String, ConnectionID)

        /// Where `connection` sits in `sort`.
        public init(of connection: Connection, in sort: Sort) {
            switch sort {
            case .createdAt: self = .time(connection.createdAt.millisecondsSinceEpoch, connection.id)
            case .updatedAt: self = .time(connection.updatedAt.millisecondsSinceEpoch, connection.id)
            case .name:
                self = .name(connection.fields.nameSortKey, connection.fields.integrationType, connection.id)
            }
        }

        /// True when this position's shape fits `sort`.
        public func fits(_ sort: Sort) -> Bool {
            switch (self, sort) {
            case (.time, .createdAt), (.time, .updatedAt), (.name, .name): true
            default: false
            }
        }
    }
}
