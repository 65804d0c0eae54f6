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

    /// The dashboard's health filter (not a parameter of `GET /unified/connection`).
    public enum Health: String, Sendable, CaseIterable {
        /// Not paused, and the last thing known is not a failure (`ConnectionHealth.isHealthy`).
        case healthy
        /// Not paused, and the last thing known is a failure.
        case unhealthy
        case paused
    }

    public static let defaultLimit = 100
    public static let limitRange = 1...1000

    public var workspaceID: WorkspaceID
    public var environment: String = ConnectionFields.defaultEnvironment
    public var externalXref: String?
    public var updatedGTE: Timestamp?
    /// The dashboard's filters: one integration, one health state.
    public var integrationType: String?
    public var health: Health?
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

    /// A row's place in one sort order: its sort key and id, the columns that order's index ends with.
    public enum Position: Sendable, Equatable {
        /// `created_at` or `updated_at` (milliseconds), then id.
        case time(Int64, ConnectionID)
        /// `name_sort` (integration_name, absent as empty), `integration_type`, then id.
        case name(String, String, ConnectionID)

        /// Where `connection` sits in `sort` (as a stored row would say: `StoredConnectionRow.position(in:)`).
        public init(of connection: Connection, in sort: Sort) {
            self = ConnectionRow(connection).position(in: sort)
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
