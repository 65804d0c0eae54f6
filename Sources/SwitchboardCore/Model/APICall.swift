/// One call in the API call log (`/unified/apicall`): a passthrough call or an OAuth token request
/// Switchboard made for a connection. Never a body, a header, a query string or a token.
public struct APICall: Sendable, Equatable {
    /// Unified's `type`: `inbound` for API and passthrough calls, `login` for authorization flows
    /// and token refreshes (`webhook` and `mcp` are Unified's; Switchboard records neither yet).
    public enum Kind: String, Sendable, CaseIterable {
        case login, webhook, inbound, mcp
    }

    public var id: String
    public var workspaceID: WorkspaceID
    public var createdAt: Timestamp
    public var connectionID: ConnectionID?
    public var integrationType: String
    public var environment: String
    public var externalXref: String?
    /// What was called: `passthrough`, `oauth.token` (the code exchange) or `oauth.refresh`.
    public var name: String
    public var kind: Kind
    public var method: String
    /// The path called, without its query string.
    public var path: String
    /// The provider's status code ("200"), or the status Switchboard answered with when the
    /// provider gave none (unreachable, refused by the egress policy).
    public var status: String
    /// A short reason when the status is 400 or more.
    public var error: String?
    /// Bytes of the response body relayed.
    public var size: Int64?
    /// Milliseconds from the request's arrival to the end of its answer.
    public var unifiedResponseTime: Int64
    /// Milliseconds the provider took to answer (to its response head), when it was called.
    public var endapiResponseTime: Int64?
    public var ipAddress: String?
    public var userAgent: String?

    public init(
        id: String,
        workspaceID: WorkspaceID,
        createdAt: Timestamp,
        connectionID: ConnectionID?,
        integrationType: String,
        environment: String,
        externalXref: String?,
        name: String,
        kind: Kind,
        method: String,
        path: String,
        status: String,
        error: String?,
        size: Int64?,
        unifiedResponseTime: Int64,
        endapiResponseTime: Int64?,
        ipAddress: String?,
        userAgent: String?
    ) {
        self.id = id
        self.workspaceID = workspaceID
        self.createdAt = createdAt
        self.connectionID = connectionID
        self.integrationType = integrationType
        self.environment = environment
        self.externalXref = externalXref
        self.name = name
        self.kind = kind
        self.method = method
        self.path = path
        self.status = status
        self.error = error
        self.size = size
        self.unifiedResponseTime = unifiedResponseTime
        self.endapiResponseTime = endapiResponseTime
        self.ipAddress = ipAddress
        self.userAgent = userAgent
    }

    /// True when the call failed (status 400 or more): the list's `error=true`.
    public var isError: Bool { (Int(status) ?? 0) >= 400 }

    /// Whole milliseconds of `duration`, as the log's response times count.
    public static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}

/// The filters of `GET /unified/apicall`, newest first by default.
public struct APICallQuery: Sendable, Equatable {
    public var workspaceID: WorkspaceID
    public var connectionID: ConnectionID?
    public var environment: String?
    public var isError: Bool?
    public var externalXref: String?
    public var integrationType: String?
    public var kind: APICall.Kind?
    /// `updated_gte`: rows are immutable, so this bounds `created_at`.
    public var createdSince: Timestamp?
    public var ascending: Bool
    public var limit: Int
    public var offset: Int

    public static let defaultLimit = 100
    public static let maximumLimit = 1000
    public static let maximumOffset = 100_000

    public init(
        workspaceID: WorkspaceID,
        connectionID: ConnectionID? = nil,
        environment: String? = nil,
        isError: Bool? = nil,
        externalXref: String? = nil,
        integrationType: String? = nil,
        kind: APICall.Kind? = nil,
        createdSince: Timestamp? = nil,
        ascending: Bool = false,
        limit: Int = APICallQuery.defaultLimit,
        offset: Int = 0
    ) {
        self.workspaceID = workspaceID
        self.connectionID = connectionID
        self.environment = environment
        self.isError = isError
        self.externalXref = externalXref
        self.integrationType = integrationType
        self.kind = kind
        self.createdSince = createdSince
        self.ascending = ascending
        self.limit = limit
        self.offset = offset
    }
}
