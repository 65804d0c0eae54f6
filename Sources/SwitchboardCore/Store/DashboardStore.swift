/// Dashboard sessions, sign-in links and hosted Connect sessions: short-lived rows kept only as
/// token hashes, plus the counts the dashboard's charts draw.
public protocol DashboardStore: Sendable {
    /// Stores a session or a sign-in link, and its audit record when given, in one transaction.
    func insert(_ session: DashboardSession, audit: AuditRecord?) async throws

    /// The session with this hash, unexpired at `time` and, for a session opened with an API key,
    /// only while that key is unrevoked (in the same read); nil otherwise. Links are not returned.
    func dashboardSession(hash: [UInt8], at time: Timestamp) async throws -> DashboardSession?

    /// The sign-in link with this hash if it is unspent and unexpired at `time` (its landing page
    /// says so before anyone spends it); nil otherwise.
    func signInLink(hash: [UInt8], at time: Timestamp) async throws -> DashboardSession?

    /// Moves a session's `last_seen_at` (its idle expiry) to `time`.
    func touchDashboardSession(hash: [UInt8], at time: Timestamp) async throws

    /// Spends a sign-in link that is unspent and unexpired at `time`, atomically (of concurrent
    /// callers exactly one gets it); nil otherwise.
    func spendSignInLink(hash: [UInt8], at time: Timestamp) async throws -> DashboardSession?

    /// Deletes the session with this hash, or with `hash` nil every session of the workspace,
    /// and records `audit`, in one transaction; returns how many were deleted.
    func deleteDashboardSessions(workspace: WorkspaceID, hash: [UInt8]?, audit: AuditRecord) async throws -> Int

    /// Stores a connect session and its audit record in one transaction.
    func insert(_ session: ConnectSession, audit: AuditRecord) async throws

    /// The connect session with this hash, spent or not (the page says which); nil when unknown.
    func connectSession(hash: [UInt8]) async throws -> ConnectSession?

    /// Spends a connect session unspent and unexpired at `time`, atomically; nil otherwise.
    func spendConnectSession(hash: [UInt8], at time: Timestamp) async throws -> ConnectSession?

    /// Deletes sessions, links and connect sessions that expired before `time`; returns how many.
    func purgeExpiredDashboardSessions(before time: Timestamp) async throws -> Int

    /// The environment's connections of a workspace counted by integration and health.
    func connectionCounts(workspace: WorkspaceID, environment: String) async throws -> [ConnectionCounts]
}
